import FuzzSupport
@testable import TokenVault

// An export bundle's payload, once opened (Sources/TokenVault/Bundle/BundlePayload.swift): the
// input is its plaintext; the first byte chooses whether this target writes the header that
// repeats the envelope (even: the fields that follow are reached) or the input holds it (odd).
// Properties: no trap; what decodes, encoded again, decodes to the same entries, tokens and
// histories; no error's text holds the marker secret (the tokens of the seeds).

@_cdecl("fuzz_bundle_payload_main")
public func main(_ argc: CInt, _ argv: Fuzz.Arguments) -> CInt { Fuzz.main(argc, argv, fuzz, seeds: seeds) }

private let signer = IdentityKeys.generate().identity
private let recipient = IdentityKeys.generate().identity
private let envelope = BundleEnvelope(created: Timestamp(secondsSince1970: 1_750_000_000), signer: signer,
                                      sealing: .recipient(recipient), payload: [])

private func header() -> [UInt8] {
    var w = ByteWriter()
    w.raw(BundlePayload.magic)
    w.raw(signer.bytes)
    w.u64(UInt64(bitPattern: envelope.created.secondsSince1970))
    w.raw(recipient.bytes)
    return w.bytes
}

private func decode(_ bytes: [UInt8]) throws(BundleError) -> [ExportedToken] {
    let plaintext = bytes.withUnsafeBytes { SecureBytes(copying: $0) }
    return try BundlePayload.decode(plaintext, envelope: envelope)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Fuzz.input(data, size)
    guard let kind = input.first else { return 0 }
    let bytes = (kind % 2 == 0 ? header() : []) + Array(input.dropFirst())
    do {
        let tokens = try decode(bytes)
        let encoded = BundlePayload.encode(tokens, signer: signer, created: envelope.created, sealing: envelope.sealing)
        let again = try encoded.withUnsafeBytes { b throws(BundleError) in
            try BundlePayload.decode(SecureBytes(copying: b), envelope: envelope)
        }
        Fuzz.check(again.count == tokens.count, "a payload encoded again holds another number of entries")
        for (a, b) in zip(again, tokens) {
            Fuzz.check(a.entry == b.entry, "an entry of a payload changes when encoded again")
            Fuzz.check(a.secret.isEqual(to: b.secret), "a token of a payload changes when encoded again")
            Fuzz.check(a.history.count == b.history.count
                       && zip(a.history, b.history).allSatisfy { $0.replaced == $1.replaced && $0.secret.isEqual(to: $1.secret) },
                       "a history of a payload changes when encoded again")
        }
    } catch {
        Fuzz.checkQuiet(error)
    }
    return 0
}

/// Payloads made by the code: two entries, one with a history (without and with the header).
private func seeds() -> [(name: String, bytes: [UInt8])] {
    var github = Entry(name: "github", url: try? CredentialURL.parse("https://github.com").url, username: "octocat", kind: .github)
    github.tokenSince = Timestamp(secondsSince1970: 1_740_000_000)
    let tokens = [
        ExportedToken(entry: github, secret: Secret("ghp_\(Fuzz.marker)"),
                      history: [SecretVersion(replaced: Timestamp(secondsSince1970: 1_740_000_000), secret: Secret("old-\(Fuzz.marker)"))]),
        ExportedToken(entry: Entry(name: "plain"), secret: Secret(Fuzz.marker), history: []),
    ]
    let payload = BundlePayload.encode(tokens, signer: signer, created: envelope.created, sealing: envelope.sealing)
        .withUnsafeBytes { Array($0) }
    return [("two-entries", [0] + payload.dropFirst(header().count)), ("two-entries-with-header", [1] + payload)]
}
