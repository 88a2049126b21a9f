/// What importing one of a bundle's entries does.
public struct BundleMerge: Sendable, Equatable {
    /// What happens to the entry.
    public enum Outcome: Sendable, Equatable {
        /// A new name: the entry is added.
        case added
        /// The vault holds this token already (as current, or in the history when the bundle's
        /// is older): nothing changes.
        case unchanged
        /// The bundle's token is newer: it becomes current, the vault's joins the history.
        case replaced
        /// The vault's token is newer: it stays current, the bundle's joins the history.
        case keptInHistory
    }

    /// The entry's name.
    public let name: String
    /// What happens to it.
    public let outcome: Outcome
    /// An added entry that was git's default for its host in the bundle arrives without that
    /// mark, because this vault has an entry for that host: which token git gets stays this
    /// vault's choice (`vault edit NAME --git-default`).
    public var gitDefaultDropped = false
}

/// Git's default entry for a host is the vault's own choice: an added entry keeps the mark only
/// for a host that no entry of the vault has (before the import, or added earlier by it).
private struct ImportedGitDefaults {
    private var vaultHosts: Set<String>?
    private var addedHosts = Set<String>()

    private static func host(_ entry: Entry) -> String? { entry.url.map { "\($0.scheme)://\($0.host)" } }

    /// Whether `entry`, about to be added, loses its git-default mark; `hosts` reads the hosts
    /// of the vault's entries (once, when a mark is at stake).
    mutating func drops(_ entry: Entry, hosts: () throws(VaultError) -> Set<String>) throws(VaultError) -> Bool {
        guard let host = Self.host(entry) else { return false }
        defer { addedHosts.insert(host) }
        guard entry.isGitDefault else { return false }
        let known: Set<String>
        if let vaultHosts { known = vaultHosts } else { known = try hosts() }
        vaultHosts = known
        return known.contains(host) || addedHosts.contains(host)
    }

    static func hosts(_ db: SQLite, keys: Vault.Keys, manifest: Manifest) throws(VaultError) -> Set<String> {
        var hosts = Set<String>()
        try Vault.forEachChunkOfRows(db, keys: keys, manifest: manifest, secrets: false, chunkSize: 1024) { rows throws(VaultError) in
            for row in rows { if let host = host(row.entry) { hosts.insert(host) } }
        }
        return hosts
    }
}

/// The merge rules of `vault import bundle`, all in one write transaction.
extension Vault {
    /// Merges an opened bundle in one transaction: a new name is added (with its history); a
    /// name whose current token is the bundle's changes nothing; a different token becomes
    /// current only when the bundle's is newer (its entry's `tokenSince`), and the other is kept
    /// in the history either way. With `dryRun`, only says what would happen.
    ///
    /// A bundle that ``OpenedBundle/needsSignerConsent`` is refused (`.untrustedSigner`) unless
    /// `acceptingUnknownSigner` says the user accepted its signer; a dry run lists it either way.
    public func importBundle(_ bundle: OpenedBundle, dryRun: Bool = false,
                             acceptingUnknownSigner: Bool = false) throws(BundleError) -> [BundleMerge] {
        if !dryRun, bundle.needsSignerConsent, !acceptingUnknownSigner { throw .untrustedSigner(bundle.envelope.signer) }
        let detail = "from a bundle signed by \(bundle.signerName.map { "'\($0)' " } ?? "")\(bundle.envelope.signer.text)\(bundle.needsSignerConsent ? " (not trusted; accepted at the import)" : "")"
        do throws(VaultError) {
            if dryRun {
                return try read { db, keys, manifest throws(VaultError) in
                    var defaults = ImportedGitDefaults()
                    return try bundle.tokens.map { token throws(VaultError) in
                        var merge = BundleMerge(name: token.entry.name, outcome: try Self.merge(token, db: db, keys: keys, manifest: manifest).0)
                        if merge.outcome == .added {
                            merge.gitDefaultDropped = try defaults.drops(token.entry) { () throws(VaultError) in
                                try ImportedGitDefaults.hosts(db, keys: keys, manifest: manifest)
                            }
                        }
                        return merge
                    }
                }
            }
            return try write { db, keys, manifest, events throws(VaultError) -> [BundleMerge] in
                var merges: [BundleMerge] = []
                var defaults = ImportedGitDefaults()
                let now = Timestamp.now()
                for token in bundle.tokens {
                    let (outcome, row, record) = try Self.merge(token, db: db, keys: keys, manifest: manifest)
                    var merge = BundleMerge(name: token.entry.name, outcome: outcome)
                    let revision: UInt64
                    switch outcome {
                    case .unchanged:
                        merges.append(merge)
                        continue
                    case .added:
                        let current = manifest
                        merge.gitDefaultDropped = try defaults.drops(token.entry) { () throws(VaultError) in
                            try ImportedGitDefaults.hosts(db, keys: keys, manifest: current)
                        }
                        var entry = token.entry
                        if merge.gitDefaultDropped { entry.isGitDefault = false }
                        // GitLab's id is not taken from a bundle (see the replaced case).
                        entry.forgetGitLabToken()
                        let lookup = try keys.lookup(token.entry.name)
                        guard try !Self.entryExists(db, lookup: lookup) else { throw .tampered("an entry that the header does not list") }
                        revision = manifest.nextRevision()
                        let sealed = try Self.seal(entry, record: record, lookup: lookup, revision: revision, keys: keys)
                        try db.prepare(EntrySQL.insert).run([.blob(lookup), .blob(sealed.metadata), .blob(sealed.secret)])
                        try Landed.entry(db, lookup: lookup, sealed)
                        manifest.set(lookup, revision: revision)
                    case .replaced, .keptInHistory:
                        guard let row else { throw .tampered("an entry that the header does not list") }
                        var entry = row.entry
                        entry.lastUsed = nil
                        entry.updated = now
                        if outcome == .replaced {
                            entry.tokenSince = token.tokenTime
                            // GitLab's id is not taken from a bundle: an admin token reads the
                            // record it names and the entry takes that record's revocation,
                            // scopes and expiry, so a wrong id (a teammate's mistake or worse)
                            // would mark this token revoked. The first verify learns it from
                            // GitLab (`/self`); the replaced token's id goes with it.
                            entry.forgetGitLabToken()
                            entry.expires = token.entry.expires
                        }
                        revision = manifest.nextRevision()
                        let sealed = try Self.seal(entry, record: record, lookup: row.lookup, revision: revision, keys: keys)
                        try Self.updateRow(db, lookup: row.lookup, sealed)
                        try Landed.entry(db, lookup: row.lookup, sealed)
                        manifest.set(row.lookup, revision: revision)
                    }
                    merges.append(merge)
                    let what = switch outcome {
                    case .added: merge.gitDefaultDropped ? "added (not as git's default for its host: this vault has an entry for it)" : "added"
                    case .replaced: "token replaced (the old one kept in history)"
                    default: "older token kept in history"
                    }
                    events.append(PendingEvent(action: "import", entry: token.entry.name, detail: "\(what), \(detail)"))
                }
                return merges
            }
        } catch {
            throw .vault(error)
        }
    }

    /// What merging `token` does, and the secret record the entry would then hold.
    private static func merge(_ token: ExportedToken, db: SQLite, keys: Keys,
                              manifest: Manifest) throws(VaultError) -> (BundleMerge.Outcome, Row?, SecretRecord) {
        let lookup = try keys.lookup(token.entry.name)
        guard manifest.revision(of: lookup) != nil else {
            return (.added, nil, SecretRecord(current: token.secret, previous: newestFirst(token.history)))
        }
        let row = try loadRow(db, name: token.entry.name, keys: keys, manifest: manifest)
        var record = try openSecret(row, keys: keys)
        if record.current.isEqual(to: token.secret) { return (.unchanged, row, record) }
        let ours = row.entry.tokenSince ?? row.entry.updated
        let outcome: BundleMerge.Outcome
        if token.tokenTime > ours {
            record.replace(with: token.secret, at: token.tokenTime)
            outcome = .replaced
        } else {
            if record.previous.contains(where: { $0.secret.isEqual(to: token.secret) }) { return (.unchanged, row, record) }
            record.previous = newestFirst(record.previous + [SecretVersion(replaced: ours, secret: token.secret)])
            outcome = .keptInHistory
        }
        // The bundle's own history, where this vault lacks a token of it: nothing is lost. Tokens
        // are compared by a keyed hash under a key of this merge alone, so that a bundle with a long
        // history costs n log n, not n² (while holding the vault's write lock).
        let key = SymmetricKey.random()
        let fingerprint = { (secret: Secret) in secret.withUnsafeBytes { KeyedHash.hash($0, key: key) } }
        var held = Set([record.current].map(fingerprint) + record.previous.map { fingerprint($0.secret) })
        let missing = token.history.filter { held.insert(fingerprint($0.secret)).inserted }
        if !missing.isEmpty { record.previous = newestFirst(record.previous + missing) }
        return (outcome, row, record)
    }

    private static func newestFirst(_ versions: [SecretVersion]) -> [SecretVersion] {
        versions.enumerated().sorted { a, b in
            a.element.replaced != b.element.replaced ? a.element.replaced > b.element.replaced : a.offset < b.offset
        }.map(\.element)
    }
}
