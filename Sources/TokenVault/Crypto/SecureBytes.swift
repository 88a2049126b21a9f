import CSodium

/// Bytes in memory from `sodium_malloc`: guarded by inaccessible pages, locked against
/// swapping where the system allows it, and wiped by `sodium_free` when released.
///
/// With `guarded: false` the bytes come from `malloc` and are only wiped when released: for
/// plaintexts that are not secrets themselves (an entry's metadata, the manifest), which are
/// opened by the thousand in `vault list`, where a guarded allocation (an mmap, two guard pages
/// and an mlock each) would dominate the time.
///
/// With an `arena`, the bytes are a slice of one of its guarded regions (see ``SecretArena``),
/// for passes that hold thousands of tokens: wiped when released, the region freed with its
/// last slice.
///
/// The buffer is written only while it is being built, before it is shared; after that it is
/// read-only, which is what makes the `Sendable` conformance sound.
final class SecureBytes: @unchecked Sendable {
    let count: Int
    private let base: UnsafeMutableRawPointer
    private let storage: Storage

    /// Where the bytes live, and so how they are released.
    private enum Storage {
        /// Its own `sodium_malloc`'d allocation.
        case guarded
        /// `malloc`'d, wiped before `free`.
        case heap
        /// A slice of an arena's region, wiped; the region goes with its last slice.
        case region(GuardedRegion)
    }

    /// A zeroed buffer of `count` bytes: guarded, in `arena` when one is given, or from `malloc`
    /// when not `guarded`.
    init(count: Int, guarded: Bool = true, arena: SecretArena? = nil) {
        Sodium.initialize()
        let size = Swift.max(count, 1)
        if guarded, let arena {
            let (region, pointer) = arena.allocate(size)
            self.base = pointer
            self.storage = .region(region)
        } else {
            guard let pointer = guarded ? sodium_malloc(size) : malloc(size) else {
                fatalError("out of memory")
            }
            sodium_memzero(pointer, size)
            self.base = pointer
            self.storage = guarded ? .guarded : .heap
        }
        self.count = count
    }

    convenience init(copying bytes: UnsafeRawBufferPointer, arena: SecretArena? = nil) {
        self.init(count: bytes.count, arena: arena)
        if let source = bytes.baseAddress, bytes.count > 0 {
            base.copyMemory(from: source, byteCount: bytes.count)
        }
    }

    /// A buffer filled by `body`, which is handed the writable bytes exactly once.
    convenience init(count: Int, guarded: Bool = true, arena: SecretArena? = nil,
                     filling body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        self.init(count: count, guarded: guarded, arena: arena)
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    deinit {
        switch storage {
        case .guarded:
            sodium_free(base)
        case .heap:
            sodium_memzero(base, Swift.max(count, 1))
            free(base)
        case .region:
            sodium_memzero(base, Swift.max(count, 1))
        }
    }

    /// The writable bytes of a buffer still being built in several steps (a frame arriving in
    /// pieces), before it is shared.
    func building<R>(_ body: (UnsafeMutableRawBufferPointer) -> R) -> R {
        body(UnsafeMutableRawBufferPointer(start: base, count: count))
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
