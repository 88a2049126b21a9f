import Foundation
import Testing
@testable import TokenVault
import TokenVaultGitLab

/// A push against GitLab's answers as hostile input: a variable's settings that a push must not
/// weaken, answers about another variable, answers without a value, a proxy's refusal, and
/// messages that repeat what was sent.
@Suite struct GitLabPushAnswerTests {
    @Test func aProtectedVariableStaysProtectedWhenItsLinkDoesNotAskForProtection() throws {
        let world = try GitLabWorld.forPush()
        // Protected at GitLab (exported to protected branches only), holding the entry's token.
        try world.patch(["add": [["project:team/app", ["key": "CI_TOKEN", "value": GitLabWorld.token, "protected": true]]]])
        world.link(["--project", "team/app", "--variable", "CI_TOKEN"])

        let r = world.gitlab(["rotate", "ci"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == "project team/app variable CI_TOKEN: updated\n")
        let variable = try world.variables("project:team/app")["CI_TOKEN"]
        #expect(variable?["value"] as? String == world.current)
        #expect(variable?["protected"] as? Bool == true)
        let put: String? = try world.requests().first { $0["method"] as? String == "PUT" }?["body"] as? String
        #expect(put.map { !$0.contains("protected") } == true)
    }

    @Test func aGitLabThatIgnoresTheScopeAskedForIsNotTakenAtItsWord() throws {
        let world = try GitLabWorld.forPush()
        // GitLab holds the token at scope production; the link is to scope staging, and this
        // GitLab ignores filter[environment_scope] (group variables before GitLab 16.9).
        try world.patch(["add": [["group:team", ["key": "CI_TOKEN", "value": GitLabWorld.token, "environment_scope": "production"]]],
                         "variable_mode": ["group:team:CI_TOKEN": "nofilter"]])
        world.link(["--group", "team", "--variable", "CI_TOKEN", "--environment-scope", "staging"])

        for arguments in [["push", "ci"], ["push", "ci", "--force"]] {
            let r = world.gitlab(arguments)
            #expect(r.status == 10, "\(r.err)")
            #expect(r.out.contains("group team variable CI_TOKEN (scope staging): FAILED: GitLab answered with another variable than the one asked for"), "\(r.out)")
        }
        #expect(try world.links().first?["pending"] is String)
        #expect(try world.requests().allSatisfy { $0["method"] as? String == "GET" })
        #expect(try world.variables("group:team")["CI_TOKEN"]?["environment_scope"] as? String == "production")
    }

    @Test func aVariableShownWithoutItsValueIsNotOverwrittenAsIfItWereHidden() throws {
        let world = try GitLabWorld.forPush()
        world.link(["--project", "team/app", "--variable", "CI_TOKEN"])
        #expect(world.gitlab(["push", "ci"]).status == 0)
        // Changed at GitLab, and then shown without a value although it is not hidden.
        try world.patch(["set": [["project:team/app", "CI_TOKEN", "*", "someone-elses-value-123"]],
                         "variable_mode": ["project:team/app:CI_TOKEN": "novalue"]])

        let r = world.gitlab(["push", "ci"])
        #expect(r.status == 10)
        #expect(r.out.contains("CI_TOKEN: FAILED: GitLab's answer (200) could not be read"), "\(r.out)")
        #expect(try world.variables("project:team/app")["CI_TOKEN"]?["value"] as? String == "someone-elses-value-123")
        #expect(try world.links().first?["pending"] is String)
    }

    @Test func aWriteIsDoneOnlyWhenGitLabAnswersWithTheVariableWritten() throws {
        let world = try GitLabWorld.forPush()
        world.link(["--project", "team/app", "--variable", "CI_TOKEN"])
        // A gateway that answers a write with its own page and a 2xx: nothing is written.
        try world.patch(["variable_mode": ["project:team/app:CI_TOKEN": "gateway"]])
        let r = world.gitlab(["push", "ci"])
        #expect(r.status == 10)
        #expect(r.out.contains("CI_TOKEN: FAILED: GitLab's answer (201) could not be read"), "\(r.out)")
        #expect(try world.variables("project:team/app")["CI_TOKEN"] == nil)
        #expect(try world.links().first?["pending"] is String)
        #expect(try world.links().first?["pushed"] is NSNull)
    }

    @Test func aProxysRefusalOfAPushIsNotTakenForGitLabsRefusalOfTheAdminToken() throws {
        let world = try GitLabWorld.forPush()
        world.link(["--project", "team/app", "--variable", "CI_TOKEN"])
        try world.patch(["mode": ["proxy": "html"]])

        let r = world.gitlab(["push", "ci"])
        #expect(r.status == 10)
        #expect(r.out.contains("CI_TOKEN: FAILED: authentication failed at a proxy"), "\(r.out)")
        #expect(!r.out.contains("refused the admin token"))
        let admin = try JSONSerialization.jsonObject(with: Data(world.cli.vault(["show", "admin", "--json"]).out.utf8)) as? [String: Any]
        #expect(admin?["revoked"] == nil || admin?["revoked"] is NSNull)
    }

    @Test func gitLabsMessageIsShownWithoutThePushedToken() throws {
        let world = try GitLabWorld.forPush()
        // A token that is not shaped like one (words), so only the push's own care hides it.
        let words = "correct-horse-battery-staple"
        #expect(world.cli.add("words", token: words, ["--url", world.url, "--kind", "gitlab"]).status == 0)
        #expect(world.cli.vault(["gitlab", "link", "words", "--project", "team/app", "--variable", "WORDS"]).status == 0)
        try world.patch(["variable_mode": ["project:team/app:WORDS": "echo"]])

        let r = world.gitlab(["push", "words"])
        #expect(r.status == 10)
        #expect(r.out.contains("WORDS: FAILED: GitLab refused the request (400)"), "\(r.out)")
        let shown = world.cli.vault(["show", "words"]).out + world.cli.vault(["check"]).out
        for text in [r.out, r.err, shown] { #expect(!text.contains("horse"), "\(text)") }

        // GitLab's message about a field is read whole: a masked value too short is "invalid".
        try world.patch(["variable_mode": [String: String]()])
        #expect(world.cli.add("short", token: "abc", ["--url", world.url, "--kind", "gitlab"]).status == 0)
        #expect(world.cli.vault(["gitlab", "link", "short", "--project", "team/app", "--variable", "SHORT"]).status == 0)
        let short = world.gitlab(["push", "short"])
        #expect(short.out.contains("SHORT: FAILED: GitLab refused the request (400): value is invalid"), "\(short.out)")
    }
}

/// Which host a token goes to, as the library decides it for any caller.
@Suite struct GitLabAccessHostTests {
    /// A transport that sends nothing.
    struct Unreachable: HTTPTransport {
        func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse { throw .cannotConnect("not in this test") }
    }

    @Test func aHostsDefaultAPIURLOnAnotherHostIsRefusedByTheLibrary() throws {
        let cli = CLI()
        #expect(cli.add("ci", token: GitLabWorld.token, ["--url", "https://gitlab.example.com", "--kind", "gitlab"]).status == 0)
        let vault = try Vault.open(at: cli.vaultPath)
        try vault.unlock(passphrase: Secret(CLI.passphrase))
        var access = GitLabAccess(transport: Unreachable())
        access.apiURLDefaults["gitlab.example.com"] = try GitLabAPIURL(parsing: "https://elsewhere.example.net/api/v4")
        #expect(throws: GitLabAccessError.self) { try access.gitlab(for: try vault.entry(named: "ci")) }
        access.apiURLDefaults["gitlab.example.com"] = try GitLabAPIURL(parsing: "https://gitlab.example.com/gitlab/api/v4")
        #expect(try access.gitlab(for: try vault.entry(named: "ci")).base == "https://gitlab.example.com/gitlab")
    }
}
