import Glibc

/// The manifest: one sealed blob in the header that says which entries exist and at which
/// revision each was last written. It is what makes a deleted, re-inserted or rolled-back row
/// detectable, and it binds the header's plain columns (format, vault id, KDF parameters and
/// salt) so that changing any of them is detected too.
///
/// Plaintext layout (little-endian): magic `TVM1`, vault id (16), format (u32), KDF algorithm
/// (u32), opslimit (u64), memlimit (u64), salt (16), generation (u64), count (u32), then
/// `count` records of (blind index prefix (16), revision (u64)) sorted by prefix, then the
/// vault's settings as tag-length-value fields. The header's `key_file` column (schema 5) is
/// bound by tag 32 of that tail (value 1), written only when a key file is needed.
struct Manifest: Equatable {
    struct Binding: Equatable {
        var vaultID: [UInt8]
        var format: UInt32
        var kdf: KDFParameters
        var salt: [UInt8]
        /// Whether unlocking needs a key file with the passphrase (the header's `key_file`).
        var keyFile = false
    }

    /// The tail's field that binds ``Binding/keyFile`` (value: the integer 1).
    static let keyFileTag: UInt8 = 32

    static let magic = Array("TVM1".utf8)
    static let prefixBytes = 16
    static let recordBytes = prefixBytes + 8
    static let headerBytes = 4 + 16 + 4 + 4 + 8 + 8 + 16 + 8 + 4

    var binding: Binding
    /// The highest revision ever written; every write takes the next one, so revisions are
    /// never reused, even for a name that is removed and added again.
    var generation: UInt64
    /// The records, flat: `count` times (prefix, revision), sorted by prefix. Kept as bytes so
    /// that a lookup among 10,000 entries is a binary search with no parsing.
    private var records: [UInt8]
    /// Vault-wide settings, as tag-length-value fields after the records.
    var settings = VaultSettings()
    /// Where the activity log's chain starts (after pruning) and where it stood at the last change.
    var log = LogAnchors()
    /// The key ring's rows (the vault's identity, trusted identities): lookup and revision.
    var keyring = KeyringListing()
    /// Fields of the tail that this version does not know (a later version's settings), kept
    /// as they were and written back, so that rewriting the manifest never resets them.
    var unknownFields: [UInt8] = []

    init(binding: Binding) {
        self.binding = binding
        self.generation = 0
        self.records = []
    }

    var count: Int { records.count / Self.recordBytes }

    /// Binary search: whether the prefix of `lookup` is listed, and where it is or would go.
    private func index(of lookup: [UInt8]) -> (found: Bool, at: Int) {
        precondition(lookup.count >= Self.prefixBytes)
        return records.withUnsafeBytes { all in
            lookup.withUnsafeBytes { key in
                var low = 0, high = all.count / Self.recordBytes
                while low < high {
                    let mid = (low + high) / 2
                    let order = memcmp(all.baseAddress! + mid * Self.recordBytes, key.baseAddress!, Self.prefixBytes)
                    if order < 0 { low = mid + 1 } else { high = mid }
                }
                let found = low < all.count / Self.recordBytes
                    && memcmp(all.baseAddress! + low * Self.recordBytes, key.baseAddress!, Self.prefixBytes) == 0
                return (found, low)
            }
        }
    }

    func revision(of lookup: [UInt8]) -> UInt64? {
        guard lookup.count >= Self.prefixBytes else { return nil }
        let (found, at) = index(of: lookup)
        guard found else { return nil }
        return records.withUnsafeBytes { all in
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: all[(at * Self.recordBytes + Self.prefixBytes)...]))
            return reader.u64()
        }
    }

    /// Takes the next revision number.
    mutating func nextRevision() -> UInt64 {
        generation += 1
        return generation
    }

    mutating func set(_ lookup: [UInt8], revision: UInt64) {
        let (found, at) = index(of: lookup)
        var record = ByteWriter()
        record.raw(lookup.prefix(Self.prefixBytes))
        record.u64(revision)
        let range = at * Self.recordBytes..<(at + 1) * Self.recordBytes
        if found {
            records.replaceSubrange(range, with: record.bytes)
        } else {
            records.insert(contentsOf: record.bytes, at: range.lowerBound)
        }
    }

    /// Lists entries that are not listed yet (a batch added in one write): sorted once and merged
    /// in one pass, where `set` for each would move the records after it every time.
    mutating func insert(_ batch: [(lookup: [UInt8], revision: UInt64)]) {
        let sorted = batch.sorted { $0.lookup.prefix(Self.prefixBytes).lexicographicallyPrecedes($1.lookup.prefix(Self.prefixBytes)) }
        var merged = ByteWriter()
        merged.bytes.reserveCapacity(records.count + batch.count * Self.recordBytes)
        var old = 0
        for (lookup, revision) in sorted {
            let key = lookup.prefix(Self.prefixBytes)
            while old < records.count,
                  records[old..<old + Self.prefixBytes].lexicographicallyPrecedes(key) {
                merged.raw(records[old..<old + Self.recordBytes])
                old += Self.recordBytes
            }
            merged.raw(key)
            merged.u64(revision)
        }
        merged.raw(records[old...])
        records = merged.bytes
    }

    mutating func remove(_ lookup: [UInt8]) {
        let (found, at) = index(of: lookup)
        if found { records.removeSubrange(at * Self.recordBytes..<(at + 1) * Self.recordBytes) }
    }

    func seal(using key: SealingKey) throws(VaultError) -> [UInt8] {
        var w = ByteWriter()
        w.bytes.reserveCapacity(Self.headerBytes + records.count)
        w.raw(Self.magic)
        w.raw(binding.vaultID)
        w.u32(binding.format)
        w.u32(UInt32(bitPattern: binding.kdf.algorithm))
        w.u64(binding.kdf.opsLimit)
        w.u64(binding.kdf.memLimit)
        w.raw(binding.salt)
        w.u64(generation)
        w.u32(UInt32(count))
        w.raw(records)
        w.raw(settings.encoded())
        w.raw(log.encoded())
        w.raw(keyring.encoded())
        if binding.keyFile { w.field(Self.keyFileTag, int: 1) }
        w.raw(unknownFields)
        let length = w.bytes.count
        let plaintext = SecureBytes(count: Padding.paddedLength(length), guarded: false) { buffer in
            buffer.copyBytes(from: w.bytes)
            Padding.pad(buffer, length: length)
        }
        return try plaintext.withUnsafeBytes { bytes throws(VaultError) in try key.seal(bytes) }
    }

    /// The tail's fields that neither the settings nor the log's anchors know, as raw bytes.
    private static func unknownFields(of tail: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8] {
        var reader = ByteReader(tail)
        var unknown = ByteWriter()
        while let (tag, value) = try reader.field() {
            if !VaultSettings.knows(tag) && !LogAnchors.knows(tag) && !KeyringListing.knows(tag) && tag != keyFileTag {
                unknown.field(tag, value)
            }
        }
        return unknown.bytes
    }

    /// Whether the tail says a key file is needed: tag 32 with the value 1, at most once.
    private static func keyFileFlag(in tail: UnsafeRawBufferPointer) throws(VaultError) -> Bool {
        var reader = ByteReader(tail)
        var found: Bool?
        while let (tag, value) = try reader.field() {
            guard tag == keyFileTag else { continue }
            guard found == nil, value.int64 == 1 else { throw .tampered("the vault header") }
            found = true
        }
        return found ?? false
    }

    /// Whether `records` are in the order of their prefixes, as `set` and `insert` keep them: out
    /// of order, a binary search would miss listed entries (and a write would list one twice).
    private static func inOrder(_ records: [UInt8]) -> Bool {
        records.withUnsafeBytes { all in
            let count = all.count / recordBytes
            guard count > 1, let base = all.baseAddress else { return true }
            return (1..<count).allSatisfy { i in memcmp(base + (i - 1) * recordBytes, base + i * recordBytes, prefixBytes) <= 0 }
        }
    }

    /// Opens and reads a manifest; a listing out of order or a generation that has no next
    /// revision is refused as the vault header's tampering (the key sealed it: only a broken
    /// writer makes one).
    static func open(_ box: [UInt8], using key: SealingKey) throws(VaultError) -> Manifest {
        let plaintext = try key.open(box, what: "the vault header")
        let manifest: Manifest? = plaintext.withUnsafeBytes { bytes in
            guard let length = Padding.unpaddedLength(bytes) else { return nil }
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
            guard let magic = r.array(4), magic == Self.magic,
                  let vaultID = r.array(16), let format = r.u32(), let algorithm = r.u32(),
                  let ops = r.u64(), let mem = r.u64(), let salt = r.array(KeyDerivation.saltBytes),
                  let generation = r.u64(), let count = r.u32(),
                  r.remaining >= Int(count) * recordBytes, let records = r.array(Int(count) * recordBytes),
                  inOrder(records), generation < UInt64.max,
                  let tail = r.take(r.remaining), let settings = try? VaultSettings(decoding: tail),
                  let log = try? LogAnchors(decoding: tail), let keyring = try? KeyringListing(decoding: tail),
                  let unknown = try? unknownFields(of: tail), let keyFile = try? keyFileFlag(in: tail) else { return nil }
            var manifest = Manifest(binding: Binding(
                vaultID: vaultID, format: format,
                kdf: KDFParameters(algorithm: Int32(bitPattern: algorithm), opsLimit: ops, memLimit: mem), salt: salt,
                keyFile: keyFile))
            manifest.generation = generation
            manifest.records = records
            manifest.settings = settings
            manifest.log = log
            manifest.keyring = keyring
            manifest.unknownFields = unknown
            return manifest
        }
        guard let manifest else { throw .tampered("the vault header") }
        return manifest
    }
}

/// Settings for the whole vault, kept in the manifest: sealed, and rolled back only with it.
public struct VaultSettings: Sendable, Equatable {
    /// How often tokens should be replaced when an entry names no period (default 90 days).
    /// The vault keeps it in whole seconds.
    public var rotateEvery: Duration = Review.defaultRotation
    /// How long an entry stays in the trash before ``Vault/emptyTrash(now:)`` destroys it
    /// (default 30 days). The vault keeps it in whole days.
    public var trashRetention: Duration = .seconds(30 * 86_400)
    /// The activity log keeps at most this many events (default 10,000)...
    public var logMaxEvents: Int64 = 10_000
    /// ...and none older than this (default 365 days). The vault keeps it in whole days.
    public var logRetention: Duration = .seconds(365 * 86_400)
    /// Whether the git helper starts the agent after a passphrase typed at the terminal, so that
    /// one git operation asks at most once (default on; `vault config agent-autostart off`).
    public var agentAutostart = true
    /// The GitLab API URL to use for each host's tokens (`vault config gitlab-api-url.HOST URL`),
    /// for a GitLab installed under a path: host (with `:port`) → `https://host/path/api/v4`.
    /// Checked by `TokenVaultGitLab` when used; none by default.
    public var gitLabAPIURLs: [String: String] = [:]
    /// For each GitLab host (`gitlab.example.com[:port]`), the entry whose token `vault gitlab
    /// push` authenticates with there by default (`vault config gitlab-admin.HOST ENTRY`).
    public var gitlabAdmin: [String: String] = [:]

    /// The defaults: 90-day rotation, 30 days in the trash, a log of at most 10,000 events over
    /// 365 days, agent autostart on.
    public init() {}

    /// A reader skips a tag it does not know, so a new setting gets a new tag and an older
    /// version still opens the vault (and keeps the default for it).
    private enum Tag: UInt8 {
        case rotateEvery = 1, trashDays = 2, logMaxEvents = 3, logDays = 4, agentAutostart = 5
        case gitLabAPIURL = 8, gitlabAdmin = 9
        // 16, 17 and 18 are the log's anchors and the key ring's listing, in the same tail.
    }

    static func knows(_ tag: UInt8) -> Bool { Tag(rawValue: tag) != nil }

    /// Refuses a changed duration that the file cannot hold: the rotation period in whole
    /// seconds, the retentions in whole days.
    func checkRepresentable(changedFrom old: VaultSettings) throws(VaultError) {
        if rotateEvery != old.rotateEvery, rotateEvery.whole() == nil {
            throw .invalidInput("the rotation period must be a whole number of seconds")
        }
        for (new, before, what) in [(trashRetention, old.trashRetention, "time in the trash"),
                                    (logRetention, old.logRetention, "activity log's retention")]
        where new != before && new.whole(unit: Duration.day) == nil {
            throw .invalidInput("the \(what) must be a whole number of days")
        }
    }

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.field(Tag.rotateEvery.rawValue, int: rotateEvery.whole() ?? rotateEvery.days() * Duration.day)
        w.field(Tag.trashDays.rawValue, int: trashRetention.days())
        w.field(Tag.logMaxEvents.rawValue, int: logMaxEvents)
        w.field(Tag.logDays.rawValue, int: logRetention.days())
        w.field(Tag.agentAutostart.rawValue, int: agentAutostart ? 1 : 0)
        // One field per host, `host NUL url`, in a stable order.
        for (host, url) in gitLabAPIURLs.sorted(by: { $0.key < $1.key }) {
            w.field(Tag.gitLabAPIURL.rawValue, Array(host.utf8) + [0] + Array(url.utf8))
        }
        for (host, entry) in gitlabAdmin.sorted(by: { $0.key < $1.key }) {
            var pair = ByteWriter()
            pair.field(1, host)
            pair.field(2, entry)
            w.field(Tag.gitlabAdmin.rawValue, pair.bytes)
        }
        return w.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(VaultError) {
        var reader = ByteReader(bytes)
        while let (tag, value) = try reader.field() {
            switch Tag(rawValue: tag) {
            case .rotateEvery: if let v = value.int64 { rotateEvery = .seconds(v) }
            case .trashDays: if let v = value.int64 { trashRetention = .wholeDays(v) }
            case .logMaxEvents: if let v = value.int64 { logMaxEvents = v }
            case .logDays: if let v = value.int64 { logRetention = .wholeDays(v) }
            case .agentAutostart: if let v = value.int64 { agentAutostart = v != 0 }
            case .gitLabAPIURL:
                if let nul = value.firstIndex(of: 0) {
                    let host = UnsafeRawBufferPointer(rebasing: value[..<nul]).utf8String
                    gitLabAPIURLs[host] = UnsafeRawBufferPointer(rebasing: value[(nul + 1)...]).utf8String
                }
            case .gitlabAdmin:
                var pair = ByteReader(value)
                var host: String?, entry: String?
                while let (tag, part) = try pair.field() {
                    if tag == 1 { host = part.utf8String } else if tag == 2 { entry = part.utf8String }
                }
                if let host, let entry { gitlabAdmin[host] = entry }
            case nil: continue
            }
        }
    }
}

/// The key ring's rows in the manifest (tag 18 of its tail, once): each row's full lookup
/// (32 bytes) and the revision it was last written at, so that a key-ring row deleted, added,
/// swapped or rolled back is detected as an entry's is.
struct KeyringListing: Equatable {
    private(set) var revisions: [[UInt8]: UInt64] = [:]
    private static let tag: UInt8 = 18

    init() {}

    static func knows(_ tag: UInt8) -> Bool { tag == Self.tag }

    subscript(lookup: [UInt8]) -> UInt64? {
        get { revisions[lookup] }
        set { revisions[lookup] = newValue }
    }

    var count: Int { revisions.count }

    func encoded() -> [UInt8] {
        guard !revisions.isEmpty else { return [] }
        var value = ByteWriter()
        for (lookup, revision) in revisions.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            value.raw(lookup)
            value.u64(revision)
        }
        var w = ByteWriter()
        w.field(Self.tag, value.bytes)
        return w.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(VaultError) {
        var reader = ByteReader(bytes)
        while let (tag, value) = try reader.field() {
            guard tag == Self.tag else { continue }
            var r = ByteReader(value)
            while r.remaining > 0 {
                guard let lookup = r.array(KeyedHash.bytes), let revision = r.u64() else { throw .corrupt("the key ring's listing") }
                revisions[lookup] = revision
            }
        }
    }
}

/// The activity log's anchors in the manifest (tags 16 and 17 of its tail): the last pruned
/// event, from which the chain of the remaining ones starts, and the last event at the most
/// recent change to the vault, so that cutting events off the log's end is detected.
struct LogAnchors: Equatable {
    var pruned: (sequence: UInt64, mac: [UInt8])?
    var head: (sequence: UInt64, mac: [UInt8])?

    static func == (a: LogAnchors, b: LogAnchors) -> Bool {
        a.pruned?.sequence == b.pruned?.sequence && a.pruned?.mac == b.pruned?.mac
            && a.head?.sequence == b.head?.sequence && a.head?.mac == b.head?.mac
    }

    init() {}

    private static let prunedTag: UInt8 = 16
    private static let headTag: UInt8 = 17

    static func knows(_ tag: UInt8) -> Bool { tag == prunedTag || tag == headTag }

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        for (tag, anchor) in [(Self.prunedTag, pruned), (Self.headTag, head)] {
            guard let anchor else { continue }
            var value = ByteWriter()
            value.u64(anchor.sequence)
            value.raw(anchor.mac)
            w.field(tag, value.bytes)
        }
        return w.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(VaultError) {
        var reader = ByteReader(bytes)
        while let (tag, value) = try reader.field() {
            guard tag == Self.prunedTag || tag == Self.headTag else { continue }
            var r = ByteReader(value)
            guard let sequence = r.u64(), let mac = r.array(KeyedHash.bytes) else { throw .corrupt("a log anchor") }
            if tag == Self.prunedTag { pruned = (sequence, mac) } else { head = (sequence, mac) }
        }
    }
}
