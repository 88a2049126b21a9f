import CSodium
import Testing
@testable import TokenVault

/// The keyed hash `vault get --clip`'s clearer keeps instead of the token.
@Suite struct SecretFingerprintTests {
    @Test func aFingerprintMatchesItsSecretAndNothingElse() {
        let token = Secret("glpat-Fingerprint000000000")
        let fingerprint = SecretFingerprint(of: token)
        #expect(fingerprint.matches(Secret("glpat-Fingerprint000000000")))
        #expect(!fingerprint.matches(Secret("glpat-Fingerprint000000001")))
        #expect(!fingerprint.matches(Secret("glpat-Fingerprint00000000")))
        #expect(!fingerprint.matches(Secret("")))
        #expect(SecretFingerprint(of: Secret("")).matches(Secret("")))
    }

    @Test func itIsBLAKE2bUnderARandomKeyAndHoldsNoTokenByte() {
        let value = "glpat-Fingerprint111111111"
        let first = SecretFingerprint(of: Secret(value)), second = SecretFingerprint(of: Secret(value))
        let a = first.withEncoded { Array($0) }, b = second.withEncoded { Array($0) }
        #expect(a.count == SecretFingerprint.keyCount + SecretFingerprint.digestCount)
        #expect(a != b, "each fingerprint has a key of its own")
        #expect(!a.contains(bytes: Array(value.utf8)))
        // crypto_generichash of the token under the key that travels with it.
        var expected = [UInt8](repeating: 0, count: SecretFingerprint.digestCount)
        let message = Array(value.utf8), key = Array(a[..<SecretFingerprint.keyCount])
        _ = crypto_generichash(&expected, expected.count, message, UInt64(message.count), key, key.count)
        #expect(Array(a[SecretFingerprint.keyCount...]) == expected)
        // What crosses the pipe comes back as the same fingerprint; anything of another size does not.
        let again = a.withUnsafeBytes { SecretFingerprint(encoded: $0) }
        #expect(again?.matches(Secret(value)) == true)
        #expect(a.dropLast().withUnsafeBytes { SecretFingerprint(encoded: UnsafeRawBufferPointer($0)) } == nil)
        #expect("\(first)" == "<redacted fingerprint>" && Mirror(reflecting: first).children.isEmpty)
    }
}
