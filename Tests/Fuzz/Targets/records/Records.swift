import FuzzSupport
@testable import TokenVault

// The vault's records (Sources/TokenVault/Format): the TLV reader, an entry's metadata record,
// a secret record, and a sealed record's binding to its row and revision. The first byte of
// the input chooses which; the rest is the record. Properties: no trap; the TLV reader's fields
// written back are the input; decode(encode(decode(x))) == decode(x) for metadata and secret
// records; no error's text holds the marker secret.

private let key = SealingKey(backend: LocalBackend(vaultKey: SymmetricKey.random()), purpose: .entrySecret)
private let lookup = [UInt8](repeating: 0x5A, count: KeyedHash.bytes)
private let revision: UInt64 = 7

@_cdecl("fuzz_records_main")
public func main(_ argc: CInt, _ argv: Fuzz.Arguments) -> CInt { Fuzz.main(argc, argv, fuzz, seeds: seeds) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Fuzz.input(data, size)
    guard let kind = input.first else { return 0 }
    let body = UnsafeRawBufferPointer(rebasing: input[1...])
    switch kind % 4 {
    case 0: fields(body)
    case 1: metadata(body)
    case 2: secret(body)
    default: binding(body)
    }
    return 0
}

private func fields(_ body: UnsafeRawBufferPointer) {
    var reader = ByteReader(body)
    var writer = ByteWriter()
    do {
        while let (tag, value) = try reader.field() { writer.field(tag, value) }
        Fuzz.check(writer.bytes.elementsEqual(body), "the TLV fields written back differ from the input")
    } catch {
        Fuzz.checkQuiet(error)
    }
}

private func metadata(_ body: UnsafeRawBufferPointer) {
    do {
        let entry = try Records.decode(body)
        _ = try? Records.decode(body, url: false)
        _ = try? entry.validate()
        _ = TerminalText.escape(entry.name)
        let encoded = Records.encode(entry)
        let again = try encoded.withUnsafeBytes { bytes throws(VaultError) in try Records.decode(bytes) }
        Fuzz.check(again == entry, "an entry's metadata decoded, encoded and decoded again differs")
        Fuzz.check(Records.encode(again) == encoded, "an entry's metadata encodes two ways")
    } catch {
        Fuzz.checkQuiet(error)
    }
}

private func secret(_ body: UnsafeRawBufferPointer) {
    do {
        let record = try SecretRecord.decode(body)
        var encoded = [UInt8](repeating: 0, count: record.bodyCount)
        encoded.withUnsafeMutableBytes { record.fill($0) }
        let again = try encoded.withUnsafeBytes { bytes throws(VaultError) in try SecretRecord.decode(bytes) }
        Fuzz.check(again.current.isEqual(to: record.current), "a secret record's token changed in a round trip")
        Fuzz.check(again.previous.count == record.previous.count, "a secret record's history changed in a round trip")
        for (a, b) in zip(again.previous, record.previous) {
            Fuzz.check(a.replaced == b.replaced && a.secret.isEqual(to: b.secret), "a previous token changed in a round trip")
        }
        Fuzz.check((again.refreshToken == nil) == (record.refreshToken == nil)
                   && (again.refreshToken.map { record.refreshToken?.isEqual(to: $0) == true } ?? true),
                   "a refresh token changed in a round trip")
    } catch {
        Fuzz.checkQuiet(error)
    }
}

private func binding(_ plaintext: UnsafeRawBufferPointer) {
    let length = plaintext.count
    let padded = SecureBytes(count: Padding.paddedLength(length), guarded: false) { buffer in
        buffer.copyMemory(from: plaintext)
        Padding.pad(buffer, length: length)
    }
    do {
        let box = try padded.withUnsafeBytes { bytes throws(VaultError) in try key.seal(bytes) }
        let (opened, range) = try Records.open(box, lookup: lookup, revision: revision, key: key, what: "a fuzzed record")
        let secret = try opened.withUnsafeBytes { bytes throws(VaultError) in
            try SecretRecord.decode(UnsafeRawBufferPointer(rebasing: bytes[range]))
        }
        _ = secret.current.count
    } catch {
        Fuzz.checkQuiet(error)
    }
}

/// Records made by the code: a full entry, a bare one, a token with history and refresh token,
/// and the sealed binding of one.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    var full = Entry(name: "gitlab-ci", url: try? CredentialURL.parse("https://gitlab.example.com:8443/group/project").url,
                     username: "oauth2", kind: .gitlab, scopes: ["api", "read_repository"], notes: "rotated by hand")
    full.expires = Timestamp(secondsSince1970: 1_800_000_000)
    full.isGitDefault = true
    full.rotateEvery = .seconds(90 * 86_400)
    full.tokenSince = Timestamp(secondsSince1970: 1_700_000_000)
    full.authType = "Bearer"
    full.storedByGit = true
    full.unknownFields = [Entry.UnknownField(tag: 77, value: Array("a later field".utf8))]
    let bare = Entry(name: "bare")
    var record = SecretRecord(current: Secret(Fuzz.marker), previous: [], refreshToken: Secret("refresh-\(Fuzz.marker)"))
    record.replace(with: Secret("ghp_new\(Fuzz.marker)"), at: Timestamp(secondsSince1970: 1_750_000_000))
    record.refreshToken = Secret("refresh-2-\(Fuzz.marker)")
    var secretBody = [UInt8](repeating: 0, count: record.bodyCount)
    secretBody.withUnsafeMutableBytes { record.fill($0) }
    var bound = ByteWriter()
    bound.u8(Records.version)
    bound.raw(lookup)
    bound.u64(revision)
    bound.raw(secretBody)
    return [
        ("fields-empty-value", [0] + [1, 0, 0, 0, 0] + [2, 3, 0, 0, 0, 0x61, 0x62, 0x63]),
        ("metadata-full", [1] + Records.encode(full)),
        ("metadata-bare", [1] + Records.encode(bare)),
        ("secret-history", [2] + secretBody),
        ("binding", [3] + bound.bytes),
    ]
}
