import Foundation
import Testing

/// The key file as a second factor, through the real `vault`: it must be present with the
/// passphrase, and neither opens the vault alone.
@Suite struct KeyFileTests {
    static let token = "glpat-KeyFileToken00000001"

    /// A vault that needs `key` (made with `vault keyfile new`), with one entry.
    static func fixture() -> (cli: CLI, key: String) {
        let cli = CLI(initialise: false)
        let key = cli.home + "/keys/vault.key"
        mkdir(cli.home + "/keys", 0o700)
        let made = cli.vault(["keyfile", "new", key])
        precondition(made.status == 0, made.err)
        let created = cli.vault(["init", "--kdf", "minimum", "--key-file", key])
        precondition(created.status == 0, created.err)
        let added = cli.vault(["add", "gl", "--key-file", key], stdin: .data(token))
        precondition(added.status == 0, added.err)
        return (cli, key)
    }

    @Test func thePassphraseAloneIsRefusedAndTheHintNamesTheSources() {
        let (cli, _) = Self.fixture()
        let r = cli.vault(["get", "gl"])
        #expect(r.status == 3)
        #expect(r.out.isEmpty)
        #expect(r.err.contains("vault: error: this vault needs its key file as well as the passphrase"))
        #expect(r.err.contains("vault: hint:") && r.err.contains("--key-file") && r.err.contains("TOKENVAULT_KEY_FILE")
                && r.err.contains("config key-file"))
    }

    @Test func theKeyFileAloneIsRefused() {
        let (cli, key) = Self.fixture()
        let r = cli.vault(["get", "gl", "--key-file", key], env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(r.status == 3)
        #expect(r.out.isEmpty)
        #expect(r.err.contains("no passphrase source"))
    }

    @Test func aWrongKeyFileOrPassphraseIsOneError() {
        let (cli, key) = Self.fixture()
        let other = cli.home + "/keys/other.key"
        #expect(cli.vault(["keyfile", "new", other]).status == 0)
        let wrongFile = cli.vault(["get", "gl", "--key-file", other])
        #expect(wrongFile.status == 3)
        #expect(wrongFile.err.contains("vault: error: wrong passphrase or key file"))
        let wrongPassphrase = cli.vault(["get", "gl", "--key-file", key], env: ["TOKENVAULT_PASSPHRASE": "not the passphrase"])
        #expect(wrongPassphrase.status == 3)
        #expect(wrongPassphrase.err == wrongFile.err)
        #expect(wrongFile.out.isEmpty && wrongPassphrase.out.isEmpty)
    }

    @Test func thePassphraseAndTheKeyFileOpenTheVault() {
        let (cli, key) = Self.fixture()
        let r = cli.vault(["get", "gl", "--key-file", key])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == Self.token + "\n")
    }

    @Test func aMissingKeyFileIsSaidWithTheSourceThatNamedIt() {
        let (cli, _) = Self.fixture()
        let r = cli.vault(["get", "gl"], env: ["TOKENVAULT_KEY_FILE": cli.home + "/keys/gone.key"])
        #expect(r.status == 3)
        #expect(r.err.contains("cannot open the key file '\(cli.home)/keys/gone.key'"))
        #expect(r.err.contains("hint: the key file's path came from TOKENVAULT_KEY_FILE"))
    }

    @Test func aKeyFileOthersCanReadIsRefusedAsAPassphraseFileIs() throws {
        let (cli, key) = Self.fixture()
        chmod(key, 0o644)
        let r = cli.vault(["get", "gl", "--key-file", key])
        chmod(key, 0o600)
        let passphraseFile = cli.home + "/pass"
        #expect(FileManager.default.createFile(atPath: passphraseFile, contents: Data(CLI.passphrase.utf8),
                                               attributes: [.posixPermissions: 0o644]))
        let asPassphrase = cli.vault(["list", "--passphrase-file", passphraseFile, "--key-file", key])
        #expect(r.status == asPassphrase.status && r.status == 1)
        #expect(r.out.isEmpty)
        #expect(r.err.contains("vault: error: the key file '\(key)' is readable by other users (mode 644)"))
        #expect(r.err.contains("vault: hint: chmod 600 '\(key)'"))
        #expect(asPassphrase.err.contains("is readable by other users (mode 644)"))
    }

    @Test func keyfileNewWritesThirtyTwoPrivateBytesAndNeverOverwrites() throws {
        let cli = CLI(initialise: false)
        let key = cli.home + "/k"
        #expect(cli.vault(["keyfile", "new", key]).status == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: key)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.size] as? Int) == 32)
        let before = FileManager.default.contents(atPath: key)
        let again = cli.vault(["keyfile", "new", key])
        #expect(again.status == 1)
        #expect(again.err.contains("exists already"))
        #expect(FileManager.default.contents(atPath: key) == before)
        // Through a symbolic link (dangling: the file it names would be created): refused.
        symlink(cli.home + "/target", cli.home + "/link")
        #expect(cli.vault(["keyfile", "new", cli.home + "/link"]).status == 1)
        #expect(!FileManager.default.fileExists(atPath: cli.home + "/target"))
        // A folder that others may write to (and not sticky): refused.
        mkdir(cli.home + "/open", 0o777)
        chmod(cli.home + "/open", 0o777)
        let open = cli.vault(["keyfile", "new", cli.home + "/open/k"])
        #expect(open.status == 1)
        #expect(open.err.contains("open to other users' writes"))
        #expect(!FileManager.default.fileExists(atPath: cli.home + "/open/k"))
        let help = cli.vault(["keyfile", "new", "--help"])
        #expect(help.out.contains("Keep the key file apart from the vault file"))
    }

    @Test func initWithAKeyFileWarnsThatLosingItLosesTheVault() {
        let cli = CLI(initialise: false)
        let key = cli.home + "/vault.key"
        #expect(cli.vault(["keyfile", "new", key]).status == 0)
        let r = cli.vault(["init", "--kdf", "minimum", "--key-file", key])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("warning: without the key file \(key) the vault cannot be opened, even with the passphrase"))
        #expect(r.err.contains("vault backup") && r.err.contains("vault export"))
        // A key file that does not read is refused before anything is made.
        let other = CLI(initialise: false)
        let refused = other.vault(["init", "--kdf", "minimum", "--key-file", other.home + "/none"])
        #expect(refused.status == 3)
        #expect(!FileManager.default.fileExists(atPath: other.vaultPath))
    }

    @Test func addingThenRemovingTheKeyFileKeepsEveryEntry() {
        let cli = CLI()
        let names = ["one", "two", "three"]
        for name in names { #expect(cli.add(name, token: "token-of-\(name)-0000001").status == 0) }
        let key = cli.home + "/vault.key"
        #expect(cli.vault(["keyfile", "new", key]).status == 0)
        let added = cli.vault(["passwd", "--add-key-file", key])
        #expect(added.status == 0, "\(added.err)")
        #expect(added.err.contains("without the key file"))
        #expect(cli.vault(["list"]).status == 3)
        for name in names { #expect(cli.vault(["get", name, "--key-file", key]).out == "token-of-\(name)-0000001\n") }
        let removed = cli.vault(["passwd", "--remove-key-file", "--key-file", key])
        #expect(removed.status == 0, "\(removed.err)")
        for name in names { #expect(cli.vault(["get", name]).out == "token-of-\(name)-0000001\n") }
        // Removing what is not there says so.
        let again = cli.vault(["passwd", "--remove-key-file"])
        #expect(again.status == 64)
        #expect(again.err.contains("this vault needs no key file"))
        let log = cli.vault(["log"])
        #expect(log.out.contains("a key file is needed from now on") && log.out.contains("no key file is needed from now on"))
    }

    @Test func aKeyFileThatIsOneOfTheVaultsOwnFilesIsRefused() {
        let cli = CLI()
        #expect(cli.add("kept", token: "token-that-stays-readable1").status == 0)
        let key = cli.home + "/vault.key"
        #expect(cli.vault(["keyfile", "new", key]).status == 0)
        #expect(cli.vault(["config", "key-file", key]).status == 0)
        // The vault file changes with the very write that would make it the key file: the vault
        // would never open again. So would its settings file, at the next 'config key-file'.
        for own in [cli.vaultPath, cli.vaultPath + ".settings"] {
            let r = cli.vault(["passwd", "--add-key-file", own])
            #expect(r.status == 64, "\(r.err)")
            #expect(r.err.contains("one of the vault's own files"))
            #expect(cli.vault(["get", "kept"]).out == "token-that-stays-readable1\n")
        }
        let other = CLI(initialise: false)
        let settings = other.vaultPath + ".settings"
        let folder = (other.vaultPath as NSString).deletingLastPathComponent
        #expect((try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                           attributes: [.posixPermissions: 0o700])) != nil)
        #expect(FileManager.default.createFile(atPath: settings, contents: Data(repeating: 0x23, count: 64),
                                               attributes: [.posixPermissions: 0o600]))
        let created = other.vault(["init", "--kdf", "minimum", "--key-file", settings])
        #expect(created.status == 64, "\(created.err)")
        #expect(!FileManager.default.fileExists(atPath: other.vaultPath))
    }

    @Test func configKeyFileRemembersThePathBesideTheVault() throws {
        let (cli, key) = Self.fixture()
        #expect(cli.vault(["config", "key-file"]).out == "none\n")
        #expect(cli.vault(["config", "key-file", key]).status == 0)
        #expect(cli.vault(["config", "key-file"]).out == key + "\n")
        let settings = cli.vaultPath + ".settings"
        let attributes = try FileManager.default.attributesOfItem(atPath: settings)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // The path only, never the content.
        let text = try #require(FileManager.default.contents(atPath: settings))
        let content = try #require(FileManager.default.contents(atPath: key))
        #expect(String(decoding: text, as: UTF8.self).contains("key-file=\(key)\n"))
        #expect(content.count == 32 && text.range(of: content) == nil)
        #expect(cli.vault(["get", "gl"]).out == Self.token + "\n")
        // A settings file others may read is refused, as the vault file is.
        chmod(settings, 0o644)
        #expect(cli.vault(["get", "gl"]).status == 6)
        chmod(settings, 0o600)
        #expect(cli.vault(["config", "key-file", "--unset"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: settings))
        #expect(cli.vault(["get", "gl"]).status == 3)
    }
}
