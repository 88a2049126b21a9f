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
        static let everyRowWithSecret = "SELECT lookup, metadata, secret FROM entries"
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

    /// Every entry row, verified against the manifest (listed, once, at its revision), with its
    /// metadata opened (without its last-used time; its name checked against the row's lookup)
    /// and, when `secrets`, its secret: all opened
    /// in one batch (through the agent, one request however many rows). In the table's order.
    static func openRows(_ db: SQLite, keys: Keys, manifest: Manifest,
                         secrets: Bool) throws(VaultError) -> [(lookup: [UInt8], entry: Entry, secret: SecretRecord?)] {
        var all: [(lookup: [UInt8], entry: Entry, secret: SecretRecord?)] = []
        try forEachChunkOfRows(db, keys: keys, manifest: manifest, secrets: secrets, chunkSize: .max) { all += $0 }
        return all
    }

    /// `openRows` a chunk of at most `chunkSize` rows at a time (one batch each), for passes
    /// over every token: a chunk's tokens are held in one ``SecretArena``'s guarded regions, and
    /// released together after `body`. Without `urls`, the entries' URLs are left nil, not
    /// parsed (a pass that reads only names and the trash, such as the review of every token).
    static func forEachChunkOfRows(_ db: SQLite, keys: Keys, manifest: Manifest, secrets: Bool, urls: Bool = true, chunkSize: Int,
                                   _ body: ([(lookup: [UInt8], entry: Entry, secret: SecretRecord?)]) throws(VaultError) -> Void) throws(VaultError) {
        let statement = try db.prepare(secrets ? EntrySQL.everyRowWithSecret : EntrySQL.everyRow)
        var seen = Set<[UInt8]>()
        var more = true
        while more {
            var rows: [(lookup: [UInt8], revision: UInt64)] = []
            var boxes: [SealedBox] = []
            while rows.count < chunkSize {
                guard try statement.step() else { more = false; break }
                let lookup = try statement.blob(0, "an entry's lookup", count: KeyedHash.bytes)
                guard seen.insert(lookup).inserted else { throw .tampered("the entry list (a duplicated entry)") }
                guard let revision = manifest.revision(of: lookup) else { throw .tampered("an entry that the header does not list") }
                rows.append((lookup, revision))
                boxes.append(SealedBox(purpose: .entryMetadata, bytes: try statement.blob(1, "an entry's metadata")))
                if secrets { boxes.append(SealedBox(purpose: .entrySecret, bytes: try statement.blob(2, "an entry's secret"))) }
            }
            if rows.isEmpty { break }
            let opened = try keys.backend.open(boxes)
            guard opened.count == boxes.count else { throw .tampered("the entry list (opened by the agent)") }
            let stride = secrets ? 2 : 1
            var entries: [Entry] = []
            entries.reserveCapacity(rows.count)
            for (index, row) in rows.enumerated() {
                entries.append(try decodeMetadata(opened[index * stride], lookup: row.lookup, revision: row.revision, url: urls))
            }
            // A record opened in a batch is bound to its row, not to its kind: from an agent that
            // answered a row's token in place of its metadata, the token would read as the name.
            // So every name is checked against its row (one batch) before it is used or shown.
            let lookups = try keys.backend.lookup(entries.map(\.name))
            guard lookups.count == rows.count, zip(rows, lookups).allSatisfy({ $0.lookup == $1 }) else {
                throw .tampered("an entry's metadata (it names another entry)")
            }
            var result: [(lookup: [UInt8], entry: Entry, secret: SecretRecord?)] = []
            result.reserveCapacity(rows.count)
            // The chunk's tokens in a few guarded regions, not an allocation (and mappings) each.
            let arena = SecretArena()
            for (index, (row, entry)) in zip(rows, entries).enumerated() {
                var secret: SecretRecord?
                if secrets {
                    // The row's other record is its metadata: the same bytes again are not its token.
                    let (metadata, plaintext) = (opened[index * 2], opened[index * 2 + 1])
                    do throws(VaultError) {
                        if let metadata, let plaintext, metadata.withUnsafeBytes({ m in plaintext.withUnsafeBytes { Sodium.constantTimeEqual(m, $0) } }) {
                            throw .tampered("")
                        }
                        secret = try decodeSecret(plaintext, lookup: row.lookup, revision: row.revision, what: "", arena: arena)
                    } catch .tampered {
                        // Named only when it is wrong: redacting every name took a tenth of a pass.
                        throw .tampered("the secret of '\(Redaction.redact(entry.name))'")
                    }
                }
                result.append((row.lookup, entry, secret))
            }
            try body(result)
        }
    }

    /// Every entry's metadata with its last-used time, sorted by name; every row verified
    /// against the manifest, so a deleted, added or rolled-back row is reported. A constant
    /// number of batches, whatever the number of entries.
    static func loadEntries(_ db: SQLite, keys: Keys, manifest: Manifest) throws(VaultError) -> [Entry] {
        var usage: [[UInt8]: [UInt8]] = [:]
        let uses = try db.prepare(EntrySQL.everyUsage)
        while try uses.step() {
            usage[try uses.blob(0, "a last-used time's lookup", count: KeyedHash.bytes)] = try uses.blob(1, "a last-used time")
        }
        var entries = try openRows(db, keys: keys, manifest: manifest, secrets: false)
        let used = entries.indices.filter { usage[entries[$0].lookup] != nil }
        let times = try keys.backend.open(used.map { SealedBox(purpose: .usage, bytes: usage[entries[$0].lookup] ?? []) })
        guard times.count == used.count else { throw .tampered("a last-used time") }
        for (index, time) in zip(used, times) {
            entries[index].entry.lastUsed = try decodeUsage(time, lookup: entries[index].lookup)
        }
        guard entries.count == manifest.count else {
            throw .tampered("the entry list (\(manifest.count - entries.count) entries are missing)")
        }
        return entries.map(\.entry).sorted { $0.name < $1.name }
    }

    /// Every live entry's secret record (the trash's left out), `chunkSize` rows at a time in
    /// the table's order, each chunk in one batch: what `body` keeps of a chunk's tokens is its
    /// own affair, the records are released after it.
    static func forEverySecret(_ db: SQLite, keys: Keys, manifest: Manifest, chunkSize: Int = 1024,
                               _ body: (String, SecretRecord) throws(VaultError) -> Void) throws(VaultError) {
        var count = 0
        // `body` reads only names: no URL parsed.
        try forEachChunkOfRows(db, keys: keys, manifest: manifest, secrets: true, urls: false, chunkSize: chunkSize) { rows throws(VaultError) in
            count += rows.count
            for row in rows {
                guard let secret = row.secret else { throw .tampered("the secret of '\(Redaction.redact(row.entry.name))'") }
                if row.entry.deleted == nil { try body(row.entry.name, secret) }
            }
        }
        // Every row the header lists was there (a deleted row is tampering, as for `entries()`).
        guard count == manifest.count else { throw .tampered("the entry list (\(manifest.count - count) entries are missing)") }
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
        try decodeMetadata(try keys.metadata.open(box, what: what), lookup: lookup, revision: revision, what: what)
    }

    static func decodeMetadata(_ plaintext: SecureBytes?, lookup: [UInt8], revision: UInt64,
                               what: String = "an entry's metadata", url: Bool = true) throws(VaultError) -> Entry {
        guard let plaintext else { throw .tampered(what) }
        let body = try Records.body(of: plaintext, lookup: lookup, revision: revision, what: what)
        return try plaintext.withUnsafeBytes { bytes throws(VaultError) in
            try Records.decode(UnsafeRawBufferPointer(rebasing: bytes[body]), url: url)
        }
    }

    /// The row's secret record; its tokens in `arena` when one is given (one per pass over many
    /// rows), else in one of the record's own.
    static func openSecret(_ row: Row, keys: Keys, arena: SecretArena? = nil) throws(VaultError) -> SecretRecord {
        let what = "the secret of '\(Redaction.redact(row.entry.name))'"
        return try decodeSecret(try keys.secret.open(row.sealedSecret, what: what), lookup: row.lookup, revision: row.revision,
                                what: what, arena: arena)
    }

    static func decodeSecret(_ plaintext: SecureBytes?, lookup: [UInt8], revision: UInt64, what: String,
                             arena: SecretArena? = nil) throws(VaultError) -> SecretRecord {
        guard let plaintext else { throw .tampered(what) }
        let body = try Records.body(of: plaintext, lookup: lookup, revision: revision, what: what)
        return try plaintext.withUnsafeBytes { bytes throws(VaultError) in
            try SecretRecord.decode(UnsafeRawBufferPointer(rebasing: bytes[body]), arena: arena)
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
        try decodeUsage(try keys.usage.open(box, what: "a last-used time"), lookup: lookup)
    }

    static func decodeUsage(_ plaintext: SecureBytes?, lookup: [UInt8]) throws(VaultError) -> Timestamp {
        guard let plaintext else { throw .tampered("a last-used time") }
        let body = try Records.body(of: plaintext, lookup: lookup, revision: 0, what: "a last-used time")
        guard let seconds = plaintext.withUnsafeBytes({ UnsafeRawBufferPointer(rebasing: $0[body]).int64 }) else {
            throw .tampered("a last-used time")
        }
        return Timestamp(secondsSince1970: seconds)
    }
}
