/// Writes bytes and tag-length-value fields straight into secure memory: a first pass without a
/// buffer measures, the second writes into a buffer of exactly that size, so that a secret key
/// or a token is never copied through a growing array.
struct SecureWriter {
    let buffer: UnsafeMutableRawBufferPointer?
    private(set) var offset = 0

    init(buffer: UnsafeMutableRawBufferPointer?) { self.buffer = buffer }

    mutating func raw(_ value: UnsafeRawBufferPointer) {
        if let buffer, value.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + value.count]).copyMemory(from: value)
        }
        offset += value.count
    }

    mutating func raw(_ bytes: [UInt8]) { bytes.withUnsafeBytes { raw($0) } }

    mutating func field(_ tag: UInt8, _ value: UnsafeRawBufferPointer) {
        var header = ByteWriter()
        header.u8(tag)
        header.u32(UInt32(value.count))
        raw(header.bytes)
        raw(value)
    }

    mutating func field(_ tag: UInt8, _ bytes: [UInt8]) { bytes.withUnsafeBytes { field(tag, $0) } }
    mutating func field(_ tag: UInt8, _ secret: SecureBytes) { secret.withUnsafeBytes { field(tag, $0) } }
    mutating func field(_ tag: UInt8, _ secret: Secret) { secret.withUnsafeBytes { field(tag, $0) } }

    /// The bytes `write` writes, in guarded memory.
    static func build(_ write: (inout SecureWriter) -> Void) -> SecureBytes {
        var measure = SecureWriter(buffer: nil)
        write(&measure)
        return SecureBytes(count: measure.offset) { buffer in
            var writer = SecureWriter(buffer: buffer)
            write(&writer)
        }
    }
}
