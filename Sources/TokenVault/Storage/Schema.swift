/// The database schema and its migrations. `PRAGMA user_version` holds the schema version;
/// migration N takes a vault from version N-1 to N inside one transaction.
///
/// The schema is distinct from the crypto format version (the header's `format` column): a new
/// table (history, events) is a migration, while a change in how bytes are sealed would be a
/// new format.
enum Schema {
    static let migrations: [String] = [
        // 1: the header, one row; the entries, one row each, looked up by blind index.
        """
        CREATE TABLE vault (
            id          INTEGER PRIMARY KEY CHECK (id = 1),
            format      INTEGER NOT NULL,
            vault_id    BLOB NOT NULL,
            kdf_alg     INTEGER NOT NULL,
            kdf_ops     INTEGER NOT NULL,
            kdf_mem     INTEGER NOT NULL,
            kdf_salt    BLOB NOT NULL,
            wrapped_key BLOB NOT NULL,
            manifest    BLOB NOT NULL
        );
        CREATE TABLE entries (
            id       INTEGER PRIMARY KEY,
            lookup   BLOB NOT NULL UNIQUE,
            metadata BLOB NOT NULL,
            secret   BLOB NOT NULL
        );
        """,
        // 2: when each entry was last used, kept apart from the entry so that marking a use is
        // one small write (no new revision, no manifest rewrite).
        """
        CREATE TABLE usage (
            lookup BLOB PRIMARY KEY,
            sealed BLOB NOT NULL
        );
        """,
        // 3: the activity log, one sealed event a row, each linked to the one before by a MAC.
        """
        CREATE TABLE events (
            seq    INTEGER PRIMARY KEY,
            sealed BLOB NOT NULL,
            mac    BLOB NOT NULL
        );
        """,
        // 4: the key ring: the vault's identity (its secret keys) and the identities it trusts,
        // one sealed record a row, listed in the manifest as the entries are.
        """
        CREATE TABLE keyring (
            lookup BLOB PRIMARY KEY,
            sealed BLOB NOT NULL
        );
        """,
        // 5: whether unlocking needs a key file with the passphrase (KeyFile.swift): a column of
        // the header, bound by the manifest as the KDF parameters are. Nothing that identifies
        // the file.
        """
        ALTER TABLE vault ADD COLUMN key_file INTEGER NOT NULL DEFAULT 0 CHECK (key_file IN (0, 1));
        """,
    ]

    /// The indexes SQLite makes by itself for each migration's UNIQUE and non-integer PRIMARY
    /// KEY columns (they stand in `sqlite_master` without SQL).
    private static let automaticIndexes: [[(name: String, table: String)]] = [
        [("sqlite_autoindex_entries_1", "entries")],
        [("sqlite_autoindex_usage_1", "usage")],
        [],
        [("sqlite_autoindex_keyring_1", "keyring")],
        [],
    ]

    static var currentVersion: Int { migrations.count }

    /// The schema that added the header's `key_file` column (migration 5).
    static let keyFileVersion = 5
    /// The oldest schema read as it is where it is not migrated (`vault verify`, a read-only
    /// file): schema 4 lacks only the `key_file` column, and so needs no key file. An older one
    /// must be opened once with write access.
    static let readableUnmigrated = 4

    /// One row of `sqlite_master`: a table, index, view or trigger.
    struct Object: Hashable {
        var type: String
        var name: String
        var table: String
        /// The SQL that made it, with white space folded (nil for an automatic index).
        var sql: String?
    }

    /// Everything the schema of `version` holds, as TokenVault created it.
    static func objects(version: Int) -> Set<Object> {
        // Each table's SQL as SQLite keeps it, before folding.
        var tables: [String: String] = [:]
        var indexes: Set<Object> = []
        for step in 0..<min(version, migrations.count) {
            for statement in migrations[step].split(separator: ";") {
                let sql = folded(statement)
                guard !sql.isEmpty else { continue }
                if sql.hasPrefix(AddColumn.prefix), let (name, column) = AddColumn.parse(sql), let table = tables[name],
                   let close = table.lastIndex(of: ")") {
                    // SQLite writes `, COLUMN-DEF` just before the closing parenthesis of the
                    // table's SQL (sqlite3AlterFinishAddColumn).
                    tables[name] = String(table[..<close]) + ", " + column + String(table[close...])
                    continue
                }
                // Every other migration statement is `CREATE TABLE name (...)`.
                let name = String(sql.dropFirst("CREATE TABLE ".count).prefix { $0 != " " && $0 != "(" })
                tables[name] = String(statement.drop { $0 == "\n" || $0 == " " })
            }
            for index in automaticIndexes[step] {
                indexes.insert(Object(type: "index", name: index.name, table: index.table, sql: nil))
            }
        }
        return indexes.union(tables.map { Object(type: "table", name: $0.key, table: $0.key, sql: folded($0.value)) })
    }

    /// `ALTER TABLE name ADD COLUMN definition` (folded): the table's name and the definition.
    private enum AddColumn {
        static let prefix = "ALTER TABLE "
        static func parse(_ sql: String) -> (String, String)? {
            let rest = sql.dropFirst(prefix.count)
            guard let space = rest.firstIndex(of: " ") else { return nil }
            let clause = rest[space...].dropFirst()
            guard clause.hasPrefix("ADD COLUMN ") else { return nil }
            return (String(rest[..<space]), String(clause.dropFirst("ADD COLUMN ".count)))
        }
    }

    /// Refuses a file whose schema holds anything but TokenVault's own tables and indexes for
    /// `version`: a trigger, view, extra table or index, or a table defined otherwise (a default,
    /// a constraint or a conflict clause) could change what a write saves, or drop it.
    static func verify(_ db: SQLite, version: Int) throws(VaultError) {
        var found: Set<Object> = []
        let rows = try db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master")
        while try rows.step() {
            let sql = try rows.isNull(3) ? nil : folded(rows.text(3, "the SQL of a schema object"))
            found.insert(Object(type: try rows.text(0, "the type of a schema object"), name: try rows.text(1, "a schema object's name"),
                                table: try rows.text(2, "a schema object's table"), sql: sql))
        }
        let expected = objects(version: version)
        if let extra = found.subtracting(expected).sorted(by: { $0.name < $1.name }).first {
            if expected.contains(where: { $0.type == extra.type && $0.name == extra.name }) {
                throw .corrupt("its \(printable(extra.type)) '\(printable(extra.name))' is not defined as TokenVault defines it (a changed definition can change what a write saves)")
            }
            throw .corrupt("its database holds \(printable(extra.type)) '\(printable(extra.name))', which TokenVault never creates (a planted trigger, view, table or index can change what a write saves)")
        }
        if let missing = expected.subtracting(found).sorted(by: { ($0.type, $0.name) > ($1.type, $1.name) }).first {
            throw .corrupt("its \(missing.type) '\(missing.name)' is missing")
        }
    }

    /// SQL with every run of white space folded into one space, trimmed.
    private static func folded(_ sql: some StringProtocol) -> String {
        sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
    }

    /// A name from the file, fit to print: letters, digits and `_-.` only, at most 64 of them.
    private static func printable(_ name: String) -> String {
        let kept = name.unicodeScalars.prefix(64).map { scalar -> Character in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_-.".unicodeScalars.contains(scalar))
                ? Character(scalar) : "?"
        }
        return String(kept) + (name.unicodeScalars.count > 64 ? "..." : "")
    }

    static func version(_ db: SQLite) throws(VaultError) -> Int {
        let statement = try db.prepare("PRAGMA user_version")
        guard try statement.step() else { return 0 }
        return Int(statement.int(0))
    }

    /// Brings the schema up to date from `version` (as just read). Fails for a database written
    /// by a newer version.
    static func migrate(_ db: SQLite, from version: Int) throws(VaultError) {
        if version == currentVersion { return }
        guard version < currentVersion else { throw .unsupportedFormat(version) }
        try db.transaction(write: true) { () throws(VaultError) in
            // Read again under the write lock: another process may have migrated meanwhile.
            let current = try Self.version(db)
            guard current <= currentVersion else { throw .unsupportedFormat(current) }
            guard current > 0 else { throw .corrupt("the schema version went back to \(current)") }
            try verify(db, version: current)
            for step in current..<currentVersion {
                try db.execute(migrations[step])
            }
            try db.execute("PRAGMA user_version = \(currentVersion)")
        }
    }

    /// Creates the current schema in a new, empty database (inside the caller's transaction).
    static func create(_ db: SQLite) throws(VaultError) {
        for migration in migrations { try db.execute(migration) }
        try db.execute("PRAGMA user_version = \(currentVersion)")
    }

    /// Per-connection settings.
    static func configure(_ db: SQLite) throws(VaultError) {
        // Deleted pages are overwritten with zeros, so old ciphertexts do not linger.
        try db.execute("PRAGMA secure_delete = ON")
        try db.execute("PRAGMA synchronous = FULL")
        try db.execute("PRAGMA trusted_schema = OFF")
    }
}
