import Foundation
import Testing
@testable import TokenVault

/// `vault id`: one identity per vault, made at init or on first use, stable.
@Suite struct IdentityTests {
    @Test func theIdentityIsOneStableCheckedLine() throws {
        let cli = CLI()
        let first = cli.vault(["id"])
        #expect(first.status == 0, "\(first.err)")
        let line = first.out.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("tvid1-") && !line.contains("\n") && line.count == 115)
        #expect(cli.vault(["id"]).out == first.out)
        #expect(cli.vault(["id", "show"]).out == first.out)
        #expect(try VaultIdentity(text: line.uppercased()).text == line)
        // One character changed: the checksum catches it.
        var changed = Array(line)
        changed[20] = changed[20] == "a" ? "b" : "a"
        let r = cli.vault(["id", "trust", "someone", String(changed)])
        #expect(r.status == 64)
        #expect(r.err.contains("checksum"))
    }

    @Test func aVaultMadeBeforeIdentitiesGetsOneOnFirstUse() throws {
        let cli = CLI()
        cli.add("kept", token: "token-kept-1")
        // Back to an older vault: no key ring in the manifest, schema 3 without its table.
        let vault = try cli.library()
        try vault.write { db, _, manifest, _ throws(VaultError) in
            try db.execute("DELETE FROM keyring")
            manifest.keyring = KeyringListing()
        }
        let python = """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); c.execute('DROP TABLE keyring'); c.execute('ALTER TABLE vault DROP COLUMN key_file')
            c.execute('PRAGMA user_version = 3'); c.commit()
            """
        #expect(run(["/usr/bin/python3", "-c", python, cli.vaultPath], environment: ["PATH": "/usr/bin:/bin"]).status == 0)
        let first = cli.vault(["id"])
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out.hasPrefix("tvid1-"))
        #expect(cli.vault(["id"]).out == first.out)
        // Made once at init (then removed above), once on first use: never again.
        let log = cli.vault(["log"]).out
        #expect(log.components(separatedBy: "identity created").count == 3, "\(log)")
        #expect(try cli.library().secret(named: "kept").revealString() == "token-kept-1")
    }

    @Test func processesThatAskAtOnceGetOneIdentityMadeOnce() throws {
        let cli = CLI()
        // A vault without an identity yet (as one made before identities existed).
        try cli.library().write { db, _, manifest, _ throws(VaultError) in
            try db.execute("DELETE FROM keyring")
            manifest.keyring = KeyringListing()
        }
        let results = Locked<[RunResult]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            let r = cli.vault(["id"])
            results.withLock { $0.append(r) }
        }
        let lines = Set(results.withLock { $0 }.map { "\($0.status) \($0.out)" })
        #expect(lines.count == 1 && lines.first?.hasPrefix("0 tvid1-") == true, "\(lines)")
        // Made once at init (then removed above), and once more now: never twice at once.
        let log = cli.vault(["log"]).out
        #expect(log.components(separatedBy: "identity created").count == 3, "\(log)")
    }

    @Test func aSwappedKeyRingRowIsDetected() throws {
        let cli = CLI()
        let aliceID = CLI().vault(["id"]).out.trimmingCharacters(in: .newlines)
        #expect(cli.vault(["id", "trust", "alice", aliceID]).status == 0)
        // The trusted identity's sealed record moved into the vault's own identity's row.
        let python = """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); rows = c.execute('SELECT lookup, sealed FROM keyring').fetchall()
            c.execute('UPDATE keyring SET sealed = ? WHERE lookup = ?', (rows[1][1], rows[0][0]))
            c.execute('UPDATE keyring SET sealed = ? WHERE lookup = ?', (rows[0][1], rows[1][0])); c.commit()
            """
        #expect(run(["/usr/bin/python3", "-c", python, cli.vaultPath], environment: ["PATH": "/usr/bin:/bin"]).status == 0)
        let r = cli.vault(["id"])
        #expect(r.status == 5, "\(r.err)")
        #expect(r.out.isEmpty)
    }
}
