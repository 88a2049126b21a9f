import Foundation
import Testing

/// The header's `key_file` column (schema 5): changed together with the wrapped key in one
/// transaction, migrated into an older vault, and bound by the manifest.
@Suite struct KeyFileHeaderTests {
    static func sql(_ cli: CLI, _ statements: String) -> RunResult {
        run(["/usr/bin/python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit(); c.close()
            """, cli.vaultPath, statements], environment: ["PATH": "/usr/bin:/bin"])
    }

    static func query(_ cli: CLI, _ statement: String) -> String {
        run(["/usr/bin/python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0]); c.close()
            """, cli.vaultPath, statement], environment: ["PATH": "/usr/bin:/bin"]).out
    }

    @Test func aKillDuringAddKeyFileLeavesTheVaultOpeningOneWayOrTheOther() {
        let cli = CLI()
        let names = ["one", "two", "three"]
        for name in names { #expect(cli.add(name, token: "token-of-\(name)-0000001").status == 0) }
        let key = cli.home + "/vault.key"
        #expect(cli.vault(["keyfile", "new", key]).status == 0)
        var killed = 0, before = 0, after = 0
        var delay = 0.005
        while true {
            let r = cli.vault(["passwd", "--add-key-file", key], timeout: delay)
            if r.timedOut { killed += 1 }
            // Exactly one configuration opens it: the passphrase alone, or the two together.
            let alone = cli.vault(["list"])
            let both = cli.vault(["list", "--key-file", key])
            if alone.status == 0 {
                before += 1
                #expect(both.status == 0)  // A key file the vault does not need changes nothing.
                #expect(names.allSatisfy { alone.out.contains($0) })
            } else {
                after += 1
                #expect(alone.status == 3 && alone.err.contains("needs its key file"), "\(alone.err)")
                #expect(both.status == 0, "\(both.err)")
                #expect(names.allSatisfy { both.out.contains($0) })
                // Back to the passphrase alone, whole, for the next kill.
                let removed = cli.vault(["passwd", "--remove-key-file", "--key-file", key])
                #expect(removed.status == 0, "\(removed.err)")
            }
            if !r.timedOut || delay > 20 { break }
            delay *= 1.5
        }
        #expect(killed > 0 && before > 0 && after > 0, "killed \(killed), before \(before), after \(after)")
        for name in names { #expect(cli.vault(["get", name]).out == "token-of-\(name)-0000001\n") }
    }

    @Test func aVaultOfSchemaFourOpensAndIsMigrated() {
        let cli = CLI()
        #expect(cli.add("old", token: "token-of-an-old-vault-01").status == 0)
        // The header as schema 4 made it (SQLite gives back the first migration's SQL exactly).
        #expect(Self.sql(cli, "ALTER TABLE vault DROP COLUMN key_file; PRAGMA user_version = 4;").status == 0)
        #expect(Self.query(cli, "PRAGMA user_version") == "4\n")
        let r = cli.vault(["get", "old"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == "token-of-an-old-vault-01\n")
        #expect(Self.query(cli, "PRAGMA user_version") == "5\n")
        #expect(Self.query(cli, "SELECT key_file FROM vault") == "0\n")
        // And it takes a key file from then on.
        let key = cli.home + "/vault.key"
        #expect(cli.vault(["keyfile", "new", key]).status == 0)
        #expect(cli.vault(["passwd", "--add-key-file", key]).status == 0)
        #expect(cli.vault(["get", "old", "--key-file", key]).out == "token-of-an-old-vault-01\n")
        #expect(cli.vault(["verify", "--key-file", key]).status == 0)
    }

    @Test func aHeaderThatNoLongerAsksForTheKeyFileIsTamperingAndNotObeyed() {
        let (cli, key) = KeyFileTests.fixture()
        #expect(Self.sql(cli, "UPDATE vault SET key_file = 0;").status == 0)
        // The passphrase alone still opens nothing.
        let alone = cli.vault(["get", "gl"])
        #expect(alone.status == 3)
        #expect(alone.out.isEmpty)
        // With the key file at hand, the change is found.
        let both = cli.vault(["get", "gl", "--key-file", key])
        #expect(both.status == 5, "\(both.err)")
        #expect(both.out.isEmpty)
        #expect(both.err.contains("tampered"))
    }

    @Test func unlockingTheAgentFindsAHeaderThatNoLongerAsksForTheKeyFile() {
        let (cli, key) = KeyFileTests.fixture()
        defer { cli.vault(["lock"]) }
        #expect(Self.sql(cli, "UPDATE vault SET key_file = 0;").status == 0)
        // With the key file at hand, as every other command: tampering, not "wrong passphrase".
        let r = cli.vault(["unlock", "--key-file", key])
        #expect(r.status == 5, "\(r.err)")
        #expect(r.err.contains("tampered"))
        // And the agent holds no key: the passphrase alone reads nothing through it.
        let get = cli.vault(["get", "gl"], env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(get.status == 3)
        #expect(get.out.isEmpty)
    }

    @Test func aBackupOfSchemaFourVerifiesWithoutBeingMigrated() {
        let cli = CLI()
        #expect(cli.add("old", token: "token-of-an-old-vault-01").status == 0)
        let backup = cli.home + "/backup.db"
        #expect(cli.vault(["backup", backup]).status == 0)
        // The backup as schema 4 made it: a copy taken before the key file existed.
        let downgrade = run(["/usr/bin/python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); c.executescript("ALTER TABLE vault DROP COLUMN key_file; PRAGMA user_version = 4;")
            c.commit(); c.close()
            """, backup], environment: ["PATH": "/usr/bin:/bin"])
        #expect(downgrade.status == 0, "\(downgrade.err)")
        let r = cli.vault(["verify", backup])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("version 4"))
        // Read as it is: never migrated.
        let version = run(["/usr/bin/python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); print(c.execute("PRAGMA user_version").fetchone()[0]); c.close()
            """, backup], environment: ["PATH": "/usr/bin:/bin"])
        #expect(version.out == "4\n")
    }

    @Test func theRecoveryToolReadsAVaultThatNeedsAKeyFileOnlyWithIt() {
        let (cli, key) = KeyFileTests.fixture()
        let passphrase = ["TOKENVAULT_PASSPHRASE": CLI.passphrase]
        let r = recoverTool(["--key-file", key, cli.vaultPath], environment: passphrase)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains(KeyFileTests.token))
        let alone = recoverTool([cli.vaultPath], environment: passphrase)
        #expect(alone.status == 3, "\(alone.err)")
        #expect(alone.err.contains("needs its key file") && alone.out.isEmpty)
        let other = cli.home + "/keys/other.key"
        #expect(cli.vault(["keyfile", "new", other]).status == 0)
        let wrong = recoverTool([cli.vaultPath], environment: passphrase.merging(["TOKENVAULT_KEY_FILE": other]) { $1 })
        #expect(wrong.status == 3 && wrong.err.contains("wrong passphrase or key file") && wrong.out.isEmpty)
        // A key_file column changed from 1 to 0 is not obeyed: the passphrase alone opens nothing.
        #expect(Self.sql(cli, "UPDATE vault SET key_file = 0;").status == 0)
        #expect(recoverTool([cli.vaultPath], environment: passphrase).status == 3)
    }

    @Test func aHeaderThatAsksForAKeyFileItNeverHadIsTampering() {
        let cli = CLI()
        #expect(cli.add("plain", token: "token-of-a-plain-vault1").status == 0)
        let key = cli.home + "/vault.key"
        #expect(cli.vault(["keyfile", "new", key]).status == 0)
        #expect(Self.sql(cli, "UPDATE vault SET key_file = 1;").status == 0)
        let r = cli.vault(["get", "plain", "--key-file", key])
        #expect(r.status == 5, "\(r.err)")
        #expect(r.out.isEmpty)
        // A value other than 0 or 1 is refused by the column's CHECK.
        #expect(Self.sql(cli, "UPDATE vault SET key_file = 2;").status != 0)
    }
}
