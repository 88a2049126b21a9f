import CSodium

/// Bytes in memory from `sodium_malloc`: guarded by inaccessible pages, locked against
/// swapping where the system allows it, and wiped by `sodium_free` when released.
///
/// The buffer is written only while it is being built, before it is shared; after that it is
/// read-only, which is what makes the `Sendable` conformance sound.
final class SecureBytes: @unchecked Sendable {
    let count: Int
    private let base: UnsafeMutableRawPointer

    /// A zeroed buffer of `count` bytes.
    init(count: Int) {
        Sodium.initialize()
        guard let pointer = sodium_malloc(Swift.max(count, 1)) else {
            fatalError("sodium_malloc: out of memory")
        }
        sodium_memzero(pointer, Swift.max(count, 1))
        self.base = pointer
        self.count = count
    }

    convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count)
        if let source = bytes.baseAddress, bytes.count > 0 {
            base.copyMemory(from: source, byteCount: bytes.count)
        }
    }

    /// A buffer filled by `body`, which is handed the writable bytes exactly once.
    convenience init(count: Int, filling body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        self.init(count: count)
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    deinit {
        sodium_free(base)
    }

    func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// A copy of the first `length` bytes into a new secure buffer.
    func prefix(_ length: Int) -> SecureBytes {
        precondition(length <= count)
        return SecureBytes(copying: UnsafeRawBufferPointer(start: base, count: length))
    }
}
