import Foundation
import Testing

/// scripts/recover.py, the decoder that needs no TokenVault binary (docs/FORMAT.md): it reads
/// every vector and a fresh vault as the CLI shows them, and refuses what the CLI refuses.
@Suite struct RecoveryToolTests {
    /// recover.py --json on `path`, parsed (`keyFile`: through `TOKENVAULT_KEY_FILE`).
    static func recovered(_ path: String, passphrase: String, keyFile: String? = nil) throws -> [String: Any] {
        var environment = ["TOKENVAULT_PASSPHRASE": passphrase]
        if let keyFile { environment["TOKENVAULT_KEY_FILE"] = keyFile }
        let r = recoverTool(["--json", path], environment: environment)
        #expect(r.status == 0, "recover.py: \(r.err)")
        return try #require(try JSONValue.parse(r.out) as? [String: Any])
    }

    static func compare(expected: [String: Any], recovered: [String: Any], _ label: String) throws {
        for key in ["settings", "identity", "trusted", "log"] {
            #expect(JSONValue.equal(expected[key], recovered[key]), "\(label): \(key): \(recovered[key] ?? "nil") expected \(expected[key] ?? "nil")")
        }
        let want = try #require(expected["entries"] as? [[String: Any]])
        let got = try #require(recovered["entries"] as? [[String: Any]])
        #expect(want.map { $0["name"] as? String } == got.map { $0["name"] as? String }, "\(label): entries")
        for (a, b) in zip(want, got) {
            #expect(JSONValue.differences(a, b).isEmpty, "\(label): \(JSONValue.differences(a, b))")
        }
        #expect(recovered["verified"] as? Bool == true)
    }

    @Test(arguments: Vectors.names)
    func theRecoveryToolReadsEveryVectorAsItsJSONSays(_ name: String) throws {
        let expected = try Vectors.expected(name)
        let passphrase = try #require(expected["passphrase"] as? String)
        let home = CLI(initialise: false)
        let keyFile = try Vectors.keyFile(name, into: home.home)
        let recovered = try Self.recovered(Vectors.folder + "/" + name + ".vault", passphrase: passphrase, keyFile: keyFile)
        #expect(recovered["format"] as? Int == expected["format"] as? Int)
        #expect(recovered["schema"] as? Int == expected["schema"] as? Int)
        #expect(recovered["key_file"] as? Bool == (keyFile != nil))
        try Self.compare(expected: expected, recovered: recovered, name)
    }

    /// A vault made by the freshly built CLI, with or without a key file (`vault keyfile new`,
    /// `vault init --key-file`), made as the CLI makes one.
    static func freshVault(keyFile: Bool) -> (CLI, key: String?) {
        guard keyFile else { return (CLI(), nil) }
        let cli = CLI(initialise: false)
        let key = cli.home + "/vault.key"
        #expect(cli.vault(["keyfile", "new", key]).status == 0)
        let made = cli.vault(["init", "--kdf", "minimum", "--key-file", key])
        #expect(made.status == 0, "\(made.err)")
        cli.environment["TOKENVAULT_KEY_FILE"] = key
        return (cli, key)
    }

    @Test(arguments: [false, true])
    func theRecoveryToolReadsAFreshVaultExactlyAsTheCLIShowsIt(keyFile: Bool) throws {
        let (cli, key) = Self.freshVault(keyFile: keyFile)
        #expect(cli.add("ci", token: "glpat-FreshToken00000001", ["--url", "https://gitlab.example.com/team", "--kind", "gitlab",
                                                                 "--username", "bob", "--scopes", "api,read_api",
                                                                 "--expires", "2099-06-30", "--note", "für CI"]).status == 0)
        #expect(cli.vault(["edit", "ci", "--secret"], stdin: .data("glpat-FreshToken00000002")).status == 0)
        #expect(cli.vault(["edit", "ci", "--rotate-every", "30d", "--git-default"]).status == 0)
        #expect(cli.add("gone", token: "gone-token-1").status == 0)
        #expect(cli.vault(["rm", "gone", "--yes"]).status == 0)
        #expect(cli.add("plain", token: "plain-token-1", ["--expires", "2021-03-01"]).status == 0)
        #expect(cli.vault(["config", "log-days", "30"]).status == 0)
        #expect(cli.vault(["config", "gitlab-admin.gitlab.example.com", "ci"]).status == 0)
        // Reads after the last change stay in vault.db-wal: the tool must read it too.
        #expect(cli.vault(["get", "ci"]).out == "glpat-FreshToken00000002\n")
        var shownByShow: [String: [String: Any]] = [:]
        for name in ["ci", "plain"] {
            let r = cli.vault(["show", name, "--reveal", "--json"])
            #expect(r.status == 0, "\(r.err)")
            shownByShow[name] = try #require(JSONValue.withoutSchemaVersion(try JSONValue.parse(r.out)) as? [String: Any])
        }
        let history = cli.vault(["history", "ci", "--reveal", "--json"])
        let shownHistory = JSONValue.withoutSchemaVersion(try JSONValue.parse(history.out))
        #expect(FileManager.default.fileExists(atPath: cli.vaultPath + "-wal"), "the reads should be in the log")
        let expected = try contentsAsTheCLIShowsThem(cli, vault: cli.vaultPath)
        // The export above is a read too; recover.py reads after it, as the CLI's log now holds.
        let recovered = try Self.recovered(cli.vaultPath, passphrase: CLI.passphrase, keyFile: key)
        #expect(recovered["schema"] as? Int == 5 && recovered["key_file"] as? Bool == keyFile)
        var expectedNow = expected
        expectedNow["log"] = JSONValue.withoutSchemaVersion(try JSONValue.parse(cli.vault(["log", "--json"]).out))
        try Self.compare(expected: expectedNow, recovered: recovered, "fresh vault")
        // Every field `vault show --json` and `vault history --json` print, equal (but the
        // last-used time, which their own reads moved).
        let entries = try #require(recovered["entries"] as? [[String: Any]])
        for (name, shown) in shownByShow {
            let entry = try #require(entries.first { $0["name"] as? String == name })
            for (key, value) in shown where key != "last_used" {
                #expect(JSONValue.equal(value, entry[key]), "\(name).\(key): \(entry[key] ?? "nil") expected \(value)")
            }
        }
        let ci = try #require(entries.first { $0["name"] as? String == "ci" })
        #expect(JSONValue.equal(shownHistory, ci["history"]))
        #expect((ci["history"] as? [[String: Any]])?.first?["secret"] as? String == "glpat-FreshToken00000001")
    }

    /// Two OpenBao remotes added against a real dev server (a token one with a mount, prefix and
    /// CA file; an AppRole one): recover.py prints each with its credential, as they were added
    /// and as `vault remote list` shows them.
    @Test func theRecoveryToolPrintsEveryOpenBaoRemoteWithItsCredential() throws {
        let server = OpenBaoServer()
        #expect(server.bao(["auth", "enable", "approle"]).status == 0)
        #expect(server.bao(["write", "auth/approle/role/ci", "token_policies=default", "token_ttl=10m"]).status == 0)
        let roleID = server.bao(["read", "-field=role_id", "auth/approle/role/ci/role-id"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
        let secretID = server.bao(["write", "-f", "-field=secret_id", "auth/approle/role/ci/secret-id"]).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let cli = CLI()
        let caFile = cli.home + "/ca.pem"
        try "not used over http\n".write(toFile: caFile, atomically: true, encoding: .utf8)
        let team = cli.vault(["remote", "add", "team", "--url", server.address, "--url", "http://127.0.0.1:1", "--mount", "secret",
                              "--prefix", "teams/app", "--ca-file", caFile], stdin: .data(server.rootToken))
        #expect(team.status == 0, "\(team.err)")
        let ci = cli.vault(["remote", "add", "ci", "--url", server.address, "--approle", roleID], stdin: .data(secretID))
        #expect(ci.status == 0, "\(ci.err)")
        let listed = cli.vault(["remote", "list"]).out
        let recovered = try Self.recovered(cli.vaultPath, passphrase: CLI.passphrase)
        #expect((recovered["keyring_skipped"] as? [Any])?.isEmpty == true)
        let remotes = try #require(recovered["remotes"] as? [[String: Any]])
        #expect(remotes.map { $0["name"] as? String } == ["ci", "team"])
        let (c, t) = (remotes[0], remotes[1])
        #expect(t["urls"] as? [String] == [server.address, "http://127.0.0.1:1"])
        #expect(t["mount"] as? String == "secret" && t["prefix"] as? String == "teams/app/")
        #expect(t["ca_file"] as? String == caFile && t["namespace"] is NSNull)
        let token = try #require(t["credential"] as? [String: Any])
        #expect(token["type"] as? String == "token" && token["token"] as? String == server.rootToken)
        #expect(c["urls"] as? [String] == [server.address] && c["mount"] as? String == "secret" && c["prefix"] as? String == "tokenvault/")
        #expect(c["ca_file"] is NSNull)
        let appRole = try #require(c["credential"] as? [String: Any])
        #expect(appRole["type"] as? String == "approle" && appRole["role_id"] as? String == roleID && appRole["secret_id"] as? String == secretID)
        // What `vault remote list` shows of each (all but the credential), recover.py found the same.
        for remote in remotes {
            let name = try #require(remote["name"] as? String)
            let row = try #require(listed.split(separator: "\n").first { $0.hasPrefix(name + " ") }).split(separator: " ").map(String.init)
            let urls = try #require(remote["urls"] as? [String])
            #expect(Array(row[1...urls.count]) == urls, "\(row)")
            #expect(row[urls.count + 1] == "\(remote["mount"] ?? "")/\(remote["prefix"] ?? "")")
        }
        let added = try #require(t["added"] as? String)
        let addedDate = try #require(ISO8601DateFormatter().date(from: added))
        #expect(added.count == 20 && abs(addedDate.timeIntervalSinceNow) < 600, "\(added)")
        // The text form names each remote and its credential.
        let text = recoverTool([cli.vaultPath], environment: ["TOKENVAULT_PASSPHRASE": CLI.passphrase])
        #expect(text.status == 0, "\(text.err)")
        #expect(text.out.contains("remote: team (added ") && text.out.contains("  token:       \(server.rootToken)\n"))
        #expect(text.out.contains("  prefix:      teams/app/\n") && text.out.contains("  ca file:     \(caFile)\n"))
        #expect(text.out.contains("remote: ci (added ") && text.out.contains("  role id:     \(roleID)\n"))
        #expect(text.out.contains("  secret id:   \(secretID)\n") && !text.out.contains("unknown, skipped"))
    }

    /// A copy of the basic vector changed by `change`, Python run with `db` open on it
    /// (python3's sqlite3; `flip(blob, at)` gives the blob with one byte's low bit flipped).
    static func tampered(_ change: String, in cli: CLI, vector: String = "basic") throws -> String {
        let path = try Vectors.copy(vector, into: cli)
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            def flip(blob, at):
                return blob[:at] + bytes([blob[at] ^ 1]) + blob[at + 1:]
            \(change)
            db.commit()
            db.close()
            """
        let r = run(["/usr/bin/python3", "-c", script, path], environment: ["PATH": "/usr/bin:/bin"])
        #expect(r.status == 0, "\(r.err)")
        return path
    }

    static let secrets = ["glpat-BasicVectorToken", "ghp_BasicVector", "old-generic-token", "correct horse"]

    @Test(arguments: [
        // One byte of a sealed column flipped (in the first entry's secret, past the nonce).
        """
        (i, s), = db.execute("SELECT id, secret FROM entries ORDER BY id LIMIT 1")
        db.execute("UPDATE entries SET secret = ? WHERE id = ?", (flip(s, 40), i))
        """,
        // Two entries' metadata swapped.
        """
        (a, ma), (b, mb) = db.execute("SELECT id, metadata FROM entries ORDER BY id LIMIT 2").fetchall()
        db.execute("UPDATE entries SET metadata = ? WHERE id = ?", (mb, a))
        db.execute("UPDATE entries SET metadata = ? WHERE id = ?", (ma, b))
        """,
    ])
    func aTamperedVectorIsRejectedByTheCLIAndByTheRecoveryTool(_ change: String) throws {
        let cli = try Vectors.cli(for: "basic")
        let path = try Self.tampered(change, in: cli)
        let listed = cli.vault(["export", "--plain-json", "--vault", path])
        #expect(listed.status == 5, "vault: \(listed.status) \(listed.err)")
        let r = recoverTool(["--json", path], environment: ["TOKENVAULT_PASSPHRASE": "correct horse battery staple"])
        #expect(r.status == 5, "recover.py: \(r.status) \(r.err)")
        #expect(r.err.contains("recover.py: error: the vault was tampered with or is damaged"))
        for secret in Self.secrets { #expect(!r.err.contains(secret)) }
        // What does not verify is left out; the rest is still recovered.
        let recovered = try #require(try JSONValue.parse(r.out) as? [String: Any])
        #expect(recovered["verified"] as? Bool == false)
        #expect((recovered["entries"] as? [Any])?.count == 2 || (recovered["entries"] as? [Any])?.count == 3)
    }

    @Test func aFlippedByteIsTamperingAlsoFor_vault_show() throws {
        let cli = try Vectors.cli(for: "basic")
        let path = try Self.tampered("""
            (i, s), = db.execute("SELECT id, secret FROM entries ORDER BY id LIMIT 1")
            db.execute("UPDATE entries SET secret = ? WHERE id = ?", (flip(s, 40), i))
            """, in: cli)
        let names = ["ci", "expired", "github", "old-token"]
        let statuses = names.map { cli.vault(["show", $0, "--reveal", "--vault", path]).status }
        #expect(statuses.contains(5), "\(statuses)")
    }

    /// A table of TokenVault's name defined otherwise (a column added, a default, a constraint
    /// removed) is refused by both, as docs/FORMAT.md requires: the SQL is compared, not only names.
    @Test(arguments: [
        ("basic", "db.execute('ALTER TABLE entries ADD COLUMN extra INTEGER')"),
        ("basic", """
            db.executescript("ALTER TABLE usage RENAME TO u; CREATE TABLE usage (lookup BLOB PRIMARY KEY, sealed BLOB NOT NULL DEFAULT x'00'); INSERT INTO usage SELECT * FROM u; DROP TABLE u")
            """),
        ("keyfile", """
            db.execute("PRAGMA writable_schema = ON")
            db.execute("UPDATE sqlite_master SET sql = replace(sql, ' CHECK (key_file IN (0, 1))', '') WHERE name = 'vault'")
            """),
    ])
    func aTableDefinedOtherwiseIsRefusedByTheCLIAndByTheRecoveryTool(vector: String, change: String) throws {
        let cli = try Vectors.cli(for: vector)
        let path = try Self.tampered(change, in: cli, vector: vector)
        let listed = cli.vault(["list", "--vault", path])
        #expect(listed.status == 5, "vault: \(listed.status) \(listed.err)")
        let passphrase = try #require(try Vectors.expected(vector)["passphrase"] as? String)
        var environment = ["TOKENVAULT_PASSPHRASE": passphrase]
        environment["TOKENVAULT_KEY_FILE"] = cli.environment["TOKENVAULT_KEY_FILE"]
        let r = recoverTool([path], environment: environment)
        #expect(r.status == 5, "recover.py: \(r.status) \(r.err)")
        #expect(r.err.contains("is not defined as TokenVault defines it"), "\(r.err)")
        #expect(r.out.isEmpty)
    }

    @Test(arguments: ["db.execute('PRAGMA user_version = 6')", "db.execute('UPDATE vault SET format = 2')"])
    func theRecoveryToolRefusesANewerFormatOrSchemaClearly(_ change: String) throws {
        let cli = try Vectors.cli(for: "basic")
        let path = try Self.tampered(change, in: cli)
        let r = recoverTool([path], environment: ["TOKENVAULT_PASSPHRASE": "correct horse battery staple"])
        #expect(r.status == 4, "\(r.status) \(r.err)")
        #expect(r.err.contains("this tool reads"))
        #expect(r.err.contains("recover.py: hint: use a newer recover.py"))
        #expect(r.out.isEmpty)
    }

    @Test func aWrongPassphraseIsExitCode3AndNamesNoSecret() throws {
        let r = recoverTool([Vectors.folder + "/unicode.vault"], environment: ["TOKENVAULT_PASSPHRASE": "pässwörd ünïcodE"])
        #expect(r.status == 3)
        #expect(r.err.contains("wrong passphrase"))
        #expect(!r.err.contains("pässwörd"))
        #expect(r.out.isEmpty)
    }

    @Test func thePassphraseFileGivesItsFirstLineWithoutTheLineEnding() throws {
        let cli = CLI(initialise: false)
        let file = cli.home + "/passphrase"
        // The passphrase's UTF-8 bytes, then \r\n and a second line that is ignored.
        try Data("pässwörd ünïcode\r\nsecond line\n".utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o600)
        let r = recoverTool(["--passphrase-file", file, Vectors.folder + "/unicode.vault"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("token-with-ünïcode-€"))
        // A \r alone is part of the passphrase.
        try Data("pässwörd ünïcode\r".utf8).write(to: URL(fileURLWithPath: file))
        #expect(recoverTool(["--passphrase-file", file, Vectors.folder + "/unicode.vault"]).status == 3)
    }
}
