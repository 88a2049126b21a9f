import Foundation
import Testing
@testable import TokenVault

/// What the push tests need of the stand-in beyond `GitLabWorld`: an admin entry, its CI/CD
/// variables, and changes made at GitLab while the vault is not looking (STATE.patch).
extension GitLabWorld {
    static let admin = "glpat-AdminToken0000000000"

    /// A world whose `ci` token can rotate itself (no api scope) and whose `admin` token has
    /// the api scope, both entries added; `admin` set as the host's default unless `configure`
    /// is false.
    static func forPush(configure: Bool = true) throws -> GitLabWorld {
        let world = try GitLabWorld(tokens: [
            token: ["scopes": ["self_rotate", "read_repository"], "expires_at": "2099-01-31"],
            admin: ["scopes": ["api"], "expires_at": "2099-01-31"],
        ])
        world.addEntry()
        let added = world.cli.add("admin", token: admin, ["--url", world.url, "--kind", "gitlab", "--expires", "2099-01-31"])
        precondition(added.status == 0, "add admin: \(added.err)")
        if configure {
            let set = world.cli.vault(["config", "gitlab-admin.127.0.0.1:\(world.port)", "admin"])
            precondition(set.status == 0, "config: \(set.err)")
        }
        return world
    }

    func link(_ arguments: [String]) {
        let r = cli.vault(["gitlab", "link", "ci"] + arguments)
        precondition(r.status == 0, "link: \(r.err)")
    }

    /// Changes the stand-in's state before its next request, as someone at GitLab would.
    func patch(_ change: [String: Any]) throws {
        try JSONSerialization.data(withJSONObject: change).write(to: URL(fileURLWithPath: state + ".patch.tmp"))
        #expect(rename(state + ".patch.tmp", state + ".patch") == 0)
    }

    /// The stand-in's variables of `owner` (`project:team/app`), by key.
    func variables(_ owner: String) throws -> [String: [String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state))) as? [String: Any]
        let listed = (object?["variables"] as? [String: [[String: Any]]])?[owner] ?? []
        return Dictionary(listed.map { ($0["key"] as? String ?? "", $0) }) { a, _ in a }
    }

    func links() throws -> [[String: Any]] {
        try entry()["gitlab_links"] as? [[String: Any]] ?? []
    }

    /// The token `ci` holds now.
    var current: String { cli.vault(["get", "ci"]).out.trimmingCharacters(in: .newlines) }
}

@Suite struct GitLabPushTests {
    @Test func rotatingPushesTheNewTokenIntoTwoProjectsAndAGroupWhileTheOldOneIsRevoked() throws {
        let world = try GitLabWorld.forPush()
        world.link(["--project", "team/app", "--variable", "CI_TOKEN"])
        world.link(["--project", "42", "--variable", "DEPLOY_TOKEN", "--protected"])
        world.link(["--group", "team", "--variable", "GROUP_TOKEN", "--hidden"])
        // The first push creates the three variables with the token the entry holds.
        let first = world.gitlab(["push", "ci"])
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out == """
            project team/app variable CI_TOKEN: created
            project 42 variable DEPLOY_TOKEN: created
            group team variable GROUP_TOKEN: created (masked and hidden)

            """)
        #expect(try world.variables("project:team/app")["CI_TOKEN"]?["value"] as? String == GitLabWorld.token)

        let r = world.gitlab(["rotate", "ci"])
        #expect(r.status == 0, "\(r.err)")
        let new = world.current
        #expect(new != GitLabWorld.token && new.hasPrefix("glpat-"))
        #expect(r.out == """
            project team/app variable CI_TOKEN: updated
            project 42 variable DEPLOY_TOKEN: updated
            group team variable GROUP_TOKEN: updated

            """)
        let app = try world.variables("project:team/app")["CI_TOKEN"]
        let deploy = try world.variables("project:42")["DEPLOY_TOKEN"]
        let group = try world.variables("group:team")["GROUP_TOKEN"]
        #expect(app?["value"] as? String == new && app?["masked"] as? Bool == true && app?["protected"] as? Bool == false)
        #expect(deploy?["value"] as? String == new && deploy?["protected"] as? Bool == true)
        #expect(group?["value"] as? String == new && group?["hidden"] as? Bool == true)
        #expect(try world.tokens()[GitLabWorld.token]?["revoked"] as? Bool == true)
        #expect(try world.links().allSatisfy { $0["pending"] is NSNull && $0["pushed"] is String })

        // The pushed tokens went only into variables' values, in the body; the admin token only
        // into the PRIVATE-TOKEN header.
        for request in try world.requests() {
            let path = (request["path"] as? String ?? "") + "?" + (request["query"] as? String ?? "")
            let headers = request["headers"] as? [[String]] ?? []
            let body = request["body"] as? String ?? ""
            for token in [new, GitLabWorld.admin] { #expect(!path.contains(token)) }
            #expect(!body.contains(GitLabWorld.admin))
            for header in headers where header.count == 2 {
                #expect(!header[1].contains(new))
                if header[1].contains(GitLabWorld.admin) { #expect(header[0].lowercased() == "private-token") }
            }
            if body.contains(new) {
                let fields = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
                #expect(fields?["value"] as? String == new)
                #expect(path.contains("/variables"))
                var without = fields ?? [:]
                without["value"] = nil
                #expect(!String(describing: without).contains(new))
            }
        }
        #expect(try world.requests().contains { ($0["body"] as? String ?? "").contains(new) })
    }

    @Test func aFailingVariableLeavesTheTokenStoredAndThePushPendingUntilALaterPushFinishesIt() throws {
        let world = try GitLabWorld.forPush()
        world.link(["--project", "team/app", "--variable", "CI_TOKEN"])
        world.link(["--project", "team/lib", "--variable", "CI_TOKEN"])
        try world.patch(["variable_mode": ["project:team/lib:CI_TOKEN": "403"]])

        let rotated = world.gitlab(["rotate", "ci"])
        #expect(rotated.status == 10, "\(rotated.err)")
        let new = world.current
        #expect(new != GitLabWorld.token)
        #expect(rotated.out.contains("project team/app variable CI_TOKEN: created"))
        #expect(rotated.out.contains("project team/lib variable CI_TOKEN: FAILED: GitLab refused (403"))
        #expect(rotated.err.contains("1 of 2 variables do not hold the token"))
        func pending() throws -> [String: Any]? { try world.links().first { $0["project"] as? String == "team/lib" } }
        #expect(try pending()?["pending"] is String)
        #expect(try world.links().first { $0["project"] as? String == "team/app" }?["pending"] is NSNull)
        let check = world.cli.vault(["check", "--json"])
        #expect(check.out.contains("\"finding\":\"push-pending\""), "\(check.out)")
        #expect(world.cli.vault(["check"]).out.contains("ci: the token is not in GitLab's project team/lib variable CI_TOKEN"))

        // GitLab failing, then not answering: still pending, the token as it was.
        try world.patch(["variable_mode": ["project:team/lib:CI_TOKEN": "500"]])
        let failing = world.gitlab(["push", "ci"])
        #expect(failing.status == 10)
        #expect(failing.out.contains("team/lib variable CI_TOKEN: FAILED: GitLab failed (500"))
        #expect(failing.out.contains("team/app variable CI_TOKEN: already holds the token"))
        try world.patch(["variable_mode": ["project:team/lib:CI_TOKEN": "hang"]])
        let hanging = world.gitlab(["push", "ci", "--timeout", "2"], timeout: 60)
        #expect(hanging.status == 10)
        #expect(hanging.out.contains("team/lib variable CI_TOKEN: FAILED: 127.0.0.1:\(world.port) did not answer in time"), "\(hanging.out)")
        #expect(world.current == new)
        #expect(try pending()?["pending"] is String)

        // GitLab works again: the push finishes, and nothing is pending.
        try world.patch(["variable_mode": [String: String]()])
        let finished = world.gitlab(["push", "ci"])
        #expect(finished.status == 0, "\(finished.err)")
        #expect(finished.out.contains("project team/lib variable CI_TOKEN: created"))
        #expect(try world.variables("project:team/lib")["CI_TOKEN"]?["value"] as? String == new)
        #expect(try pending()?["pending"] is NSNull)
        #expect(!world.cli.vault(["check", "--json"]).out.contains("push-pending"))
        #expect(world.current == new)
    }

    /// Killed while a variable does not answer: the new token is stored, and every link it
    /// did not finish is pending.
    @Test func killedDuringThePushAfterARotationLeavesTheLinksPending() throws {
        let world = try GitLabWorld.forPush()
        world.link(["--project", "team/app", "--variable", "CI_TOKEN"])
        try world.patch(["variable_mode": ["project:team/app:CI_TOKEN": "hang"]])
        let rotate = BackgroundProcess(["/bin/sh", "-c", "echo started; exec \"$0\" gitlab rotate ci --ca-file \"$1\"",
                                        Binary.path("vault"), world.caFile], environment: world.cli.environment)
        #expect(rotate.firstLine == "started")
        func asked() -> Bool { ((try? world.requests()) ?? []).contains { ($0["path"] as? String ?? "").contains("/variables/") } }
        for _ in 0..<1000 where !asked() { usleep(10_000) }
        #expect(asked())
        kill(rotate.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(rotate.pid, &status, 0)
        #expect(world.current != GitLabWorld.token)
        #expect(try world.links().first?["pending"] is String)
        #expect(world.cli.vault(["check", "--json"]).out.contains("push-pending"))
        try world.patch(["variable_mode": [String: String]()])
        #expect(world.gitlab(["push", "ci"]).status == 0)
        #expect(try world.variables("project:team/app")["CI_TOKEN"]?["value"] as? String == world.current)
    }

    @Test func theAdminTokenOfAHostIsASettingThatNamesATokenOfThatHost() throws {
        let world = try GitLabWorld.forPush()
        let key = "gitlab-admin.127.0.0.1:\(world.port)"
        #expect(world.cli.vault(["config"]).out.contains("\(key) admin\n"))
        #expect(world.cli.vault(["config", key]).out == "admin\n")
        #expect(world.cli.add("elsewhere", token: "glpat-ElsewhereToken000000", ["--url", "https://gitlab.example.com", "--kind", "gitlab"]).status == 0)
        let other = world.cli.vault(["config", key, "elsewhere"])
        #expect(other.status == 64)
        #expect(other.err.contains("an admin token goes only to its own host"))
        #expect(world.cli.vault(["config", key, "none"]).status == 0)
        #expect(world.cli.vault(["config", key]).out == "none\n")
        #expect(!world.cli.vault(["config"]).out.contains("gitlab-admin"))
    }

    /// A link the vault has never pushed to is waiting for the token: `check` says so until a
    /// push writes it, and linking the same variable again keeps what the push did.
    @Test func aNewLinkIsPendingUntilItsFirstPush() throws {
        let world = try GitLabWorld.forPush()
        world.link(["--project", "team/app", "--variable", "CI_TOKEN"])
        let link = try #require(try world.links().first)
        #expect(link["pending"] is String && link["pending_reason"] as? String == "not pushed yet", "\(link)")
        let check = world.cli.vault(["check", "--json"])
        #expect(check.out.contains("\"finding\":\"push-pending\"") && check.out.contains("not pushed yet"), "\(check.out)")
        #expect(world.cli.vault(["show", "ci"]).out.contains("PENDING since"))

        #expect(world.gitlab(["push", "ci"]).status == 0)
        #expect(try world.links().first?["pending"] is NSNull)
        world.link(["--project", "team/app", "--variable", "CI_TOKEN", "--protected"])
        #expect(try world.links().first?["pending"] is NSNull)
        #expect(!world.cli.vault(["check", "--json"]).out.contains("push-pending"))
    }

    @Test func aVariableChangedAtGitLabIsReportedAndOverwrittenOnlyWithForce() throws {
        let world = try GitLabWorld.forPush()
        world.link(["--project", "team/app", "--variable", "CI_TOKEN"])
        #expect(world.gitlab(["push", "ci"]).status == 0)
        try world.patch(["set": [["project:team/app", "CI_TOKEN", "*", "someone-elses-value-123"]]])

        let r = world.gitlab(["push", "ci"])
        #expect(r.status == 10)
        #expect(r.out.contains("CI_TOKEN: NOT UPDATED: it holds a value that is none of this entry's tokens"))
        #expect(!r.out.contains("someone-elses-value"))
        #expect(try world.variables("project:team/app")["CI_TOKEN"]?["value"] as? String == "someone-elses-value-123")
        #expect(try world.links().first?["pending"] is String)

        let forced = world.gitlab(["push", "ci", "--force"])
        #expect(forced.status == 0, "\(forced.err)")
        #expect(forced.out.contains("CI_TOKEN: overwritten"))
        #expect(try world.variables("project:team/app")["CI_TOKEN"]?["value"] as? String == GitLabWorld.token)
        #expect(try world.links().first?["pending"] is NSNull)
    }

    @Test func aPushNeedsAnAdminTokenAndAuthenticatesWithTheTokenItselfOnlyWhenAsked() throws {
        let world = try GitLabWorld.forPush(configure: false)
        world.link(["--project", "team/app", "--variable", "CI_TOKEN"])
        let none = world.gitlab(["push", "ci"])
        #expect(none.status == 64)
        #expect(none.err.contains("no admin token for 127.0.0.1:\(world.port)"))
        #expect(none.err.contains("vault config gitlab-admin.127.0.0.1:\(world.port) ENTRY"))
        // Rotation checks it first: nothing is rotated.
        let rotate = world.gitlab(["rotate", "ci"])
        #expect(rotate.status == 64)
        #expect(world.current == GitLabWorld.token)
        #expect(try world.requests().isEmpty)
        let own = world.gitlab(["push", "ci", "--admin-token", "ci"])
        #expect(own.status == 64)
        #expect(own.err.contains("--self-auth"))

        // Asked for: the pushed token authenticates itself (here without the api scope: 403).
        let selfAuth = world.gitlab(["push", "ci", "--self-auth"])
        #expect(selfAuth.status == 10)
        #expect(try world.requests().allSatisfy { request in
            (request["headers"] as? [[String]] ?? []).contains { $0 == ["PRIVATE-TOKEN", GitLabWorld.token] || $0 == ["Private-Token", GitLabWorld.token] }
        })
        let named = world.gitlab(["push", "ci", "--admin-token", "admin"])
        #expect(named.status == 0, "\(named.err)")
        // The admin token's read is a use of it.
        let admin = try JSONSerialization.jsonObject(with: Data(world.cli.vault(["show", "admin", "--json"]).out.utf8)) as? [String: Any]
        #expect(admin?["last_used"] is String)
    }

    @Test func linksRoundTripThroughShowUnlinkEditRenameAndABundle() throws {
        let world = try GitLabWorld.forPush()
        world.link(["--project", "team/app", "--variable", "CI_TOKEN", "--environment-scope", "production", "--protected", "--hidden"])
        world.link(["--project", "team/app", "--variable", "CI_TOKEN", "--environment-scope", "staging"])
        // The same variable again: its settings change, no second link.
        world.link(["--project", "team/app", "--variable", "CI_TOKEN", "--environment-scope", "staging", "--protected"])
        let shown = world.cli.vault(["show", "ci"]).out
        #expect(shown.contains("link:       project team/app variable CI_TOKEN (scope production; masked and hidden, protected)"))
        #expect(shown.contains("link:       project team/app variable CI_TOKEN (scope staging; masked, protected)"))
        #expect(try world.links().count == 2)

        // Edited and renamed, the entry keeps its links.
        #expect(world.cli.vault(["edit", "ci", "--note", "edited"]).status == 0)
        #expect(world.cli.vault(["rename", "ci", "ci2"]).status == 0)
        #expect(world.cli.vault(["rename", "ci2", "ci"]).status == 0)
        #expect(try world.links().count == 2)

        let ambiguous = world.cli.vault(["gitlab", "unlink", "ci", "--project", "team/app", "--variable", "CI_TOKEN"])
        #expect(ambiguous.status == 64)
        #expect(ambiguous.err.contains("several scopes (production, staging)"))
        #expect(world.cli.vault(["gitlab", "unlink", "ci", "--project", "team/app", "--variable", "CI_TOKEN", "--environment-scope", "staging"]).status == 0)
        #expect(try world.links().map { $0["environment_scope"] as? String } == ["production"])
        let missing = world.cli.vault(["gitlab", "unlink", "ci", "--group", "team", "--variable", "CI_TOKEN"])
        #expect(missing.status == 1)
        #expect(missing.err.contains("has no link to group team variable CI_TOKEN"))

        // A name or key that GitLab would not take is refused, nothing stored.
        #expect(world.cli.vault(["gitlab", "link", "ci", "--project", "team/app", "--variable", "NO-DASH"]).status == 64)
        #expect(world.cli.vault(["gitlab", "link", "admin", "--project", "team/app", "--group", "team", "--variable", "K"]).status == 64)
        #expect(world.cli.add("plain", token: "some-generic-token-1", ["--kind", "generic"]).status == 0)
        #expect(world.cli.vault(["gitlab", "link", "plain", "--project", "team/app", "--variable", "K"]).status == 64)

        // Exported to another vault, the entry arrives with its link.
        let two = TwoVaults()
        let bundle = world.cli.home + "/ci.tvb"
        #expect(world.cli.vault(["export", "ci", "--to", two.bobIdentity, "-o", bundle]).status == 0)
        #expect(two.bob.vault(["id", "trust", "world", world.cli.vault(["id"]).out.trimmingCharacters(in: .whitespacesAndNewlines)]).status == 0)
        let imported = two.bob.vault(["import", "bundle", bundle])
        #expect(imported.status == 0, "\(imported.err)")
        #expect(two.bob.vault(["show", "ci"]).out.contains("project team/app variable CI_TOKEN (scope production; masked and hidden, protected)"))
    }
}
