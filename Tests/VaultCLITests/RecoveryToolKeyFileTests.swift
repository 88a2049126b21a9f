import Foundation
import Testing

/// scripts/recover.py on a vault that needs a key file (docs/FORMAT.md, "Key file (schema 5)"):
/// it finds the key file where `vault` does, refuses clearly without it, and refuses a header
/// whose `key_file` the manifest does not bind, as the CLI does.
@Suite struct RecoveryToolKeyFileTests {
    static let passphrase = "key file vector passphrase"

    /// A private copy of the keyfile vector and of its key file, in `cli`'s HOME.
    static func vector(_ cli: CLI) throws -> (path: String, key: String) {
        (try Vectors.copy("keyfile", into: cli), try #require(try Vectors.keyFile("keyfile", into: cli.home)))
    }

    @Test func theRecoveryToolFindsTheKeyFileWhereTheCLIDoes() throws {
        let cli = CLI(initialise: false)
        let (path, key) = try Self.vector(cli)
        let environment = ["TOKENVAULT_PASSPHRASE": Self.passphrase]
        // --key-file, then TOKENVAULT_KEY_FILE.
        let flag = recoverTool(["--key-file", key, path], environment: environment)
        #expect(flag.status == 0, "\(flag.err)")
        #expect(flag.out.contains("glpat-KeyFileVectorToken02") && flag.out.contains("needs a key file"))
        let variable = recoverTool([path], environment: environment.merging(["TOKENVAULT_KEY_FILE": key]) { $1 })
        #expect(variable.status == 0, "\(variable.err)")
        // The key-file line of VAULT.settings beside the vault, as `vault config key-file` writes it.
        #expect(cli.vault(["config", "key-file", key, "--vault", path]).status == 0)
        #expect(FileManager.default.fileExists(atPath: path + ".settings"))
        let settings = recoverTool([path], environment: environment)
        #expect(settings.status == 0, "\(settings.err)")
        #expect(settings.out == flag.out)
        // --key-file comes first: another file named there is the one tried.
        let other = cli.home + "/other.key"
        #expect(cli.vault(["keyfile", "new", other]).status == 0)
        #expect(recoverTool(["--key-file", other, path], environment: environment).status == 3)
    }

    @Test func withoutItsKeyFileTheVaultIsRefusedClearlyWithExitCode3() throws {
        let cli = CLI(initialise: false)
        let (path, _) = try Self.vector(cli)
        let r = recoverTool([path], environment: ["TOKENVAULT_PASSPHRASE": Self.passphrase])
        #expect(r.status == 3, "\(r.status) \(r.err)")
        #expect(r.err.contains("recover.py: error: this vault needs its key file"))
        #expect(r.err.contains("recover.py: hint:") && r.err.contains("--key-file"))
        #expect(r.out.isEmpty)
        // The CLI says the same, with the same code.
        let listed = cli.vault(["list", "--vault", path], env: ["TOKENVAULT_KEY_FILE": nil])
        #expect(listed.status == 3 && listed.err.contains("this vault needs its key file"), "\(listed.err)")
    }

    @Test func aWrongKeyFileOrPassphraseIsOneErrorAndAKeyFileOpenToOthersIsRefused() throws {
        let cli = CLI(initialise: false)
        let (path, key) = try Self.vector(cli)
        let other = cli.home + "/other.key"
        #expect(cli.vault(["keyfile", "new", other]).status == 0)
        for (file, passphrase) in [(other, Self.passphrase), (key, "not the passphrase")] {
            let r = recoverTool(["--key-file", file, path], environment: ["TOKENVAULT_PASSPHRASE": passphrase])
            #expect(r.status == 3, "\(r.status) \(r.err)")
            #expect(r.err.contains("wrong passphrase or key file") && !r.err.contains(passphrase))
        }
        chmod(key, 0o644)
        let open = recoverTool(["--key-file", key, path], environment: ["TOKENVAULT_PASSPHRASE": Self.passphrase])
        #expect(open.status == 1 && open.err.contains("readable by other users") && open.err.contains("chmod 600"), "\(open.err)")
        let missing = recoverTool(["--key-file", cli.home + "/nothing", path], environment: ["TOKENVAULT_PASSPHRASE": Self.passphrase])
        #expect(missing.status == 3 && missing.err.contains("cannot open the key file"), "\(missing.err)")
    }

    /// The header's `key_file` set to 0: the passphrase alone no longer unwraps the key, and with
    /// the key file at hand the manifest (tag 32) says otherwise. Tampering, never obeyed.
    @Test func aKeyFileFlagThatDiffersFromTheManifestIsTamperingForBoth() throws {
        let cli = try Vectors.cli(for: "keyfile")
        let path = try RecoveryToolTests.tampered("db.execute('UPDATE vault SET key_file = 0')", in: cli, vector: "keyfile")
        let key = try #require(cli.environment["TOKENVAULT_KEY_FILE"])
        let listed = cli.vault(["list", "--vault", path])
        #expect(listed.status == 5, "vault: \(listed.status) \(listed.err)")
        let r = recoverTool(["--key-file", key, path], environment: ["TOKENVAULT_PASSPHRASE": Self.passphrase])
        #expect(r.status == 5, "recover.py: \(r.status) \(r.err)")
        #expect(r.err.contains("key_file column differs from the manifest's"))
        #expect(!r.out.contains("glpat-KeyFileVectorToken"))
        // Without the key file, nothing opens: the passphrase alone is wrong, for both.
        let plain = recoverTool([path], environment: ["TOKENVAULT_PASSPHRASE": Self.passphrase])
        #expect(plain.status == 3, "\(plain.status) \(plain.err)")
        #expect(cli.vault(["list", "--vault", path], env: ["TOKENVAULT_KEY_FILE": nil]).status == 3)
    }
}
