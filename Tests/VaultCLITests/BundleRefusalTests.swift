import Foundation
import Testing
@testable import TokenVault

/// A bundle made by `mallory` from payload fields of her choice (the payload's header repeats the
/// envelope, as a real one does), sealed to `recipient` and signed with her key.
func forgedBundle(_ fields: [(tag: UInt8, value: [UInt8])], by mallory: IdentityKeys, to recipient: VaultIdentity,
                  created: Timestamp = .now()) throws -> [UInt8] {
    var w = ByteWriter()
    w.raw(BundlePayload.magic)
    w.raw(mallory.identity.bytes)
    w.u64(UInt64(bitPattern: created.secondsSince1970))
    w.raw(recipient.bytes)
    for (tag, value) in fields { w.field(tag, value) }
    let payload = try w.bytes.withUnsafeBytes { try PublicKeyCrypto.seal($0, to: recipient.boxKey) }
    return BundleEnvelope.write(created: created, keys: mallory, sealing: .recipient(recipient), payload: payload)
}

/// Every byte of a bundle is hostile: a changed, cut, re-signed or misaddressed bundle is
/// refused with exit code 9, and the vault does not change.
@Suite struct BundleRefusalTests {
    /// Bob's vault file and its log, to compare before and after a refusal.
    private func state(_ cli: CLI) throws -> [String] {
        try cli.library().names() + [cli.vault(["log", "--json"]).out]
    }

    @Test func aFlippedBitAnywhereIsRefused() throws {
        let two = TwoVaults()
        two.alice.add("flip", token: "token-flipped-bits-1")
        let bundle = try two.export(["flip"], ["--with-history"])
        // Every position, in the library (one bit each), then a sample through the CLI.
        let vault = try two.bob.library()
        for position in bundle.indices {
            var changed = bundle
            changed[position] ^= UInt8(1 << (position % 8))
            #expect(throws: BundleError.self, "byte \(position)") {
                _ = try vault.openBundle(try BundleEnvelope.parse(changed))
            }
        }
        let before = try state(two.bob)
        for position in [0, 8, 9, 12, 20, 90, 150, bundle.count / 2, bundle.count - 70, bundle.count - 1] {
            var changed = bundle
            changed[position] ^= 0x10
            let r = try two.importIntoBob(changed)
            #expect(r.status == 9, "byte \(position): \(r.status) \(r.err)")
            #expect(r.err.contains("vault: error: "))
        }
        #expect(try state(two.bob) == before)
    }

    @Test func aTruncatedBundleIsRefused() throws {
        let two = TwoVaults()
        two.alice.add("cut", token: "token-cut-short-1")
        let bundle = try two.export(["cut"])
        for length in 0..<bundle.count {
            #expect(throws: BundleError.self) { _ = try BundleEnvelope.parse(Array(bundle.prefix(length))) }
        }
        #expect(throws: BundleError.truncated) { _ = try BundleEnvelope.parse(bundle + [0]) }
        for length in [0, 5, 40, bundle.count - 1] {
            let r = try two.importIntoBob(Array(bundle.prefix(length)))
            #expect(r.status == 9, "\(length): \(r.err)")
        }
        #expect(try two.bob.library().names().isEmpty)
    }

    @Test func aBundleForAnotherIdentityIsRefused() throws {
        let two = TwoVaults()
        let carol = CLI()
        two.alice.add("misaddressed", token: "token-for-bob-only")
        let bundle = try two.export(["misaddressed"])
        let path = carol.home + "/b.tvb"
        try Data(bundle).write(to: URL(fileURLWithPath: path))
        let r = carol.vault(["import", "bundle", path])
        #expect(r.status == 9)
        #expect(r.err.contains("sealed for another vault (\(two.bobIdentity))"))
        #expect(try carol.library().names().isEmpty)
    }

    @Test func aBundleSignedAgainByAnUnknownKeyIsRefusedAndShownAsUnknown() throws {
        let two = TwoVaults()
        two.alice.add("resigned", token: "token-resigned-1")
        let bundle = try two.export(["resigned"])
        // Mallory swaps in her own identity as the signer and signs the whole again.
        let mallory = IdentityKeys.generate()
        var forged = bundle
        forged.replaceSubrange(18..<82, with: mallory.identity.bytes)
        let signed = Array(forged.dropLast(PublicKeyCrypto.signatureBytes))
        let signature = (BundleEnvelope.signatureContext + signed).withUnsafeBytes {
            PublicKeyCrypto.sign($0, secretKey: mallory.signingSecretKey)
        }
        forged = signed + signature
        #expect(try BundleEnvelope.parse(forged).signer == mallory.identity)
        let r = try two.importIntoBob(forged)
        #expect(r.status == 9, "\(r.err)")
        #expect(r.err.contains("signed by an unknown key (\(mallory.identity.text))"))
        #expect(try two.bob.library().names().isEmpty)
    }

    @Test func somethingThatIsNotABundleIsRefused() throws {
        let two = TwoVaults()
        let r = try two.importIntoBob(Array("machine gitlab.com login x password y\n".utf8))
        #expect(r.status == 9)
        #expect(r.err.contains("not a TokenVault bundle"))
    }

    /// Bob holds `svc` and trusts Mallory; her bundle for `svc` carries `versions` previous tokens.
    private func longHistory(_ versions: Int) throws -> (bob: CLI, path: String) {
        let bob = CLI()
        bob.add("svc", token: "token-bob-svc-1")
        let mallory = IdentityKeys.generate()
        #expect(bob.vault(["id", "trust", "mallory", mallory.identity.text]).status == 0)
        var fields: [(tag: UInt8, value: [UInt8])] = [(1, Records.encode(Entry(name: "svc"))), (2, Array("token-mallory-svc-2".utf8))]
        for i in 0..<versions {
            var version = ByteWriter()
            version.u64(UInt64(i))
            version.raw(Array("token-old-\(i)".utf8))
            fields.append((3, version.bytes))
        }
        let path = bob.home + "/long.tvb"
        let bobID = try VaultIdentity(text: bob.vault(["id"]).out)
        try Data(try forgedBundle(fields, by: mallory, to: bobID)).write(to: URL(fileURLWithPath: path))
        return (bob, path)
    }

    @Test func aLongHistoryMergesInNLogNNotNSquared() throws {
        // The merge compared each previous token with every one kept so far and sorted again
        // after each: 9,000 took minutes, holding the vault's write lock.
        let (bob, path) = try longHistory(9_000)
        let r = bob.vault(["import", "bundle", path], timeout: 60)
        #expect(r.status == 0, "\(r.err)")
        #expect(try bob.library().history(of: "svc").count == 9_001)
    }

    @Test func aBundleOfTensOfThousandsOfTokensImportsAndItsHistoryReads() throws {
        // Each token was opened into a guarded allocation of its own (an mmap with guard pages):
        // 25,000 ran out of them and the import died of a trap (signal 4), so bundles were capped
        // at 10,000 tokens. They are held in a few shared guarded regions now, as is an entry's
        // long history when it is read back.
        let (bob, path) = try longHistory(25_000)
        let r = bob.vault(["import", "bundle", path], timeout: 120)
        #expect(r.status == 0, "\(r.err)")
        #expect(try bob.library().history(of: "svc").count == 25_001)
        #expect(bob.vault(["history", "svc"], timeout: 60).status == 0)
    }

    @Test func aBundleOfMoreTokensThanTheCapIsRefusedBeforeTheVaultChanges() throws {
        let (bob, path) = try longHistory(100_000)
        let r = bob.vault(["import", "bundle", path], timeout: 60)
        #expect(r.status == 9, "\(r.err)")
        #expect(r.err.contains("vault: error: the bundle's contents are malformed: it holds more than 100000 tokens"))
        #expect(try bob.library().history(of: "svc").isEmpty)
    }
}
