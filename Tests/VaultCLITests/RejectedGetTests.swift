import Foundation
import Testing
@testable import TokenVault

/// `vault get` of a token that git's server refused: printed, but not in silence.
@Suite struct RejectedGetTests {
    static let token = "glpat-RefusedByTheServer01"

    @Test func getOfARejectedTokenPrintsItAndSaysWhenGitsServerRefusedIt() throws {
        let cli = CLI()
        cli.add("gl", token: Self.token, ["--url", "https://h.example"])
        // Before: no word.
        let fine = cli.vault(["get", "gl"])
        #expect(fine.out == Self.token + "\n" && fine.err.isEmpty)
        // git reports it failing (a 401), as after a fetch.
        let erase = run([Binary.path("git-credential-vault"), "erase"], environment: cli.environment,
                        stdin: .data("protocol=https\nhost=h.example\npassword=\(Self.token)\n\n"))
        #expect(erase.status == 0)
        let when = try #require(try cli.library().entry(named: "gl").rejected)
        for arguments in [["get", "gl"], ["--vault", cli.vaultPath, "get", "gl"]] {
            let r = cli.vault(arguments)
            #expect(r.status == 0)
            #expect(r.out == Self.token + "\n")
            let lines = r.err.split(separator: "\n")
            #expect(lines.count == 1, "\(r.err)")
            #expect(r.err.hasPrefix("vault: warning: git's server refused the token 'gl' on \(when.iso8601) ("), "\(r.err)")
            #expect(r.err.contains("'vault restore gl'"))
            #expect(!r.err.contains(Self.token))
        }
        // Through the agent too.
        #expect(cli.vault(["unlock"]).status == 0)
        let agent = cli.vault(["get", "gl"], env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(agent.out == Self.token + "\n")
        #expect(agent.err.contains("git's server refused the token 'gl' on \(when.iso8601)"), "\(agent.err)")
        // Restored: no word again.
        #expect(cli.vault(["restore", "gl"]).status == 0)
        #expect(cli.vault(["get", "gl"]).err.isEmpty)
    }

    /// A rejected time at either end of what 64 bits hold (from a record, or an agent's answer)
    /// is shown, never a trap in the arithmetic of "N days ago".
    @Test(arguments: [Int64.min, Int64.max])
    func anExtremeRejectedTimeIsNoTrap(seconds: Int64) throws {
        let cli = CLI()
        cli.add("gl", token: "glpat-ExtremeTime000000000", ["--url", "https://h.example"])
        try OlderTokenVault.rewrite(cli, entry: "gl") { $0.rejected = Timestamp(secondsSince1970: seconds) }
        let r = cli.vault(["get", "gl"])
        #expect(r.status == 0, "\(r.status) \(r.err)")
        #expect(r.out == "glpat-ExtremeTime000000000\n")
        #expect(r.err.contains("git's server refused the token 'gl'"), "\(r.err)")
    }
}
