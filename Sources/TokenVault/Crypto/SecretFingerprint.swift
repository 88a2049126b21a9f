import CSodium

/// A keyed hash of a secret (libsodium's `crypto_generichash`, BLAKE2b, under a random key of its
/// own): enough to recognise the secret later without keeping it. `vault get --clip`'s clearer
/// holds one for the seconds before it clears the clipboard, and compares what the clipboard
/// holds then with ``matches(_:)``.
///
/// The key is random for each fingerprint, so a fingerprint says nothing about the secret to
/// someone who does not also have its key; both live in secure memory, and neither ever prints.
package struct SecretFingerprint: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The bytes of the key (`crypto_generichash_KEYBYTES`).
    package static let keyCount = Int(crypto_generichash_KEYBYTES)
    /// The bytes of the hash (`crypto_generichash_BYTES`).
    package static let digestCount = Int(crypto_generichash_BYTES)
    /// The bytes of ``encoded``: the key, then the hash.
    package static let encodedCount = keyCount + digestCount

    /// The key, then the hash.
    private let storage: SecureBytes

    private init(storage: SecureBytes) { self.storage = storage }

    /// The fingerprint of `secret` under a fresh random key.
    package init(of secret: Secret) {
        storage = SecureBytes(count: Self.encodedCount) { buffer in
            let key = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Self.keyCount])
            Sodium.randomBytes(into: key)
            Self.hash(secret, key: UnsafeRawBufferPointer(key),
                      into: UnsafeMutableRawBufferPointer(rebasing: buffer[Self.keyCount...]))
        }
    }

    /// A fingerprint as ``encoded`` wrote it, from bytes that came from outside (a pipe): nil
    /// unless there are exactly ``encodedCount`` of them.
    package init?(encoded bytes: UnsafeRawBufferPointer) {
        guard bytes.count == Self.encodedCount else { return nil }
        self.init(storage: SecureBytes(copying: bytes))
    }

    /// Calls `body` with the key and the hash, for another process of the same program (through
    /// a pipe, never argv or the environment).
    package func withEncoded<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }

    /// Whether `candidate` hashes, under this fingerprint's key, to this fingerprint's hash
    /// (compared in constant time).
    package func matches(_ candidate: Secret) -> Bool {
        storage.withUnsafeBytes { stored in
            let key = UnsafeRawBufferPointer(rebasing: stored[..<Self.keyCount])
            let digest = UnsafeRawBufferPointer(rebasing: stored[Self.keyCount...])
            let computed = SecureBytes(count: Self.digestCount) { Self.hash(candidate, key: key, into: $0) }
            return computed.withUnsafeBytes { Sodium.constantTimeEqual($0, digest) }
        }
    }

    private static func hash(_ secret: Secret, key: UnsafeRawBufferPointer, into digest: UnsafeMutableRawBufferPointer) {
        Sodium.initialize()
        secret.withUnsafeBytes { message in
            _ = crypto_generichash(digest.baseAddress!.assumingMemoryBound(to: UInt8.self), digest.count,
                                   message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                                   key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count)
        }
    }

    /// Always `<redacted fingerprint>`.
    package var description: String { "<redacted fingerprint>" }
    /// Always `<redacted fingerprint>`.
    package var debugDescription: String { "<redacted fingerprint>" }
    /// A mirror with no children.
    package var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
