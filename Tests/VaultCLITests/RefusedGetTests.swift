import Foundation
import Testing
@testable import TokenVault

/// `vault get` on a token it refuses (in the trash, revoked, expired), with and without the
/// agent: the same message and exit code, and nothing recorded: a refused read is not a use.
@Suite(.serialized) struct RefusedGetTests {
    let noPassphrase: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]

    /// One entry of each kind `get` refuses.
    func fixture() throws -> CLI {
        let cli = CLI()
        cli.add("old", token: "glpat-Expired00000000000", ["--expires", "2020-01-01"])
        cli.add("gone", token: "glpat-Revoked00000000000")
        try cli.library().update("gone") { $0.revoked = Timestamp(date: "2024-05-06") }
        cli.add("binned", token: "glpat-Trashed00000000000")
        #expect(cli.vault(["rm", "binned", "--yes"]).status == 0)
        return cli
    }

    /// The entry's last-used time as `vault show` prints it.
    func lastUsed(_ cli: CLI, _ name: String) throws -> String? {
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(cli.vault(["show", name, "--json"]).stdout)) as? [String: Any])
        return shown["last_used"] as? String
    }

    func reads(_ cli: CLI) throws -> [String] {
        let log = try #require(try JSONSerialization.jsonObject(with: Data(cli.vault(["log", "--json"]).stdout)) as? [String: Any])
        let events = try #require(log["events"] as? [[String: Any]])
        return events.filter { ($0["action"] as? String)?.hasPrefix("read") == true }.compactMap { $0["entry"] as? String }
    }

    /// Each refusal, as `vault get` has always printed it.
    func expectRefusals(_ cli: CLI, env: [String: String?]) {
        let expired = cli.vault(["get", "old"], env: env)
        #expect(expired.status == 4)
        #expect(expired.err == "vault: error: the token 'old' expired on 2020-01-01\nvault: hint: renew it, or pass --allow-expired to print it anyway\n")
        #expect(expired.out.isEmpty)
        let revoked = cli.vault(["get", "gone", "--json"], env: env)
        #expect(revoked.status == 4)
        #expect(revoked.err == "vault: error: the token 'gone' is revoked at GitLab (found on 2024-05-06)\nvault: hint: create a new token, or pass --allow-expired to print the old one anyway\n")
        #expect(revoked.out.isEmpty)
        for options in [[], ["--allow-expired"], ["--field", "username"]] {
            let trashed = cli.vault(["get", "binned"] + options, env: env)
            #expect(trashed.status == 2)
            #expect(trashed.err == "vault: error: 'binned' is in the trash\nvault: hint: vault restore binned\n")
            #expect(trashed.out.isEmpty)
        }
    }

    @Test func aRefusedGetLeavesLastUsedAndTheLogAsTheyWere() throws {
        let cli = try fixture()
        expectRefusals(cli, env: [:])
        for name in ["old", "gone", "binned"] { #expect(try lastUsed(cli, name) == nil, "\(name)") }
        #expect(try reads(cli) == [])
        // Allowed, the expired and the revoked tokens are printed with a warning, and recorded.
        let allowed = cli.vault(["get", "old", "--allow-expired"])
        #expect(allowed.status == 0)
        #expect(allowed.out == "glpat-Expired00000000000\n")
        #expect(allowed.err == "vault: warning: the token 'old' expired on 2020-01-01\n")
        #expect(try lastUsed(cli, "old") != nil)
        #expect(cli.vault(["get", "gone", "--allow-expired"]).out == "glpat-Revoked00000000000\n")
        #expect(try reads(cli) == ["old", "gone"])
    }

    @Test func throughTheAgentTheSameRefusalsRecordNothing() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        expectRefusals(cli, env: noPassphrase)
        for name in ["old", "gone", "binned"] { #expect(try lastUsed(cli, name) == nil, "\(name)") }
        #expect(try reads(cli) == [])
        // The permission travels to the agent.
        let allowed = cli.vault(["get", "old", "--allow-expired"], env: noPassphrase)
        #expect(allowed.status == 0, "\(allowed.err)")
        #expect(allowed.out == "glpat-Expired00000000000\n")
        #expect(try reads(cli) == ["old"])
        // The library through the agent gets the typed errors.
        let vault = try Vault.open(at: cli.vaultPath)
        try vault.unlock(with: try #require(AgentClient.connect(vaultPath: cli.vaultPath, environment: cli.environment)))
        #expect(throws: VaultError.expired(name: "old", on: Timestamp(date: "2020-01-01")!)) { _ = try vault.get("old") }
        #expect(throws: VaultError.revoked(name: "gone", on: Timestamp(date: "2024-05-06")!)) { _ = try vault.get("gone") }
        #expect(throws: VaultError.inTrash(name: "binned")) { _ = try vault.get("binned", allowingExpired: true) }
        #expect(try reads(cli) == ["old"])
    }

    /// `vault show --reveal` shows every field, an expired or revoked token too, but gives out
    /// no token from the trash.
    @Test func showRevealsAnExpiredTokenButNotOneInTheTrash() throws {
        let cli = try fixture()
        let expired = cli.vault(["show", "old", "--reveal"])
        #expect(expired.status == 0, "\(expired.err)")
        #expect(expired.out.hasSuffix("\ntoken:      glpat-Expired00000000000\n"), "\(expired.out)")
        let trashed = cli.vault(["show", "binned", "--reveal", "--json"])
        #expect(trashed.status == 2)
        #expect(trashed.err == "vault: error: 'binned' is in the trash\nvault: hint: vault restore binned\n")
        #expect(!trashed.out.contains("glpat-Trashed"))
        #expect(cli.vault(["show", "binned"]).out.contains("trash:"))
    }
}
