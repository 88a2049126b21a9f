import Foundation
import Testing

/// scripts/recover.py, the decoder that needs no TokenVault binary (docs/FORMAT.md): it reads
/// every vector and a fresh vault as the CLI shows them, and refuses what the CLI refuses.
@Suite struct RecoveryToolTests {
    /// recover.py --json on `path`, parsed.
    static func recovered(_ path: String, passphrase: String) throws -> [String: Any] {
        let r = recoverTool(["--json", path], environment: ["TOKENVAULT_PASSPHRASE": passphrase])
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
        let recovered = try Self.recovered(Vectors.folder + "/" + name + ".vault", passphrase: passphrase)
        #expect(recovered["format"] as? Int == expected["format"] as? Int)
        #expect(recovered["schema"] as? Int == expected["schema"] as? Int)
        try Self.compare(expected: expected, recovered: recovered, name)
    }

    @Test func theRecoveryToolReadsAFreshVaultExactlyAsTheCLIShowsIt() throws {
        let cli = CLI()
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
        let recovered = try Self.recovered(cli.vaultPath, passphrase: CLI.passphrase)
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

    /// A copy of the basic vector changed by `change`, Python run with `db` open on it
    /// (python3's sqlite3; `flip(blob, at)` gives the blob with one byte's low bit flipped).
    static func tampered(_ change: String, in cli: CLI) throws -> String {
        let path = try Vectors.copy("basic", into: cli)
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
