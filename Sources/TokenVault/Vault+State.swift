/// The connection and what this process keeps of the file between calls, and the
/// transactions every read and write runs in.
extension Vault {
    struct State {
        var connection: SQLite
        let path: String
        /// Whether the file is opened to be read only (`vault verify`, or a file that cannot be
        /// written here): never migrated.
        var readOnly = false
        /// Why the file cannot be written here (`Vault+ReadOnly.swift`), when it cannot: every
        /// write is refused at once, and reads are not recorded.
        var unwritable: ReadRecording.Reason?
        /// Why a read this `Vault` made was not recorded, when one was not.
        var unrecorded: ReadRecording.Reason?
        /// Whether the file's schema and format were checked (on first use: a client that the
        /// agent reads for never touches the file).
        var checked = false
        var keys: Keys?
        var origin = ActivityLog.Origin(actor: Vault.defaultActor)
        /// The last manifest opened, with the sealed bytes it came from: the same bytes read again
        /// need not be opened again (with the agent, that is a round trip of the whole manifest).
        var manifestCache: (sealed: [UInt8], manifest: Manifest)?
        /// The connection's data_version at which the cache was known to be the file's manifest:
        /// while no other connection commits, the header need not even be read again (at 10,000
        /// entries the manifest is 240 KB).
        var cacheVersion: Int64?
        /// Every entry's metadata as last read, with the connection's data_version and commit
        /// count then: still the file's while neither changed. (The agent chooses git's entry
        /// among all of them at every request; at 10,000 entries, opening them all takes tens of
        /// milliseconds; with the entries filed by host, a request costs only its host's.)
        var entriesCache: (version: Int64, commits: Int, entries: [Entry], hosts: GitMatching.HostPositions)?
        /// The activity log as last verified, with the connection's data_version and commit
        /// count then (the agent answers `vault log` from it while neither changed).
        var logCache: (version: Int64, commits: Int, report: LogReport)?
        /// The schema cookie and data_version under which `checkSchema` last verified the schema.
        var verifiedSchema: (cookie: Int64, dataVersion: Int64)?

        /// A manifest just opened and verified, with the sealed bytes it came from and the
        /// connection's data_version when they were read.
        typealias Verified = (sealed: [UInt8], manifest: Manifest, version: Int64)

        /// Takes `keys` (nil: locked), and forgets every cache: the manifest is read
        /// afresh on next use unless `verified` is the file's as of now. The one place the
        /// caches are reset.
        mutating func reset(keys: Keys?, verified: Verified? = nil) {
            self.keys = keys
            entriesCache = nil
            logCache = nil
            manifestCache = verified.map { ($0.sealed, $0.manifest) }
            cacheVersion = verified?.version
        }

        /// The connection, once the file is known to be a vault this version can read.
        var db: SQLite {
            mutating get throws(VaultError) {
                if !checked {
                    // A file opened to be verified is never migrated; its schema is checked
                    // before anything else in it is read (`verify` reports what this throws).
                    do {
                        try Vault.check(connection, path: path, migrating: !readOnly)
                    } catch .diskFull where unwritable == nil {
                        // No room for the log's shared index: the file is read alone, unwritable.
                        connection = try Vault.connectionOnFullDisk(path)
                        (readOnly, unwritable) = (true, .diskFull)
                        try Vault.check(connection, path: path, migrating: false)
                    }
                    checked = true
                }
                return connection
            }
        }

        /// Inside a write transaction, whose lock keeps the schema as it is until the transaction
        /// ends: that the schema is TokenVault's own, so that what the write stores is what lands.
        /// A verdict is kept only while no other connection has committed since it was reached
        /// (the data_version, read inside the lock, is the same) and the schema cookie is the
        /// same (this connection's own migration changes it). The cookie alone is not enough: it
        /// is a number anyone who can write the file can set (`PRAGMA schema_version`), so a
        /// trigger planted with the cookie put back to the verified value would run in this
        /// connection as soon as it parsed the schema at another cookie in between. So the agent,
        /// which records a read for every git request and is the only one to write while it
        /// holds the key, does not read and fold all of `sqlite_master` at each of them.
        mutating func checkSchema() throws(VaultError) {
            let db = try self.db
            let version = try Schema.version(db)
            guard version <= Schema.currentVersion else { throw .unsupportedFormat(version) }
            guard version == Schema.currentVersion else { throw .corrupt("its schema version went back to \(version)") }
            let cookie = try db.schemaCookie(), dataVersion = try db.dataVersion()
            if let verified = verifiedSchema, verified.cookie == cookie, verified.dataVersion == dataVersion { return }
            try Schema.verify(db, version: version)
            verifiedSchema = (cookie, dataVersion)
        }

        /// The file's manifest, inside the caller's transaction.
        mutating func currentManifest(keys: Keys) throws(VaultError) -> Manifest {
            let version = try db.dataVersion()
            if let cache = manifestCache, cacheVersion == version { return cache.manifest }
            // Another connection committed: perhaps a newer version that migrated the schema.
            if cacheVersion != nil {
                let schema = try Schema.version(db)
                guard schema <= Schema.currentVersion else { throw .unsupportedFormat(schema) }
            }
            let manifest = try manifest(Vault.readHeader(db), keys: keys)
            cacheVersion = version
            return manifest
        }

        /// After this connection wrote `sealed` (which does not change its data_version).
        mutating func wrote(_ sealed: [UInt8], _ manifest: Manifest) {
            manifestCache = (sealed, manifest)
        }

        /// After this connection recorded a read of `name` (a use at `used`, when it was one) in a
        /// write that began with the cached entries current: the cache follows it.
        mutating func recordedRead(of name: String, usedAt used: Timestamp?, commits: Int) {
            guard var cache = entriesCache else { return }
            entriesCache = nil  // The array's only reference: changed in place.
            // Sorted by name: found in a few steps, not a pass over 10,000 entries at every read.
            if let used, let index = Self.position(of: name, in: cache.entries) { cache.entries[index].lastUsed = used }
            cache.commits = commits
            entriesCache = cache
        }

        /// The position of the entry named `name` in `entries`, sorted by name.
        static func position(of name: String, in entries: [Entry]) -> Int? {
            var low = 0, high = entries.count
            while low < high {
                let middle = low + (high - low) / 2
                if entries[middle].name < name { low = middle + 1 } else { high = middle }
            }
            return low < entries.count && entries[low].name == name ? low : nil
        }

        mutating func manifest(_ header: Header, keys: Keys) throws(VaultError) -> Manifest {
            if let cache = manifestCache, cache.sealed == header.manifest {
                guard cache.manifest.binding == header.binding else { throw .tampered("the vault header") }
                return cache.manifest
            }
            let manifest = try Vault.openManifest(header, keys: keys)
            manifestCache = (header.manifest, manifest)
            return manifest
        }
    }

    /// Runs `body` in a read transaction with the keys and the verified manifest.
    func read<R>(_ body: (SQLite, Keys, Manifest) throws(VaultError) -> R) throws(VaultError) -> R {
        try state.withLock { state throws(VaultError) -> R in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            return try db.transaction(write: false) { () throws(VaultError) -> R in
                let manifest = try state.currentManifest(keys: keys)
                return try body(db, keys, manifest)
            }
        }
    }

    /// `read`, with every entry's metadata (from the cache while the file has not changed).
    func readEntries<R>(_ body: (SQLite, Keys, Manifest, [Entry], GitMatching.HostPositions) throws(VaultError) -> R) throws(VaultError) -> R {
        try state.withLock { state throws(VaultError) -> R in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            return try db.transaction(write: false) { () throws(VaultError) -> R in
                let manifest = try state.currentManifest(keys: keys)
                let version = try db.dataVersion()
                if let cache = state.entriesCache, cache.version == version, cache.commits == db.commits {
                    return try body(db, keys, manifest, cache.entries, cache.hosts)
                }
                let entries = try Self.loadEntries(db, keys: keys, manifest: manifest)
                let hosts = GitMatching.HostPositions(entries)
                state.entriesCache = (version, db.commits, entries, hosts)
                return try body(db, keys, manifest, entries, hosts)
            }
        }
    }

    /// The activity log verified by `verify` in a read transaction (from the cache while the
    /// file has not changed).
    func readLog(_ verify: (SQLite, Keys, Manifest) throws(VaultError) -> LogReport) throws(VaultError) -> LogReport {
        try state.withLock { state throws(VaultError) -> LogReport in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            return try db.transaction(write: false) { () throws(VaultError) -> LogReport in
                let manifest = try state.currentManifest(keys: keys)
                let version = try db.dataVersion()
                if let cache = state.logCache, cache.version == version, cache.commits == db.commits { return cache.report }
                let report = try verify(db, keys, manifest)
                state.logCache = (version, db.commits, report)
                return report
            }
        }
    }

    /// Runs `body` in one write transaction; the manifest it changes is sealed and stored
    /// before the commit. `eventsOnly`: `body` changes no entry (it only records events), so
    /// the entries cache, when it was the file's as the write began, stays.
    /// Every change it makes is recorded in the activity log, in the same transaction; the
    /// manifest then keeps the log's head.
    /// `origin`: who the events are recorded as (the agent's client); else this vault's own.
    func write<R>(origin: ActivityLog.Origin? = nil, eventsOnly: Bool = false,
                  _ body: (SQLite, Keys, inout Manifest, inout [PendingEvent]) throws(VaultError) -> R) throws(VaultError) -> R {
        try state.withLock { state throws(VaultError) -> R in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            if let reason = state.unwritable { try Vault.refuseWrite(&state, because: reason, keys: keys, change: true) }
            let origin = origin ?? state.origin
            var written: ([UInt8], Manifest)?
            var cacheIsCurrent = false
            let result = try db.transaction(write: true) { () throws(VaultError) -> R in
                try state.checkSchema()
                var manifest = try state.currentManifest(keys: keys)
                if eventsOnly, let cache = state.entriesCache {
                    cacheIsCurrent = try cache.version == db.dataVersion() && cache.commits == db.commits
                }
                var events: [PendingEvent] = []
                let result = try body(db, keys, &manifest, &events)
                for event in events {
                    manifest.log.head = try ActivityLog.append(db, keys: keys, manifest: manifest, action: event.action,
                                                                entry: event.entry, origin: origin, detail: event.detail)
                }
                if !events.isEmpty { try ActivityLog.prune(db, keys: keys, manifest: &manifest) }
                written = (try Self.storeManifest(db, manifest, keys: keys), manifest)
                return result
            }
            // Committed: the cache follows this connection's own write.
            if let (sealed, manifest) = written { state.wrote(sealed, manifest) }
            if cacheIsCurrent { state.entriesCache?.commits = db.commits }
            VaultLocation.tightenSideFiles(of: path)
            return result
        }
    }
}
