import Foundation
import Testing
@testable import TokenVault

/// The committed vectors open with the current code and hold what their JSON says, and the
/// current crypto code gives the known answers: a change that breaks old vaults fails here.
@Suite struct VectorTests {
    @Test(arguments: Vectors.names)
    func everyVectorOpensWithTheCurrentCLIAndHoldsWhatItsJSONSays(_ name: String) throws {
        let cli = try Vectors.cli(for: name)
        let path = try Vectors.copy(name, into: cli)
        let expected = try Vectors.expected(name)
        let shown = try contentsAsTheCLIShowsThem(cli, vault: path)
        for key in ["settings", "identity", "trusted", "log"] {
            #expect(JSONValue.equal(expected[key], shown[key]), "\(name): \(key) differs: \(shown[key] ?? "nil")")
        }
        let want = try #require(expected["entries"] as? [[String: Any]])
        let got = try #require(shown["entries"] as? [[String: Any]])
        #expect(want.count == got.count, "\(name): \(got.count) entries")
        for (a, b) in zip(want, got) {
            #expect(JSONValue.differences(a, b).isEmpty, "\(name): \(JSONValue.differences(a, b))")
        }
        // `vault verify` checks every part of it.
        let verified = cli.vault(["verify", path])
        #expect(verified.status == 0, "\(name): \(verified.out) \(verified.err)")
    }

    @Test(arguments: Vectors.names)
    func everyVectorVerifiesThroughTheLibrary(_ name: String) throws {
        let cli = try Vectors.cli(for: name)
        let path = try Vectors.copy(name, into: cli)
        let passphrase = try #require(try Vectors.expected(name)["passphrase"] as? String)
        let keyFile = try Vectors.keyFile(name, into: cli.home)
        let vault = try Vault.open(at: path)
        try vault.unlock(passphrase: Secret(passphrase), keyFile: try keyFile.map { path throws(KeyFileError) in try KeyFile(readingAt: path) })
        let report = try vault.verify()
        #expect(report.isIntact, "\(name): \(report.firstProblem ?? "")")
        let names = (try Vectors.expected(name)["entries"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(try vault.entries().map(\.name) == names)
    }

    /// Tests/Vectors/known-answers.json.
    static func knownAnswers() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Vectors.folder + "/known-answers.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A known answer's bytes, from hex.
    static func hex(_ value: Any?) throws -> [UInt8] {
        let text = try #require(value as? String)
        return try #require(bytes(text))
    }

    /// A known answer's KDF parameters (`kdf`: algorithm, opslimit, memlimit).
    static func parameters(_ kdf: [String: Any]) throws -> KDFParameters {
        KDFParameters(algorithm: Int32(try #require(kdf["algorithm"] as? Int)), opsLimit: UInt64(try #require(kdf["opslimit"] as? Int)),
                      memLimit: UInt64(try #require(kdf["memlimit"] as? Int)))
    }

    static func bytes(of key: SymmetricKey) -> [UInt8] { key.withUnsafeBytes { Array($0) } }

    @Test func theKnownAnswersHoldForTheCurrentCryptoCode() throws {
        let answers = try Self.knownAnswers()
        func hex(_ value: Any?) throws -> [UInt8] { try Self.hex(value) }
        func bytes(of key: SymmetricKey) -> [UInt8] { Self.bytes(of: key) }
        let kdf = try #require(answers["kdf"] as? [String: Any])
        let parameters = try Self.parameters(kdf)
        #expect(parameters.algorithm == KDFParameters.argon2id13 && parameters == .minimum)
        var passphrase = try hex(answers["passphrase_utf8_hex"])
        let kek = try KeyDerivation.passphraseKey(Secret(consuming: &passphrase), salt: try hex(kdf["salt"]),
                                                  parameters: parameters)
        #expect(bytes(of: kek) == (try hex(kdf["kek"])))
        let vaultKeyBytes = try SecretBox.open(try hex(answers["wrapped_key"]), using: kek, what: "the wrapped key")
        #expect(vaultKeyBytes.withUnsafeBytes { Array($0) } == (try hex(answers["vault_key"])))
        let vaultKey = SymmetricKey(storage: vaultKeyBytes)
        let subkeys = try #require(answers["subkeys"] as? [String: String])
        #expect(subkeys.count == 8)
        for (id, value) in subkeys {
            let number = try #require(UInt64(id))
            let purpose = try #require(KeyDerivation.Purpose(rawValue: number))
            #expect(bytes(of: KeyDerivation.subkey(purpose, of: vaultKey)) == (try hex(value)), "subkey \(id)")
        }
        let lookup = try #require(answers["lookup"] as? [String: String])
        let lookupKey = KeyDerivation.subkey(.lookup, of: vaultKey)
        #expect(Array((lookup["name"] ?? "").utf8).withUnsafeBytes { KeyedHash.hash($0, key: lookupKey) } == (try hex(lookup["lookup"])))
        // The sealed record opens to the known plaintext, bound to the lookup above.
        let record = try #require(answers["sealed_record"] as? [String: Any])
        let metadataKey = KeyDerivation.subkey(.entryMetadata, of: vaultKey)
        let plaintext = try SecretBox.open(try hex(record["sealed"]), using: metadataKey, what: "the record")
        #expect(plaintext.withUnsafeBytes { Array($0) } == (try hex(record["plaintext"])))
        let revision = plaintext.withUnsafeBytes { bytes in (33..<41).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[$1]) } }
        let body = try Records.body(of: plaintext, lookup: try hex(lookup["lookup"]), revision: revision, what: "the record")
        let entry = try plaintext.withUnsafeBytes { try Records.decode(UnsafeRawBufferPointer(rebasing: $0[body])) }
        #expect(entry.name == "ci")
        // The chain MAC of the log's first event.
        let chain = try #require(answers["chain_mac"] as? [String: Any])
        let input = ActivityLog.macInput(previous: try hex(chain["previous"]), sequence: UInt64(try #require(chain["sequence"] as? Int)),
                                         sealed: try hex(chain["sealed"]))
        #expect(input == (try hex(chain["input"])))
        let chainKey = KeyDerivation.subkey(.eventChain, of: vaultKey)
        #expect(input.withUnsafeBytes { KeyedHash.hash($0, key: chainKey) } == (try hex(chain["mac"])))
    }

    @Test func theRecoveryToolDerivesTheKnownAnswersWithItsOwnSubkeyDerivation() {
        // PyNaCl lacks crypto_kdf_derive_from_key: recover.py derives subkeys with BLAKE2b's salt
        // and personalisation as libsodium does, and must find every known answer (a key file's
        // KEK included).
        let r = recoverTool(["--check-known-answers", Vectors.folder + "/known-answers.json"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("all 17 known answers equal"))
    }

    /// The keyfile vector's Argon2id output, key-file digest and KEK, from the current code, equal
    /// the known answers, and that KEK unwraps the vector's vault key.
    @Test func theKeyFileKnownAnswersHoldForTheCurrentCryptoCode() throws {
        let known = try #require(try Self.knownAnswers()["key_file"] as? [String: Any])
        func hex(_ value: Any?) throws -> [UInt8] { try Self.hex(value) }
        func bytes(of key: SymmetricKey) -> [UInt8] { Self.bytes(of: key) }
        let kdf = try #require(known["kdf"] as? [String: Any])
        let parameters = try Self.parameters(kdf)
        #expect(parameters == .minimum)
        // The key file is the vector's own.
        let content = try hex(known["key_file"])
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: Vectors.folder + "/keyfile.key"))
        #expect(Array(onDisk) == content)
        let keyFile = try content.withUnsafeBytes { buffer throws(KeyFileError) in try KeyFile(bytes: buffer) }
        #expect(keyFile.digest.withUnsafeBytes { Array($0) } == (try hex(known["file_digest"])))
        var passphrase = try hex(known["passphrase_utf8_hex"])
        let salt = try hex(kdf["salt"])
        let argon2 = try KeyDerivation.passphraseKey(Secret(consuming: &passphrase), salt: salt, parameters: parameters)
        #expect(bytes(of: argon2) == (try hex(known["argon2"])))
        var again = try hex(known["passphrase_utf8_hex"])
        let kek = try KeyDerivation.keyEncryptionKey(Secret(consuming: &again), keyFile: keyFile, salt: salt, parameters: parameters)
        #expect(bytes(of: kek) == (try hex(known["kek"])))
        let vaultKey = try SecretBox.open(try hex(known["wrapped_key"]), using: kek, what: "the wrapped key")
        #expect(vaultKey.withUnsafeBytes { Array($0) } == (try hex(known["vault_key"])))
        // Argon2id's output alone does not unwrap it.
        #expect(throws: VaultError.self) { _ = try SecretBox.open(try hex(known["wrapped_key"]), using: argon2, what: "the wrapped key") }
    }

    /// The keyfile vector (schema 5) opens only with its key file: without one the CLI says it is
    /// needed, and with another it is the one error for a wrong factor; both exit 3.
    @Test func theKeyFileVectorIsRefusedWithoutItsKeyFileOrWithAnother() throws {
        let cli = try Vectors.cli(for: "keyfile")
        let path = try Vectors.copy("keyfile", into: cli)
        #expect(try Vectors.expected("keyfile")["schema"] as? Int == 5)
        let opened = cli.vault(["list", "--vault", path])
        #expect(opened.status == 0 && opened.out.contains("deploy"), "\(opened.err)")
        let without = cli.vault(["list", "--vault", path], env: ["TOKENVAULT_KEY_FILE": nil])
        #expect(without.status == 3, "\(without.status) \(without.err)")
        #expect(without.err.contains("this vault needs its key file"))
        let other = cli.home + "/other.key"
        #expect(cli.vault(["keyfile", "new", other]).status == 0)
        let wrong = cli.vault(["list", "--vault", path, "--key-file", other])
        #expect(wrong.status == 3 && wrong.err.contains("wrong passphrase or key file"), "\(wrong.status) \(wrong.err)")
        #expect(wrong.out.isEmpty && without.out.isEmpty)
    }

    static func bytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        return stride(from: 0, to: digits.count, by: 2).compactMap { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16) }
    }
}
