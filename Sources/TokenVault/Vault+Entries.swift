/// The entry store: the rows of the `entries` and `usage` tables, sealed and opened. All of
/// their SQL is here.
extension Vault {
    /// One entry's row, its metadata opened and its secret still sealed.
    struct Row {
        let lookup: [UInt8]
        let revision: UInt64
        let entry: Entry
        let sealedSecret: [UInt8]
    }

    /// The statements of the entry store, written once.
    enum EntrySQL {
        static let row = "SELECT metadata, secret FROM entries WHERE lookup = ?"
        static let everyRow = "SELECT lookup, metadata FROM entries"
        static let exists = "SELECT 1 FROM entries WHERE lookup = ?"
        static let insert = "INSERT INTO entries (lookup, metadata, secret) VALUES (?, ?, ?)"
        static let update = "UPDATE entries SET metadata = ?, secret = ? WHERE lookup = ?"
        static let move = "UPDATE entries SET lookup = ?, metadata = ?, secret = ? WHERE lookup = ?"
        static let delete = "DELETE FROM entries WHERE lookup = ?"
        static let usage = "SELECT sealed FROM usage WHERE lookup = ?"
        static let everyUsage = "SELECT lookup, sealed FROM usage"
        static let insertUsage = "INSERT INTO usage (lookup, sealed) VALUES (?, ?)"
        static let setUsage = "INSERT OR REPLACE INTO usage (lookup, sealed) VALUES (?, ?)"
        static let deleteUsage = "DELETE FROM usage WHERE lookup = ?"
    }

    // MARK: Reading rows

    static func loadRow(_ db: SQLite, name: String, keys: Keys, manifest: Manifest) throws(VaultError) -> Row {
        let lookup = try keys.lookup(name)
        let statement = try db.prepare(EntrySQL.row).bind([.blob(lookup)])
        let found = try statement.step()
        guard let revision = manifest.revision(of: lookup) else {
            if found { throw .tampered("an entry that the header does not list") }
            throw .notFound(name: name, suggestion: nil)
        }
        guard found else { throw .tampered("entry '\(Redaction.redact(name))', which is missing") }
        let what = "entry '\(Redaction.redact(name))'"
        let entry = try openMetadata(statement.blob(0, "the metadata of \(what)"), lookup: lookup, revision: revision, keys: keys, what: what)
        let sealedSecret = try statement.blob(1, "the secret of \(what)")
        guard entry.name == name else { throw .tampered(what) }
        var withUse = entry
        let usage = try db.prepare(EntrySQL.usage).bind([.blob(lookup)])
        if try usage.step() { withUse.lastUsed = try openUsage(usage.blob(0, "the last-used time of \(what)"), lookup: lookup, keys: keys) }
        return Row(lookup: lookup, revision: revision, entry: withUse, sealedSecret: sealedSecret)
    }

    /// Every entry row's metadata, opened at the revision the manifest lists for it, in the
    /// table's order: `body` gets the row's lookup and its entry (without its last-used time).
    static func forEachEntry(_ db: SQLite, keys: Keys, manifest: Manifest,
                             _ body: ([UInt8], Entry) throws(VaultError) -> Void) throws(VaultError) {
        let statement = try db.prepare(EntrySQL.everyRow)
        var seen = Set<[UInt8]>()
        while try statement.step() {
            let lookup = try statement.blob(0, "an entry's lookup", count: KeyedHash.bytes)
            guard seen.insert(lookup).inserted else { throw .tampered("the entry list (a duplicated entry)") }
            guard let revision = manifest.revision(of: lookup) else {
                throw .tampered("an entry that the header does not list")
            }
            try body(lookup, try openMetadata(statement.blob(1, "an entry's metadata"), lookup: lookup, revision: revision, keys: keys))
        }
    }

    /// Every entry's metadata with its last-used time, sorted by name; every row verified
    /// against the manifest, so a deleted, added or rolled-back row is reported.
    static func loadEntries(_ db: SQLite, keys: Keys, manifest: Manifest) throws(VaultError) -> [Entry] {
        var usage: [[UInt8]: [UInt8]] = [:]
        let uses = try db.prepare(EntrySQL.everyUsage)
        while try uses.step() {
            usage[try uses.blob(0, "a last-used time's lookup", count: KeyedHash.bytes)] = try uses.blob(1, "a last-used time")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(manifest.count)
        try forEachEntry(db, keys: keys, manifest: manifest) { lookup, entry throws(VaultError) in
            var entry = entry
            entry.lastUsed = try usage[lookup].map { sealed throws(VaultError) in
                try Self.openUsage(sealed, lookup: lookup, keys: keys)
            }
            guard try keys.lookup(entry.name) == lookup else {
                throw .tampered("the metadata of '\(Redaction.redact(entry.name))'")
            }
            entries.append(entry)
        }
        guard entries.count == manifest.count else {
            throw .tampered("the entry list (\(manifest.count - entries.count) entries are missing)")
        }
        return entries.sorted { $0.name < $1.name }
    }

    /// Whether a row exists at `lookup`.
    static func entryExists(_ db: SQLite, lookup: [UInt8]) throws(VaultError) -> Bool {
        try db.prepare(EntrySQL.exists).bind([.blob(lookup)]).step()
    }

    // MARK: Writing rows (inside the caller's write transaction)

    /// Replaces the sealed records of the row at `lookup`.
    static func updateRow(_ db: SQLite, lookup: [UInt8], _ sealed: (metadata: [UInt8], secret: [UInt8])) throws(VaultError) {
        try db.prepare(EntrySQL.update).run([.blob(sealed.metadata), .blob(sealed.secret), .blob(lookup)])
    }

    /// Moves the row at `lookup` to `newLookup`, with new sealed records.
    static func moveRow(_ db: SQLite, from lookup: [UInt8], to newLookup: [UInt8],
                        _ sealed: (metadata: [UInt8], secret: [UInt8])) throws(VaultError) {
        try db.prepare(EntrySQL.move).run([.blob(newLookup), .blob(sealed.metadata), .blob(sealed.secret), .blob(lookup)])
    }

    /// Deletes the row at `lookup` and its last-used time.
    static func deleteRow(_ db: SQLite, lookup: [UInt8]) throws(VaultError) {
        try db.prepare(EntrySQL.delete).run([.blob(lookup)])
        try deleteUsage(db, lookup: lookup)
    }

    /// Stores the last-used time of the entry at `lookup`, in place of the one it had (or as
    /// its first, where it is known to have none).
    static func storeUsage(_ db: SQLite, _ time: Timestamp, lookup: [UInt8], keys: Keys,
                           replacing: Bool = true) throws(VaultError) {
        try db.prepare(replacing ? EntrySQL.setUsage : EntrySQL.insertUsage)
            .run([.blob(lookup), .blob(try sealUsage(time, lookup: lookup, keys: keys))])
    }

    static func deleteUsage(_ db: SQLite, lookup: [UInt8]) throws(VaultError) {
        try db.prepare(EntrySQL.deleteUsage).run([.blob(lookup)])
    }

    // MARK: Sealing

    static func openMetadata(_ box: [UInt8], lookup: [UInt8], revision: UInt64, keys: Keys,
                             what: String = "an entry's metadata") throws(VaultError) -> Entry {
        let (plaintext, body) = try Records.open(box, lookup: lookup, revision: revision, key: keys.metadata,
                                                 what: what, guarded: false)
        return try plaintext.withUnsafeBytes { bytes throws(VaultError) in
            try Records.decode(UnsafeRawBufferPointer(rebasing: bytes[body]))
        }
    }

    static func openSecret(_ row: Row, keys: Keys) throws(VaultError) -> SecretRecord {
        let what = "the secret of '\(Redaction.redact(row.entry.name))'"
        let (plaintext, body) = try Records.open(row.sealedSecret, lookup: row.lookup, revision: row.revision,
                                                 key: keys.secret, what: what, guarded: true)
        return try plaintext.withUnsafeBytes { bytes throws(VaultError) in
            try SecretRecord.decode(UnsafeRawBufferPointer(rebasing: bytes[body]))
        }
    }

    static func seal(_ entry: Entry, record: SecretRecord, lookup: [UInt8], revision: UInt64,
                     keys: Keys) throws(VaultError) -> (metadata: [UInt8], secret: [UInt8]) {
        var metadata = Records.encode(entry)
        defer { Sodium.wipe(&metadata) }
        let sealedMetadata = try Records.seal(bodyCount: metadata.count, lookup: lookup, revision: revision, key: keys.metadata) {
            $0.copyBytes(from: metadata)
        }
        let sealedSecret = try Records.seal(bodyCount: record.bodyCount, lookup: lookup, revision: revision,
                                            key: keys.secret, fill: record.fill)
        return (sealedMetadata, sealedSecret)
    }

    /// A last-used time, bound to its entry's lookup (revision 0: usage is outside the manifest;
    /// an older time put back is harmless, a time moved to another entry is detected).
    static func sealUsage(_ time: Timestamp, lookup: [UInt8], keys: Keys) throws(VaultError) -> [UInt8] {
        var w = ByteWriter()
        w.u64(UInt64(bitPattern: time.secondsSince1970))
        return try Records.seal(bodyCount: 8, lookup: lookup, revision: 0, key: keys.usage) { $0.copyBytes(from: w.bytes) }
    }

    static func openUsage(_ box: [UInt8], lookup: [UInt8], keys: Keys) throws(VaultError) -> Timestamp {
        let (plaintext, body) = try Records.open(box, lookup: lookup, revision: 0, key: keys.usage,
                                                 what: "a last-used time", guarded: false)
        guard let seconds = plaintext.withUnsafeBytes({ UnsafeRawBufferPointer(rebasing: $0[body]).int64 }) else {
            throw .tampered("a last-used time")
        }
        return Timestamp(secondsSince1970: seconds)
    }
}
