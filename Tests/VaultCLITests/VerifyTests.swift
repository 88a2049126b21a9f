import Foundation
import Testing
@testable import TokenVault

/// `vault verify`: a good vault and a backup pass; every kind of tampering that the tamper tests
/// make is reported with exit code 5; a read-only backup in a read-only folder is read as it is.
@Suite struct VerifyTests {
    /// A vault with two entries, a last-used time, history, an entry in the trash, and a change
    /// last (so that the manifest anchors the log's head).
    static func fixture() -> CLI {
        let cli = CLI()
        cli.add("a", token: "glpat-VerifyA000000000000", ["--url", "https://a.example"])
        cli.add("b", token: "glpat-VerifyB000000000000", ["--url", "https://b.example"])
        cli.add("c", token: "glpat-VerifyC000000000000")
        _ = cli.vault(["edit", "a", "--secret"], stdin: .data("glpat-VerifyA111111111111"))
        _ = cli.vault(["rm", "c", "--yes"])
        _ = cli.vault(["get", "a"])
        _ = cli.vault(["config", "trash-days", "9"])
        return cli
    }

    static func sql(_ path: String, _ statements: String) throws {
        let db = try SQLite(path: path, mode: .readWrite)
        try db.execute(statements)
    }

    /// One byte of `column` (at `offset`, 1-based) changed, in the row of `table` that `row` picks
    /// (`||` makes text of blobs: the result is cast back, the same bytes).
    static func flip(_ table: String, _ column: String, at offset: Int, row: String) -> String {
        """
        UPDATE \(table) SET \(column) = CAST(substr(\(column), 1, \(offset - 1))
            || CASE WHEN substr(\(column), \(offset), 1) = x'00' THEN x'01' ELSE x'00' END
            || substr(\(column), \(offset + 1)) AS BLOB) WHERE \(row)
        """
    }

    static let firstEntry = "id = (SELECT MIN(id) FROM entries)"

    /// The tamperings of TamperTests (rows and their columns) and ActivityLogTests (the log), as
    /// SQL, with the part of the report that must fail.
    static let tamperings: [(String, String, String)] = [
        ("a flipped bit in a lookup", flip("entries", "lookup", at: 5, row: firstEntry), "entries"),
        ("a flipped bit in a metadata record", flip("entries", "metadata", at: 40, row: firstEntry), "entries"),
        ("a flipped bit in a secret record", flip("entries", "secret", at: 40, row: firstEntry), "entries"),
        ("secrets swapped between rows",
         """
         CREATE TEMP TABLE two AS SELECT id, secret FROM entries ORDER BY id LIMIT 2;
         UPDATE entries SET secret = (SELECT secret FROM two WHERE two.id != entries.id) WHERE id IN (SELECT id FROM two)
         """, "entries"),
        ("metadata and secret swapped in a row",
         "UPDATE entries SET metadata = secret, secret = metadata WHERE \(firstEntry)", "entries"),
        ("a deleted row", "DELETE FROM entries WHERE \(firstEntry)", "entries"),
        ("an added row",
         "INSERT INTO entries (lookup, metadata, secret) SELECT randomblob(32), metadata, secret FROM entries WHERE \(firstEntry)",
         "entries"),
        ("a last-used time moved to another entry",
         "UPDATE usage SET lookup = (SELECT lookup FROM entries WHERE lookup != usage.lookup LIMIT 1)", "usage"),
        ("a flipped bit in a key-ring record", flip("keyring", "sealed", at: 40, row: "rowid = (SELECT MIN(rowid) FROM keyring)"), "key ring"),
        ("a deleted key-ring row", "DELETE FROM keyring", "key ring"),
        ("an added key-ring row", "INSERT INTO keyring (lookup, sealed) SELECT randomblob(32), sealed FROM keyring", "key ring"),
        ("a deleted event", "DELETE FROM events WHERE seq = 2", "activity log"),
        ("a changed event", flip("events", "sealed", at: 30, row: "seq = 3"), "activity log"),
        ("reordered events",
         "UPDATE events SET seq = -2 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = -2",
         "activity log"),
        ("events cut off the end", "DELETE FROM events WHERE seq >= (SELECT MAX(seq) - 1 FROM events)", "activity log"),
        ("the first events removed", "DELETE FROM events WHERE seq <= 2", "activity log"),
        ("the vault id changed", "UPDATE vault SET vault_id = randomblob(16)", "manifest"),
        ("a flipped bit in the manifest", flip("vault", "manifest", at: 30, row: "id = 1"), "manifest"),
        ("the format changed", "UPDATE vault SET format = 0", "manifest"),
        ("the key derivation's cost changed", "UPDATE vault SET kdf_ops = kdf_ops + 1", "manifest"),
        ("the salt changed", flip("vault", "kdf_salt", at: 3, row: "id = 1"), "manifest"),
        ("a damaged page", "", "database"),
    ]

    @Test func aGoodVaultAndItsBackupVerify() throws {
        let cli = Self.fixture()
        let r = cli.vault(["verify"])
        #expect(r.status == 0, "\(r.err)")
        for part in ["database", "schema", "manifest", "entries", "history", "trash", "usage", "key ring", "activity log"] {
            #expect(r.out.contains("ok      \(part): "), "\(part): \(r.out)")
        }
        #expect(r.out.contains("3 entries: every record opens and is bound to its row"))
        #expect(r.out.contains("1 earlier versions in 1 entries"))
        #expect(r.out.contains("1 entries in the trash"))
        #expect(r.out.contains("the vault's identity and 0 trusted identities"))
        #expect(!r.out.contains("FAILED"))
        #expect(r.err.contains("verifies"))

        let backup = cli.home + "/backup/vault.db"
        #expect(cli.vault(["backup", backup]).status == 0)
        #expect(cli.vault(["verify", backup]).status == 0)
        #expect(cli.vault(["--vault", backup, "verify"]).status == 0)
        // With the agent: its key verifies the backup too, without the passphrase.
        #expect(cli.vault(["unlock"]).status == 0)
        let viaAgent = cli.vault(["verify", backup], env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(viaAgent.status == 0, "\(viaAgent.err)")
    }

    @Test(arguments: tamperings)
    func everyKindOfTamperingIsReportedWithExitFive(kind: String, statements: String, part: String) throws {
        let cli = Self.fixture()
        let backup = cli.home + "/backup/vault.db"
        #expect(cli.vault(["backup", backup]).status == 0)
        if statements.isEmpty {
            // A page of the file overwritten: SQLite's own check.
            let handle = try #require(FileHandle(forUpdatingAtPath: backup))
            try handle.seek(toOffset: 4096)  // The second page's b-tree header.
            handle.write(Data(repeating: 0x5a, count: 16))
            try handle.close()
        } else {
            try Self.sql(backup, statements)
            // The live vault too, verified through the agent's key.
            #expect(cli.vault(["unlock"]).status == 0)
            try Self.sql(cli.vaultPath, statements)
            let viaAgent = cli.vault(["verify"], env: ["TOKENVAULT_PASSPHRASE": nil])
            #expect(viaAgent.status == 5, "\(kind) through the agent: \(viaAgent.status) \(viaAgent.out) \(viaAgent.err)")
            #expect(viaAgent.out.contains("FAILED  \(part): "), "\(kind): \(viaAgent.out) \(viaAgent.err)")
            #expect(cli.vault(["lock"]).status == 0)
        }
        let r = cli.vault(["verify", backup])
        if part == "manifest" && r.status == 3 {
            // A changed key derivation or salt derives another key: a wrong passphrase to anyone.
            #expect(kind.contains("key derivation") || kind.contains("salt"), "\(kind): \(r.err)")
            #expect(r.err.contains("passphrase"))
        } else {
            #expect(r.status == 5, "\(kind): \(r.status) \(r.out) \(r.err)")
            #expect(r.out.contains("FAILED  \(part): ") || (r.out.isEmpty && r.err.hasPrefix("vault: error: ")), "\(kind): \(r.out) \(r.err)")
        }
    }

    @Test(arguments: HostileFileTests.planted)
    func aPlantedSchemaObjectIsReported(what: String, statements: String) throws {
        let cli = Self.fixture()
        try Self.sql(cli.vaultPath, statements)
        let r = cli.vault(["verify"])
        #expect(r.status == 5, "\(what): \(r.status) \(r.out) \(r.err)")
        #expect(r.out.contains("FAILED  schema: ") || what == "a dropped table", "\(what): \(r.out)")
    }

    /// One of the vault's tables put aside, and a view that never ends in its place, with its
    /// columns: a file that reads it hangs.
    static func endlessView(for table: String) -> String {
        """
        ALTER TABLE \(table) RENAME TO kept;
        CREATE VIEW \(table) AS WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c)
            SELECT kept.* FROM c JOIN kept WHERE c.n < 0
        """
    }

    @Test(arguments: ["vault", "entries", "events"])
    func aTableReplacedByAViewThatNeverEndsIsReportedWithoutReadingIt(table: String) throws {
        let cli = Self.fixture()
        try Self.sql(cli.vaultPath, Self.endlessView(for: table))
        let start = Date()
        let r = cli.vault(["verify"], timeout: 20)
        #expect(Date().timeIntervalSince(start) < 15, "\(table): \(r.status) \(r.out) \(r.err)")
        #expect(r.status == 5, "\(table): \(r.status) \(r.out) \(r.err)")
        #expect(r.out.contains("FAILED  schema: "), "\(table): \(r.out)")
        #expect(r.out.contains("ok      manifest") == false)
    }

    @Test(arguments: HostileFileTests.malformed)
    func aMalformedColumnIsReported(table: String, column: String, command: [String], value: String) throws {
        let cli = Self.fixture()
        try Self.sql(cli.vaultPath, "UPDATE \(table) SET \(column) = \(value) WHERE rowid = (SELECT MIN(rowid) FROM \(table))")
        let r = cli.vault(["verify"])
        #expect(r.status == 5, "\(table).\(column) = \(value): \(r.status) \(r.out) \(r.err)")
        #expect(r.err.hasPrefix("vault: error: "))
    }

    @Test func aReadOnlyBackupInAReadOnlyFolderVerifiesAndNothingIsCreatedBesideIt() throws {
        let cli = Self.fixture()
        let folder = cli.home + "/media"
        let backup = folder + "/vault.db"
        #expect(cli.vault(["backup", backup]).status == 0)
        chmod(backup, 0o400)
        chmod(folder, 0o500)
        defer { chmod(folder, 0o700) }
        let before = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(before == ["vault.db"])
        let r = cli.vault(["verify", backup])
        #expect(r.status == 0, "\(r.out) \(r.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["vault.db"])
        // A tampered one is still reported, read only.
        chmod(folder, 0o700)
        chmod(backup, 0o600)
        try Self.sql(backup, "DELETE FROM events WHERE seq = 2")
        chmod(backup, 0o400)
        chmod(folder, 0o500)
        let tampered = cli.vault(["verify", backup])
        #expect(tampered.status == 5)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["vault.db"])
    }
}
