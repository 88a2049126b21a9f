import Foundation
import Testing
@testable import TokenVault

/// vault rm, the trash, restore, purge and the vault's settings.
@Suite struct TrashTests {
    static let token = "glpat-Trash0000000000000"

    @Test func rmMovesToTheTrashAndRestoreBringsItBack() throws {
        let cli = CLI()
        cli.add("ci", token: Self.token, ["--url", "https://h.example"])
        let removed = cli.vault(["rm", "ci", "--yes"])
        #expect(removed.status == 0)
        #expect(removed.err.contains("moved 'ci' to the trash for 30 days"))
        // Given to nobody: not vault get, not vault list, not git.
        let get = cli.vault(["get", "ci"])
        #expect(get.status == 2)
        #expect(get.err.contains("'ci' is in the trash"))
        #expect(get.err.contains("vault: hint: vault restore ci"))
        #expect(get.out.isEmpty)
        #expect(cli.vault(["list", "--json"]).out == "[]\n")
        #expect(cli.vault(["list", "--trash", "--json"]).out.contains("\"name\":\"ci\""))
        let git = run([Binary.path("git-credential-vault"), "get"], environment: cli.environment,
                      stdin: .data("protocol=https\nhost=h.example\n\n"))
        #expect(git.out.isEmpty)
        // The name stays taken while the entry is in the trash.
        #expect(cli.add("ci", token: "other").status == 1)

        #expect(cli.vault(["restore", "ci"]).status == 0)
        #expect(cli.vault(["get", "ci"]).out == Self.token + "\n")
    }

    @Test func importDoesNotCountOnTheTrash() throws {
        let cli = CLI()
        cli.add("gl", token: "glpat-Imported0000000000", ["--url", "https://gitlab.com", "--username", "u"])
        #expect(cli.vault(["rm", "gl", "--yes"]).status == 0)
        let file = cli.home + "/creds"
        _ = FileManager.default.createFile(atPath: file, contents: Data("https://u:glpat-Imported0000000000@gitlab.com\n".utf8),
                                           attributes: [.posixPermissions: 0o600])
        let r = cli.vault(["import", "git-credentials", file])
        #expect(r.status == 0)
        #expect(!r.err.contains("already in the vault"))
        let live = try cli.library().entries().filter { $0.deleted == nil }
        #expect(live.map(\.name) == ["u@gitlab.com"])
    }

    @Test func purgeDestroysForGood() throws {
        let cli = CLI()
        cli.add("ci", token: Self.token)
        try cli.library().update("ci", secret: Secret("glpat-Second00000000000"))
        #expect(cli.vault(["rm", "--purge", "ci"]).status == 64, "without a terminal, --yes is required")
        #expect(cli.vault(["rm", "--purge", "ci", "--yes"]).status == 0)
        #expect(try cli.library().names().isEmpty)
        #expect(cli.vault(["restore", "ci"]).status == 2)
        for (path, data) in cli.files() { #expect(!data.contains(bytes: "glpat-"), "\(path)") }
    }

    @Test func theTrashIsEmptiedAfterItsRetention() throws {
        let cli = CLI()
        cli.add("old", token: "glpat-OldTrash0000000000")
        cli.add("recent", token: "glpat-RecentTrash0000000")
        cli.add("other", token: "glpat-Other000000000000")
        let vault = try cli.library()
        try vault.update("old") { $0.deleted = Timestamp.now().adding(days: -31) }
        try vault.update("recent") { $0.deleted = Timestamp.now().adding(days: -29) }
        // The next rm empties what is older than 30 days.
        let r = cli.vault(["rm", "other", "--yes"])
        #expect(r.err.contains("destroyed 'old'"))
        #expect(try vault.names() == ["other", "recent"])
        // A shorter retention.
        #expect(cli.vault(["config", "trash-days", "7"]).status == 0)
        #expect(cli.vault(["config", "trash-days"]).out == "7\n")
        #expect(try vault.settings().trashRetention == .seconds(7 * 86_400))
        try vault.emptyTrash()
        #expect(try vault.names() == ["other"])
    }

    @Test func settingsAreKeptEncryptedAndUsedByCheck() throws {
        let cli = CLI()
        #expect(cli.vault(["config"]).out == "rotate-every 90d\ntrash-days 30\nlog-events 10000\nlog-days 365\nagent-autostart on\n")
        #expect(cli.vault(["config", "log-events", "500"]).status == 0)
        #expect(try cli.library().settings().logMaxEvents == 500)
        #expect(cli.vault(["config", "log-days", "0"]).status == 64)
        #expect(cli.vault(["config", "rotate-every", "10d"]).status == 0)
        #expect(cli.vault(["config", "rotate-every", "1h"]).status == 64)
        #expect(cli.vault(["config", "colour", "blue"]).status == 64)
        cli.add("ci", token: "glpat-Config00000000000", ["--url", "https://gitlab.example.com", "--expires", "2099-01-01"])
        let check = cli.vault(["check", "--now", Timestamp.now().adding(days: 12).dateString])
        #expect(check.out.contains("ci: the token is"))
        #expect(check.out.contains("rotate every 10 days"))
    }
}
