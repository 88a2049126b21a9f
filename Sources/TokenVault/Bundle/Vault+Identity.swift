/// The vault's identity and the identities it trusts: the key ring's rows read and written,
/// each write one transaction recorded in the activity log.
extension Vault {
    /// The vault's public identity. A vault made before identities existed gets one on first
    /// use: the key pairs are made and stored in one write transaction (two processes that ask at
    /// once get the same one).
    public func identity() throws(VaultError) -> VaultIdentity {
        try identityKeys().identity
    }

    /// The vault's key pairs, made on first use.
    func identityKeys() throws(VaultError) -> IdentityKeys {
        if let keys = try read({ db, keys, manifest throws(VaultError) in try Self.ownIdentity(db, keys: keys, manifest: manifest) }) {
            return keys
        }
        return try write { db, keys, manifest, events throws(VaultError) -> IdentityKeys in
            // Under the write lock: another process may have made it meanwhile.
            if let existing = try Self.ownIdentity(db, keys: keys, manifest: manifest) { return existing }
            let made = IdentityKeys.generate()
            try Self.insertKeyring(.own(made, created: .now()), name: Keyring.ownName, db: db, keys: keys, manifest: &manifest)
            events.append(PendingEvent(action: "identity created", entry: nil))
            return made
        }
    }

    /// The identities saved with ``trust(_:as:)``, sorted by name.
    public func trustedIdentities() throws(VaultError) -> [TrustedIdentity] {
        try read { db, keys, manifest throws(VaultError) in try Self.trusted(db, keys: keys, manifest: manifest) }
    }

    /// Saves a teammate's identity under `name` (the rules of an entry's name). Saving the same
    /// identity under the same name again changes nothing; a name or an identity already saved
    /// otherwise is refused (`.alreadyExists`, `.invalidInput`): remove it first with
    /// ``untrust(_:)``.
    public func trust(_ identity: VaultIdentity, as name: String) throws(VaultError) {
        try Entry.validate(name: name)
        try write { db, keys, manifest, events throws(VaultError) in
            let all = try Self.trusted(db, keys: keys, manifest: manifest)
            if let same = all.first(where: { $0.identity == identity }) {
                if same.name == name { return }
                throw .invalidInput("that identity is trusted already, as '\(same.name)'")
            }
            guard !all.contains(where: { $0.name == name }) else { throw .alreadyExists(name: name) }
            try Self.insertKeyring(.trusted(TrustedIdentity(name: name, identity: identity, added: .now())),
                                   name: Keyring.trustedName(name), db: db, keys: keys, manifest: &manifest)
            events.append(PendingEvent(action: "trust identity", entry: nil, detail: "'\(name)' \(identity.text)"))
        }
    }

    /// Forgets the identity saved under `name`; `.notFound` when none is.
    public func untrust(_ name: String) throws(VaultError) {
        try write { db, keys, manifest, events throws(VaultError) in
            guard let found = try Self.trusted(db, keys: keys, manifest: manifest).first(where: { $0.name == name }) else {
                throw .notFound(name: name, suggestion: nil)
            }
            try Self.deleteKeyring(name: Keyring.trustedName(name), what: "a trusted identity", db: db, keys: keys, manifest: &manifest)
            events.append(PendingEvent(action: "untrust identity", entry: nil, detail: "'\(name)' \(found.identity.text)"))
        }
    }

    // MARK: Rows

    /// Every key-ring row, verified against the manifest: listed, each once, at its revision,
    /// none missing.
    static func keyringRecords(_ db: SQLite, keys: Keys, manifest: Manifest) throws(VaultError) -> [([UInt8], Keyring.Record)] {
        let rows = try db.prepare(Keyring.SQL.everyRow)
        var records: [([UInt8], Keyring.Record)] = []
        var seen = Set<[UInt8]>()
        while try rows.step() {
            let lookup = try rows.blob(0, "a key-ring row's lookup", count: KeyedHash.bytes)
            guard seen.insert(lookup).inserted, let revision = manifest.keyring[lookup] else {
                throw .tampered("a key-ring row that the header does not list")
            }
            records.append((lookup, try Keyring.open(rows.blob(1, "a key-ring record"), lookup: lookup, revision: revision, key: keys.identity)))
        }
        guard records.count == manifest.keyring.count else { throw .tampered("the key ring (a row is missing)") }
        return records
    }

    static func ownIdentity(_ db: SQLite, keys: Keys, manifest: Manifest) throws(VaultError) -> IdentityKeys? {
        let lookup = try keys.lookup(Keyring.ownName)
        for (rowLookup, record) in try keyringRecords(db, keys: keys, manifest: manifest) {
            if case .own(let own, _) = record {
                guard rowLookup == lookup else { throw .tampered("the vault's identity (it is in another row)") }
                return own
            }
        }
        return nil
    }

    static func trusted(_ db: SQLite, keys: Keys, manifest: Manifest) throws(VaultError) -> [TrustedIdentity] {
        try named(db, keys: keys, manifest: manifest, what: "the trusted identity") { record in
            guard case .trusted(let trusted) = record else { return nil }
            return (trusted, trusted.name, Keyring.trustedName(trusted.name))
        }
    }

    /// The key-ring records `pick` takes, each with its name and the name its row's lookup is
    /// made of (checked: a record in another row is tampering), sorted by name.
    static func named<T>(_ db: SQLite, keys: Keys, manifest: Manifest, what: String,
                         _ pick: (Keyring.Record) -> (T, name: String, row: String)?) throws(VaultError) -> [T] {
        var found: [(T, String)] = []
        for (lookup, record) in try keyringRecords(db, keys: keys, manifest: manifest) {
            guard let (value, name, row) = pick(record) else { continue }
            guard try keys.lookup(row) == lookup else {
                throw .tampered("\(what) '\(Redaction.redact(name))' (it is in another row)")
            }
            found.append((value, name))
        }
        return found.sorted { $0.1 < $1.1 }.map(\.0)
    }

    /// Deletes the key-ring row of `name` and unlists it (`what` names it if that fails).
    static func deleteKeyring(name: String, what: String, db: SQLite, keys: Keys, manifest: inout Manifest) throws(VaultError) {
        let lookup = try keys.lookup(name)
        try db.prepare(Keyring.SQL.delete).run([.blob(lookup)])
        guard try !db.prepare(Keyring.SQL.row).bind([.blob(lookup)]).step() else {
            throw .corrupt("the removal of \(what) did not land")
        }
        manifest.keyring[lookup] = nil
        _ = manifest.nextRevision()
    }

    static func insertKeyring(_ record: Keyring.Record, name: String, db: SQLite, keys: Keys,
                                      manifest: inout Manifest) throws(VaultError) {
        let lookup = try keys.lookup(name)
        guard manifest.keyring[lookup] == nil, try !db.prepare(Keyring.SQL.row).bind([.blob(lookup)]).step() else {
            throw .tampered("a key-ring row that the header does not list")
        }
        let revision = manifest.nextRevision()
        let sealed = try Keyring.seal(record, lookup: lookup, revision: revision, key: keys.identity)
        try db.prepare(Keyring.SQL.insert).run([.blob(lookup), .blob(sealed)])
        let stored = try db.prepare(Keyring.SQL.row).bind([.blob(lookup)])
        guard try stored.step(), try stored.blob(0, "a key-ring record") == sealed else {
            throw .corrupt("a write of the key ring did not land: the database stored something else")
        }
        manifest.keyring[lookup] = revision
    }
}
