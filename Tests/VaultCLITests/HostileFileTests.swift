import Foundation
import Testing
@testable import TokenVault

/// A vault file changed by someone who can write it, through SQLite itself: planted schema
/// objects, values of the wrong type or length in any column, a header and entries put back from
/// an older copy. Each is refused with exit 5 and a message; nothing traps, nothing is reported
/// as saved that was not, and the agent stays up.
@Suite struct HostileFileTests {
    static let token = "glpat-HostileFile0000000000"
    static let newToken = "glpat-NewHostileFile111111111"

    /// A vault with one entry, read once (so it has a last-used time and two events).
    func fixture() -> CLI {
        let cli = CLI()
        cli.add("a", token: Self.token, ["--url", "https://gitlab.example.com"])
        cli.vault(["get", "a"])
        return cli
    }

    /// Runs SQL on the vault file as another program would.
    func sql(_ cli: CLI, _ statements: String) throws {
        let db = try SQLite(path: cli.vaultPath, mode: .readWrite)
        try db.execute(statements)
    }

    /// The bytes of the vault file and its side files.
    func snapshot(_ cli: CLI) -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for suffix in ["", "-wal"] {
            result[suffix] = FileManager.default.contents(atPath: cli.vaultPath + suffix).map { [UInt8]($0) }
        }
        return result
    }

    // MARK: Planted schema objects

    static let planted: [(String, String)] = [
        ("a trigger that deletes what add inserts",
         "CREATE TRIGGER t AFTER INSERT ON entries BEGIN DELETE FROM entries WHERE id = new.id; END"),
        ("a trigger that restores an edited entry",
         "CREATE TRIGGER t AFTER UPDATE ON entries BEGIN UPDATE entries SET metadata = old.metadata, secret = old.secret WHERE id = old.id; END"),
        ("a trigger that keeps the old manifest and wrapped key",
         "CREATE TRIGGER t AFTER UPDATE OF manifest ON vault BEGIN UPDATE vault SET manifest = old.manifest, wrapped_key = old.wrapped_key, kdf_salt = old.kdf_salt WHERE id = 1; END"),
        ("a trigger that hides reads from the log",
         "CREATE TRIGGER t AFTER INSERT ON events BEGIN DELETE FROM events WHERE seq = new.seq; END"),
        ("a view", "CREATE VIEW v AS SELECT lookup FROM entries"),
        ("an extra table", "CREATE TABLE extra (x BLOB)"),
        ("an extra index", "CREATE INDEX extra ON entries (secret)"),
        ("a table defined otherwise",
         """
         CREATE TABLE copy AS SELECT * FROM usage; DROP TABLE usage;
         CREATE TABLE usage (lookup BLOB PRIMARY KEY ON CONFLICT IGNORE, sealed BLOB NOT NULL);
         INSERT INTO usage SELECT * FROM copy; DROP TABLE copy
         """),
        ("a dropped table", "DROP TABLE usage"),
        ("a name with an escape sequence", "CREATE TABLE \"x\u{1b}[31my\" (x)"),
    ]

    @Test(arguments: planted)
    func aFileWithPlantedSchemaObjectsIsRefusedAndNothingIsReportedAsSaved(what: String, statements: String) throws {
        let cli = fixture()
        try sql(cli, statements)
        let before = snapshot(cli)
        let commands: [([String], Stdin)] = [
            (["add", "b"], .data(Self.newToken)),
            (["edit", "a", "--secret"], .data(Self.newToken)),
            (["passwd"], .devNull),
            (["get", "a"], .devNull),
            (["list"], .devNull),
            (["log"], .devNull),
        ]
        for (arguments, stdin) in commands {
            let r = cli.vault(arguments, stdin: stdin, env: ["TOKENVAULT_NEW_PASSPHRASE": "another passphrase"])
            #expect(r.status == 5, "\(what): vault \(arguments.joined(separator: " ")): \(r.status) \(r.err)")
            #expect(r.err.hasPrefix("vault: error: the vault is corrupt: its "), "\(what): \(r.err)")
            #expect(!r.err.contains("\u{1b}"), "\(what): \(r.err)")
            #expect(r.stdout.isEmpty, "\(what): \(r.out)")
            #expect(!r.err.contains("vault: added") && !r.err.contains("vault: updated") && !r.err.contains("passphrase changed"), "\(what): \(r.err)")
        }
        #expect(snapshot(cli) == before, "\(what): the file changed")
    }

    @Test func aTriggerPlantedWhileTheVaultIsOpenStopsTheNextWrite() throws {
        let cli = fixture()
        let vault = try cli.library()
        _ = try vault.entries()
        // A write first: its verdict on the schema is kept with the schema cookie, which the
        // trigger below changes.
        try vault.add(Entry(name: "before"), secret: Secret("glpat-BeforeTheTrigger0000"))
        try sql(cli, "CREATE TRIGGER t AFTER INSERT ON entries BEGIN DELETE FROM entries WHERE id = new.id; END")
        let entry = Entry(name: "b")
        #expect(throws: VaultError.self) { try vault.add(entry, secret: Secret(Self.newToken)) }
        try sql(cli, "DROP TRIGGER t")
        #expect(throws: VaultError.notFound(name: "b", suggestion: nil)) { _ = try vault.entry(named: "b") }
        // The passphrase change, likewise.
        try sql(cli, "CREATE TRIGGER t AFTER UPDATE OF manifest ON vault BEGIN UPDATE vault SET wrapped_key = old.wrapped_key WHERE id = 1; END")
        #expect(throws: VaultError.self) { try vault.changePassphrase(to: Secret("another passphrase")) }
    }

    /// The schema cookie is a number anyone who can write the file can set: a trigger planted
    /// with the cookie put back to the value the last verdict was kept with is still found, once
    /// the connection has parsed the schema at another cookie in between.
    @Test func aTriggerPlantedBehindTheVerifiedSchemaCookieStopsTheNextWrite() throws {
        let cli = fixture()
        let vault = try cli.library()
        try vault.add(Entry(name: "before"), secret: Secret("glpat-BeforeTheTrigger0000"))
        let statement = try SQLite(path: cli.vaultPath, mode: .readWrite).prepare("PRAGMA schema_version")
        #expect(try statement.step())
        let cookie = statement.int(0)
        // Another cookie, no change: the vault's connection parses the schema again at its next read.
        try sql(cli, "PRAGMA schema_version = \(cookie + 100)")
        _ = try vault.entries()
        // The trigger, and the cookie the write's verdict was kept with.
        try sql(cli, "CREATE TRIGGER t AFTER INSERT ON entries BEGIN DELETE FROM entries WHERE id = new.id; END; PRAGMA schema_version = \(cookie)")
        let error = #expect(throws: VaultError.self) { try vault.add(Entry(name: "b"), secret: Secret(Self.newToken)) }
        #expect(error.map { "\($0)" }?.contains("trigger") == true, "\(String(describing: error))")
        try sql(cli, "DROP TRIGGER t")
        #expect(throws: VaultError.notFound(name: "b", suggestion: nil)) { _ = try vault.entry(named: "b") }
    }

    @Test func aDroppedTableIsReportedAsCorruptNotAsADatabaseError() throws {
        let cli = fixture()
        try sql(cli, "DROP TABLE usage")
        let r = cli.vault(["list"])
        #expect(r.status == 5)
        #expect(r.err.contains("its table 'usage' is missing"), "\(r.err)")
    }

    // MARK: Values of the wrong type or length

    /// Every blob column of every table (and the header's integers), with what reads it.
    static let columns: [(table: String, column: String, command: [String])] = [
        ("vault", "vault_id", ["list"]), ("vault", "kdf_salt", ["list"]), ("vault", "wrapped_key", ["list"]),
        ("vault", "manifest", ["list"]),
        ("entries", "lookup", ["list"]), ("entries", "metadata", ["list"]), ("entries", "secret", ["get", "a"]),
        ("usage", "lookup", ["list"]), ("usage", "sealed", ["list"]),
        ("events", "sealed", ["log"]), ("events", "mac", ["log"]),
    ]
    static let integers: [(table: String, column: String, command: [String])] = [
        ("vault", "format", ["list"]), ("vault", "kdf_alg", ["list"]), ("vault", "kdf_ops", ["list"]), ("vault", "kdf_mem", ["list"]),
    ]
    static let blobValues = ["x'00'", "x''", "'text'", "7", "x'\(String(repeating: "00", count: 32))'"]
    /// (Text that reads as a number, such as '7', is stored as a number by the column's affinity.)
    static let integerValues = ["'seven'", "x'07'", "7.5"]

    static var malformed: [(String, String, [String], String)] {
        var cases: [(String, String, [String], String)] = []
        for c in columns {
            for value in blobValues {
                // A well-formed last-used time of no entry is left alone: it gives nothing away.
                if c.table == "usage" && c.column == "lookup" && value.count > 10 { continue }
                cases.append((c.table, c.column, c.command, value))
            }
        }
        for c in integers {
            for value in integerValues { cases.append((c.table, c.column, c.command, value)) }
        }
        return cases
    }

    @Test(arguments: malformed)
    func aMalformedColumnGivesExitFiveWithAndWithoutTheAgent(table: String, column: String, command: [String], value: String) throws {
        let cli = fixture()
        let what = "\(table).\(column) = \(value)"
        #expect(cli.vault(["unlock", "--timeout", "5m"]).status == 0)
        try sql(cli, "UPDATE \(table) SET \(column) = \(value)")

        // Through the agent: the command fails cleanly and the agent is still there.
        let noPassphrase: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]
        let viaAgent = cli.vault(command, env: noPassphrase)
        #expect(viaAgent.status == 5, "\(what) via the agent: \(viaAgent.status) \(viaAgent.err)")
        #expect(viaAgent.err.hasPrefix("vault: error: "), "\(what): \(viaAgent.err)")
        let git = run([Binary.path("git-credential-vault"), "get"], environment: cli.environment.filter { $0.key != "TOKENVAULT_PASSPHRASE" },
                      stdin: .data("protocol=https\nhost=gitlab.example.com\n\n"), timeout: 20)
        #expect(git.status == 0 && !git.timedOut && Self.answersRightOrNothing(git), "\(what): git helper \(git.status) \(git.out) \(git.err)")
        let status = cli.vault(["status"], env: noPassphrase)
        #expect(status.status == 0, "\(what): the agent is gone: \(status.err)")

        // Without the agent.
        #expect(cli.vault(["lock"]).status == 0)
        let alone = cli.vault(command)
        #expect(alone.status == 5, "\(what) without the agent: \(alone.status) \(alone.err)")
        #expect(alone.err.hasPrefix("vault: error: "), "\(what): \(alone.err)")
        let helper = run([Binary.path("git-credential-vault"), "get"], environment: cli.environment,
                         stdin: .data("protocol=https\nhost=gitlab.example.com\n\n"), timeout: 20)
        #expect(helper.status == 0 && Self.answersRightOrNothing(helper), "\(what): git helper \(helper.status) \(helper.err)")
    }

    /// git's helper gives git nothing, or the entry's own token (a damaged activity log does not
    /// stop reads of entries that verify; `vault log` reports it): never another.
    static func answersRightOrNothing(_ r: RunResult) -> Bool {
        r.stdout.isEmpty || r.out.contains("password=\(token)\n")
    }

    // MARK: Rollback

    @Test func aHeaderAndEntriesPutBackUnderNewerEventsAreReportedAndWritesRefused() throws {
        let cli = fixture()
        let old = cli.home + "/old.db"
        try sql(cli, "VACUUM INTO '\(old)'")
        #expect(cli.vault(["edit", "a", "--secret"], stdin: .data(Self.newToken)).status == 0)
        #expect(cli.vault(["get", "a"]).out == Self.newToken + "\n")
        // The header and the entries from the older copy; the newer log kept.
        try sql(cli, """
            ATTACH '\(old)' AS old;
            DELETE FROM vault; INSERT INTO vault SELECT * FROM old.vault;
            DELETE FROM entries; INSERT INTO entries SELECT * FROM old.entries;
            DETACH old
            """)
        let log = cli.vault(["log"])
        #expect(log.status == 5)
        #expect(log.err.contains("records a change made after the vault header was written"), "\(log.err)")
        let json = cli.vault(["log", "--json"])
        #expect(json.status == 5)
        let before = snapshot(cli)
        for (arguments, stdin) in [(["edit", "a", "--note", "x"], Stdin.devNull), (["add", "b"], .data(Self.newToken)), (["rm", "a", "--yes"], .devNull)] {
            let r = cli.vault(arguments, stdin: stdin)
            #expect(r.status == 5, "vault \(arguments.joined(separator: " ")): \(r.err)")
            #expect(r.err.contains("put back from an older copy"), "\(r.err)")
        }
        #expect(snapshot(cli) == before)
    }

    @Test func readsAfterTheLastChangeAreNotARollback() throws {
        let cli = fixture()
        for _ in 0..<3 { #expect(cli.vault(["get", "a"]).status == 0) }
        #expect(cli.vault(["log"]).status == 0)
        #expect(cli.vault(["edit", "a", "--note", "fine"]).status == 0)
        #expect(cli.vault(["log"]).status == 0)
    }
}
