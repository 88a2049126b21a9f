/// Proof that a write landed: inside the write's own transaction, what it stored is read back
/// and compared with what it meant to store, before the commit and before success is reported.
/// With the schema verified (no trigger, default or conflict clause of anyone else's), SQLite
/// stores what it is given; this is the second line, so that a write that did not land is an
/// error, never a success.
enum Landed {
    /// The entry row at `lookup` holds exactly these sealed records.
    static func entry(_ db: SQLite, lookup: [UInt8], _ sealed: (metadata: [UInt8], secret: [UInt8])) throws(VaultError) {
        let row = try db.prepare(Vault.EntrySQL.row).bind([.blob(lookup)])
        guard try row.step(), try row.blob(0, "an entry's metadata") == sealed.metadata,
              try row.blob(1, "an entry's secret") == sealed.secret, try !row.step() else {
            throw missed("an entry")
        }
    }

    /// No entry row at `lookup` (it was removed or renamed).
    static func noEntry(_ db: SQLite, lookup: [UInt8]) throws(VaultError) {
        guard try !db.prepare(Vault.EntrySQL.exists).bind([.blob(lookup)]).step() else {
            throw missed("the removal of an entry")
        }
    }

    /// The header holds exactly this sealed manifest.
    static func manifest(_ db: SQLite, _ sealed: [UInt8]) throws(VaultError) {
        let row = try db.prepare("SELECT manifest FROM vault WHERE id = 1")
        guard try row.step(), try row.blob(0, "the header's manifest") == sealed else { throw missed("the vault header") }
    }

    /// One event of the activity log, as appended.
    static func event(_ db: SQLite, sequence: UInt64, sealed: [UInt8], mac: [UInt8]) throws(VaultError) {
        let row = try db.prepare("SELECT sealed, mac FROM events WHERE seq = ?").bind([.integer(Int64(sequence))])
        guard try row.step(), try row.blob(0, "event \(sequence)") == sealed, try row.blob(1, "the MAC of event \(sequence)") == mac else {
            throw missed("event \(sequence) of the activity log")
        }
    }

    private static func missed(_ what: String) -> VaultError {
        .corrupt("a write of \(what) did not land: the database stored something else (was the file's schema changed?)")
    }
}
