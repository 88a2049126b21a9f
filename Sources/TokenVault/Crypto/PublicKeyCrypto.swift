import CSodium

/// libsodium's public-key functions, high-level only: `crypto_box_keypair` and
/// `crypto_box_seal`/`crypto_box_seal_open` (anonymous sealing to an X25519 key),
/// `crypto_sign_keypair` and `crypto_sign_detached`/`crypto_sign_verify_detached` (Ed25519).
/// Secret keys live in guarded memory (`SecureBytes`), never in an array.
enum PublicKeyCrypto {
    static let boxPublicKeyBytes = Int(crypto_box_publickeybytes())
    static let boxSecretKeyBytes = Int(crypto_box_secretkeybytes())
    static let sealOverhead = Int(crypto_box_sealbytes())
    static let signPublicKeyBytes = Int(crypto_sign_publickeybytes())
    static let signSecretKeyBytes = Int(crypto_sign_secretkeybytes())
    static let signatureBytes = Int(crypto_sign_bytes())

    /// A new X25519 key pair: the public key, and the secret key in guarded memory.
    static func boxKeyPair() -> (publicKey: [UInt8], secretKey: SecureBytes) {
        keyPair(publicBytes: boxPublicKeyBytes, secretBytes: boxSecretKeyBytes, crypto_box_keypair)
    }

    /// A new Ed25519 key pair: the public key, and the secret key in guarded memory.
    static func signKeyPair() -> (publicKey: [UInt8], secretKey: SecureBytes) {
        keyPair(publicBytes: signPublicKeyBytes, secretBytes: signSecretKeyBytes, crypto_sign_keypair)
    }

    private static func keyPair(publicBytes: Int, secretBytes: Int,
                                _ generate: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>) -> Int32) -> (publicKey: [UInt8], secretKey: SecureBytes) {
        Sodium.initialize()
        var publicKey = [UInt8](repeating: 0, count: publicBytes)
        let secretKey = SecureBytes(count: secretBytes) { sk in
            let result = publicKey.withUnsafeMutableBytes { pk in
                generate(pk.baseAddress!.assumingMemoryBound(to: UInt8.self), sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            precondition(result == 0, "libsodium could not make a key pair")
        }
        return (publicKey, secretKey)
    }

    /// `plaintext` sealed anonymously to `publicKey` (`crypto_box_seal`).
    static func seal(_ plaintext: UnsafeRawBufferPointer, to publicKey: [UInt8]) throws(VaultError) -> [UInt8] {
        Sodium.initialize()
        guard publicKey.count == boxPublicKeyBytes else { throw .invalidInput("a public key has the wrong length") }
        let message = (plaintext.baseAddress ?? UnsafeRawPointer(bitPattern: 1)).map { $0.assumingMemoryBound(to: UInt8.self) }
        var box = [UInt8](repeating: 0, count: sealOverhead + plaintext.count)
        let result = box.withUnsafeMutableBytes { out in
            publicKey.withUnsafeBytes { pk in
                crypto_box_seal(out.baseAddress!.assumingMemoryBound(to: UInt8.self), message, UInt64(plaintext.count),
                                pk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard result == 0 else { throw .invalidInput("the recipient's key is not a valid X25519 key") }
        return box
    }

    /// Opens a sealed box with the key pair into guarded memory; nil when it does not open.
    static func open(_ box: UnsafeRawBufferPointer, publicKey: [UInt8], secretKey: SecureBytes) -> SecureBytes? {
        Sodium.initialize()
        guard box.count >= sealOverhead, publicKey.count == boxPublicKeyBytes, secretKey.count == boxSecretKeyBytes else { return nil }
        var ok = false
        let plaintext = SecureBytes(count: box.count - sealOverhead) { out in
            ok = publicKey.withUnsafeBytes { pk in
                secretKey.withUnsafeBytes { sk in
                    crypto_box_seal_open(
                        (out.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1)).map { $0.assumingMemoryBound(to: UInt8.self) },
                        box.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(box.count),
                        pk.baseAddress!.assumingMemoryBound(to: UInt8.self), sk.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
                }
            }
        }
        return ok ? plaintext : nil
    }

    /// The detached Ed25519 signature of `message` (`crypto_sign_detached`).
    static func sign(_ message: UnsafeRawBufferPointer, secretKey: SecureBytes) -> [UInt8] {
        Sodium.initialize()
        precondition(secretKey.count == signSecretKeyBytes)
        var signature = [UInt8](repeating: 0, count: signatureBytes)
        let result = signature.withUnsafeMutableBytes { sig in
            secretKey.withUnsafeBytes { sk in
                crypto_sign_detached(sig.baseAddress!.assumingMemoryBound(to: UInt8.self), nil,
                                     message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                                     sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        precondition(result == 0, "crypto_sign_detached failed")
        return signature
    }

    /// Whether `signature` is `publicKey`'s over `message` (`crypto_sign_verify_detached`).
    static func verify(_ signature: UnsafeRawBufferPointer, of message: UnsafeRawBufferPointer, publicKey: [UInt8]) -> Bool {
        Sodium.initialize()
        guard signature.count == signatureBytes, publicKey.count == signPublicKeyBytes else { return false }
        return publicKey.withUnsafeBytes { pk in
            crypto_sign_verify_detached(signature.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                        message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                                        pk.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
        }
    }
}
