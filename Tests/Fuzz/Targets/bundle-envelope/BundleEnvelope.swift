import FuzzSupport
@testable import TokenVault

// An export bundle's envelope (Sources/TokenVault/Bundle/BundleEnvelope.swift). The first byte
// of the input chooses: a bundle as it is (even), whose signature the fuzzer cannot make, or
// the part before the signature (odd), which this target signs with its own identity (put in
// the signer's place) so that every field after it is reached. Properties: no trap; a signed
// bundle that parses is written again byte for byte; no error's text holds the marker secret.

@_cdecl("fuzz_bundle_envelope_main")
public func main(_ argc: CInt, _ argv: Fuzz.Arguments) -> CInt { Fuzz.main(argc, argv, fuzz, seeds: seeds) }

private let keys = IdentityKeys.generate()
/// Where the signer's identity is in a bundle: after the magic, the version and the sealing.
private let signerOffset = BundleEnvelope.magic.count + 2 + 8

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Fuzz.input(data, size)
    guard let kind = input.first else { return 0 }
    var bytes = Array(input.dropFirst())
    if kind % 2 == 1 {
        if bytes.count >= signerOffset + VaultIdentity.keyBytes {
            bytes.replaceSubrange(signerOffset..<signerOffset + VaultIdentity.keyBytes, with: keys.identity.bytes)
        }
        let signed = bytes
        bytes += (BundleEnvelope.signatureContext + signed).withUnsafeBytes {
            PublicKeyCrypto.sign($0, secretKey: keys.signingSecretKey)
        }
    }
    do {
        let envelope = try BundleEnvelope.parse(bytes)
        _ = envelope.needsPassphrase
        let again = BundleEnvelope.write(created: envelope.created, keys: keys, sealing: envelope.sealing, payload: envelope.payload)
        if envelope.signer == keys.identity {
            Fuzz.check(again == bytes, "a bundle written again differs")
        }
    } catch {
        Fuzz.checkQuiet(error)
    }
    return 0
}

/// Bundles made by the code: to an identity, and under a passphrase (raw and to be signed).
private func seeds() -> [(name: String, bytes: [UInt8])] {
    let created = Timestamp(secondsSince1970: 1_750_000_000)
    let payload = Array("a sealed payload, \(Fuzz.marker)".utf8)
    let toIdentity = BundleEnvelope.write(created: created, keys: keys, sealing: .recipient(IdentityKeys.generate().identity), payload: payload)
    let underPassphrase = BundleEnvelope.write(created: created, keys: keys,
                                               sealing: .passphrase(.minimum, salt: [UInt8](repeating: 3, count: KeyDerivation.saltBytes)),
                                               payload: payload)
    return [
        ("recipient", [0] + toIdentity),
        ("passphrase", [0] + underPassphrase),
        ("recipient-to-sign", [1] + toIdentity.dropLast(PublicKeyCrypto.signatureBytes)),
        ("passphrase-to-sign", [1] + underPassphrase.dropLast(PublicKeyCrypto.signatureBytes)),
    ]
}
