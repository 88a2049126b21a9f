import CSodium

/// Guarded memory for many secrets at once: a pass over every token (`vault check`) and a large
/// import hold thousands, and one `sodium_malloc` each (an mmap, two guard pages, an mlock, and
/// the matching munlock and munmap when it goes) made half of such a pass the kernel's, and
/// tens of thousands at once exceeded the process's limit on memory mappings
/// (`vm.max_map_count`, 65,530 by default).
///
/// An arena hands out slices of a few `sodium_malloc`'d regions instead (guard pages around
/// each region, locked, canary-checked), each new region twice the last up to 256 KiB (a slice
/// larger than the next region would be gets a region of its own). A
/// ``SecureBytes`` in a slice wipes its own bytes when it is released; the region is freed by
/// `sodium_free` (which wipes it again) when the last slice in it goes. So mappings grow with
/// the bytes held, a region per 256 KiB, not with the number of secrets.
///
/// An arena is for one pass on one thread; the buffers it gave out may be shared as any
/// ``SecureBytes``.
final class SecretArena {
    static let firstRegionBytes = 4 << 10
    static let largestRegionBytes = 256 << 10

    private var region: GuardedRegion?
    private var used = 0
    private var nextRegionBytes = firstRegionBytes

    init() {}

    /// `count` zeroed bytes (at least one, so that every slice has an address), and the region
    /// that holds them.
    func allocate(_ count: Int) -> (region: GuardedRegion, base: UnsafeMutableRawPointer) {
        let size = Swift.max(count, 1)
        if let region, region.capacity - used >= size {
            defer { used += size }
            return (region, region.base.advanced(by: used))
        }
        // Larger than a new region would be: a region of its own, and the one being filled stays
        // (else each small slice after a large one would begin a region, mapped and locked).
        if size > nextRegionBytes {
            let own = GuardedRegion(capacity: size)
            return (own, own.base)
        }
        let fresh = GuardedRegion(capacity: Swift.max(size, nextRegionBytes))
        nextRegionBytes = Swift.min(nextRegionBytes * 2, Self.largestRegionBytes)
        region = fresh
        used = size
        return (fresh, fresh.base)
    }
}

/// One `sodium_malloc`'d region shared by the slices of a ``SecretArena``; freed (and wiped) by
/// `sodium_free` when the last slice in it is released. Its bytes are written only through the
/// slices, each by its own buffer while that buffer is built.
final class GuardedRegion: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int

    init(capacity: Int) {
        Sodium.initialize()
        guard let pointer = sodium_malloc(capacity) else { fatalError("out of memory") }
        sodium_memzero(pointer, capacity)
        base = pointer
        self.capacity = capacity
    }

    deinit {
        sodium_free(base)
    }
}
