import Foundation
import Testing
@testable import TokenVault

/// GitLab's record of a token read by an admin token (`GET /personal_access_tokens/:id`), so
/// that the question is not counted as the token's use, against the stand-in GitLab.
@Suite struct GitLabRecordTests {
    static let deploy = "glpat-DeployToken00000000"
    static let other = "glpat-OtherUserToken00000"

    /// Every request the stand-in logged from `start` on, as (path, everything it carried).
    static func requests(_ world: GitLabWorld, from start: Int) throws -> [(String, String)] {
        try world.requests().dropFirst(start).map { request in
            (request["path"] as? String ?? "", "\(request)")
        }
    }

    func idOf(_ world: GitLabWorld, _ name: String) throws -> Int? {
        let shown = world.cli.vault(["show", name, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(shown.out.utf8)) as? [String: Any])
        return object["gitlab_token_id"] as? Int
    }

    @Test func withAnAdminTokenCheckOnlineConcludesAlthoughGitLabCountsEveryUse() throws {
        let longAgo = Timestamp.now().adding(days: -200).iso8601
        let dayAgo = Timestamp.now().adding(days: -1).iso8601
        // Ids by token, sorted: admin 1, deploy 2, ci 3. While the vault learns the ids, the
        // stand-in does not count uses: as if that first question had been long ago.
        let world = try GitLabWorld(tokens: [
            GitLabWorld.admin: ["scopes": ["api"], "expires_at": "2099-01-31"],
            Self.deploy: ["scopes": ["read_api"], "expires_at": "2099-01-31", "last_used_at": dayAgo, "last_used_ips": ["198.51.100.7"]],
            GitLabWorld.token: ["scopes": ["read_api"], "expires_at": "2099-01-31", "last_used_at": longAgo],
        ], mode: ["uses": "uncounted"])
        world.addEntry(GitLabWorld.token, ["--scopes", "read_api", "--expires", "2099-01-31"])
        for (name, token) in [("deploy", Self.deploy), ("admin", GitLabWorld.admin)] {
            #expect(world.cli.add(name, token: token, ["--url", world.url, "--kind", "gitlab", "--expires", "2099-01-31"]).status == 0)
        }
        #expect(world.cli.vault(["config", "gitlab-admin.127.0.0.1:\(world.port)", "admin"]).status == 0)
        #expect(try idOf(world, "ci") == nil)
        // No id yet: each token asks about itself, and the vault notes its id.
        let learn = world.gitlab(["verify", "--all"])
        #expect(learn.status == 0, "\(learn.err)")
        #expect(learn.out.contains("  GitLab's record, read with the token itself: last used at GitLab"), "\(learn.out)")
        #expect(try idOf(world, "ci") == 3 && idOf(world, "deploy") == 2)

        // From here GitLab counts every use, as it does.
        try world.patch(["mode": ["uses": "counted"]])
        let start = try world.requests().count
        let r = world.cli.vault(["check", "--online", "--json", "--ca-file", world.caFile])
        #expect(r.status == 8, "\(r.err)")
        let found = try GitLabActivityTests.findings(r).filter { ["unused-at-gitlab", "used-elsewhere"].contains($0.1) }
        #expect(found.map { "\($0.0) \($0.1)" }.sorted() == ["ci unused-at-gitlab", "deploy used-elsewhere"], "\(r.out)")
        let verify = world.gitlab(["verify", "ci"])
        #expect(verify.out.contains("  GitLab's record, read with the admin token 'admin': last used at GitLab \(longAgo); never read from the vault"),
                "\(verify.out)")
        // The tokens checked were never sent: their records were read by id with the admin token.
        let sent = try Self.requests(world, from: start)
        #expect(sent.contains { $0.0 == "/api/v4/personal_access_tokens/3" } && sent.contains { $0.0 == "/api/v4/personal_access_tokens/2" })
        for (_, request) in sent {
            #expect(!request.contains(GitLabWorld.token) && !request.contains(Self.deploy), "\(request)")
        }
        // The admin token's reads are its uses.
        #expect(world.cli.vault(["log", "admin"]).out.contains("read"))
    }

    @Test func theTokensGitLabIdIsNotedAtVerifyAndAtRotateAndForgottenWithANewToken() throws {
        let world = try GitLabWorld.forPush()
        #expect(try idOf(world, "ci") == nil)
        #expect(world.gitlab(["verify", "ci"]).status == 0)
        // Ids by token: admin 1, ci 2.
        #expect(try idOf(world, "ci") == 2)
        #expect(world.cli.vault(["show", "ci"]).out.contains("gitlab id:  2 ("))
        let rotated = world.gitlab(["rotate", "ci"])
        #expect(rotated.status == 0, "\(rotated.err)")
        #expect(try idOf(world, "ci") == 3)
        let new = world.current
        let start = try world.requests().count
        let verify = world.gitlab(["verify", "ci"])
        #expect(verify.status == 0, "\(verify.err)")
        #expect(verify.out.contains("read with the admin token 'admin'"), "\(verify.out)")
        let sent = try Self.requests(world, from: start)
        #expect(sent.map(\.0) == ["/api/v4/personal_access_tokens/3"])
        #expect(!sent.contains { $0.1.contains(new) })
        // A token replaced by hand is another token: its id is not the old one's.
        #expect(world.cli.vault(["edit", "ci", "--secret"], stdin: .data("glpat-ReplacedByHand000000")).status == 0)
        #expect(try idOf(world, "ci") == nil)
    }

    @Test func aRecordGitLabDoesNotShowToTheAdminTokenMarksNothing() throws {
        // 'other' belongs to another user, not an administrator: GitLab answers 404.
        let world = try GitLabWorld(tokens: [
            GitLabWorld.token: ["scopes": ["read_api"], "expires_at": "2099-01-31"],
            Self.other: ["scopes": ["api"], "expires_at": "2099-01-31", "user_id": 2],
        ])
        world.addEntry(GitLabWorld.token, ["--scopes", "read_api", "--expires", "2099-01-31"])
        #expect(world.cli.add("other", token: Self.other, ["--url", world.url, "--kind", "gitlab", "--expires", "2099-01-31"]).status == 0)
        #expect(world.gitlab(["verify", "ci"]).status == 0)
        let r = world.gitlab(["verify", "ci", "--admin-token", "other"])
        #expect(r.status == 1)
        #expect(r.err.contains("vault: error: ci: GitLab did not show the record to the admin token 'other' (404: no such token, or the admin token is neither its owner's nor an instance administrator's); nothing was marked"), "\(r.err)")
        #expect(r.err.contains("vault: hint: an admin token reads its own user's tokens"))
        #expect(world.cli.vault(["config", "gitlab-admin.127.0.0.1:\(world.port)", "other"]).status == 0)
        let check = world.cli.vault(["check", "--online", "--json", "--ca-file", world.caFile])
        #expect(try GitLabActivityTests.findings(check).contains { $0 == ("ci", "unverified") }, "\(check.out)")
        #expect(check.out.contains("GitLab did not show the record to the admin token 'other'"))
        // An admin token GitLab refuses (revoked there): still nothing marked.
        try world.patch(["tokens": [Self.other: ["revoked": true]]])
        let refused = world.gitlab(["verify", "ci"])
        #expect(refused.status == 1)
        #expect(refused.err.contains("GitLab did not show the record to the admin token 'other' (401"), "\(refused.err)")
        #expect(try world.entry()["revoked"] is NSNull)
        #expect(world.cli.vault(["get", "ci"]).status == 0)
    }
}
