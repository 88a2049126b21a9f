import Foundation
import Testing
@testable import TokenVault

/// A vault that cannot be written is checked as much as one that can: a read it cannot record
/// is refused wherever the recording would have refused it (a tampered activity log, a header
/// and entries put back from an older copy); a file read as one that nothing changes is never
/// answered from old and new pages mixed; and a disk that fills up at any point of a change
/// leaves the vault with the change whole or not at all.
@Suite(.serialized) struct ReadOnlyVaultChecksTests {
    static let token = "glpat-readonly-token-1"
    static let gitRequest = "printf 'protocol=https\\nhost=gitlab.example.com\\n\\n'"

    /// A vault with one GitLab entry, read, then changed: the manifest's log head is that change.
    static func changedVault() throws -> CLI {
        let cli = try ReadOnlyVaultTests.vault()
        try #require(cli.vault(["edit", "gitlab-ci", "--note", "changed"]).status == 0)
        return cli
    }

    /// Runs SQL on the vault file as another program would.
    static func sql(_ cli: CLI, _ statements: String) throws {
        try SQLite(path: cli.vaultPath, mode: .readWrite).execute(statements)
    }

    /// The reads below, on a read-only mount: each one's result by name.
    static func readsOnAReadOnlyMount(_ cli: CLI) throws -> [String: RunResult] {
        try MountNamespace.steps(cli, setup: MountNamespace.readOnlyFolder, """
            step get vault get gitlab-ci
            step history vault history gitlab-ci
            step export vault export --plain-json
            step check vault check
            \(Self.gitRequest) | step git git-credential-vault get
            """)
    }

    @Test func aReadOnlyVaultWhoseLogLostItsHeadRefusesTheReadsAWritableOneRefuses() throws {
        let cli = try Self.changedVault()
        // The change's event, which the manifest vouches for, removed from the log.
        try Self.sql(cli, "DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)")
        let steps = try Self.readsOnAReadOnlyMount(cli)
        for name in ["get", "history", "export", "check"] {
            let step = steps[step: name]
            #expect(step.status == 5 && !step.out.contains(Self.token), "\(name): \(step.status) \(step.err)")
            #expect(step.err.contains("events up to") && step.err.contains("were removed or replaced"), "\(name): \(step.err)")
        }
        // Git gets nothing, as from the writable vault.
        #expect(!steps[step: "git"].out.contains("password=") && steps[step: "git"].err.contains("were removed or replaced"))
        // The same vault, writable: the same refusals.
        for arguments in [["get", "gitlab-ci"], ["history", "gitlab-ci"], ["export", "--plain-json"], ["check"]] {
            #expect(cli.vault(arguments).status == 5, "\(arguments)")
        }
    }

    @Test func aReadOnlyVaultPutBackFromAnOlderCopyUnderANewerLogRefusesAnExportAndACheckAsAWritableOneDoes() throws {
        let cli = try ReadOnlyVaultTests.vault()
        let old = cli.home + "/old.db"
        try Self.sql(cli, "VACUUM INTO '\(old)'")
        try #require(cli.vault(["edit", "gitlab-ci", "--secret"], stdin: .data("glpat-readonly-token-2")).status == 0)
        // The header and the entries from the older copy; the newer log kept.
        try Self.sql(cli, """
            ATTACH '\(old)' AS old;
            DELETE FROM vault; INSERT INTO vault SELECT * FROM old.vault;
            DELETE FROM entries; INSERT INTO entries SELECT * FROM old.entries;
            DETACH old
            """)
        let steps = try Self.readsOnAReadOnlyMount(cli)
        for name in ["export", "check"] {
            let step = steps[step: name]
            #expect(step.status == 5 && !step.out.contains("glpat-readonly-token"), "\(name): \(step.status) \(step.err)")
            #expect(step.err.contains("put back from an older copy"), "\(name): \(step.err)")
            #expect(cli.vault(name == "export" ? ["export", "--plain-json"] : ["check"]).status == 5)
        }
    }

    @Test func aFileReadAsOneThatNothingChangesIsNeverAnsweredFromOldAndNewPagesMixed() throws {
        let cli = try Self.changedVault()
        // Read as a file that nothing changes (as where it cannot be written), while a program
        // that can write it (root's, or through another mount) changes the token.
        let vault = Vault(path: cli.vaultPath, db: try SQLite(path: cli.vaultPath, mode: .immutable))
        vault.state.withLock { ($0.readOnly, $0.unwritable) = (true, .readOnly) }
        try vault.unlock(passphrase: Secret(CLI.passphrase))
        #expect(try vault.get("gitlab-ci").secret.withUnsafeBytes { Array($0) } == Array(Self.token.utf8))
        try #require(cli.vault(["edit", "gitlab-ci", "--secret"], stdin: .data("glpat-readonly-token-2")).status == 0)
        #expect {
            try vault.get("gitlab-ci")
        } throws: { error in
            guard case VaultError.io(let message) = error else { return false }
            return message.contains("changed while it was read")
        }
        // Opened again, it reads the file as it is now.
        let again = Vault(path: cli.vaultPath, db: try SQLite(path: cli.vaultPath, mode: .immutable))
        try again.unlock(passphrase: Secret(CLI.passphrase))
        #expect(try again.get("gitlab-ci").secret.withUnsafeBytes { Array($0) } == Array("glpat-readonly-token-2".utf8))
    }

    @Test func aChangeOnADiskFilledAtEveryPointLeavesTheVaultWithTheChangeWholeOrNotAtAll() throws {
        // Entries of some size, one read (the log holds it): the change's pages then need room
        // in the log first, and in the file when the log is folded into it.
        let cli = CLI()
        for name in ["e1", "e2", "e3"] {
            try #require(cli.add(name, token: "glpat-token-of-\(name)-aaaaaaaaaa", ["--note", String(repeating: "n", count: 1500)]).status == 0)
        }
        try #require(cli.vault(["get", "e1"]).status == 0)
        let note = String(repeating: "x", count: 3000)
        let free = Array(stride(from: 0, through: 64, by: 4))
        // For each amount of room left (in KiB): the change, then with room again, the vault.
        let steps = try MountNamespace.steps(cli, setup: "saved=$(mktemp -d); cp -a \"$D\"/. \"$saved\"/", """
            for k in \(free.map(String.init).joined(separator: " ")); do
                mount -t tmpfs -o size=2048k,mode=0700 tmpfs "$D"
                cp -a "$saved"/. "$D"/
                dd if=/dev/zero of="$D/filler" bs=1k 2>/dev/null || true
                truncate -s -${k}K "$D/filler"
                printf %s glpat-another-token-22 | step add-$k vault add other --note \(note)
                rm "$D/filler"
                step verify-$k vault verify
                step list-$k vault list --json
                umount "$D"
            done
            """)
        var outcomes: Set<String> = []
        for k in free {
            let add = steps[step: "add-\(k)"], list = steps[step: "list-\(k)"]
            #expect(steps[step: "verify-\(k)"].status == 0, "\(k) KiB: \(steps[step: "verify-\(k)"].out)")
            #expect(list.status == 0 && list.out.contains("\"e3\""), "\(k) KiB: \(list.err)")
            if add.status == 0 {
                #expect(list.out.contains("\"other\"") && list.out.contains(note), "\(k) KiB: added, yet not there")
                // Committed in the log, but the file could not grow to take it: said as such.
                if add.err.contains("the change is saved, but only in") {
                    #expect(add.err.contains("-wal for now: the disk is full"), "\(k) KiB: \(add.err)")
                    outcomes.insert("saved in the log")
                } else {
                    outcomes.insert("saved")
                }
            } else {
                #expect(add.status == 7 && add.err.contains("is full: nothing was changed"), "\(k) KiB: \(add.status) \(add.err)")
                #expect(!list.out.contains("\"other\""), "\(k) KiB: refused, yet there")
                outcomes.insert("refused")
            }
        }
        // Every point was reached: refused at the commit, committed with the fold failing, whole.
        #expect(outcomes == ["refused", "saved in the log", "saved"], "\(outcomes)")
    }
}
