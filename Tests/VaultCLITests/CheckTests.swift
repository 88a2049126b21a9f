import Foundation
import Testing
@testable import TokenVault

/// `vault check` against one entry per kind of finding, at a time the test chooses.
@Suite struct CheckTests {
    static let now = Timestamp(date: "2030-01-01")!

    @Test func oneLinePerFindingWorstFirstWithExitCodes() throws {
        let cli = CLI()
        let common = ["--url", "https://gitlab.example.com", "--expires", "2031-01-01"]
        cli.add("clean", token: "glpat-Clean00000000000000", common + ["--scopes", "read_api"])
        cli.add("expired", token: "glpat-Expired000000000000", ["--url", "https://gitlab.example.com", "--expires", "2029-12-01"])
        cli.add("soon", token: "glpat-Soon000000000000000", ["--url", "https://gitlab.example.com", "--expires", "2030-01-06"])
        cli.add("no-expiry", token: "glpat-NoExpiry0000000000", ["--url", "https://gitlab.example.com"])
        cli.add("broad", token: "glpat-Broad0000000000000", common + ["--scopes", "api,write_repository,read_user"])
        cli.add("classic", token: "ghp_Classic000000000000000000000000000", ["--url", "https://github.com", "--expires", "2031-01-01"])
        cli.add("dup-a", token: "glpat-Same00000000000000", common)
        cli.add("dup-b", token: "glpat-Same00000000000000", common)
        cli.add("old", token: "glpat-Old000000000000000", common)
        cli.add("unused", token: "glpat-Unused00000000000", common)
        cli.add("rejected", token: "glpat-Rejected0000000000", common)
        let vault = try cli.library()
        for entry in try vault.entries() {
            if entry.name != "old" { try vault.update(entry.name) { $0.rotateEvery = .seconds(5000 * 86_400) } }
            if entry.name != "unused" { try vault.markUsed(entry.name, at: Timestamp(date: "2029-12-31")!) }
        }
        #expect(cli.vault(["edit", "old", "--rotate-every", "30d"]).status == 0)
        try vault.update("rejected") { $0.rejected = Timestamp(date: "2029-12-20")! }
        let old = try vault.entry(named: "old"), unused = try vault.entry(named: "unused")
        let oldAge = (Self.now.secondsSince1970 - old.tokenSince!.secondsSince1970) / 86_400
        let unusedFor = (Self.now.secondsSince1970 - unused.created.secondsSince1970) / 86_400

        let r = cli.vault(["check", "--now", "2030-01-01"])
        #expect(r.status == 4, "\(r.err)")
        let expected = """
            error   expired: expired on 2029-12-01 (31 days ago)
            warning rejected: rejected by git on 2029-12-20: renew it, or 'vault restore rejected' if it works again
            warning soon: expires on 2030-01-06 (in 5 days)
            warning old: the token is \(oldAge) days old; rotate every 30 days
            warning broad: broad scopes api, write_repository: consider read_api (or self_rotate, for a token that only rotates itself); read_repository
            warning classic: a GitHub classic token, whose scopes cannot be narrowed: prefer a fine-grained token (github_pat_)
            warning dup-a: holds the same token as 'dup-b': one token per tool
            warning dup-b: holds the same token as 'dup-a': one token per tool
            notice  no-expiry: has no expiry date: set the one the token has, with 'vault edit no-expiry --expires YYYY-MM-DD'
            notice  unused: unused for \(unusedFor) days: revoke it if nothing needs it

            """
        #expect(r.out == expected)
        #expect(!r.out.contains("glpat-"))

        let json = try #require(try JSONSerialization.jsonObject(with: Data(cli.vault(["check", "--now", "2030-01-01", "--json"]).stdout)) as? [[String: Any]])
        #expect(json.count == 10)
        #expect(json.allSatisfy { $0["schema_version"] as? Int == 1 })
        #expect(json.first?.compactMapValues { $0 as? String } == ["name": "expired", "finding": "expired", "severity": "error", "message": "expired on 2029-12-01 (31 days ago)"])

        // Without the expired token: warnings only.
        #expect(cli.vault(["rm", "expired", "--yes"]).status == 0)
        #expect(cli.vault(["check", "--now", "2030-01-01"]).status == 8)
        // --within widens the window.
        let wide = cli.vault(["check", "--now", "2030-01-01", "--within", "400", "--json"])
        #expect(wide.out.contains("\"name\":\"clean\",\"finding\":\"expires-soon\""))
    }

    @Test func nothingToDoExitsZero() throws {
        let cli = CLI()
        cli.add("fine", token: "glpat-Fine000000000000000", ["--url", "https://gitlab.example.com", "--expires", "2031-01-01",
                                                              "--scopes", "read_api"])
        let r = cli.vault(["check", "--now", Timestamp.now().adding(days: 1).dateString])
        #expect(r.status == 0, "\(r.out)")
        #expect(r.out.isEmpty)
        #expect(r.err.contains("nothing to do"))
    }

    @Test func unknownScopesAreWarnedNotRefused() throws {
        let cli = CLI()
        let r = cli.add("typo", token: "glpat-Typo000000000000000", ["--url", "https://gitlab.com", "--scopes", "read_apii"])
        #expect(r.status == 0)
        #expect(r.err.contains("vault: warning: 'read_apii' is not a GitLab scope"))
        let filtered = cli.vault(["list", "--scope", "read_apii", "--json"])
        #expect(filtered.out.contains("\"typo\""))
        #expect(cli.vault(["list", "--scope", "api", "--json"]).out == "[]\n")
    }
}
