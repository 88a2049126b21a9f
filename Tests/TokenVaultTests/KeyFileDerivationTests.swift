import Foundation
import Testing
@testable import TokenVault

/// The key file's derivation against the test vector that docs/FORMAT.md ("Key file (schema 5)")
/// publishes, and the settings file beside the vault read as hostile input.
@Suite struct KeyFileDerivationTests {
    static let passphrase = "correct horse battery staple"
    static let salt = (0..<16).map { UInt8($0) }
    static let keyFileBytes = (0..<64).map { UInt8($0) }
    static let argon2 = "d17ea6341ca93da6079ea2f64dc4aa31dd1aaf9caa67fb42ac4afd0714706f26"
    static let fileDigest = "a1c6ca06283ede43730620dcd568239b36a65f2e72ef0d605324834833024ced"
    static let kek = "e14160be793cecd8137da2cb71e82cc7f0dbb9c66f2f0ca01c4413c164163af9"

    static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// The key file of `bytes` (Array's withUnsafeBytes rethrows untyped).
    static func keyFile(_ bytes: [UInt8]) throws(KeyFileError) -> KeyFile? {
        var failure: KeyFileError?, made: KeyFile?
        bytes.withUnsafeBytes { buffer in
            do throws(KeyFileError) { made = try KeyFile(bytes: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return made
    }

    @Test func theDerivationGivesTheVectorOfTheFormatDocument() throws {
        let argon2 = try KeyDerivation.passphraseKey(Secret(Self.passphrase), salt: Self.salt, parameters: .minimum)
        #expect(argon2.withUnsafeBytes { Self.hex($0) } == Self.argon2)
        let keyFile = try #require(try Self.keyFile(Self.keyFileBytes))
        #expect(keyFile.digest.withUnsafeBytes { Self.hex($0) } == Self.fileDigest)
        let kek = try KeyDerivation.keyEncryptionKey(Secret(Self.passphrase), keyFile: keyFile, salt: Self.salt, parameters: .minimum)
        #expect(kek.withUnsafeBytes { Self.hex($0) } == Self.kek)
        // Without a key file, the key-encryption key is Argon2id's output, as before schema 5.
        let plain = try KeyDerivation.keyEncryptionKey(Secret(Self.passphrase), keyFile: nil, salt: Self.salt, parameters: .minimum)
        #expect(plain.withUnsafeBytes { Self.hex($0) } == Self.argon2)
        // The document says the same, so that it cannot drift from the code.
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/FORMAT.md")
        let text = try String(contentsOf: document, encoding: .utf8)
        let section = try #require(text.range(of: "## Key file (schema 5)")).upperBound
        for value in [Self.argon2, Self.fileDigest, Self.kek] { #expect(text[section...].contains(value)) }
    }

    @Test func aKeyFileOfTheWrongSizeIsRefused() throws {
        for count in [0, 31, KeyFile.maximumSize + 1] {
            let bytes = [UInt8](repeating: 7, count: count)
            #expect(throws: KeyFileError.size(path: nil, bytes: count)) { _ = try Self.keyFile(bytes) }
        }
    }

    @Test(arguments: [
        ("key-file=/a\u{1B}[2Jb\n", "a control character"),
        ("key-file=/a\u{9B}2Jb\n", "a control character"),
        ("key-file=relative/path\n", "not an absolute path"),
        ("key-file=/a\nkey-file=/b\n", "a second time"),
        ("KEY=/a\n", "a name of other characters"),
        ("just words\n", "not name=value"),
    ])
    func aSettingsFileThatIsNotWellFormedIsRefused(text: String, why: String) {
        #expect {
            _ = try LocalSettings.parse(ArraySlice(Array(text.utf8)), path: "/v.settings")
        } throws: { error in
            guard case VaultError.invalidInput(let message) = error else { return false }
            return message.contains(why) && !message.contains("\u{1B}")
        }
    }

    @Test func aSettingsFileKeepsWhatThisVersionDoesNotKnow() throws {
        var settings = try LocalSettings.parse(ArraySlice(Array("# note\nlater-setting=x y\nkey-file=/k\n".utf8)), path: "/v.settings")
        #expect(settings.keyFile == "/k")
        settings.keyFile = nil
        #expect(settings.text.contains("later-setting=x y\n"))
        #expect(!settings.text.contains("key-file"))
        #expect(!settings.isEmpty)
        // Invalid UTF-8 is refused, not decoded with replacement characters.
        #expect(throws: VaultError.self) { _ = try LocalSettings.parse(ArraySlice([0x6B, 0x3D, 0xFF, 0x0A]), path: "/v.settings") }
    }
}
