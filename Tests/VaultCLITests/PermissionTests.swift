import Foundation
import Testing

/// Permissions as ssh checks them: the vault file closed to others, its folder closed to their
/// writes; a folder they may only read or enter is fine.
@Suite struct PermissionTests {
    static let token = "plain-token-value-perm"

    /// A vault at FOLDER/vault.db, FOLDER made under the fixture's home with `mode`.
    func vault(in cli: CLI, folder name: String, mode: mode_t) -> (folder: String, env: [String: String?]) {
        let folder = cli.home + "/" + name
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let env: [String: String?] = ["TOKENVAULT_PATH": folder + "/vault.db"]
        #expect(cli.vault(["init", "--kdf", "minimum"], env: env).status == 0)
        #expect(cli.vault(["add", "ci"], stdin: .data(Self.token), env: env).status == 0)
        chmod(folder, mode)
        return (folder, env)
    }

    @Test(arguments: [0o750, 0o755, 0o711] as [mode_t])
    func aFolderOthersMayOnlyReadOrEnterIsAccepted(mode: mode_t) {
        let cli = CLI(initialise: false)
        let (_, env) = vault(in: cli, folder: "checkout", mode: mode)
        let r = cli.vault(["get", "ci"], env: env)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == Self.token + "\n")
        // Through the agent, where the C front end answers: the same answer.
        #expect(cli.vault(["unlock"], env: env).status == 0)
        let agent = cli.vault(["get", "ci"], env: env.merging(["TOKENVAULT_PASSPHRASE": nil]) { $1 })
        #expect(agent.status == 0, "\(agent.err)")
        #expect(agent.out == Self.token + "\n")
        #expect(cli.vault(["lock"], env: env).status == 0)
    }

    @Test func aVaultInAHomeAt0750IsAccepted() {
        let cli = CLI(initialise: false)
        chmod(cli.home, 0o750)
        let env: [String: String?] = ["TOKENVAULT_PATH": cli.home + "/vault.db"]
        #expect(cli.vault(["init", "--kdf", "minimum"], env: env).status == 0)
        #expect(cli.vault(["add", "ci"], stdin: .data(Self.token), env: env).status == 0)
        #expect(cli.vault(["get", "ci"], env: env).out == Self.token + "\n")
        chmod(cli.home, 0o700)
    }

    @Test func aGroupReadableVaultFileIsRefused() {
        let cli = CLI(initialise: false)
        let (folder, env) = vault(in: cli, folder: "private", mode: 0o700)
        chmod(folder + "/vault.db", 0o640)
        for arguments in [["get", "ci"], ["list"]] {
            let r = cli.vault(arguments, env: env)
            #expect(r.status == 6, "\(arguments): \(r.err)")
            #expect(r.err.contains("other users can read or write it"), "\(r.err)")
            #expect(r.err.contains("vault: hint: chmod 600 '\(folder)/vault.db'\n"), "\(r.err)")
            #expect(r.stdout.isEmpty)
        }
    }

    @Test(arguments: [0o770, 0o757, 0o777] as [mode_t])
    func aFolderOthersCanWriteToIsRefused(mode: mode_t) {
        let cli = CLI(initialise: false)
        let (folder, env) = vault(in: cli, folder: "shared", mode: mode)
        let r = cli.vault(["get", "ci"], env: env)
        #expect(r.status == 6, "\(r.err)")
        #expect(r.err.contains("other users can write to it"), "\(r.err)")
        #expect(r.err.contains("vault: hint: chmod go-w '\(folder)'\n"), "\(r.err)")
        #expect(!r.err.contains("chmod 700"))
        #expect(r.stdout.isEmpty)
        chmod(folder, 0o700)
    }
}
