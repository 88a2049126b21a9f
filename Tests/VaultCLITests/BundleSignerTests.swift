import Foundation
import Testing
@testable import TokenVault

/// A bundle sealed to this vault's identity is anonymous (`crypto_box_seal`): anyone who knows
/// the identity can make one, so only its signature says who did. One signed by an identity this
/// vault neither trusts nor is needs the user's yes on a terminal; a bundle under an export
/// passphrase is authenticated by the passphrase and only warns.
@Suite struct BundleSignerTests {
    /// Bob's vault holds `shared` (an older token); Mallory, whom Bob does not trust, sends him a
    /// newer `shared` and a new entry. The bundle, and Bob's state before.
    private func mallorysBundle(_ two: TwoVaults) throws -> [UInt8] {
        two.bob.add("shared", token: "token-bob-own-1")
        Thread.sleep(forTimeInterval: 1.2)
        two.alice.add("shared", token: "token-mallory-pushed-2")
        two.alice.add("pushed", token: "token-mallory-new-3")
        return try two.export(["shared", "pushed"])
    }

    /// The entries' names and the activity log (which a refused import would have added to).
    private func state(_ cli: CLI) throws -> [String] {
        try cli.library().names() + [cli.vault(["log", "--json"]).out]
    }

    @Test func aBundleFromAnUntrustedSignerIsRefusedWithoutATerminal() throws {
        let two = TwoVaults(bobTrustsAlice: false)
        let bundle = try mallorysBundle(two)
        var before = try state(two.bob)
        let r = try two.importIntoBob(bundle)
        #expect(r.status == 9, "\(r.err)")
        #expect(r.err.contains("vault: error: the bundle is signed by an identity this vault does not trust (\(two.aliceIdentity))"))
        #expect(r.err.contains("vault: hint: ") && r.err.contains("vault id trust NAME \(two.aliceIdentity), then import again"))
        #expect(try state(two.bob) == before)
        #expect(try two.bob.library().secret(named: "shared").revealString() == "token-bob-own-1")
        before = try state(two.bob)  // Reading the token above was logged.

        // --dry-run still says what would happen, and who signed it.
        let dry = try two.importIntoBob(bundle, ["--dry-run"])
        #expect(dry.status == 0, "\(dry.err)")
        #expect(dry.out.contains("shared: would take the bundle's newer token") && dry.out.contains("pushed: would be added"))
        #expect(dry.err.contains("signed by an identity this vault does not trust: \(two.aliceIdentity)"))
        #expect(dry.err.contains("vault id trust NAME \(two.aliceIdentity)"))
        #expect(try state(two.bob) == before)

        // Trusted once, the same bundle is imported.
        #expect(two.bob.vault(["id", "trust", "alice", two.aliceIdentity]).status == 0)
        let trusted = try two.importIntoBob(bundle)
        #expect(trusted.status == 0, "\(trusted.err)")
        #expect(trusted.err.contains("signed by 'alice'"))
        #expect(try two.bob.library().secret(named: "shared").revealString() == "token-mallory-pushed-2")
    }

    @Test func theLibraryRefusesAnUntrustedSignerUnlessTheCallerAccepts() throws {
        let two = TwoVaults(bobTrustsAlice: false)
        let bundle = try mallorysBundle(two)
        let vault = try two.bob.library()
        let opened = try vault.openBundle(try BundleEnvelope.parse(bundle))
        #expect(opened.needsSignerConsent)
        #expect(throws: BundleError.untrustedSigner(opened.envelope.signer)) { _ = try vault.importBundle(opened) }
        #expect(try vault.importBundle(opened, dryRun: true).map(\.outcome) == [.replaced, .added])
        #expect(try vault.secret(named: "shared").revealString() == "token-bob-own-1")
        #expect(try vault.importBundle(opened, acceptingUnknownSigner: true).map(\.outcome) == [.replaced, .added])
        #expect(try vault.secret(named: "shared").revealString() == "token-mallory-pushed-2")
        #expect(try vault.history(of: "shared").map { $0.secret.revealString() } == ["token-bob-own-1"])
    }

    @Test func aBundleThisVaultSignedItselfNeedsNoConsent() throws {
        let two = TwoVaults(bobTrustsAlice: false)
        two.bob.add("mine", token: "token-bob-to-himself-1")
        let path = two.bob.home + "/self.tvb"
        #expect(two.bob.vault(["export", "mine", "--to", two.bobIdentity, "-o", path]).status == 0)
        #expect(two.bob.vault(["rm", "--purge", "--yes", "mine"]).status == 0)
        let r = two.bob.vault(["import", "bundle", path])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("signed by this vault"))
        #expect(try two.bob.library().secret(named: "mine").revealString() == "token-bob-to-himself-1")
    }

    @Test func aPassphraseBundleFromAnUntrustedSignerIsImportedWithAWarning() throws {
        // Moving to a new machine: the old vault's identity is unknown to the new one.
        let two = TwoVaults(bobTrustsAlice: false)
        two.alice.add("moved", token: "token-moved-with-me-1")
        let path = two.alice.home + "/all.tvb"
        let env: [String: String?] = ["TOKENVAULT_EXPORT_PASSPHRASE": "export pass"]
        #expect(two.alice.vault(["export", "--passphrase", "--kdf", "minimum", "-o", path], env: env).status == 0)
        let r = two.bob.vault(["import", "bundle", path], env: env)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("vault: warning: signed by an identity this vault does not trust: \(two.aliceIdentity)"))
        #expect(try two.bob.library().secret(named: "moved").revealString() == "token-moved-with-me-1")
    }

    @Test func onATerminalTheImportAsksAndShowsTheSigner() throws {
        let two = TwoVaults(bobTrustsAlice: false)
        let bundle = try mallorysBundle(two)
        let path = two.bob.home + "/mallory.tvb"
        try Data(bundle).write(to: URL(fileURLWithPath: path))
        let before = try state(two.bob)
        let question = "Import 2 entries from \(two.aliceIdentity), an identity this vault does not trust? [y/N] "

        let no = PTYProcess([Binary.path("vault"), "import", "bundle", path], environment: two.bob.environment)
        #expect(no.expect(question), "\(no.text)")
        no.send("n\n")
        #expect(no.wait() == 9)
        #expect(no.text.contains("nothing imported"))
        #expect(try state(two.bob) == before)
        #expect(try two.bob.library().secret(named: "shared").revealString() == "token-bob-own-1")

        let yes = PTYProcess([Binary.path("vault"), "import", "bundle", path], environment: two.bob.environment)
        #expect(yes.expect(question), "\(yes.text)")
        yes.send("y\n")
        #expect(yes.wait() == 0, "\(yes.text)")
        #expect(try two.bob.library().secret(named: "pushed").revealString() == "token-mallory-new-3")
        #expect(try two.bob.library().history(of: "shared").map { $0.secret.revealString() } == ["token-bob-own-1"])
        #expect(two.bob.vault(["log"]).out.contains("not trusted; accepted at the import"))
    }
}
