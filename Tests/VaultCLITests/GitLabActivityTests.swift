import Foundation
import Testing
@testable import TokenVault
@testable import TokenVaultGitLab

/// GitLab's record of a token's use (`last_used_at`, `last_used_ips`) in `vault gitlab verify`
/// and `vault check --online`, against the stand-in GitLab.
@Suite struct GitLabActivityTests {
    static let deploy = "glpat-DeployToken00000000"
    static let fresh = "glpat-FreshToken000000000"
    static let never = "glpat-NeverUsedToken00000"

    /// The findings of `vault check --online --json`, as (name, finding) pairs.
    static func findings(_ r: RunResult) throws -> [(String, String)] {
        let array = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])
        return array.map { ($0["name"] as? String ?? "", $0["finding"] as? String ?? "") }
    }

    @Test func verifyShowsGitLabsRecordOfUseBesideTheVaultsLastRead() throws {
        let world = try GitLabWorld(tokens: [GitLabWorld.token: [
            "scopes": ["api"], "expires_at": "2099-01-31", "last_used_at": "2026-11-20T08:00:00.123+01:00",
            // Hostile text among the addresses is dropped, never printed.
            "last_used_ips": ["192.0.2.10", "2001:db8::1", "\u{1B}]0;pwned\u{07}\u{1B}[2J", "not an address"],
        ]], mode: ["uses": "uncounted"])
        world.addEntry()
        let r = world.gitlab(["verify", "ci"])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(r.out)")
        #expect(lines.last == "  GitLab's record, read with the token itself: last used at GitLab 2026-11-20T07:00:00Z from 192.0.2.10, 2001:db8::1; never read from the vault")
        #expect(!r.out.contains("\u{1B}") && !r.out.contains("pwned"))
        // A read from the vault is shown next to it.
        #expect(world.cli.vault(["get", "ci"]).status == 0)
        let read = try #require(try world.entry()["last_used"] as? String)
        let again = world.gitlab(["verify", "ci"])
        #expect(again.out.hasSuffix("; last read from the vault \(read)\n"), "\(again.out)")
    }

    /// GitLab counts the vault's own question as a use: that is said, and nothing is
    /// concluded from it (no "used elsewhere" for a token the vault has not handed out).
    @Test func gitLabCountingTheVaultsOwnRequestConcludesNothing() throws {
        let world = try GitLabWorld(tokens: [GitLabWorld.token: [
            "scopes": ["read_api"], "expires_at": "2099-01-31", "last_used_at": "2026-01-01T00:00:00.000Z",
        ]])
        world.addEntry(GitLabWorld.token, ["--scopes", "read_api", "--expires", "2099-01-31"])
        let r = world.gitlab(["verify", "ci"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("(this request: GitLab counts it) from 127.0.0.1; never read from the vault"), "\(r.out)")
        let check = world.cli.vault(["check", "--online", "--json", "--ca-file", world.caFile])
        #expect(!check.out.contains("used-elsewhere") && !check.out.contains("unused-at-gitlab"), "\(check.out)")
    }

    @Test func checkOnlineReportsUnusedTokensAndTokensUsedWhereTheVaultDoesNotKnow() throws {
        let dayAgo = Timestamp.now().adding(days: -1).iso8601
        let longAgo = Timestamp.now().adding(days: -200).iso8601
        let world = try GitLabWorld(tokens: [
            GitLabWorld.token: ["scopes": ["read_api"], "expires_at": "2099-01-31", "last_used_at": longAgo],
            Self.deploy: ["scopes": ["read_api"], "expires_at": "2099-01-31", "last_used_at": dayAgo, "last_used_ips": ["198.51.100.7"]],
            Self.fresh: ["scopes": ["read_api"], "expires_at": "2099-01-31", "last_used_at": dayAgo],
            Self.never: ["scopes": ["read_api"], "expires_at": "2099-01-31", "created_at": longAgo],
        ], mode: ["uses": "uncounted"])
        let options = ["--url", world.url, "--kind", "gitlab", "--scopes", "read_api", "--expires", "2099-01-31"]
        world.addEntry(GitLabWorld.token, Array(options.dropFirst(4)))
        for (name, token) in [("deploy", Self.deploy), ("fresh", Self.fresh), ("never", Self.never)] {
            #expect(world.cli.add(name, token: token, options).status == 0)
        }
        // The vault handed 'fresh' out: its use at GitLab is accounted for.
        #expect(world.cli.vault(["get", "fresh"]).status == 0)
        let now = String(Timestamp.now().secondsSince1970)
        let r = world.cli.vault(["check", "--online", "--json", "--unused", "90d", "--now", now, "--ca-file", world.caFile])
        #expect(r.status == 8, "\(r.err)")
        let found = try Self.findings(r).filter { ["unused-at-gitlab", "used-elsewhere"].contains($0.1) }
        #expect(found.map { "\($0.0) \($0.1)" }.sorted() == ["ci unused-at-gitlab", "deploy used-elsewhere", "never unused-at-gitlab"])
        let text = world.cli.vault(["check", "--online", "--now", now, "--ca-file", world.caFile])
        #expect(text.out.contains("notice  ci: unused at GitLab for "), "\(text.out)")
        #expect(text.out.contains("notice  never: never used at GitLab in "))
        #expect(text.out.contains("warning deploy: GitLab saw it used on "))
        // A wider window: 'ci' (last used 200 days ago) is recent, and so used where the vault
        // does not know; --unused takes a bare number of days as check --within does.
        let wide = world.cli.vault(["check", "--online", "--json", "--unused", "36500", "--now", now, "--ca-file", world.caFile])
        #expect(try Self.findings(wide).contains { $0 == ("ci", "used-elsewhere") })
        #expect(world.cli.vault(["check", "--online", "--unused", "0"]).status == 64)
    }

    /// The rule itself: GitLab's time as it writes it, the margin for the vault's own request,
    /// and a token with links (used where the vault knows) is not "used elsewhere".
    @Test func theRuleReadsGitLabsTimesAndLeavesOutTheVaultsOwnRequest() throws {
        #expect(GitLabActivity.instant("2026-11-20T08:00:00.123Z")?.iso8601 == "2026-11-20T08:00:00Z")
        #expect(GitLabActivity.instant("2026-11-20T08:00:00-02:30")?.iso8601 == "2026-11-20T10:30:00Z")
        for bad in ["2026-11-20", "2026-11-20T25:00:00Z", "2026-11-20T08:00:00", "2026-11-20T08:00:00Zjunk", "x026-11-20T08:00:00Z"] {
            #expect(GitLabActivity.instant(bad) == nil, "\(bad)")
        }
        #expect(GitLabActivity.isAddress("10.0.0.1") && GitLabActivity.isAddress("::1") && !GitLabActivity.isAddress("evil.example"))
        let asked = Timestamp(secondsSince1970: 2_000_000_000)
        let own = GitLabActivity(lastUsedAtGitLab: Timestamp(secondsSince1970: 2_000_000_000 - 14 * 60), lastReadFromVault: nil, asked: asked)
        let before = GitLabActivity(lastUsedAtGitLab: Timestamp(secondsSince1970: 2_000_000_000 - 16 * 60), lastReadFromVault: nil, asked: asked)
        #expect(own.mayBeOwnRequest && !before.mayBeOwnRequest)
        let entry = Entry(name: "ci", kind: .gitlab)
        #expect(!GitLabActivity.hasLinks(entry))
        let window = Duration.seconds(90 * 86_400)
        #expect(own.findings(for: entry, now: asked, window: window).isEmpty)
        #expect(before.findings(for: entry, now: asked, window: window).map(\.kind) == [.usedElsewhere])
        // A token the vault knows lives in a CI/CD variable is expected to be used there.
        var linked = entry
        linked.gitlabLinks = [GitLabVariableLink(owner: .project("team/app"), key: "GITLAB_TOKEN")]
        #expect(GitLabActivity.hasLinks(linked))
        #expect(before.findings(for: linked, now: asked, window: window).isEmpty)
    }
}
