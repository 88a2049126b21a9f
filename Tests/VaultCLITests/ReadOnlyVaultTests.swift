import Foundation
import Testing
@testable import TokenVault

/// A vault that cannot be written (a read-only mount: root ignores file permissions) or whose
/// disk is full is still read: every read hands out what it reads, says once that it was not
/// recorded, and every change fails with exit code 7, nothing changed. Run in mount namespaces
/// of their own (`MountNamespace`).
@Suite(.serialized) struct ReadOnlyVaultTests {
    static let readOnlyWarning = "vault: warning: the vault is read-only: this read was not recorded in its activity log\n"
    static let diskFullWarning = "vault: warning: the disk is full: this read was not recorded in the vault's activity log\n"

    /// A vault with one GitLab entry, read once (so its write-ahead log holds that read).
    static func vault() throws -> CLI {
        let cli = CLI()
        try #require(cli.add("gitlab-ci", token: "glpat-readonly-token-1", ["--url", "https://gitlab.example.com"]).status == 0)
        try #require(cli.vault(["get", "gitlab-ci"]).status == 0)
        return cli
    }

    static func actions(_ cli: CLI) throws -> [String] {
        try cli.library().activityLog().events.map { "\($0.action)" }
    }

    static let gitRequest = "printf 'protocol=https\\nhost=gitlab.example.com\\n\\n'"

    @Test func everyReadOfAVaultOnAReadOnlyMountWorksAndSaysOnceThatItWasNotRecorded() throws {
        let cli = try Self.vault()
        let before = try Self.actions(cli)
        let steps = try MountNamespace.steps(cli, setup: MountNamespace.readOnlyFolder, """
            step get vault get gitlab-ci
            step json vault get gitlab-ci --json
            step list vault list
            step show vault show gitlab-ci
            step reveal vault show gitlab-ci --reveal
            step history vault history gitlab-ci
            step check vault check
            step export vault export --plain-json
            step log vault log
            \(Self.gitRequest) | step git git-credential-vault get
            \(Self.gitRequest) | step verbose vault git-credential get --verbose
            """)
        let get = steps[step: "get"]
        #expect(get.status == 0 && get.out == "glpat-readonly-token-1\n")
        #expect(get.err == Self.readOnlyWarning)
        for name in ["json", "reveal", "history", "export"] {
            let step = steps[step: name]
            #expect(step.status == 0 && step.out.contains("glpat-readonly-token-1") == (name != "history"), "\(name): \(step.err)")
            #expect(step.err.components(separatedBy: Self.readOnlyWarning).count == 2, "\(name) says it once: \(step.err)")
        }
        // `check` exits 8 with its findings; `list` and `show` record nothing, so say nothing.
        #expect(steps[step: "check"].status == 8 && steps[step: "check"].err.hasSuffix(Self.readOnlyWarning))
        #expect(steps[step: "list"].status == 0 && steps[step: "list"].out.contains("gitlab-ci") && steps[step: "list"].err.isEmpty)
        #expect(steps[step: "show"].status == 0 && steps[step: "show"].err.isEmpty)
        // The read in the write-ahead log is read with the file (never the file alone).
        #expect(steps[step: "log"].status == 0 && steps[step: "log"].out.contains("read  "), "\(steps[step: "log"].out)")
        // Git gets its answer, and stderr stays quiet (the note is for --verbose).
        #expect(steps[step: "git"].status == 0 && steps[step: "git"].out.contains("password=glpat-readonly-token-1\n"))
        #expect(steps[step: "git"].err.isEmpty)
        #expect(steps[step: "verbose"].out.contains("password=glpat-readonly-token-1\n"))
        #expect(steps[step: "verbose"].err.contains("vault: the vault is read-only: this read was not recorded in its activity log\n"))
        // Nothing was recorded.
        #expect(try Self.actions(cli) == before)
    }

    @Test func everyChangeToAReadOnlyVaultFailsWithExitCode7AndAHint() throws {
        let cli = try Self.vault()
        #expect(cli.vault(["edit", "gitlab-ci", "--note", "folded"]).status == 0)  // Its log folded in: the file alone.
        let steps = try MountNamespace.steps(cli, setup: MountNamespace.readOnlyFolder, """
            printf %s glpat-another-token-22 | step add vault add other
            step edit vault edit gitlab-ci --note changed
            step rm vault rm gitlab-ci --yes
            step config vault config trash-days 5
            step get vault get gitlab-ci
            """)
        for name in ["add", "edit", "rm", "config"] {
            let step = steps[step: name]
            #expect(step.status == 7, "\(name): \(step.status) \(step.err)")
            #expect(step.err.hasPrefix("vault: error: the vault file '\(cli.vaultPath)' is read-only: nothing was changed\nvault: hint: "), "\(name): \(step.err)")
            #expect(step.out.isEmpty)
        }
        #expect(steps[step: "get"].status == 0 && steps[step: "get"].out == "glpat-readonly-token-1\n")
        #expect(steps[step: "get"].err == Self.readOnlyWarning)
        let vault = try cli.library()
        #expect(try vault.names() == ["gitlab-ci"])
        #expect(try vault.entry(named: "gitlab-ci").notes == "folded")
    }

    @Test func theAgentServesAReadOnlyVaultAndTellsItsClientsTheReadsWereNotRecorded() throws {
        let cli = try Self.vault()
        let before = try Self.actions(cli)
        // The agent starts in the namespace of `unlock` and stays in it; each client has its own.
        var steps = try MountNamespace.steps(cli, setup: MountNamespace.readOnlyFolder, "step unlock vault unlock")
        #expect(steps[step: "unlock"].status == 0, "\(steps[step: "unlock"].err)")
        steps = try MountNamespace.steps(cli, setup: MountNamespace.readOnlyFolder, """
            step get vault get gitlab-ci
            step json vault get gitlab-ci --json
            step history vault history gitlab-ci
            step check vault check
            printf %s glpat-another-token-22 | step add vault add other
            \(Self.gitRequest) | step git git-credential-vault get
            step status vault status
            """, env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(steps[step: "status"].out.contains("unlocked"))
        #expect(steps[step: "get"].status == 0 && steps[step: "get"].out == "glpat-readonly-token-1\n")
        #expect(steps[step: "get"].err == Self.readOnlyWarning)
        #expect(steps[step: "json"].status == 0 && steps[step: "json"].err == Self.readOnlyWarning)
        #expect(steps[step: "history"].err.hasSuffix(Self.readOnlyWarning))
        #expect(steps[step: "check"].err.components(separatedBy: Self.readOnlyWarning).count == 2)
        #expect(steps[step: "git"].out.contains("password=glpat-readonly-token-1\n") && steps[step: "git"].err.isEmpty)
        #expect(steps[step: "add"].status == 7)
        #expect(try Self.actions(cli) == before)
    }

    @Test func aVaultOfMode0400InAFolderOf0500IsReadByItsOwnerWhoIsNotRoot() throws {
        let cli = try Self.vault()
        let before = try Self.actions(cli)
        let folder = (cli.vaultPath as NSString).deletingLastPathComponent
        // Root ignores file permissions: the owner is then another user (nobody), and the
        // commands run as that user.
        let nobody: uid_t = 65534
        let asOwner = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", "--"] : []
        if getuid() == 0 {
            try #require(run(["/bin/chown", "-R", "\(nobody):\(nobody)", cli.home], environment: [:]).status == 0)
        }
        try #require(chmod(cli.vaultPath, 0o400) == 0 && chmod(folder, 0o500) == 0)
        func restore() {
            chmod(folder, 0o700)
            chmod(cli.vaultPath, 0o600)
            if getuid() == 0 { _ = run(["/bin/chown", "-R", "0:0", cli.home], environment: [:]) }
        }
        defer { restore() }
        let get = run(asOwner + [Binary.path("vault"), "get", "gitlab-ci"], environment: cli.environment)
        #expect(get.status == 0 && get.out == "glpat-readonly-token-1\n", "\(get.err)")
        #expect(get.err == Self.readOnlyWarning)
        let add = run(asOwner + [Binary.path("vault"), "add", "other"], environment: cli.environment, stdin: .data("glpat-another-token-22"))
        #expect(add.status == 7 && add.err.contains("is read-only: nothing was changed"), "\(add.err)")
        // Others still may not read it: the permission checks stay.
        chmod(cli.vaultPath, 0o440)
        let open = run(asOwner + [Binary.path("vault"), "get", "gitlab-ci"], environment: cli.environment)
        #expect(open.status == 6 && open.out.isEmpty)
        restore()
        #expect(try Self.actions(cli) == before)
    }

    @Test func aReadOnlyVaultWhoseLogHoldsChangesButHasNoSharedIndexIsRefusedClearly() throws {
        let cli = try Self.vault()
        // The log of the read is there, its shared index (-shm) is not: the file alone would
        // be read as it was before that read.
        #expect(FileManager.default.fileExists(atPath: cli.vaultPath + "-wal"))
        let steps = try MountNamespace.steps(cli, setup: "rm \"$D/vault.db-shm\"\n" + MountNamespace.readOnlyFolder,
                                             "step get vault get gitlab-ci")
        #expect(steps[step: "get"].status == 1 && steps[step: "get"].out.isEmpty)
        #expect(steps[step: "get"].err.contains("has changes in its write-ahead log"))
    }

    @Test func aFullDiskStillHandsOutTheTokenAndRefusesAChangeLeavingTheVaultAsItWas() throws {
        let cli = try Self.vault()
        #expect(cli.vault(["edit", "gitlab-ci", "--note", "folded"]).status == 0)
        let before = try Self.actions(cli)
        let steps = try MountNamespace.steps(cli, setup: MountNamespace.smallDisk(kilobytes: 1024), """
            \(MountNamespace.fillDisk)
            step get vault get gitlab-ci
            printf %s glpat-another-token-22 | step add vault add other
            step edit vault edit gitlab-ci --note changed
            \(Self.gitRequest) | step git git-credential-vault get
            rm "$D/filler"
            step list vault list --json
            step log vault log --json
            step verify vault verify
            """)
        let get = steps[step: "get"]
        #expect(get.status == 0 && get.out == "glpat-readonly-token-1\n")
        #expect(get.err == Self.diskFullWarning)
        for name in ["add", "edit"] {
            #expect(steps[step: name].status == 7, "\(name): \(steps[step: name].err)")
            #expect(steps[step: name].err.hasPrefix("vault: error: the disk holding the vault file '\(cli.vaultPath)' is full: nothing was changed\nvault: hint: "))
        }
        // Git is told (stderr, which git shows): a full disk is something to fix.
        #expect(steps[step: "git"].out.contains("password=glpat-readonly-token-1\n"))
        #expect(steps[step: "git"].err == Self.diskFullWarning)
        // With room again: one entry, as it was, and nothing recorded meanwhile.
        #expect(steps[step: "list"].status == 0 && steps[step: "list"].out.contains("\"folded\"") && !steps[step: "list"].out.contains("other"))
        #expect(steps[step: "verify"].status == 0, "\(steps[step: "verify"].out)")
        #expect(steps[step: "log"].out.components(separatedBy: "\"action\":").count == before.count + 1)
    }

    @Test func throughTheAgentAFullDiskStillHandsOutTheTokenAndAChangeFailsAtItsCommit() throws {
        let cli = try Self.vault()
        // The agent opens the vault while there is room: the log and its index exist, and the
        // writes fail only when SQLite finds no room for their pages.
        let steps = try MountNamespace.steps(cli, setup: MountNamespace.smallDisk(kilobytes: 1024), """
            step unlock vault unlock
            \(MountNamespace.fillDisk)
            export -n TOKENVAULT_PASSPHRASE
            step get vault get gitlab-ci
            step json vault get gitlab-ci --json
            printf %s glpat-another-token-22 | step add vault add other
            step lock vault lock
            rm "$D/filler"
            export TOKENVAULT_PASSPHRASE
            step list vault list --json
            step verify vault verify
            """)
        #expect(steps[step: "unlock"].status == 0)
        #expect(steps[step: "get"].status == 0 && steps[step: "get"].out == "glpat-readonly-token-1\n")
        #expect(steps[step: "get"].err == Self.diskFullWarning)
        #expect(steps[step: "json"].status == 0 && steps[step: "json"].err == Self.diskFullWarning)
        #expect(steps[step: "add"].status == 7 && steps[step: "add"].err.contains("is full: nothing was changed"))
        #expect(steps[step: "list"].status == 0 && !steps[step: "list"].out.contains("other"))
        #expect(steps[step: "verify"].status == 0, "\(steps[step: "verify"].out)")
    }
}
