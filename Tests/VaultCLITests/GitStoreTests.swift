import Foundation
import Testing
@testable import TokenVault

/// What git stores back after `get`, concurrent stores, OAuth tokens and refresh tokens, and the
/// agent's git requests: store and get agree on which entry a request means.
@Suite struct GitStoreTests {
    func helper(_ cli: CLI, _ action: String, _ lines: [String], env: [String: String?] = [:]) -> RunResult {
        var environment = cli.environment
        for (key, value) in env { environment[key] = value }
        return run([Binary.path("git-credential-vault"), action], environment: environment,
                   stdin: .data(lines.joined(separator: "\n") + "\n\n"), timeout: 30)
    }

    @Test func whatGetAnsweredComesBackWithoutANewEntry() throws {
        let cli = CLI()
        let token = "glpat-PathScoped000000000000"
        cli.add("work", token: token, ["--url", "https://gitlab.example.com/group/project"])
        cli.add("team", token: "shared-team-token-1", ["--url", "https://git.example.com", "--username", "alice"])
        // git without a path: the entry for one repository answers, with GitLab's user name.
        let got = helper(cli, "get", ["protocol=https", "host=gitlab.example.com"])
        #expect(got.out == "username=oauth2\npassword=\(token)\n", "\(got.out)")
        #expect(helper(cli, "store", ["protocol=https", "host=gitlab.example.com", "username=oauth2", "password=\(token)"]).err.isEmpty)
        // credential.useHttpPath: an entry for the whole host serves each repository.
        for repo in ["repo1.git", "repo2.git"] {
            let request = ["protocol=https", "host=git.example.com", "path=\(repo)", "username=alice"]
            #expect(helper(cli, "get", request).out == "username=alice\npassword=shared-team-token-1\n")
            #expect(helper(cli, "store", request + ["password=shared-team-token-1"]).err.isEmpty)
        }
        #expect(try cli.library().names() == ["team", "work"])
    }

    @Test func anEntryWithoutAUserNameAnswersTheUserNameGetGivesAndNoOther() throws {
        let cli = CLI()
        let token = "glpat-NoUserName000000000000"
        cli.add("gl", token: token, ["--url", "https://gitlab.example.com"])
        // The user name `get` gives for a GitLab token comes back from git's remote URL.
        #expect(helper(cli, "get", ["protocol=https", "host=gitlab.example.com", "username=oauth2"]).out
            == "username=oauth2\npassword=\(token)\n")
        // Another user name is another credential: not answered, and stored when git prompts.
        #expect(helper(cli, "get", ["protocol=https", "host=gitlab.example.com", "username=bob"]).out.isEmpty)
        #expect(helper(cli, "store", ["protocol=https", "host=gitlab.example.com", "username=bob", "password=\(token)"]).err.isEmpty)
        #expect(helper(cli, "get", ["protocol=https", "host=gitlab.example.com", "username=bob"]).out
            == "username=bob\npassword=\(token)\n", "the next get answers what was stored")
    }

    @Test func concurrentStoresLoseNoPasswordAndSayNothing() throws {
        let cli = CLI()
        #expect(cli.vault(["unlock", "--timeout", "5m"]).status == 0)
        let passwords = (1...12).map { "race-password-\($0)" }
        let results = Locked<[RunResult]>([])
        DispatchQueue.concurrentPerform(iterations: passwords.count) { index in
            let r = helper(cli, "store", ["protocol=https", "host=race.example.com", "username=bob", "password=\(passwords[index])"],
                           env: ["TOKENVAULT_PASSPHRASE": nil])
            results.withLock { $0.append(r) }
        }
        for r in results.withLock({ $0 }) { #expect(r.status == 0 && r.err.isEmpty, "\(r.err)") }
        let vault = try cli.library()
        #expect(try vault.names() == ["bob@race.example.com"])
        let held = try [vault.secret(named: "bob@race.example.com").revealString()]
            + vault.history(of: "bob@race.example.com").map { $0.secret.revealString() }
        #expect(Set(held) == Set(passwords), "\(held)")
    }

    @Test func aShortLivedOAuthTokenIsNotWarnedAboutAndItsRefreshTokenOutlivesIt() throws {
        let cli = CLI()
        let now = Int64(Date().timeIntervalSince1970)
        let base = ["protocol=https", "host=gitea.example.com", "username=alice"]
        #expect(helper(cli, "store", base + ["password=access-1", "password_expiry_utc=\(now + 3600)"]).err.isEmpty)
        let soon = helper(cli, "get", base)
        #expect(soon.out == "username=alice\npassword=access-1\npassword_expiry_utc=\(now + 3600)\n")
        #expect(soon.err.isEmpty, "\(soon.err)")
        // Expired, with a refresh token: git gets the refresh token alone, to renew it.
        #expect(helper(cli, "store", base + ["password=access-2", "password_expiry_utc=\(now - 60)", "oauth_refresh_token=refresh-2"]).err.isEmpty)
        let expired = helper(cli, "get", base)
        #expect(expired.out == "username=alice\noauth_refresh_token=refresh-2\n", "\(expired.out)")
        #expect(expired.err.isEmpty, "\(expired.err)")
        #expect(!expired.out.contains("access-2"))
        // Through the agent, the same.
        #expect(cli.vault(["unlock", "--timeout", "5m"]).status == 0)
        let viaAgent = helper(cli, "get", base, env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(viaAgent.out == "username=alice\noauth_refresh_token=refresh-2\n", "\(viaAgent.out) \(viaAgent.err)")
        #expect(cli.vault(["lock"]).status == 0)
    }

    /// The agent's git request never answers with an authtype credential unless git's
    /// description announces the capability.
    @Test func theAgentGivesBearerCredentialsOnlyToRequestsThatKnowThem() throws {
        let cli = CLI()
        let stored = helper(cli, "store", ["capability[]=authtype", "authtype=Bearer", "credential=bearer-only-token",
                                           "protocol=https", "host=git.example.com"])
        #expect(stored.err.isEmpty)
        #expect(cli.vault(["unlock", "--timeout", "5m"]).status == 0)
        defer { cli.vault(["lock"]) }
        let socket = AgentProtocol.socketPath(forVault: cli.vaultPath, environment: cli.environment)
        let agent = try #require(AgentClient.connect(socketPath: socket))
        for capability in [false, true] {
            let description = (capability ? "capability[]=authtype\n" : "") + "protocol=https\nhost=git.example.com\n\n"
            let request = AgentRequest.git(FileIdentity(path: cli.vaultPath), ActivityLog.Origin(actor: "test"),
                                           now: .now(), description: Secret(description).storage)
            guard case .git(let reply) = try agent.send(request) else { Issue.record("not a git reply"); continue }
            let out = reply.stdout.revealString()
            #expect(out.contains("bearer-only-token") == capability, "capability \(capability): \(out)")
            #expect(out.contains("authtype=Bearer") == capability)
        }
    }
}
