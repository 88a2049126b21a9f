import CSodium

/// libsodium is initialised once, on first use, through a `static let`.
enum Sodium {
    static let ready: Bool = sodium_init() >= 0

    static func initialize() {
        precondition(ready, "libsodium could not be initialised")
    }

    /// Fills `buffer` with bytes from the operating system's CSPRNG.
    static func randomBytes(into buffer: UnsafeMutableRawBufferPointer) {
        initialize()
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf(base, buffer.count)
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { randomBytes(into: $0) }
        return bytes
    }

    /// Overwrites memory in a way the compiler may not optimise away.
    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
        }
    }

    /// Constant-time comparison of two byte buffers of equal length.
    static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard a.count > 0 else { return true }
        return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
    }
}
