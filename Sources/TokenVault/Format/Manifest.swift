#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The manifest: one sealed blob in the header that says which entries exist and at which
/// revision each was last written. It is what makes a deleted, re-inserted or rolled-back row
/// detectable, and it binds the header's plain columns (format, vault id, KDF parameters and
/// salt) so that changing any of them is detected too.
///
/// Plaintext layout (little-endian): magic `TVM1`, vault id (16), format (u32), KDF algorithm
/// (u32), opslimit (u64), memlimit (u64), salt (16), generation (u64), count (u32), then
/// `count` records of (blind index prefix (16), revision (u64)) sorted by prefix, then the
/// vault's settings as tag-length-value fields.
struct Manifest: Equatable {
    struct Binding: Equatable {
        var vaultID: [UInt8]
        var format: UInt32
        var kdf: KDFParameters
        var salt: [UInt8]
    }

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
    /// Vault-wide settings, as tag-length-value fields after the records (unknown tags are kept).
    var settings = VaultSettings()

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
        let length = w.bytes.count
        let plaintext = SecureBytes(count: Padding.paddedLength(length), guarded: false) { buffer in
            buffer.copyBytes(from: w.bytes)
            Padding.pad(buffer, length: length)
        }
        return try plaintext.withUnsafeBytes { bytes throws(VaultError) in try key.seal(bytes) }
    }

    static func open(_ box: [UInt8], using key: SealingKey) throws(VaultError) -> Manifest {
        let plaintext = try key.open(box, what: "the vault header", guarded: false)
        let manifest: Manifest? = plaintext.withUnsafeBytes { bytes in
            guard let length = Padding.unpaddedLength(bytes) else { return nil }
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
            guard let magic = r.array(4), magic == Self.magic,
                  let vaultID = r.array(16), let format = r.u32(), let algorithm = r.u32(),
                  let ops = r.u64(), let mem = r.u64(), let salt = r.array(KeyDerivation.saltBytes),
                  let generation = r.u64(), let count = r.u32(),
                  r.remaining >= Int(count) * recordBytes, let records = r.array(Int(count) * recordBytes),
                  let settings = r.take(r.remaining).flatMap({ try? VaultSettings(decoding: $0) }) else { return nil }
            var manifest = Manifest(binding: Binding(
                vaultID: vaultID, format: format,
                kdf: KDFParameters(algorithm: Int32(bitPattern: algorithm), opsLimit: ops, memLimit: mem), salt: salt))
            manifest.generation = generation
            manifest.records = records
            manifest.settings = settings
            return manifest
        }
        guard let manifest else { throw .tampered("the vault header") }
        return manifest
    }
}

/// Settings for the whole vault, kept in the manifest: sealed, and rolled back only with it.
public struct VaultSettings: Sendable, Equatable {
    /// How often tokens should be replaced when an entry names no period (default 90 days).
    public var rotateEvery: Int64 = Review.defaultRotation
    /// How long `vault rm` keeps an entry in the trash before it is destroyed (default 30 days).
    public var trashDays: Int64 = 30

    public init() {}

    private enum Tag: UInt8 { case rotateEvery = 1, trashDays = 2 }

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.field(Tag.rotateEvery.rawValue, int: rotateEvery)
        w.field(Tag.trashDays.rawValue, int: trashDays)
        return w.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(VaultError) {
        var reader = ByteReader(bytes)
        while let (tag, value) = try reader.field() {
            switch Tag(rawValue: tag) {
            case .rotateEvery: if let v = value.int64 { rotateEvery = v }
            case .trashDays: if let v = value.int64 { trashDays = v }
            case nil: continue
            }
        }
    }
}
