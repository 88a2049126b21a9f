/// Writes: each one transaction, recorded in the activity log with the change it makes.
extension Vault {
    /// Adds an entry. Fails with `.alreadyExists` if the name is taken.
    public func add(_ entry: Entry, secret: Secret) throws(VaultError) {
        try add([Token(entry: entry, secret: secret)])
    }

    /// Adds several entries in one transaction: all of them, or none if any name is taken or
    /// invalid.
    public func add(_ batch: [Token]) throws(VaultError) {
        try add(batch.map { ($0.entry, SecretRecord(current: $0.secret, previous: [])) }, allowingEmpty: false)
    }

    /// Adds one entry with its whole secret record; an empty token only where `allowingEmpty`
    /// (git's empty credential for `http.emptyAuth` and single sign-on).
    func add(_ entry: Entry, record: SecretRecord, allowingEmpty: Bool) throws(VaultError) {
        try add([(entry, record)], allowingEmpty: allowingEmpty)
    }

    private func add(_ batch: [(entry: Entry, record: SecretRecord)], allowingEmpty: Bool) throws(VaultError) {
        for (entry, record) in batch {
            try entry.validate()
            guard allowingEmpty || !record.current.isEmpty else {
                throw .invalidInput("the token for '\(Redaction.redact(entry.name))' is empty")
            }
        }
        try write { db, keys, manifest, events throws(VaultError) in
            let existing = try db.prepare(EntrySQL.exists)
            let insert = try db.prepare(EntrySQL.insert)
            let now = Timestamp.now()
            // Listed in the manifest together at the end, in one merge.
            var listed: [(lookup: [UInt8], revision: UInt64)] = []
            var names = Set<String>()
            for (entry, record) in batch {
                let lookup = try keys.lookup(entry.name)
                guard manifest.revision(of: lookup) == nil, names.insert(entry.name).inserted else {
                    throw .alreadyExists(name: entry.name)
                }
                // A row that the manifest does not list was put there from outside TokenVault.
                try existing.bind([.blob(lookup)])
                guard try !existing.step() else { throw .tampered("an entry that the header does not list") }
                var entry = entry
                entry.created = now
                entry.updated = now
                entry.tokenSince = now
                let revision = manifest.nextRevision()
                let row = try Self.seal(entry, record: record, lookup: lookup, revision: revision, keys: keys)
                try insert.run([.blob(lookup), .blob(row.metadata), .blob(row.secret)])
                try Landed.entry(db, lookup: lookup, row)
                listed.append((lookup, revision))
                events.append(PendingEvent(action: "add", entry: entry.name))
            }
            manifest.insert(listed)
        }
    }

    /// Changes an entry's metadata with `change`, and its secret when `secret` is given. The
    /// name cannot change here: use ``rename(_:to:)``.
    ///
    /// `change` runs outside the vault's lock and transaction (it may take its time, or call
    /// the vault); the write then happens only if the entry was not changed meanwhile, and is
    /// retried from a fresh read otherwise.
    ///
    /// `action` names the change in the activity log (by default, what changed: ``EventAction/edit``,
    /// ``EventAction/replaceToken``, ``EventAction/trash``, ...), with `detail` beside it; an
    /// action that names a read (``EventAction/isRead``) is refused.
    @discardableResult
    public func update(_ name: String, secret newSecret: Secret? = nil, action: EventAction? = nil, detail: String? = nil,
                       _ change: (inout Entry) throws(VaultError) -> Void = { _ in }) throws(VaultError) -> Entry {
        try update(name, secret: newSecret, restoringVersion: nil, action: action?.text, detail: detail, change)
    }

    /// What an update does to the refresh token git stored with the token.
    enum RefreshTokenChange {
        case keep
        case set(Secret?)
    }

    @discardableResult
    func update(_ name: String, secret newSecret: Secret? = nil, restoringVersion version: Int? = nil,
                refreshToken: RefreshTokenChange = .keep, allowingEmpty: Bool = false,
                action: String? = nil, detail: String? = nil,
                _ change: (inout Entry) throws(VaultError) -> Void = { _ in }) throws(VaultError) -> Entry {
        if let newSecret, newSecret.isEmpty, !allowingEmpty { throw VaultError.invalidInput("the token is empty") }
        if let action, ActivityLog.isRead(action) {
            throw VaultError.invalidInput("'\(action)' names a read in the activity log: a change needs another name")
        }
        for _ in 0..<16 {
            let (current, revision) = try read { db, keys, manifest throws(VaultError) in
                let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
                return (row.entry, row.revision)
            }
            var entry = current
            try change(&entry)
            guard entry.name == current.name else {
                throw VaultError.invalidInput("update cannot rename an entry; use rename")
            }
            try Entry.validate(changedFrom: current, to: entry)
            entry.created = current.created
            entry.updated = Timestamp.now()
            let changed = entry
            let written = try write { db, keys, manifest, events throws(VaultError) -> Entry? in
                let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
                guard row.revision == revision else { return nil }
                var record = try Self.openSecret(row, keys: keys)
                let before = record.current
                if let newSecret { record.replace(with: newSecret, at: changed.updated) }
                if case .set(let refresh) = refreshToken { record.refreshToken = refresh }
                if let version {
                    guard record.previous.indices.contains(version) else {
                        throw VaultError.invalidInput("'\(Redaction.redact(name))' has no version \(version + 1) in its history")
                    }
                    let restored = record.previous.remove(at: version)
                    record.replace(with: restored.secret, at: changed.updated)
                }
                var final = changed
                // A new token starts its rotation period afresh.
                let replaced = !record.current.isEqual(to: before)
                if replaced { final.tokenSince = changed.updated }
                // GitLab's id belongs to the token it was learned with: a new token has another,
                // unless this very write stores it (a rotation's answer). A tag 21 kept aside
                // unread goes too: a later version would take it for the new token's.
                if replaced {
                    let stored = final.gitlabToken
                    final.forgetGitLabToken()
                    if stored != row.entry.gitlabToken { final.gitlabToken = stored }
                }
                events.append(PendingEvent(action: action ?? Self.describeChange(from: row.entry, to: final, replacedToken: replaced,
                                                                                 restoredVersion: version),
                                           entry: name, detail: detail))
                let next = manifest.nextRevision()
                let sealed = try Self.seal(final, record: record, lookup: row.lookup, revision: next, keys: keys)
                try Self.updateRow(db, lookup: row.lookup, sealed)
                try Landed.entry(db, lookup: row.lookup, sealed)
                manifest.set(row.lookup, revision: next)
                return final
            }
            if let written { return written }
        }
        throw VaultError.database("'\(name)' kept changing under concurrent writes; try again")
    }

    /// Renames an entry. Fails if `newName` is taken.
    public func rename(_ oldName: String, to newName: String) throws(VaultError) {
        try Entry.validate(name: newName)
        try write { db, keys, manifest, events throws(VaultError) in
            let row = try Self.loadRow(db, name: oldName, keys: keys, manifest: manifest)
            let newLookup = try keys.lookup(newName)
            guard manifest.revision(of: newLookup) == nil else { throw .alreadyExists(name: newName) }
            var entry = row.entry
            entry.name = newName
            entry.storedByGit = false  // Named by its owner: reviewed.
            entry.updated = Timestamp.now()
            let record = try Self.openSecret(row, keys: keys)
            let revision = manifest.nextRevision()
            let sealed = try Self.seal(entry, record: record, lookup: newLookup, revision: revision, keys: keys)
            try Self.moveRow(db, from: row.lookup, to: newLookup, sealed)
            try Landed.entry(db, lookup: newLookup, sealed)
            try Landed.noEntry(db, lookup: row.lookup)
            try Self.deleteUsage(db, lookup: row.lookup)
            if let used = row.entry.lastUsed {
                try Self.storeUsage(db, used, lookup: newLookup, keys: keys, replacing: false)
            }
            manifest.remove(row.lookup)
            manifest.set(newLookup, revision: revision)
            events.append(PendingEvent(action: "rename", entry: newName, detail: "from '\(oldName)'"))
        }
    }

    /// Removes an entry and its secret from the file (SQLite's secure_delete overwrites the
    /// freed pages).
    public func remove(_ name: String) throws(VaultError) {
        _ = try remove(name, onlyIfTrashedBefore: nil)
    }

    /// With a cutoff, removes the entry only if it is (still) in the trash since before it.
    private func remove(_ name: String, onlyIfTrashedBefore cutoff: Int64?) throws(VaultError) -> Bool {
        let removed = try write { db, keys, manifest, events throws(VaultError) -> Bool in
            let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
            if let cutoff, (row.entry.deleted?.secondsSince1970 ?? .max) >= cutoff { return false }
            try Self.deleteRow(db, lookup: row.lookup)
            try Landed.noEntry(db, lookup: row.lookup)
            manifest.remove(row.lookup)
            _ = manifest.nextRevision()
            events.append(PendingEvent(action: cutoff == nil ? "purge" : "purge (trash expired)", entry: name))
            return true
        }
        if removed { checkpoint() }
        return removed
    }

    /// Empties the write-ahead log (the write already folded it into the file), so that old
    /// pages (a removed entry's ciphertexts, a key wrapped under an old passphrase) do not
    /// linger in it.
    private func checkpoint() {
        state.withLock { state in _ = try? state.db.foldLog(truncating: true) }
    }

    /// Re-wraps the vault key under a key derived from `newPassphrase` with a new salt (and
    /// `kdf`, or the current parameters), in one transaction. Entries are not re-encrypted.
    /// The vault must be unlocked, and need no key file (for one that does, see
    /// ``changePassphrase(to:keyFile:kdf:)``).
    public func changePassphrase(to newPassphrase: Secret, kdf: KDFParameters? = nil) throws(VaultError) {
        guard try !needsKeyFile() else {
            throw .invalidInput("this vault needs a key file: give it with the new passphrase to keep it, or nil to stop needing one")
        }
        try changePassphrase(to: newPassphrase, keyFile: nil, kdf: kdf)
    }

    /// Re-wraps the vault key under `newPassphrase` and `keyFile` (nil: the passphrase alone)
    /// with a new salt (and `kdf`, or the current parameters), in one transaction: from then on
    /// unlocking needs exactly these. The header's `key_file` column, the salt, the wrapped key
    /// and the manifest that binds them change together, so a process killed at any moment
    /// leaves the vault opening with the old configuration or the new one. Entries are not
    /// re-encrypted. The vault must be unlocked with the passphrase (not through the agent). A
    /// key file that is one of the vault's own files (the vault file, its `-wal`, its settings
    /// file), which change with every write, is refused: `.invalidInput`.
    public func changePassphrase(to newPassphrase: Secret, keyFile: KeyFile?, kdf: KDFParameters? = nil) throws(VaultError) {
        guard !newPassphrase.isEmpty else { throw .invalidInput("the passphrase is empty") }
        try keyFile?.checkApart(fromVault: path)
        // Without new parameters, keep the ones the (verified) manifest holds.
        let (current, before): (KDFParameters, Bool)
        (current, before) = try read { _, _, manifest throws(VaultError) in (manifest.binding.kdf, manifest.binding.keyFile) }
        let parameters = kdf ?? current
        guard parameters.isSupported else { throw .invalidInput("unsupported key-derivation parameters") }
        let salt = Sodium.randomBytes(KeyDerivation.saltBytes)
        let kek = try KeyDerivation.keyEncryptionKey(newPassphrase, keyFile: keyFile, salt: salt, parameters: parameters)
        let detail: String? = switch (before, keyFile != nil) {
        case (false, true): "a key file is needed from now on"
        case (true, false): "no key file is needed from now on"
        default: nil
        }
        try state.withLock { state throws(VaultError) in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            try db.transaction(write: true) { () throws(VaultError) in
                try state.checkSchema()
                let header = try Self.readHeader(db)
                var manifest = try Self.openManifest(header, keys: keys)
                manifest.binding.kdf = parameters
                manifest.binding.salt = salt
                manifest.binding.keyFile = keyFile != nil
                manifest.log.head = try ActivityLog.append(db, keys: keys, manifest: manifest, action: "passphrase change",
                                                            entry: nil, origin: state.origin, detail: detail)
                guard let vaultKey = keys.vaultKey else {
                    throw VaultError.invalidInput("the vault was unlocked through the agent: unlock it with the passphrase to change it")
                }
                let wrapped = vaultKey.withUnsafeBytes { SecretBox.seal($0, using: kek) }
                let sealed = try manifest.seal(using: keys.manifest)
                try Self.storeKey(db, binding: manifest.binding, wrappedKey: wrapped, manifest: sealed)
                // Read back: the new passphrase (and key file) must be what opens the file.
                let stored = try Self.readHeader(db)
                guard stored.manifest == sealed, stored.wrappedKey == wrapped, stored.binding == manifest.binding else {
                    throw VaultError.corrupt("the new passphrase did not land in the file (the database changed the header as it was written)")
                }
            }
            // The header changed under the cache: read it afresh next time (the same keys).
            state.reset(keys: keys)
        }
        checkpoint()
    }

    /// Makes the previous version at `index` (0 is the newest, as ``history(of:)`` lists them)
    /// current again; the token it replaces joins the history, and the restored one leaves it.
    public func restoreVersion(_ name: String, index: Int) throws(VaultError) {
        try update(name, restoringVersion: index)
    }

    /// Changes the vault-wide settings, in one transaction.
    /// `detail` says what changed, for the activity log (for example `trash-days 30 → 7`).
    /// A changed duration the file cannot hold (see ``VaultSettings``) is refused with
    /// `.invalidInput`, and nothing changes.
    public func updateSettings(detail: String? = nil, _ change: (inout VaultSettings) -> Void) throws(VaultError) {
        try write { _, _, manifest, events throws(VaultError) in
            let before = manifest.settings
            change(&manifest.settings)
            try manifest.settings.checkRepresentable(changedFrom: before)
            _ = manifest.nextRevision()
            events.append(PendingEvent(action: "config", entry: nil, detail: detail))
        }
    }

    /// Destroys the entries that have been in the trash for longer than the vault keeps them.
    /// Returns their names.
    @discardableResult
    public func emptyTrash(now: Timestamp = .now()) throws(VaultError) -> [String] {
        // A retention beyond what Int64 seconds hold (a file may say anything) keeps everything.
        guard let span = try settings().trashRetention.whole(),
              case let (cutoff, overflow) = now.secondsSince1970.subtractingReportingOverflow(span), !overflow else { return [] }
        let candidates = try entries().filter { ($0.deleted?.secondsSince1970 ?? .max) < cutoff }
        var destroyed: [String] = []
        for entry in candidates {
            // Checked again inside the write: an entry restored meanwhile is left alone.
            if try remove(entry.name, onlyIfTrashedBefore: cutoff) { destroyed.append(entry.name) }
        }
        return destroyed
    }
}
