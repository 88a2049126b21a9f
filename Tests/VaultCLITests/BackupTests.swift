import Foundation
import Testing
@testable import TokenVault

/// `vault backup`: a consistent copy made while the vault is in use, private, verified, given
/// its name only when whole, and never over another file unless asked.
@Suite struct BackupTests {
    /// The names in a vault, as `vault list --json` gives them.
    static func names(_ cli: CLI, vault path: String? = nil) throws -> Set<String> {
        let r = cli.vault((path.map { ["--vault", $0] } ?? []) + ["list", "--json"])
        #expect(r.status == 0, "list: \(r.err)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [[String: Any]])
        return Set(entries.compactMap { $0["name"] as? String })
    }

    @Test func aBackupWhileFourProcessesReadAndWriteHoldsEveryEarlierChangeAndVerifies() throws {
        let cli = CLI()
        for i in 0..<10 { cli.add("e\(i)", token: "glpat-Backup\(i)0000000000000", ["--url", "https://h\(i).example"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        // Two writers (adds and edits, through the agent's key) and two readers (the agent's
        // reads, and reads of the file itself), until they are stopped.
        let vault = Binary.path("vault")
        let loops = [
            "i=0; while :; do i=$((i+1)); printf %s glpat-Writer1-$i-000000000 | \"$0\" add w1-$i >/dev/null 2>&1; done",
            "i=0; while :; do i=$((i+1)); \"$0\" edit e1 --note n$i >/dev/null 2>&1; printf %s glpat-Writer2-$i-000000000 | \"$0\" add w2-$i >/dev/null 2>&1; done",
            "while :; do \"$0\" get e2 >/dev/null 2>&1; \"$0\" list >/dev/null 2>&1; done",
            "while :; do \"$0\" log >/dev/null 2>&1; \"$0\" check >/dev/null 2>&1; done",
        ]
        let workers = loops.map { BackgroundProcess(["/bin/sh", "-c", "echo started; " + $0, vault], environment: cli.environment) }
        #expect(workers.allSatisfy { $0.firstLine == "started" })
        // Every change committed before the backup starts (once both writers have written).
        var before = try Self.names(cli)
        for _ in 0..<100 where !(before.contains { $0.hasPrefix("w1-") } && before.contains { $0.hasPrefix("w2-") }) {
            usleep(200_000)
            before = try Self.names(cli)
        }
        let originalLog = cli.vault(["log", "--json"]).stdout
        #expect(before.contains { $0.hasPrefix("w1-") } && before.contains { $0.hasPrefix("w2-") }, "the writers wrote nothing: \(before)")
        let backup = cli.home + "/backup/vault.db"
        let r = cli.vault(["backup", backup])
        #expect(r.status == 0, "\(r.err)")
        let after = try Self.names(cli)
        withExtendedLifetime(workers) {}
        for worker in workers { kill(worker.pid, SIGKILL) }

        var info = stat()
        #expect(stat(backup, &info) == 0 && info.st_mode & 0o777 == 0o600)
        // Nothing beside it: no temporary name, no log.
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.home + "/backup") == ["vault.db"])
        // Whole: every change before it, nothing but what the vault held by the time it ended.
        let copied = try Self.names(cli, vault: backup)
        #expect(before.isSubset(of: copied), "missing from the backup: \(before.subtracting(copied))")
        #expect(copied.isSubset(of: after))
        #expect(cli.vault(["--vault", backup, "get", "e0"]).out == "glpat-Backup00000000000000\n")
        let verified = cli.vault(["verify", backup])
        #expect(verified.status == 0, "\(verified.out) \(verified.err)")
        // The original goes on: verified, every name still there, its log only grown.
        #expect(cli.vault(["verify"]).status == 0)
        #expect(before.isSubset(of: try Self.names(cli)))
        #expect(cli.vault(["log", "--json"]).stdout.count >= originalLog.count)
    }

    @Test func aBackupRefusesAnExistingFileUnlessForcedAndNeverTheVaultItself() throws {
        let cli = CLI()
        cli.add("a", token: "glpat-Refuse0000000000000")
        let folder = cli.home + "/backup"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let existing = folder + "/vault.db"
        _ = FileManager.default.createFile(atPath: existing, contents: Data("keep me".utf8), attributes: [.posixPermissions: 0o600])

        let refused = cli.vault(["backup", existing])
        #expect(refused.status == 64)
        #expect(refused.err.contains("already exists") && refused.err.contains("--force"))
        #expect(FileManager.default.contents(atPath: existing) == Data("keep me".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["vault.db"])

        let forced = cli.vault(["backup", "--force", existing])
        #expect(forced.status == 0, "\(forced.err)")
        #expect(try Self.names(cli, vault: existing) == ["a"])

        #expect(cli.vault(["get", "a"]).status == 0)  // A read leaves the write-ahead log beside the file.
        #expect(FileManager.default.fileExists(atPath: cli.vaultPath + "-wal"))
        let before = cli.vault(["log", "--json"]).out
        for target in [cli.vaultPath, cli.home + "/.local/share/tokenvault/../tokenvault/vault.db",
                       cli.home + "/.local/share/tokenvault/./vault.db-wal"] {
            let itself = cli.vault(["backup", "--force", target])
            #expect(itself.status == 64, "\(target): \(itself.err)")
            #expect(itself.err.contains("the vault itself"))
        }
        // A side file that is not there at the moment is refused by its name.
        for suffix in ["-shm", "-journal"] {
            #expect(cli.vault(["backup", "--force", cli.home + "/.local/share/tokenvault/../tokenvault/vault.db" + suffix]).status == 64)
        }
        // Nothing changed (the log's every event, reads included, is as it was).
        #expect(cli.vault(["log", "--json"]).out == before)
        #expect(try Self.names(cli) == ["a"])

        // A folder others can write (they could replace the copy): refused, as a vault's folder
        // would be; nothing is left there.
        let open = cli.home + "/shared"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o775])
        #expect(cli.vault(["backup", open + "/vault.db"]).status == 6)
        #expect(try FileManager.default.contentsOfDirectory(atPath: open).isEmpty)
        // One others may only read or enter (a home at 0755), as ssh accepts: the copy is 0600.
        let readable = cli.home + "/readable"
        try FileManager.default.createDirectory(atPath: readable, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        #expect(cli.vault(["backup", readable + "/vault.db"]).status == 0)
        #expect(cli.vault(["verify", readable + "/vault.db"]).status == 0)
    }

    @Test func aForcedBackupNeverPairsTheNewCopyWithALogLeftBesideTheOldOne() throws {
        let cli = CLI()
        cli.add("a", token: "glpat-Paired0000000000000")
        let backup = cli.home + "/backup.db"
        #expect(cli.vault(["backup", backup]).status == 0)
        // A read from the old backup leaves its record in a log beside it (reads skip the fold).
        for _ in 0..<3 { #expect(cli.vault(["--vault", backup, "get", "a"]).status == 0) }
        let log = try #require(FileManager.default.contents(atPath: backup + "-wal"))
        #expect(!log.isEmpty)
        cli.add("b", token: "glpat-Paired1111111111111")
        #expect(cli.vault(["get", "b"]).status == 0)

        let forced = cli.vault(["backup", "--force", backup])
        #expect(forced.status == 0, "\(forced.err)")
        // The old log is gone with the old file: the new copy is read as it was made.
        #expect(FileManager.default.contents(atPath: backup + "-wal").map { $0 != log } ?? true)
        let verified = cli.vault(["verify", backup])
        #expect(verified.status == 0, "\(verified.out) \(verified.err)")
        #expect(try Self.names(cli, vault: backup) == ["a", "b"])

        // A log whose file is gone is refused, not paired with a new copy of that name.
        #expect(cli.vault(["--vault", backup, "get", "a"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: backup + "-wal"))
        #expect(unlink(backup) == 0)
        let orphan = cli.vault(["backup", backup])
        #expect(orphan.status == 64, "\(orphan.err)")
        #expect(orphan.err.contains("backup.db-wal"), "\(orphan.err)")
        #expect(!FileManager.default.fileExists(atPath: backup))
    }
}
