/// A secret value (a token, a passphrase): its bytes live in `sodium_malloc`'d memory that is
/// wiped when the last copy of the `Secret` goes away.
///
/// A `Secret` never shows its content by accident: `description`, `debugDescription`, string
/// interpolation, `print`, `dump()` and `Mirror` all see `<redacted>`. It is deliberately not
/// `Codable`. To use the bytes, call ``withUnsafeBytes(_:)``; to get a `String` (which Swift may
/// copy freely and never wipes), call ``revealString()`` and keep the result short-lived.
public struct Secret: Sendable {
    let storage: SecureBytes

    init(storage: SecureBytes) {
        self.storage = storage
    }

    /// Copies the UTF-8 bytes of `string` into secure memory. The `String` itself cannot be wiped.
    public init(_ string: String) {
        var utf8 = Array(string.utf8)
        storage = utf8.withUnsafeBytes { SecureBytes(copying: $0) }
        Sodium.wipe(&utf8)
    }

    /// Copies `bytes` into secure memory and wipes the array it was given.
    public init(consuming bytes: inout [UInt8]) {
        storage = bytes.withUnsafeBytes { SecureBytes(copying: $0) }
        Sodium.wipe(&bytes)
    }

    /// Copies `bytes` into secure memory; wiping the source is the caller's job.
    public init(copying bytes: UnsafeRawBufferPointer) {
        storage = SecureBytes(copying: bytes)
    }

    /// Copies `bytes` into a slice of `arena`'s guarded memory (for passes over thousands of
    /// tokens); wiping the source is the caller's job.
    init(copying bytes: UnsafeRawBufferPointer, in arena: SecretArena) {
        storage = SecureBytes(copying: bytes, arena: arena)
    }

    /// Copies `bytes` into a slice of `arena`'s guarded memory and wipes the array it was given.
    init(consuming bytes: inout [UInt8], in arena: SecretArena) {
        storage = bytes.withUnsafeBytes { SecureBytes(copying: $0, arena: arena) }
        Sodium.wipe(&bytes)
    }

    /// A secret read straight into secure memory: `fill` gets a zeroed secure buffer of
    /// `maxCount` bytes and returns how many it wrote; those bytes are kept and the buffer is
    /// wiped.
    public static func filling(maxCount: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows -> Secret {
        var length = 0
        let buffer = try SecureBytes(count: maxCount) { length = try fill($0) }
        precondition(length >= 0 && length <= maxCount)
        return Secret(storage: buffer.prefix(length))
    }

    /// The number of bytes in the secret.
    public var count: Int { storage.count }

    /// True when the secret has no bytes.
    public var isEmpty: Bool { storage.count == 0 }

    /// Calls `body` with the secret's bytes in secure memory. The buffer is valid only during the
    /// call: never keep or copy it out unprotected.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try storage.withUnsafeBytes(body)
    }

    /// The secret as a `String`, for APIs that need one (an HTTP header, say). Swift may copy
    /// the string in memory and never wipes it: keep it as short-lived as you can.
    public func revealString() -> String {
        storage.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Constant-time comparison.
    public func isEqual(to other: Secret) -> Bool {
        storage.withUnsafeBytes { a in other.storage.withUnsafeBytes { b in Sodium.constantTimeEqual(a, b) } }
    }

    /// True when the secret's bytes contain `byte` (used to refuse tokens with newlines).
    func contains(byte: UInt8) -> Bool {
        storage.withUnsafeBytes { $0.contains(byte) }
    }
}

extension Secret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Always `<redacted>`: a secret never reaches a log or a message.
    public var description: String { "<redacted>" }
    /// Always `<redacted>`, as in ``description``.
    public var debugDescription: String { "<redacted>" }
    /// A mirror with no children, so `dump` and debuggers show nothing of the bytes.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension Secret: CustomLeafReflectable {}
