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
    ]

    static var currentVersion: Int { migrations.count }

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
            let current = try Self.version(db)
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
