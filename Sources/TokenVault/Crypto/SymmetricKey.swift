import CSodium

/// A 32-byte key in secure memory. Keys never print their bytes.
struct SymmetricKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    static let byteCount = 32
    let storage: SecureBytes

    init(storage: SecureBytes) {
        precondition(storage.count == Self.byteCount)
        self.storage = storage
    }

    /// A fresh random key.
    static func random() -> SymmetricKey {
        SymmetricKey(storage: SecureBytes(count: byteCount) { Sodium.randomBytes(into: $0) })
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }

    var description: String { "<redacted key>" }
    var debugDescription: String { "<redacted key>" }
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
