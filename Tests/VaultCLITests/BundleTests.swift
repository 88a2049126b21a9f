import Foundation
import Testing
@testable import TokenVault

/// Two vaults, as two people have them: one exports to the other's identity, the other imports
/// (having saved the sender's identity with `vault id trust alice`, unless `bobTrustsAlice` is false).
struct TwoVaults {
    let alice = CLI()
    let bob = CLI()

    init(bobTrustsAlice: Bool = true) {
        guard bobTrustsAlice else { return }
        let r = bob.vault(["id", "trust", "alice", aliceIdentity])
        #expect(r.status == 0, "\(r.err)")
    }

    var aliceIdentity: String { alice.vault(["id"]).out.trimmingCharacters(in: .whitespacesAndNewlines) }
    var bobIdentity: String { bob.vault(["id"]).out.trimmingCharacters(in: .whitespacesAndNewlines) }
    var bundlePath: String { alice.home + "/out.tvb" }

    /// Exports `names` from Alice's vault to Bob's identity; the bundle's bytes.
    func export(_ names: [String], _ options: [String] = []) throws -> [UInt8] {
        try? FileManager.default.removeItem(atPath: bundlePath)
        let r = alice.vault(["export"] + names + ["--to", bobIdentity, "-o", bundlePath] + options)
        #expect(r.status == 0, "\(r.err)")
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: bundlePath)))
    }

    /// Bob imports `bytes` (written to a file of his).
    func importIntoBob(_ bytes: [UInt8], _ options: [String] = []) throws -> RunResult {
        let path = bob.home + "/in-\(UUID().uuidString).tvb"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return bob.vault(["import", "bundle", path] + options)
    }
}

/// `vault export --to` and `vault import bundle`: everything arrives, merges lose nothing.
@Suite struct BundleTests {
    @Test func anEntryExportedToAnotherVaultArrivesThereWithEveryField() throws {
        let two = TwoVaults()
        two.alice.add("gitlab-ci", token: "glpat-first-token-0001",
                      ["--url", "https://gitlab.example.com/group", "--username", "ci-bot", "--scopes", "api,read_repository",
                       "--expires", "2031-05-04", "--note", "the CI token"])
        let bytes = try two.export(["gitlab-ci"])
        let mode = try FileManager.default.attributesOfItem(atPath: two.bundlePath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let r = try two.importIntoBob(bytes)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("gitlab-ci: added"))
        #expect(r.err.contains("signed by 'alice' (\(two.aliceIdentity))"))
        let sent = try two.alice.library().entry(named: "gitlab-ci")
        let got = try two.bob.library().entry(named: "gitlab-ci")
        #expect(got.url == sent.url && got.username == "ci-bot" && got.scopes == ["api", "read_repository"])
        #expect(got.expires == sent.expires && got.notes == "the CI token" && got.kind == .gitlab)
        #expect(got.created == sent.created && got.tokenSince == sent.tokenSince)
        #expect(try two.bob.library().secret(named: "gitlab-ci").revealString() == "glpat-first-token-0001")
    }

    @Test func historyTravelsWithWithHistoryAndASecondImportChangesNothing() throws {
        let two = TwoVaults()
        two.alice.add("svc", token: "token-old-version-1")
        #expect(two.alice.vault(["edit", "svc", "--secret"], stdin: .data("token-new-version-2")).status == 0)
        let without = try two.export(["svc"])
        #expect(try two.importIntoBob(without).status == 0)
        #expect(try two.bob.library().history(of: "svc").isEmpty)

        let other = TwoVaults()
        other.alice.add("svc", token: "token-old-version-1")
        #expect(other.alice.vault(["edit", "svc", "--secret"], stdin: .data("token-new-version-2")).status == 0)
        let with = try other.export(["svc"], ["--with-history"])
        #expect(try other.importIntoBob(with).status == 0)
        #expect(try other.bob.library().history(of: "svc").map { $0.secret.revealString() } == ["token-old-version-1"])

        let again = try other.importIntoBob(with)
        #expect(again.status == 0)
        #expect(again.err.contains("svc: unchanged"))
        #expect(again.err.contains("0 of 1 entry changed"))
        #expect(try other.bob.library().secret(named: "svc").revealString() == "token-new-version-2")
        #expect(try other.bob.library().history(of: "svc").count == 1)
    }

    @Test func aConflictingTokenKeepsBothTheNewerCurrent() throws {
        // Bob's token is older than Alice's: hers becomes current, his goes to history.
        let two = TwoVaults()
        two.bob.add("shared", token: "token-bob-older-1")
        Thread.sleep(forTimeInterval: 1.2)
        two.alice.add("shared", token: "token-alice-newer-2")
        let bundle = try two.export(["shared"])
        let dry = try two.importIntoBob(bundle, ["--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.out.contains("shared: would take the bundle's newer token"))
        #expect(try two.bob.library().secret(named: "shared").revealString() == "token-bob-older-1")
        #expect(try two.importIntoBob(bundle).status == 0)
        #expect(try two.bob.library().secret(named: "shared").revealString() == "token-alice-newer-2")
        #expect(try two.bob.library().history(of: "shared").map { $0.secret.revealString() } == ["token-bob-older-1"])

        // The other way: Bob's token is newer, so it stays; Alice's older one joins its history.
        let other = TwoVaults()
        other.alice.add("shared", token: "token-alice-older-1")
        Thread.sleep(forTimeInterval: 1.2)
        other.bob.add("shared", token: "token-bob-newer-2")
        let r = try other.importIntoBob(try other.export(["shared"]))
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("kept its newer token"))
        #expect(try other.bob.library().secret(named: "shared").revealString() == "token-bob-newer-2")
        #expect(try other.bob.library().history(of: "shared").map { $0.secret.revealString() } == ["token-alice-older-1"])
    }

    @Test func anImportedEntryDoesNotTakeOverGitForAHostThisVaultHasAnEntryFor() throws {
        // Alice's token for github.com is her git default; Bob has his own entry for github.com,
        // which git uses.
        let two = TwoVaults()
        two.bob.add("bob-github", token: "token-bob-github-1", ["--url", "https://github.com"])
        #expect(two.bob.gitHelperGet(host: "github.com").out.contains("password=token-bob-github-1\n"))
        two.alice.add("alice-github", token: "token-alice-github-2", ["--url", "https://github.com"])
        two.alice.add("alice-lab", token: "token-alice-lab-3", ["--url", "https://lab.example.com"])
        for name in ["alice-github", "alice-lab"] {
            #expect(two.alice.vault(["edit", name, "--git-default"]).status == 0)
        }
        let r = try two.importIntoBob(try two.export(["alice-github", "alice-lab"]))
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("alice-github: added (not as git's default for its host"))
        // Git still gets Bob's own token for github.com; for a host new here, the mark arrives.
        let git = two.bob.gitHelperGet(host: "github.com")
        #expect(git.status == 0 && git.out.contains("password=token-bob-github-1\n"), "\(git.out)")
        #expect(try !two.bob.library().entry(named: "alice-github").isGitDefault)
        #expect(try two.bob.library().entry(named: "alice-lab").isGitDefault)
    }

    @Test func aTrustedSenderIsShownByNameAndATrustedNameWorksAsRecipient() throws {
        let two = TwoVaults()
        let aliceID = two.alice.vault(["id"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(two.bob.vault(["id", "trust", "alice", aliceID]).status == 0)
        #expect(two.alice.vault(["id", "trust", "bob", two.bobIdentity]).status == 0)
        let list = two.alice.vault(["id", "list"])
        #expect(list.out.contains("bob") && list.out.contains(two.bobIdentity))
        two.alice.add("one", token: "token-one-for-bob")
        let r = two.alice.vault(["export", "one", "--to", "bob", "-o", two.bundlePath])
        #expect(r.status == 0, "\(r.err)")
        let imported = two.bob.vault(["import", "bundle", two.bundlePath])
        #expect(imported.status == 0, "\(imported.err)")
        #expect(imported.err.contains("signed by 'alice' (\(aliceID))"))
        #expect(two.alice.vault(["id", "untrust", "bob"]).status == 0)
        #expect(!two.alice.vault(["id", "list"]).out.contains("bob"))
        #expect(two.alice.vault(["export", "one", "--to", "bob", "-o", two.bundlePath + "2"]).status != 0)
    }

    @Test func thePassphraseBundleHoldsEverythingAndAWrongPassphraseIsRefused() throws {
        let two = TwoVaults()
        two.alice.add("a", token: "token-a-passphrase-1")
        two.alice.add("b", token: "token-b-passphrase-2")
        let path = two.alice.home + "/all.tvb"
        let export = two.alice.vault(["export", "--passphrase", "--kdf", "minimum", "-o", path],
                                     env: ["TOKENVAULT_EXPORT_PASSPHRASE": "export pass"])
        #expect(export.status == 0, "\(export.err)")
        let wrong = two.bob.vault(["import", "bundle", path], env: ["TOKENVAULT_EXPORT_PASSPHRASE": "not it"])
        #expect(wrong.status == 3)
        #expect(wrong.err.contains("wrong export passphrase"))
        #expect(try two.bob.library().names().isEmpty)
        let right = two.bob.vault(["import", "bundle", path], env: ["TOKENVAULT_EXPORT_PASSPHRASE": "export pass"])
        #expect(right.status == 0, "\(right.err)")
        #expect(try two.bob.library().secret(named: "b").revealString() == "token-b-passphrase-2")
    }

    @Test func noFileHoldsATokenInClearAfterAnExportAndImport() throws {
        let two = TwoVaults()
        let token = "glpat-never-in-clear-on-disk-42"
        two.alice.add("secret-one", token: token)
        let bundle = try two.export(["secret-one"], ["--with-history"])
        #expect(!bundle.contains(bytes: token))
        #expect(try two.importIntoBob(bundle).status == 0)
        for (path, bytes) in two.alice.files() + two.bob.files() {
            #expect(!bytes.contains(bytes: token), "the token is in clear in \(path)")
        }
    }

    @Test func aBundleGoesToStdoutOnlyWhenItIsNotATerminal() throws {
        let two = TwoVaults()
        two.alice.add("p", token: "token-piped-out-1")
        let r = two.alice.vault(["export", "p", "--to", two.bobIdentity])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.stdout.starts(with: Array("TVBUNDLE".utf8)))
        #expect(try two.importIntoBob(r.stdout).status == 0)
    }
}
