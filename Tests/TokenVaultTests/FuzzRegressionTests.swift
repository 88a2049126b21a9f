import Testing
@testable import TokenVault
import TokenVaultGitLab
@testable import TokenVaultOpenBao

/// Inputs the fuzz targets (Tests/Fuzz, scripts/fuzz.sh) found to break a property, fed byte for
/// byte through the same API as the target that found them.
@Suite struct FuzzRegressionTests {
    /// `plaintext` padded and sealed as the vault seals its manifest, then opened.
    private func open(_ plaintext: [UInt8], key: SealingKey) throws -> Manifest {
        let padded = SecureBytes(count: Padding.paddedLength(plaintext.count), guarded: false) { buffer in
            buffer.copyBytes(from: plaintext)
            Padding.pad(buffer, length: plaintext.count)
        }
        return try Manifest.open(try padded.withUnsafeBytes { try key.seal($0) }, using: key)
    }

    /// fuzz target `manifest`: a log retention of 0x1A00000000000001 days, more than Int64
    /// seconds hold, was read as Int64.max seconds and written back as the most whole days, which
    /// read as fewer seconds: each rewrite of the manifest changed the setting.
    @Test func aManifestWithMoreDaysOfRetentionThanSecondsHoldOpensTheSameWhenWrittenAgain() throws {
        let plaintext: [UInt8] = [
            0x54, 0x56, 0x4D, 0x31, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
            0x01, 0x01, 0x01, 0x01, 0x04, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x02, 0x02,
            0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0xA7, 0x76,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00, 0x1E, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x00, 0x10, 0x27, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
            0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1A, 0x05, 0x08, 0x00, 0x00,
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]
        let key = SealingKey(backend: LocalBackend(vaultKey: SymmetricKey.random()), purpose: .manifest)
        let manifest = try open(plaintext, key: key)
        let again = try Manifest.open(manifest.seal(using: key), using: key)
        #expect(again.settings.logRetention == manifest.settings.logRetention)
        #expect(again == manifest)
        #expect(manifest.settings.logRetention.days() == Int64.max / Duration.day)
    }

    /// fuzz target `manifest`: a listing out of order (five records, the first of prefix 0x28…)
    /// opened, and an entry written into it was not found again: the binary search took it for
    /// sorted.
    @Test func aManifestWhoseListingIsOutOfOrderIsRefused() throws {
        let plaintext: [UInt8] = [
            0x54, 0x56, 0x4D, 0x31, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
            0x01, 0x01, 0x01, 0x01, 0x04, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x02, 0x02,
            0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x01, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28,
            0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x00, 0x00, 0x00, 0x00, 0x3F, 0x08, 0x00, 0x00,
            0x00, 0x10, 0x27, 0x00, 0x00, 0x00, 0x5B, 0x00, 0x00, 0x04, 0x08, 0x00, 0x00, 0x00, 0x6D, 0x01,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x08, 0x3B, 0x00, 0x00, 0x00, 0x67, 0x69, 0x74, 0x6C, 0x61, 0x62, 0x2E, 0x65,
            0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 0x2E, 0x63, 0x6F, 0x6D, 0x00, 0x68, 0x74, 0x74, 0x70, 0x73,
            0x3A, 0x2F, 0x2F, 0x67, 0x69, 0x74, 0x6C, 0x61, 0x62, 0x2E, 0x65, 0x78, 0x61, 0x6D, 0x70, 0x6C,
            0x65, 0x2E, 0x63, 0x6F, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x04, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x2A, 0x12, 0x00, 0x00, 0x00, 0x74, 0x76, 0x66, 0x75, 0x7A, 0x7A,
            0x2D, 0x53, 0x45, 0x43, 0x52, 0x45, 0x54, 0x2D, 0x32, 0x66, 0x33, 0x63,
        ]
        let key = SealingKey(backend: LocalBackend(vaultKey: SymmetricKey.random()), purpose: .manifest)
        #expect(throws: VaultError.tampered("the vault header")) { try open(plaintext, key: key) }
    }

    /// Found reading the code the fuzz target runs: a manifest at the last generation opened, and
    /// the next write trapped taking the next revision.
    @Test func aManifestWithNoNextRevisionIsRefused() throws {
        let key = SealingKey(backend: LocalBackend(vaultKey: SymmetricKey.random()), purpose: .manifest)
        var manifest = Manifest(binding: Manifest.Binding(vaultID: Sodium.randomBytes(16), format: 1, kdf: .minimum,
                                                          salt: Sodium.randomBytes(KeyDerivation.saltBytes)))
        manifest.generation = .max
        #expect(throws: VaultError.tampered("the vault header")) { try Manifest.open(manifest.seal(using: key), using: key) }
        manifest.generation = .max - 1
        #expect(try Manifest.open(manifest.seal(using: key), using: key).generation == .max - 1)
    }

    /// Answers every request with one status and body, as the `openbao-json` target does.
    private struct Answer: HTTPTransport {
        let status: Int
        let body: String
        func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse { HTTPResponse(status: status, body: Secret(body)) }
    }

    /// fuzz target `openbao-json` (its seed `list-429`, bytes `72` then this body): OpenBao's (or
    /// a proxy's) error text was shown as it came, so an answer that echoed the token sent put it
    /// in the error's message. Now a message holding a secret sent (the token, an AppRole secret
    /// id, a token written) is not shown; the status still is.
    @Test func anOpenBaoErrorThatEchoesASecretSentDoesNotShowIt() throws {
        let marker = "tvfuzz-SECRET-9f3c"
        let echo = #"{"errors":["permission denied: token \#(marker) is not valid"]}"#
        let urls = ["https://bao-1.example.com:8200", "https://bao-2.example.com:8200"]
        var client = OpenBaoClient(remote: RemoteSettings(name: "team", urls: urls, namespace: "ns1", credential: .token(Secret(marker))),
                                   transport: Answer(status: 429, body: echo))
        let error = #expect(throws: OpenBaoError.self) { try client.list("") }
        #expect(error.map { !"\($0)".contains(marker) && "\($0)".contains("answered 429") } == true, "\(String(describing: error))")
        // The AppRole secret id, and a token written, as well.
        var appRole = OpenBaoClient(remote: RemoteSettings(name: "ci", urls: urls, credential: .appRole(roleID: "r", secretID: Secret(marker))),
                                    transport: Answer(status: 500, body: echo))
        let login = #expect(throws: OpenBaoError.self) { try appRole.lookupSelf() }
        #expect(login.map { !"\($0)".contains(marker) } == true, "\(String(describing: login))")
        let written = #"{"errors":["cannot store \u0074oken-\#(marker)"]}"#
        var writer = OpenBaoClient(remote: RemoteSettings(name: "team", urls: urls, credential: .token(Secret("s.other"))),
                                   transport: Answer(status: 400, body: written))
        let write = #expect(throws: OpenBaoError.self) { try writer.write("deploy", entry: Entry(name: "team/deploy"), secret: Secret("token-" + marker), cas: 1) }
        #expect(write.map { !"\($0)".contains(marker) && "\($0)".contains("answered 400") } == true, "\(String(describing: write))")
        // A message that holds no secret is shown as OpenBao wrote it.
        var plain = OpenBaoClient(remote: RemoteSettings(name: "team", urls: urls, credential: .token(Secret(marker))),
                                  transport: Answer(status: 429, body: #"{"errors":["rate limited"]}"#))
        #expect(throws: OpenBaoError.server(remote: "team", status: 429, message: "rate limited")) { try plain.list("") }
    }

    /// fuzz target `openbao-json`: an entry read from OpenBao whose `url` had an escape character
    /// in its path (`https://host/gne ESC[31m…`) kept it in the entry's URL, which the URL parser
    /// does not check. Now such a URL is dropped, as an unprintable note is, and the notes say so.
    @Test func aRemoteEntryWhoseURLHoldsAnEscapeIsReadWithoutIt() throws {
        let body = #"{"data":{"data":{"token":"glpat-x","url":"httghr_/gne \u001b[31mtwo"},"metadata":{"version":1,"created_time":"2026-12-02T08:30:12Z","deletion_time":""}}}"#
        var client = OpenBaoClient(remote: RemoteSettings(name: "team", urls: ["https://bao.example.com"], credential: .token(Secret("s.t"))),
                                   transport: Answer(status: 200, body: body))
        let read = try client.read("deploy")
        #expect(read.entry.url == nil)
        #expect(read.entry.notes?.contains("ignored: url") == true, "\(read.entry.notes ?? "nil")")
    }
}
