import Foundation
import Testing
@testable import TokenVault

@Suite struct CommandTests {
    static let token = "glpat-Xy7Kq2Lm9Np4Rs6Tu8Vw"

    @Test func roundTripThroughTheBinary() throws {
        let cli = CLI()
        let added = cli.add("gitlab-ci", token: Self.token + "\n",
                            ["--url", "https://gitlab.example.com:8443/group", "--username", "oauth2",
                             "--scopes", "read_api, read_repository", "--expires", "2099-01-31", "--note", "CI runner"])
        #expect(added.status == 0, "\(added.err)")
        #expect(added.stdout.isEmpty)

        let got = cli.vault(["get", "gitlab-ci"])
        #expect(got.status == 0)
        #expect(got.out == Self.token + "\n")
        #expect(got.err.isEmpty)

        let list = cli.vault(["list"])
        #expect(list.status == 0)
        #expect(list.out.contains("gitlab-ci"))
        #expect(list.out.contains("gitlab.example.com:8443"))
        #expect(list.out.contains("read_api,read_repository"))
        #expect(!list.out.contains(Self.token) && !list.err.contains(Self.token))

        let json = cli.vault(["list", "--json"])
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [[String: Any]])
        #expect(array.count == 1)
        let entry = array[0]
        #expect(entry["name"] as? String == "gitlab-ci")
        #expect(entry["kind"] as? String == "gitlab")
        #expect(entry["url"] as? String == "https://gitlab.example.com:8443/group")
        #expect(entry["host"] as? String == "gitlab.example.com:8443")
        #expect(entry["username"] as? String == "oauth2")
        #expect(entry["scopes"] as? [String] == ["read_api", "read_repository"])
        #expect(entry["expires"] as? String == "2099-01-31")
        #expect(entry["notes"] as? String == "CI runner")
        #expect((entry["last_used"] as? String)?.hasSuffix("Z") == true, "vault get marks the entry as used")
        #expect(entry["secret"] == nil)
        #expect(!json.out.contains(Self.token))

        let removed = cli.vault(["rm", "gitlab-ci", "--yes"])
        #expect(removed.status == 0)
        #expect(cli.vault(["get", "gitlab-ci"]).status == 2)
        #expect(cli.vault(["list", "--json"]).out == "[]\n")
    }

    @Test func exitCodesForEveryKindOfFailure() throws {
        let cli = CLI()
        cli.add("gitlab-ci", token: Self.token)

        // Usage (64): a missing argument, an unknown option, a bad value.
        for arguments in [["get"], ["list", "--bogus"], ["init", "--kdf", "cheap"], ["add", "x", "--expires", "tomorrow"]] {
            let r = cli.vault(arguments)
            #expect(r.status == 64, "\(arguments): \(r.err)")
            #expect(r.err.hasPrefix("vault: error: "), "\(arguments): \(r.err)")
            #expect(r.stdout.isEmpty)
        }

        // Not found (2), with a suggestion.
        let typo = cli.vault(["get", "gitlab-c1"])
        #expect(typo.status == 2)
        #expect(typo.err.contains("vault: error: no entry named 'gitlab-c1'"))
        #expect(typo.err.contains("vault: hint: did you mean gitlab-ci?"))
        #expect(typo.stdout.isEmpty)
        let noVault = cli.vault(["--vault", cli.home + "/missing.db", "get", "x"])
        #expect(noVault.status == 2)
        #expect(noVault.err.contains("no vault at"))

        // Locked (3): wrong passphrase, or none at all.
        let wrong = cli.vault(["get", "gitlab-ci"], env: ["TOKENVAULT_PASSPHRASE": "wrong"])
        #expect(wrong.status == 3)
        #expect(wrong.err == "vault: error: wrong passphrase\n")
        let none = cli.vault(["get", "gitlab-ci"], stdin: .closed, env: ["TOKENVAULT_PASSPHRASE": nil], timeout: 10)
        #expect(!none.timedOut)
        #expect(none.status == 3)
        #expect(none.err.contains("no passphrase source"))
        #expect(none.stdout.isEmpty)

        // Expired (4), unless --allow-expired; expiring soon is a warning.
        cli.add("old", token: "glpat-expired-0000000000", ["--expires", "2020-01-01"])
        let expired = cli.vault(["get", "old"])
        #expect(expired.status == 4)
        #expect(expired.err.contains("expired on 2020-01-01"))
        #expect(expired.stdout.isEmpty)
        let allowed = cli.vault(["get", "old", "--allow-expired"])
        #expect(allowed.status == 0)
        #expect(allowed.out == "glpat-expired-0000000000\n")
        #expect(allowed.err.contains("warning"))
        let soon = Timestamp.now().adding(days: 3).dateString
        cli.add("soon", token: "glpat-soon-000000000000", ["--expires", soon])
        let warned = cli.vault(["get", "soon"])
        #expect(warned.status == 0)
        #expect(warned.out == "glpat-soon-000000000000\n")
        #expect(warned.err.contains("vault: warning: the token 'soon' expires in"))

        // Other (1): the name is taken.
        let taken = cli.add("gitlab-ci", token: "another")
        #expect(taken.status == 1)
        #expect(taken.err.contains("already exists"))
        #expect(try cli.library().secret(named: "gitlab-ci").revealString() == Self.token)

        // Tampered (5): one flipped bit in the stored token.
        try withSQLite(cli.vaultPath) { db in
            let s = try db.prepare("SELECT id, secret FROM entries")
            var rows: [(Int64, [UInt8])] = []
            while try s.step() { rows.append((s.int(0), try s.blob(1, "c"))) }
            for (id, var blob) in rows {
                blob[40] ^= 1
                try db.prepare("UPDATE entries SET secret = ? WHERE id = ?").run([.blob(blob), .integer(id)])
            }
        }
        let tampered = cli.vault(["get", "gitlab-ci"])
        #expect(tampered.status == 5)
        #expect(tampered.err.contains("tampered"))
        #expect(tampered.stdout.isEmpty)

        // Unsafe permissions (6).
        chmod(cli.vaultPath, 0o644)
        let unsafe = cli.vault(["list"])
        #expect(unsafe.status == 6)
        #expect(unsafe.err.contains("too open"))
        #expect(unsafe.err.contains("vault: hint: chmod 600"))
        chmod(cli.vaultPath, 0o600)
        let folder = (cli.vaultPath as NSString).deletingLastPathComponent
        chmod(folder, 0o777)
        #expect(cli.vault(["list"]).status == 6)
        chmod(folder, 0o700)
    }

    @Test func aTokenIsNeverAcceptedInArgv() throws {
        let cli = CLI()
        for arguments in [["add", "ci", Self.token], ["add", "ci", "--url", "https://gitlab.com", Self.token],
                          ["add", "ci", "--bogus", Self.token], ["get", Self.token], ["rm", "--yes", Self.token], ["add", Self.token],
                          ["add", "ci", "--url", "gitlab.com:\(Self.token)"],
                          ["add", "ci", "--url", "https://oauth2:\(Self.token)@gitlab.com"]] {
            let r = cli.vault(arguments, stdin: .data("ignored"))
            #expect(r.status != 0, "\(arguments)")
            #expect(!r.err.contains(Self.token), "token echoed for \(arguments): \(r.err)")
            #expect(!r.out.contains(Self.token))
        }
        let r = cli.vault(["add", "ci", Self.token], stdin: .data("ignored"))
        #expect(r.status == 64)
        #expect(r.err.contains("never accepted on the command line"))
        #expect(r.err.contains("vault: hint: pipe it on standard input"))
        #expect(cli.vault(["add", Self.token], stdin: .data("x")).status == 64)
        #expect(cli.vault(["list", "--json"]).out == "[]\n")
    }

    @Test func passphraseSourcesInOrder() throws {
        let cli = CLI()
        cli.add("a", token: "token-a")
        let noEnv: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]

        // --passphrase-fd beats a wrong environment variable.
        let fd = cli.vault(["get", "a", "--passphrase-fd", "5"], env: ["TOKENVAULT_PASSPHRASE": "wrong"],
                           extraFDs: [5: CLI.passphrase + "\n"])
        #expect(fd.status == 0, "\(fd.err)")
        #expect(fd.out == "token-a\n")

        // --passphrase-file, only when private.
        let file = cli.home + "/pass.txt"
        _ = FileManager.default.createFile(atPath: file, contents: Data((CLI.passphrase + "\n").utf8),
                                       attributes: [.posixPermissions: 0o600])
        let fromFile = cli.vault(["get", "a", "--passphrase-file", file], env: ["TOKENVAULT_PASSPHRASE": "wrong"])
        #expect(fromFile.out == "token-a\n")
        chmod(file, 0o644)
        let openFile = cli.vault(["get", "a", "--passphrase-file", file], env: noEnv)
        #expect(openFile.status != 0)
        #expect(openFile.err.contains("readable by other users"))
        #expect(!openFile.err.contains(CLI.passphrase))

        // TOKENVAULT_ASKPASS: its stdout is the passphrase.
        let askpass = cli.script("askpass.sh", "#!/bin/sh\necho '\(CLI.passphrase)'\n")
        let asked = cli.vault(["get", "a"], env: ["TOKENVAULT_PASSPHRASE": nil, "TOKENVAULT_ASKPASS": askpass])
        #expect(asked.status == 0, "\(asked.err)")
        #expect(asked.out == "token-a\n")
        let failing = cli.vault(["get", "a"], env: ["TOKENVAULT_PASSPHRASE": nil, "TOKENVAULT_ASKPASS": "/bin/false"])
        #expect(failing.status != 0)
    }

    @Test func tokensFromStdinAreTrimmedOfOneLineEndingOnly() throws {
        let cli = CLI()
        #expect(cli.add("crlf", token: "abc\r\n").status == 0)
        #expect(cli.vault(["get", "crlf"]).out == "abc\n")
        let twoLines = cli.add("two", token: "abc\ndef\n")
        #expect(twoLines.status != 0)
        #expect(!twoLines.err.contains("abc"))
        let empty = cli.add("empty", token: "")
        #expect(empty.status != 0)
        #expect(empty.err.contains("empty"))
        #expect(cli.vault(["list", "--json"]).out.contains("crlf"))
    }

    @Test func theExampleProgramBuildsAHeader() throws {
        let cli = CLI()
        cli.add("gitlab-ci", token: Self.token)
        let r = run([Binary.path("auth-header"), "gitlab-ci"], environment: cli.environment)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == "Authorization: Bearer \(Self.token)\n")
    }

    @Test func theExampleProgramFindsThePassphraseTheWayTheCommandDoes() throws {
        let cli = CLI()
        cli.add("gitlab-ci", token: Self.token)
        var environment = cli.environment
        environment["TOKENVAULT_PASSPHRASE"] = nil
        environment["TOKENVAULT_ASKPASS"] = cli.script("askpass-example", "#!/bin/sh\nprintf '%s\\n' '\(CLI.passphrase)'\n")
        let r = run([Binary.path("auth-header"), "gitlab-ci"], environment: environment)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == "Authorization: Bearer \(Self.token)\n")
        environment["TOKENVAULT_ASKPASS"] = nil
        let none = run([Binary.path("auth-header"), "gitlab-ci"], environment: environment)
        #expect(none.status == 3 && none.out.isEmpty, "\(none.err)")
        // With the agent holding the key, no passphrase source is needed, and the read is the
        // agent's, recorded in the log under the example's name.
        let unlocked = cli.vault(["unlock", "--timeout", "5m"])
        try #require(unlocked.status == 0, "\(unlocked.err)")
        defer { cli.vault(["lock"]) }
        let agent = try #require(AgentClient.connect(vaultPath: cli.vaultPath, environment: cli.environment))
        let before = try agent.status().requests
        let through = run([Binary.path("auth-header"), "gitlab-ci"], environment: environment)
        #expect(through.status == 0 && through.out == "Authorization: Bearer \(Self.token)\n", "\(through.err)")
        #expect(try agent.status().requests > before)
        let log = cli.vault(["log"])
        #expect(log.out.contains("auth-header"), "\(log.out)")
    }

    @Test func noTokenReachesAnyFileInPlainText() throws {
        let cli = CLI()
        let tokens = (0..<5).map { "glpat-unique-token-\($0)-AbCdEfGhIj" }
        for (i, token) in tokens.enumerated() {
            cli.add("entry-\(i)", token: token, ["--url", "https://host-\(i).example.org", "--username", "user-\(i)-unique"])
        }
        _ = cli.vault(["get", "entry-1"])
        _ = cli.vault(["rm", "entry-2", "--yes"])
        for (path, data) in cli.files() {
            for needle in tokens + ["host-1.example.org", "user-3-unique", CLI.passphrase, "entry-4"] {
                #expect(!data.contains(bytes: needle), "'\(needle)' in \(path)")
            }
        }
    }
}

func withSQLite(_ path: String, _ body: (SQLite) throws -> Void) throws {
    let db = try SQLite(path: path, mode: .readWrite)
    try body(db)
}
