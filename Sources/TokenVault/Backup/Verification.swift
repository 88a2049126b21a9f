/// What ``Vault/verify()`` found: every part of the file, checked in one snapshot, and what is
/// wrong with each.
public struct VerificationReport: Sendable {
    /// A part of the vault file.
    public enum Part: String, Sendable, CaseIterable {
        /// SQLite's own structure (`PRAGMA integrity_check`).
        case database
        /// The tables: TokenVault's own, at a version this one reads.
        case schema
        /// The header and the sealed manifest it holds (entries listed, settings, log anchors).
        case manifest
        /// Every entry's records: listed in the manifest, once, at its revision, each opening
        /// under the vault key and bound to its row.
        case entries
        /// Every token's earlier versions (sealed in its entry's secret record).
        case history
        /// The entries in the trash.
        case trash
        /// The last-used times: each opens and belongs to an entry.
        case usage
        /// The key ring: the vault's identity and the identities it trusts, each record listed
        /// in the manifest, once, at its revision, opening and bound to its row.
        case keyring = "key ring"
        /// The activity log: its chain, and the anchors the manifest keeps (where pruning
        /// stopped, and the head at the last change).
        case activityLog = "activity log"
    }

    /// One part's verdict.
    public struct Finding: Sendable {
        /// The part checked.
        public let part: Part
        /// What was found (counts), when the part is good.
        public let summary: String
        /// What is wrong, or nil when the part is good.
        public let problem: String?
    }

    /// The vault file checked.
    public let path: String
    /// One finding per part, in the order the parts are declared.
    public private(set) var findings: [Finding] = []

    /// True when no part has a problem.
    public var isIntact: Bool { findings.allSatisfy { $0.problem == nil } }

    /// The first problem found, as one line.
    public var firstProblem: String? {
        findings.first { $0.problem != nil }.map { "\($0.part.rawValue): \($0.problem ?? "")" }
    }

    init(path: String) { self.path = path }

    mutating func record(_ part: Part, _ check: () throws(VaultError) -> String) {
        do {
            findings.append(Finding(part: part, summary: try check(), problem: nil))
        } catch {
            findings.append(Finding(part: part, summary: "", problem: error.description))
        }
    }

    mutating func skip(_ part: Part, because reason: String) {
        findings.append(Finding(part: part, summary: "", problem: "not checked: \(reason)"))
    }
}

extension Vault {
    /// Checks the whole file, read only, in one snapshot: SQLite's structure, the schema, the
    /// header and manifest, every entry's records (each opens and is bound to its row and
    /// revision; the manifest lists every row, once), the history and trash they hold, the
    /// last-used times, the key ring, and the activity log's chain and anchors. The same checks that reads and
    /// writes make, all at once, reported part by part rather than stopping at the first.
    /// The vault must be unlocked (its keys open the records), unless its schema is not
    /// TokenVault's: then nothing else in the file is read (a planted view runs when it is read,
    /// and may never end), and the report, every later part not checked, needs no key.
    public func verify() throws(VaultError) -> VerificationReport {
        try state.withLock { state throws(VaultError) -> VerificationReport in
            var report = VerificationReport(path: path)
            let db = state.connection
            // The checks a first use makes (the schema, the header's format), in their own snapshot.
            var firstUse: VaultError?
            do throws(VaultError) {
                _ = try state.db
                try Vault.check(db, path: path, migrating: false)
            } catch {
                firstUse = error
            }
            let keys = state.keys
            guard keys != nil || firstUse != nil else { throw VaultError.locked }
            try db.transaction(write: false) { () throws(VaultError) in
                report.record(.database) { () throws(VaultError) in try Self.integrity(db) }
                report.record(.schema) { () throws(VaultError) in
                    if let firstUse { throw firstUse }
                    let version = try Schema.version(db)
                    guard version <= Schema.currentVersion, version >= Schema.readableUnmigrated else {
                        throw .unsupportedFormat(version)
                    }
                    try Schema.verify(db, version: version)
                    return "version \(version), TokenVault's tables only"
                }
                guard report.findings.last?.problem == nil, let keys else {
                    for part in VerificationReport.Part.allCases.dropFirst(2) {
                        report.skip(part, because: "the schema is not TokenVault's (nothing else in the file is read)")
                    }
                    return
                }
                var opened: Manifest?
                report.record(.manifest) { () throws(VaultError) in
                    let manifest = try Self.openManifest(Self.readHeader(db), keys: keys)
                    opened = manifest
                    return "\(manifest.count) entries listed"
                }
                guard let manifest = opened else {
                    for part in VerificationReport.Part.allCases.dropFirst(3) {
                        report.skip(part, because: "the manifest does not open")
                    }
                    return
                }
                var tally = (entries: 0, versions: 0, withHistory: 0, trashed: 0)
                var lookups = Set<[UInt8]>()
                var entriesOpened = false
                report.record(.entries) { () throws(VaultError) in
                    try Self.forEachChunkOfRows(db, keys: keys, manifest: manifest, secrets: true, chunkSize: 1024) { rows throws(VaultError) in
                        for row in rows {
                            guard let secret = row.secret else { throw .tampered("the secret of '\(Redaction.redact(row.entry.name))'") }
                            tally.entries += 1
                            tally.versions += secret.previous.count
                            if !secret.previous.isEmpty { tally.withHistory += 1 }
                            if row.entry.deleted != nil { tally.trashed += 1 }
                            lookups.insert(row.lookup)
                        }
                    }
                    guard tally.entries == manifest.count else {
                        throw .tampered("the entry list (\(manifest.count - tally.entries) entries are missing)")
                    }
                    entriesOpened = true
                    return "\(tally.entries) entries: every record opens and is bound to its row"
                }
                if entriesOpened {
                    report.record(.history) { "\(tally.versions) earlier versions in \(tally.withHistory) entries, all opened" }
                    report.record(.trash) { "\(tally.trashed) entries in the trash, all opened" }
                } else {
                    report.skip(.history, because: "the entries' records do not all open")
                    report.skip(.trash, because: "the entries' records do not all open")
                }
                report.record(.usage) { () throws(VaultError) in try Self.verifyUsage(db, keys: keys, entries: entriesOpened ? lookups : nil) }
                report.record(.keyring) { () throws(VaultError) in
                    let records = try Self.keyringRecords(db, keys: keys, manifest: manifest)
                    let own = try Self.ownIdentity(db, keys: keys, manifest: manifest)
                    let trusted = records.count - (own == nil ? 0 : 1)
                    return (own == nil ? "no identity yet" : "the vault's identity") + " and \(trusted) trusted identities: every record opens and is bound to its row"
                }
                report.record(.activityLog) { () throws(VaultError) in
                    try ActivityLog.checkContinuity(db, manifest: manifest)
                    let log = try ActivityLog.verify(db, keys: keys, manifest: manifest)
                    if let problem = log.problem { throw .tampered("the activity log (\(problem))") }
                    return "\(log.events.count) events: the chain verifies from its anchor to the head"
                }
            }
            return report
        }
    }

    /// SQLite's own check of the file's pages and indexes.
    private static func integrity(_ db: SQLite) throws(VaultError) -> String {
        let rows = try db.prepare("PRAGMA integrity_check(10)")
        var lines: [String] = []
        while try rows.step() { lines.append(try rows.text(0, "SQLite's integrity check")) }
        guard lines == ["ok"] else { throw .corrupt("the database file is damaged (\(lines.joined(separator: "; ")))") }
        return "SQLite's integrity check passes"
    }

    /// Every last-used time opens, bound to its row, and belongs to one of `entries` (nil when
    /// the entries did not all open).
    private static func verifyUsage(_ db: SQLite, keys: Keys, entries: Set<[UInt8]>?) throws(VaultError) -> String {
        let rows = try db.prepare(EntrySQL.everyUsage)
        var stored: [(lookup: [UInt8], sealed: [UInt8])] = []
        while try rows.step() {
            stored.append((try rows.blob(0, "a last-used time's lookup", count: KeyedHash.bytes), try rows.blob(1, "a last-used time")))
        }
        let opened = try keys.backend.open(stored.map { SealedBox(purpose: .usage, bytes: $0.sealed) })
        guard opened.count == stored.count else { throw .tampered("a last-used time") }
        for (row, plaintext) in zip(stored, opened) {
            _ = try decodeUsage(plaintext, lookup: row.lookup)
            guard entries?.contains(row.lookup) ?? true else { throw .tampered("a last-used time of no entry") }
        }
        return "\(stored.count) last-used times, each bound to its entry"
    }
}
