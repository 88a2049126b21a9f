import Foundation
import Testing
@testable import TokenVault

/// A header that asks for a key derivation costlier than `sensitive` (what `vault init --kdf
/// sensitive` writes) is refused before any work, unless the user confirms with
/// --allow-costly-kdf; the git helper never waits on it.
@Suite struct KDFCostTests {
    static let sensitive = KDFParameters.sensitive

    struct Cost: CustomTestStringConvertible, Sendable {
        var ops: UInt64
        var mem: UInt64
        var testDescription: String { "\(ops) passes, \(mem >> 10) KiB" }
    }

    static let costly: [Cost] = [
        // Four times sensitive: 51 s and 4.2 GB per unlock, if it were derived.
        Cost(ops: 4 * sensitive.opsLimit, mem: 4 * sensitive.memLimit),
        Cost(ops: sensitive.opsLimit + 1, mem: KDFParameters.minimum.memLimit),
        Cost(ops: KDFParameters.minimum.opsLimit, mem: 2 * sensitive.memLimit),
    ]

    /// Writes `cost` into the vault header, as someone with write access to the file could.
    static func raise(_ cli: CLI, to cost: Cost) throws {
        try withSQLite(cli.vaultPath) { db in
            try db.prepare("UPDATE vault SET kdf_ops = ?, kdf_mem = ?").run([.integer(Int64(cost.ops)), .integer(Int64(cost.mem))])
        }
    }

    /// An askpass that leaves a mark when it is asked.
    static func askpass(_ cli: CLI) -> (script: String, mark: String) {
        let mark = cli.home + "/asked"
        return (cli.script("askpass.sh", "#!/bin/sh\ntouch '\(mark)'\necho '\(CLI.passphrase)'\n"), mark)
    }

    @Test(arguments: costly)
    func aCostlyHeaderIsRefusedBeforeAnyWork(_ cost: Cost) throws {
        let cli = CLI()
        try Self.raise(cli, to: cost)
        let (script, mark) = Self.askpass(cli)
        for arguments in [["list"], ["unlock"]] {
            let r = cli.vault(arguments, env: ["TOKENVAULT_PASSPHRASE": nil, "TOKENVAULT_ASKPASS": script], timeout: 20)
            #expect(!r.timedOut)
            #expect(r.seconds < 5, "took \(r.seconds) s")
            #expect(r.status == 5, "\(r.err)")
            #expect(r.err.contains("vault: error: the vault header asks for a key derivation of \(cost.ops) passes over \(cost.mem >> 20) MiB, costlier than TokenVault writes"), "\(r.err)")
            #expect(r.err.contains("vault: hint: if you gave the vault this cost yourself, pass --allow-costly-kdf"))
            // Nobody was asked for the passphrase.
            #expect(!FileManager.default.fileExists(atPath: mark))
        }
    }

    @Test func theConfirmingFlagUnlocksAVaultMadeCostlierOnPurpose() throws {
        let cli = CLI(initialise: false)
        let costly = KDFParameters(opsLimit: Self.sensitive.opsLimit + 1, memLimit: KDFParameters.minimum.memLimit)
        _ = try Vault.create(at: cli.vaultPath, passphrase: Secret(CLI.passphrase), kdf: costly)
        #expect(cli.vault(["list"]).status == 5)
        let allowed = cli.vault(["list", "--allow-costly-kdf"])
        #expect(allowed.status == 0, "\(allowed.err)")
        #expect(cli.vault(["--allow-costly-kdf", "list"]).status == 0)
        // The agent too, told by the client.
        let unlocked = cli.vault(["unlock", "--allow-costly-kdf"])
        #expect(unlocked.status == 0, "\(unlocked.err)")
        #expect(cli.vault(["list"], env: ["TOKENVAULT_PASSPHRASE": nil]).status == 0)
        #expect(cli.vault(["lock"]).status == 0)
    }

    @Test func aRaisedHeaderStillDoesNotOpenWithTheFlag() throws {
        // The manifest binds the parameters: derived as asked, the key does not open the vault.
        let cli = CLI()
        try Self.raise(cli, to: Cost(ops: Self.sensitive.opsLimit + 1, mem: KDFParameters.minimum.memLimit))
        let r = cli.vault(["list", "--allow-costly-kdf"])
        #expect(r.status == 3 || r.status == 5, "\(r.err)")
        #expect(r.out.isEmpty)
    }

    @Test func theGitHelperRefusesACostlyHeaderWithoutWaiting() throws {
        let cli = CLI()
        cli.add("gitlab", token: "glpat-costly-header-never-given-1", ["--url", "https://gitlab.example.com"])
        try Self.raise(cli, to: Self.costly[0])
        let (script, mark) = Self.askpass(cli)
        for passphrase in [CLI.passphrase, nil] {
            let r = cli.gitHelperGet(host: "gitlab.example.com", env: ["TOKENVAULT_PASSPHRASE": passphrase, "TOKENVAULT_ASKPASS": script],
                                     timeout: 20)
            #expect(!r.timedOut)
            #expect(r.seconds < 5, "took \(r.seconds) s")
            #expect(r.status == 0)
            #expect(r.out.isEmpty)
            #expect(r.err.contains("costlier than TokenVault writes"), "\(r.err)")
            #expect(!FileManager.default.fileExists(atPath: mark))
        }
    }
}
