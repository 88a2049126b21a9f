import Foundation
import Testing
@testable import TokenVault

@Suite struct DiskTests {
    static let tokens = ["glpat-Zq9xYk3LmN8pQr2StUv4", "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "plain-secret-value-42"]
    static let names = ["gitlab-production-deploy", "github-personal-laptop", "artifactory-ci"]
    static let hosts = ["gitlab.internal.example.com", "github.com", "artifacts.corp.example"]
    static let users = ["deploy-bot-unique", "octocat-unique", "ci-user-unique"]

    @Test func noPlaintextInTheVaultOrItsSideFiles() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        for i in 0..<3 {
            try vault.add(Entry(name: Self.names[i], url: try CredentialURL.parse("https://\(Self.hosts[i])/group/project-x").url,
                                username: Self.users[i], scopes: ["read_registry_unique"], notes: "note-text-unique-\(i)"),
                          secret: Secret(Self.tokens[i]))
        }
        try vault.update(Self.names[0], secret: Secret(Self.tokens[0] + "-rotated"))
        try vault.rename(Self.names[2], to: "renamed-entry-unique")
        let needles = Self.tokens + Self.names + Self.hosts + Self.users + ["read_registry_unique", "note-text-unique", "project-x", "correct horse"]
        // While the vault is open the write-ahead log and shared-memory files exist too.
        let openFiles = folder.files()
        #expect(openFiles.count >= 2)
        for file in openFiles {
            let data = bytes(of: file)
            for needle in needles {
                #expect(!data.contains(bytes: Array(needle.utf8)), "'\(needle)' found in \(file)")
            }
        }
    }

    @Test func filesAndFolderArePrivate() throws {
        let folder = TempFolder()
        let path = folder.path + "/deeper/tokenvault/vault.db"
        let previous = umask(0o022)
        defer { umask(previous) }
        let vault = try Vault.create(at: path, passphrase: Secret("p"), kdf: .minimum)
        try vault.add(Entry(name: "x"), secret: Secret("t"))
        #expect(mode(of: folder.path + "/deeper/tokenvault") == 0o700)
        #expect(mode(of: folder.path + "/deeper") == 0o700)
        for file in folder.files() { #expect(mode(of: file) == 0o600, "\(file)") }
    }

    @Test func anOpenFileOrFolderIsRefused() throws {
        let folder = TempFolder()
        _ = try makeVault(in: folder)
        chmod(folder.vaultPath, 0o644)
        #expect(throws: VaultError.unsafePermissions(path: folder.vaultPath, mode: 0o100644, isDirectory: false)) {
            try Vault.open(at: folder.vaultPath)
        }
        chmod(folder.vaultPath, 0o620)
        #expect(throws: VaultError.self) { try Vault.open(at: folder.vaultPath) }
        chmod(folder.vaultPath, 0o600)
        chmod(folder.path, 0o775)
        #expect(throws: VaultError.unsafePermissions(path: folder.path, mode: 0o40775, isDirectory: true)) {
            try Vault.open(at: folder.vaultPath)
        }
        chmod(folder.path, 0o702)
        #expect(throws: VaultError.self) { try Vault.open(at: folder.vaultPath) }
        // A folder others may only read or enter, as ssh allows.
        for mode: mode_t in [0o711, 0o750, 0o755] {
            chmod(folder.path, mode)
            _ = try Vault.open(at: folder.vaultPath)
        }
        chmod(folder.path, 0o700)
        let error = VaultError.unsafePermissions(path: "/x/vault.db", mode: 0o100644, isDirectory: false)
        #expect(error.description.contains("644"))
        #expect(error.hint == "chmod 600 '/x/vault.db'")
        #expect(VaultError.unsafePermissions(path: "/x", mode: 0o40775, isDirectory: true).hint == "chmod go-w '/x'")
    }

    @Test func aFileThatIsNotAVaultIsRefused() throws {
        let folder = TempFolder()
        _ = FileManager.default.createFile(atPath: folder.vaultPath, contents: Data("not a database at all, just text".utf8),
                                       attributes: [.posixPermissions: 0o600])
        #expect(throws: VaultError.self) { try Vault.open(at: folder.vaultPath) }
        let empty = folder.path + "/empty.db"
        _ = FileManager.default.createFile(atPath: empty, contents: Data(), attributes: [.posixPermissions: 0o600])
        #expect(throws: VaultError.self) { try Vault.open(at: empty) }
    }

    @Test func defaultLocation() {
        #expect(VaultLocation.defaultPath(environment: ["TOKENVAULT_PATH": "/a/b.db", "HOME": "/h"]) == "/a/b.db")
        #expect(VaultLocation.defaultPath(environment: ["XDG_DATA_HOME": "/d", "HOME": "/h"]) == "/d/tokenvault/vault.db")
        #expect(VaultLocation.defaultPath(environment: ["HOME": "/h"]) == "/h/.local/share/tokenvault/vault.db")
        #expect(VaultLocation.defaultPath(environment: ["XDG_DATA_HOME": "relative", "HOME": "/h"]) == "/h/.local/share/tokenvault/vault.db")
    }
    /// A private file is written whole, 0600, and never over a file that is there (also one
    /// that appeared after the caller looked): the file there is kept as it was, no temporary
    /// is left behind.
    @Test func aPrivateFileIsPublishedWholeAndNeverOverAnotherFile() throws {
        let folder = TempFolder()
        let path = folder.path + "/bundle.tvb"
        try VaultLocation.publishPrivateFile(Array("sealed bytes".utf8), at: path)
        var status = stat()
        #expect(stat(path, &status) == 0 && status.st_mode & 0o777 == 0o600)
        #expect(bytes(of: path) == Array("sealed bytes".utf8))

        let other = folder.path + "/taken.tvb"
        #expect(FileManager.default.createFile(atPath: other, contents: Data("someone else's".utf8)))
        #expect(throws: VaultError.vaultExists(path: other)) {
            try VaultLocation.publishPrivateFile(Array("sealed bytes".utf8), at: other)
        }
        #expect(bytes(of: other) == Array("someone else's".utf8))
        #expect(Set(folder.files().map { ($0 as NSString).lastPathComponent }) == ["bundle.tvb", "taken.tvb"])
    }
}
