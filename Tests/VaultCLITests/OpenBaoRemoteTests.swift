import Foundation
import Testing
@testable import TokenVault

/// Remote entries in a real OpenBao dev server (OpenBaoServer), through the real `vault`.
@Suite struct OpenBaoRemoteTests {
    static let token = "glpat-remoteAAAAAAAAAAAA1"

    /// A vault with the remote `team` on `server`, logged in with `baoToken`.
    static func vault(with server: OpenBaoServer, baoToken: String? = nil, extra: [String] = []) -> CLI {
        let cli = CLI()
        let added = cli.vault(["remote", "add", "team", "--url", server.address] + extra, stdin: .data(baoToken ?? server.rootToken))
        precondition(added.status == 0, "remote add failed: \(added.err)")
        return cli
    }

    @Test func twoVaultsThatAddTheSameRemoteShareItsEntriesAndNeitherHomeHoldsATokenOfOpenBao() throws {
        let server = OpenBaoServer()
        let alice = Self.vault(with: server), bob = Self.vault(with: server)
        let add = alice.vault(["add", "team/gitlab-ci", "--url", "https://gitlab.example.com", "--username", "ci-bot",
                               "--scopes", "read_api", "--expires", "2099-01-01"], stdin: .data(Self.token))
        #expect(add.status == 0, "\(add.err)")
        let get = bob.vault(["get", "team/gitlab-ci"])
        #expect(get.status == 0, "\(get.err)")
        #expect(get.out == Self.token + "\n")
        #expect(bob.vault(["get", "team/gitlab-ci", "--field", "username"]).out == "ci-bot\n")
        let json = bob.vault(["get", "team/gitlab-ci", "--json"])
        #expect(json.out.contains("\"secret\":\"\(Self.token)\""))
        #expect(json.out.contains("\"host\":\"gitlab.example.com\""))
        // git's helper serves it as a local entry, by its URL and user name.
        let fill = run(["/usr/bin/git", "-c", "credential.helper=" + Binary.path("git-credential-vault"), "credential", "fill"],
                       environment: bob.environment.merging(["GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"]) { $1 },
                       stdin: .data("protocol=https\nhost=gitlab.example.com\n\n"), timeout: 60)
        #expect(fill.status == 0, "\(fill.err)")
        #expect(fill.out.contains("username=ci-bot\n") && fill.out.contains("password=\(Self.token)\n"), "\(fill.out)")
        let list = bob.vault(["list", "team/"])
        #expect(list.status == 0 && list.out.contains("team/gitlab-ci") && list.out.contains("gitlab.example.com"), "\(list.err)")
        // Neither the entry's token nor OpenBao's root token is anywhere under either HOME.
        for cli in [alice, bob] {
            for (path, bytes) in cli.files() {
                #expect(!bytes.contains(bytes: Self.token), "the token is in \(path)")
                #expect(!bytes.contains(bytes: server.rootToken), "OpenBao's token is in \(path)")
            }
        }
        // What `bao kv get` shows a person.
        let kv = server.bao(["kv", "get", "-format=json", "secret/tokenvault/gitlab-ci"])
        #expect(kv.out.contains("\"token\": \"\(Self.token)\""), "\(kv.out)")
        #expect(kv.out.contains("\"username\": \"ci-bot\"") && kv.out.contains("\"expires\": \"2099-01-01\""))
        #expect(kv.out.contains("\"format\": \"tokenvault-entry-1\""))
    }

    @Test func anEditedTokenIsANewVersionAndHistoryListsBoth() {
        let server = OpenBaoServer()
        let cli = Self.vault(with: server)
        cli.add("team/deploy", token: Self.token, ["--url", "https://gitlab.example.com"])
        let edit = cli.vault(["edit", "team/deploy", "--secret"], stdin: .data("glpat-newBBBBBBBBBBBBBBBB2"))
        #expect(edit.status == 0, "\(edit.err)")
        #expect(cli.vault(["get", "team/deploy"]).out == "glpat-newBBBBBBBBBBBBBBBB2\n")
        let history = cli.vault(["history", "team/deploy", "--reveal"])
        #expect(history.status == 0, "\(history.err)")
        let lines = history.out.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("1  ") == true && lines.first?.hasSuffix(Self.token) == true)
        #expect(lines.last?.hasPrefix("2  ") == true && lines.last?.hasSuffix("glpat-newBBBBBBBBBBBBBBBB2") == true)
        // Metadata alone changes too, keeping the token.
        #expect(cli.vault(["edit", "team/deploy", "--scopes", "read_repository"]).status == 0)
        #expect(cli.vault(["get", "team/deploy", "--field", "scopes"]).out == "read_repository\n")
        #expect(cli.vault(["get", "team/deploy"]).out == "glpat-newBBBBBBBBBBBBBBBB2\n")
    }

    @Test func aRemovedEntryIsRefusedUntilItIsRestored() {
        let server = OpenBaoServer()
        let cli = Self.vault(with: server)
        cli.add("team/deploy", token: Self.token)
        let rm = cli.vault(["rm", "--yes", "team/deploy"])
        #expect(rm.status == 0, "\(rm.err)")
        let refused = cli.vault(["get", "team/deploy"])
        #expect(refused.status == 2 && refused.out.isEmpty && refused.err.contains("trash"), "\(refused.err)")
        let restore = cli.vault(["restore", "team/deploy"])
        #expect(restore.status == 0, "\(restore.err)")
        #expect(cli.vault(["get", "team/deploy"]).out == Self.token + "\n")
    }

    @Test func addingAnEntryThatExistsChangesNothing() {
        let server = OpenBaoServer()
        let cli = Self.vault(with: server)
        cli.add("team/deploy", token: Self.token)
        let again = cli.add("team/deploy", token: "glpat-otherCCCCCCCCCCCCCC3")
        #expect(again.status == 1 && again.err.contains("exists already"), "\(again.err)")
        #expect(cli.vault(["get", "team/deploy"]).out == Self.token + "\n")
    }

    @Test func anExpiredRemoteEntryIsRefusedAndCheckReportsIt() {
        let server = OpenBaoServer()
        let cli = Self.vault(with: server)
        cli.add("team/old", token: Self.token, ["--expires", "2020-01-01"])
        let get = cli.vault(["get", "team/old"])
        #expect(get.status == 4 && get.out.isEmpty, "\(get.err)")
        #expect(cli.vault(["get", "team/old", "--allow-expired"]).out == Self.token + "\n")
        let check = cli.vault(["check"])
        #expect(check.status == 4 && check.out.contains("team/old"), "\(check.out) \(check.err)")
    }

    @Test func aReadOnlyPolicyReadsAndAWriteFailsNamingThePathAndTheOperationChangingNothing() {
        let server = OpenBaoServer()
        // The README's policies, as they are.
        let policies = ReadmeTests.blocks(tagged: "hcl")
        #expect(policies.count == 2)
        server.writePolicy("tokenvault-read", policies[0])
        server.writePolicy("tokenvault-write", policies[1])
        let maintainer = Self.vault(with: server, baoToken: server.token(policies: ["tokenvault-write"]))
        #expect(maintainer.add("team/deploy", token: Self.token).status == 0)
        let ci = Self.vault(with: server, baoToken: server.token(policies: ["tokenvault-read"]))
        #expect(ci.vault(["get", "team/deploy"]).out == Self.token + "\n")
        #expect(ci.vault(["list", "team/"]).out.contains("team/deploy"))
        let edit = ci.vault(["edit", "team/deploy", "--secret"], stdin: .data("glpat-newBBBBBBBBBBBBBBBB2"))
        #expect(edit.status == 14, "\(edit.err)")
        #expect(edit.err.contains("denies update on 'secret/data/tokenvault/deploy'"), "\(edit.err)")
        let add = ci.add("team/other", token: Self.token)
        #expect(add.status == 14 && add.err.contains("denies create on 'secret/data/tokenvault/other'"), "\(add.err)")
        #expect(ci.vault(["rm", "--yes", "team/deploy"]).status == 14)
        // Nothing changed: one version, the same token.
        #expect(maintainer.vault(["history", "team/deploy"]).out.split(separator: "\n").count == 1)
        #expect(maintainer.vault(["get", "team/deploy"]).out == Self.token + "\n")
        #expect(maintainer.vault(["get", "team/other"]).status == 2)
    }

    @Test func aRevokedOpenBaoTokenIsNamedWithWhatToDo() {
        let server = OpenBaoServer()
        let baoToken = server.token(policies: ["default"])
        let cli = Self.vault(with: server, baoToken: baoToken)
        #expect(server.bao(["token", "revoke", baoToken]).status == 0)
        let get = cli.vault(["get", "team/deploy"])
        #expect(get.status == 14, "\(get.err)")
        #expect(get.err.contains("refused the token of remote 'team': it has expired or was revoked"))
        #expect(get.err.contains("hint: get a new token"))
    }

    @Test func aStoppedServerFailsWithinABoundedTimeAsUnreachable() {
        let server = OpenBaoServer()
        let cli = Self.vault(with: server)
        cli.add("team/deploy", token: Self.token, ["--url", "https://gitlab.example.com"])
        #expect(cli.gitHelperGet(host: "gitlab.example.com").out.contains("password=\(Self.token)"))
        server.stop()
        let get = cli.vault(["get", "team/deploy"])
        #expect(get.status == 11, "\(get.err)")
        #expect(get.err.contains("cannot reach OpenBao for remote 'team'"))
        #expect(get.seconds < 10)
        // git's helper answers nothing, in as little time, and git moves on.
        let helper = cli.gitHelperGet(host: "gitlab.example.com")
        #expect(helper.status == 0 && helper.out.isEmpty, "\(helper.out) \(helper.err)")
        #expect(helper.seconds < 10)
    }

    @Test func aSealedServerHasItsOwnExitCode() {
        let server = OpenBaoServer()
        let cli = Self.vault(with: server)
        #expect(server.bao(["operator", "seal"]).status == 0)
        let get = cli.vault(["get", "team/deploy"])
        #expect(get.status == 12 && get.err.contains("sealed"), "\(get.err)")
        let status = cli.vault(["remote", "status", "team"])
        #expect(status.status == 12 && status.out.contains("sealed:    yes"), "\(status.out) \(status.err)")
    }

    @Test func anUntrustedCertificateIsATLSFailureAndTheCAFileTrustsIt() {
        let server = OpenBaoServer(tls: true)
        let cli = CLI()
        let untrusted = cli.vault(["remote", "add", "team", "--url", server.address], stdin: .data(server.rootToken))
        #expect(untrusted.status == 13 && untrusted.err.contains("TLS failed"), "\(untrusted.err)")
        #expect(cli.vault(["remote", "list"]).err.contains("no remotes"))
        let trusted = cli.vault(["remote", "add", "team", "--url", server.address, "--ca-file", server.caFile], stdin: .data(server.rootToken))
        #expect(trusted.status == 0, "\(trusted.err)")
        #expect(cli.add("team/deploy", token: Self.token).status == 0)
        #expect(cli.vault(["get", "team/deploy"]).out == Self.token + "\n")
    }

    @Test func remoteStatusListAndRemove() {
        let server = OpenBaoServer()
        server.writePolicy("tokenvault-read", ReadmeTests.blocks(tagged: "hcl").first ?? "")
        let baoToken = server.token(policies: ["tokenvault-read"], ttl: "2h")
        let cli = Self.vault(with: server, baoToken: baoToken)
        let status = cli.vault(["remote", "status", "team"])
        #expect(status.status == 0, "\(status.err)")
        #expect(status.out.contains("sealed:    no") && status.out.contains("policies:  default, tokenvault-read"), "\(status.out)")
        #expect(status.out.contains("(renewable)"))
        let list = cli.vault(["remote", "list"])
        #expect(list.out.contains("team") && list.out.contains(server.address) && !list.out.contains(baoToken))
        #expect(cli.vault(["remote", "rm", "team"]).status == 0)
        #expect(cli.vault(["remote", "list"]).err.contains("no remotes"))
        // team/NAME is a local name again.
        #expect(cli.vault(["get", "team/deploy"]).status == 2)
    }

    @Test func aRemoteTokenIsReadFromStandardInputAndAWrongOneIsNotSaved() {
        let server = OpenBaoServer()
        let cli = CLI()
        let wrong = cli.vault(["remote", "add", "team", "--url", server.address], stdin: .data("s.not-a-token"))
        #expect(wrong.status == 14, "\(wrong.err)")
        #expect(cli.vault(["remote", "list"]).err.contains("no remotes"))
        let plain = cli.vault(["remote", "add", "team", "--url", "http://bao.example.com:8200"], stdin: .data(server.rootToken))
        #expect(plain.status == 64 && plain.err.contains("https://"), "\(plain.err)")
    }

    @Test func anAppRoleRemoteLogsInWithTheSecretIdFromStandardInput() {
        let server = OpenBaoServer()
        server.writePolicy("tokenvault-read", ReadmeTests.blocks(tagged: "hcl").first ?? "")
        #expect(server.bao(["auth", "enable", "approle"]).status == 0)
        #expect(server.bao(["write", "auth/approle/role/ci", "token_policies=tokenvault-read", "token_ttl=10m"]).status == 0)
        let roleID = server.bao(["read", "-field=role_id", "auth/approle/role/ci/role-id"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
        let secretID = server.bao(["write", "-f", "-field=secret_id", "auth/approle/role/ci/secret-id"]).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let maintainer = Self.vault(with: server)
        maintainer.add("team/deploy", token: Self.token)
        let ci = CLI()
        let add = ci.vault(["remote", "add", "team", "--url", server.address, "--approle", roleID], stdin: .data(secretID))
        #expect(add.status == 0, "\(add.err)")
        #expect(ci.vault(["get", "team/deploy"]).out == Self.token + "\n")
        for (path, bytes) in ci.files() { #expect(!bytes.contains(bytes: secretID), "the secret id is in \(path)") }
    }

    @Test func atATerminalTheOpenBaoTokenIsAskedForWithoutEcho() {
        let server = OpenBaoServer()
        let cli = CLI()
        let p = PTYProcess([Binary.path("vault"), "remote", "add", "team", "--url", server.address], environment: cli.environment)
        #expect(p.expect("OpenBao token for team: "))
        p.send(server.rootToken + "\n")
        #expect(p.wait() == 0, "\(p.text)")
        #expect(!p.text.contains(server.rootToken), "echoed: \(p.text)")
        #expect(cli.vault(["remote", "status", "team"]).status == 0)
    }

    @Test func execAndInjectTakeRemoteEntriesBesideLocalOnes() {
        let server = OpenBaoServer()
        let cli = Self.vault(with: server)
        cli.add("team/deploy", token: Self.token, ["--url", "https://gitlab.example.com", "--username", "ci-bot", "--kind", "gitlab"])
        cli.add("mine", token: "local-token-value-0001")
        let exec = cli.vault(["exec", "--env", "T=team/deploy", "--env", "U=team/deploy:username", "--env", "L=mine", "--",
                              "sh", "-c", "printf '%s %s %s' \"$T\" \"$U\" \"$L\""])
        #expect(exec.status == 0 && exec.out == "\(Self.token) ci-bot local-token-value-0001", "\(exec.out) \(exec.err)")
        let inject = cli.vault(["inject"], stdin: .data("a={{ vault \"team/deploy\" }} b={{ vault \"mine\" }}\n"))
        #expect(inject.status == 0 && inject.out == "a=\(Self.token) b=local-token-value-0001\n", "\(inject.out) \(inject.err)")
        #expect(cli.vault(["rm", "--yes", "team/deploy"]).status == 0)
        #expect(cli.vault(["inject"], stdin: .data("a={{ vault \"team/deploy\" }}\n")).status == 2)
    }
}
