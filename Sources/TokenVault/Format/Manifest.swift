/// The manifest: one sealed blob in the header that says which entries exist and at which
/// revision each was last written. It is what makes a deleted, re-inserted or rolled-back row
/// detectable, and it binds the header's plain columns (format, vault id, KDF parameters and
/// salt) so that changing any of them is detected too.
///
/// Plaintext layout (little-endian): magic `TVM1`, vault id (16), format (u32), KDF algorithm
/// (u32), opslimit (u64), memlimit (u64), salt (16), generation (u64), count (u32), then
/// `count` records of (blind index prefix (16), revision (u64)) sorted by prefix.
struct Manifest: Equatable {
    struct Binding: Equatable {
        var vaultID: [UInt8]
        var format: UInt32
        var kdf: KDFParameters
        var salt: [UInt8]
    }

    static let magic = Array("TVM1".utf8)
    static let prefixBytes = 16

    var binding: Binding
    /// The highest revision ever written; every write takes the next one, so revisions are
    /// never reused, even for a name that is removed and added again.
    var generation: UInt64
    /// Sorted by prefix.
    private(set) var records: [(prefix: [UInt8], revision: UInt64)]

    static func == (a: Manifest, b: Manifest) -> Bool {
        a.binding == b.binding && a.generation == b.generation && a.records.elementsEqual(b.records, by: { $0 == $1 })
    }

    init(binding: Binding) {
        self.binding = binding
        self.generation = 0
        self.records = []
    }

    var count: Int { records.count }

    private func index(of lookup: [UInt8]) -> (found: Bool, at: Int) {
        let prefix = lookup.prefix(Self.prefixBytes)
        var low = 0, high = records.count
        while low < high {
            let mid = (low + high) / 2
            if records[mid].prefix.lexicographicallyPrecedes(prefix) { low = mid + 1 } else { high = mid }
        }
        return (low < records.count && records[low].prefix.elementsEqual(prefix), low)
    }

    func revision(of lookup: [UInt8]) -> UInt64? {
        let (found, at) = index(of: lookup)
        return found ? records[at].revision : nil
    }

    /// Takes the next revision number.
    mutating func nextRevision() -> UInt64 {
        generation += 1
        return generation
    }

    mutating func set(_ lookup: [UInt8], revision: UInt64) {
        let (found, at) = index(of: lookup)
        if found {
            records[at].revision = revision
        } else {
            records.insert((Array(lookup.prefix(Self.prefixBytes)), revision), at: at)
        }
    }

    mutating func remove(_ lookup: [UInt8]) {
        let (found, at) = index(of: lookup)
        if found { records.remove(at: at) }
    }

    func seal(using key: SymmetricKey) -> [UInt8] {
        var w = ByteWriter()
        w.raw(Self.magic)
        w.raw(binding.vaultID)
        w.u32(binding.format)
        w.u32(UInt32(bitPattern: binding.kdf.algorithm))
        w.u64(binding.kdf.opsLimit)
        w.u64(binding.kdf.memLimit)
        w.raw(binding.salt)
        w.u64(generation)
        w.u32(UInt32(records.count))
        for record in records {
            w.raw(record.prefix)
            w.u64(record.revision)
        }
        let length = w.bytes.count
        let plaintext = SecureBytes(count: Padding.paddedLength(length)) { buffer in
            buffer.copyBytes(from: w.bytes)
            Padding.pad(buffer, length: length)
        }
        return plaintext.withUnsafeBytes { SecretBox.seal($0, using: key) }
    }

    static func open(_ box: [UInt8], using key: SymmetricKey) throws(VaultError) -> Manifest {
        let plaintext = try SecretBox.open(box, using: key, what: "the vault header")
        let manifest: Manifest? = plaintext.withUnsafeBytes { bytes in
            guard let length = Padding.unpaddedLength(bytes) else { return nil }
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
            guard let magic = r.array(4), magic == Self.magic,
                  let vaultID = r.array(16), let format = r.u32(), let algorithm = r.u32(),
                  let ops = r.u64(), let mem = r.u64(), let salt = r.array(KeyDerivation.saltBytes),
                  let generation = r.u64(), let count = r.u32(),
                  r.remaining == Int(count) * (prefixBytes + 8) else { return nil }
            var manifest = Manifest(binding: Binding(
                vaultID: vaultID, format: format,
                kdf: KDFParameters(algorithm: Int32(bitPattern: algorithm), opsLimit: ops, memLimit: mem), salt: salt))
            manifest.generation = generation
            manifest.records.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let prefix = r.array(prefixBytes), let revision = r.u64() else { return nil }
                manifest.records.append((prefix, revision))
            }
            return manifest
        }
        guard let manifest else { throw .tampered("the vault header") }
        return manifest
    }
}
