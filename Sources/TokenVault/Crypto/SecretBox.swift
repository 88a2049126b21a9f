import CSodium

/// Authenticated encryption with `crypto_secretbox_easy` (XSalsa20-Poly1305) and a fresh
/// random 24-byte nonce on every seal. A sealed box is `nonce || mac || ciphertext`.
enum SecretBox {
    static let nonceBytes = Int(crypto_secretbox_noncebytes())
    static let macBytes = Int(crypto_secretbox_macbytes())
    static let overhead = nonceBytes + macBytes

    static func seal(_ plaintext: UnsafeRawBufferPointer, using key: SymmetricKey) -> [UInt8] {
        Sodium.initialize()
        // An empty plaintext has no address; libsodium reads none of its bytes but wants one.
        let message = (plaintext.baseAddress ?? UnsafeRawPointer(bitPattern: 1)).map { $0.assumingMemoryBound(to: UInt8.self) }
        var box = [UInt8](repeating: 0, count: overhead + plaintext.count)
        box.withUnsafeMutableBytes { out in
            let nonce = UnsafeMutableRawBufferPointer(rebasing: out[0..<nonceBytes])
            Sodium.randomBytes(into: nonce)
            key.withUnsafeBytes { k in
                let result = crypto_secretbox_easy(
                    out.baseAddress!.advanced(by: nonceBytes).assumingMemoryBound(to: UInt8.self),
                    message,
                    UInt64(plaintext.count),
                    nonce.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                precondition(result == 0, "crypto_secretbox_easy failed")
            }
        }
        return box
    }

    /// Opens a sealed box into secure memory, or throws `.tampered` when the box was not sealed
    /// by this key (any modified byte, a box from elsewhere, or a wrong key).
    /// `arena`: where a guarded plaintext goes (its own allocation without one).
    static func open(_ box: [UInt8], using key: SymmetricKey, what: String, guarded: Bool = true,
                     arena: SecretArena? = nil) throws(VaultError) -> SecureBytes {
        Sodium.initialize()
        guard box.count >= overhead else { throw .tampered(what) }
        var ok = false
        let plaintext = box.withUnsafeBytes { input in
            SecureBytes(count: box.count - overhead, guarded: guarded, arena: arena) { out in
                let nonce = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
                let cipher = nonce.advanced(by: nonceBytes)
                ok = key.withUnsafeBytes { k in
                    crypto_secretbox_open_easy(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        cipher,
                        UInt64(box.count - nonceBytes),
                        nonce,
                        k.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
                }
            }
        }
        guard ok else { throw .tampered(what) }
        return plaintext
    }
}
