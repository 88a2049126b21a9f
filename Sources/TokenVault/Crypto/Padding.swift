import CSodium

/// ISO/IEC 7816-4 padding through `sodium_pad`, so that a ciphertext's length tells only the
/// length of its plaintext rounded up to a block (64 bytes).
enum Padding {
    static let blockSize = 64

    /// The size of the padded buffer for `length` plaintext bytes (always at least one byte of
    /// padding is added).
    static func paddedLength(_ length: Int) -> Int {
        (length / blockSize + 1) * blockSize
    }

    /// Pads the first `length` bytes of `buffer` in place (the buffer must be `paddedLength`).
    static func pad(_ buffer: UnsafeMutableRawBufferPointer, length: Int) {
        var padded = 0
        let result = sodium_pad(&padded, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                length, blockSize, buffer.count)
        precondition(result == 0 && padded == buffer.count, "sodium_pad failed")
    }

    /// The length of the unpadded content, or nil when the padding is malformed.
    static func unpaddedLength(_ buffer: UnsafeRawBufferPointer) -> Int? {
        guard buffer.count > 0, buffer.count % blockSize == 0 else { return nil }
        var length = 0
        let result = sodium_unpad(&length, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                  buffer.count, blockSize)
        return result == 0 ? length : nil
    }
}
