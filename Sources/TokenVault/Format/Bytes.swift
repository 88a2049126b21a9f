/// Little-endian byte writing and reading for the sealed records.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func raw(_ value: some Sequence<UInt8>) { bytes.append(contentsOf: value) }

    /// A tag-length-value field: tag (1 byte), length (4 bytes), value.
    mutating func field(_ tag: UInt8, _ value: some Collection<UInt8>) {
        u8(tag)
        u32(UInt32(value.count))
        raw(value)
    }

    mutating func field(_ tag: UInt8, _ text: String) { field(tag, Array(text.utf8)) }

    mutating func field(_ tag: UInt8, int value: Int64) {
        var w = ByteWriter()
        w.u64(UInt64(bitPattern: value))
        field(tag, w.bytes)
    }
}

struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    mutating func u8() -> UInt8? { take(1).map { $0[0] } }

    mutating func u32() -> UInt32? {
        take(4).map { b in (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[$1]) << (8 * UInt32($1)) } }
    }

    mutating func u64() -> UInt64? {
        take(8).map { b in (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[$1]) << (8 * UInt64($1)) } }
    }

    mutating func array(_ count: Int) -> [UInt8]? { take(count).map { Array($0) } }

    /// The next tag-length-value field, or nil at the end; throws on a truncated field.
    mutating func field() throws(VaultError) -> (tag: UInt8, value: UnsafeRawBufferPointer)? {
        guard remaining > 0 else { return nil }
        guard let tag = u8(), let length = u32(), let value = take(Int(length)) else {
            throw .corrupt("a record is truncated")
        }
        return (tag, value)
    }
}

extension UnsafeRawBufferPointer {
    var utf8String: String { String(decoding: self, as: UTF8.self) }

    var int64: Int64? {
        guard count == 8 else { return nil }
        return Int64(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(self[$1]) << (8 * UInt64($1)) })
    }
}
