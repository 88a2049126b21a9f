import Foundation
import Testing
@testable import TokenVault

/// A vault at rest is one file: after every write command, with the agent still holding the
/// file open, a plain copy of `vault.db` alone (no `-wal`) holds the change.
@Suite struct AtRestTests {
    /// Every write command, with the change it records in the activity log.
    static let writes: [(command: String, action: String)] = [
        ("add", "add"), ("edit", "edit"), ("edit --secret", "replace token"), ("rename", "rename"), ("rm", "trash"),
        ("restore", "restore"), ("rm --purge", "purge"), ("history --restore", "restore version 1"),
        ("import", "add"), ("passwd", "passphrase change"), ("config", "config"), ("check", "review"),
        ("git store", "add"), ("git erase", "rejected by git"), ("gitlab rotate", "rotate at GitLab"),
    ]

    /// The change events (not reads) of a vault's log, as (sequence, action).
    static func changes(_ cli: CLI, vault path: String? = nil) throws -> [(Int, String)] {
        let r = cli.vault((path.map { ["--vault", $0] } ?? []) + ["log", "--json"])
        #expect(r.status == 0, "log: \(r.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any])
        return (object["events"] as? [[String: Any]] ?? []).compactMap { event in
            guard let sequence = event["sequence"] as? Int, let action = event["action"] as? String,
                  action != "read", !action.hasPrefix("read ") else { return nil }
            return (sequence, action)
        }
    }

    /// Runs the write command `command` on a vault that has what it needs (an entry with
    /// history, one in the trash), with `cli`'s agent running.
    static func perform(_ command: String, _ cli: CLI, gitlab: GitLabWorld?) -> RunResult {
        let helper = { (operation: String, lines: [String]) in
            run([Binary.path("git-credential-vault"), operation], environment: cli.environment,
                stdin: .data((lines + ["", ""]).joined(separator: "\n")))
        }
        switch command {
        case "add": return cli.add("new", token: "glpat-AtRestNew000000000000")
        case "edit": return cli.vault(["edit", "ci", "--note", "changed"])
        case "edit --secret": return cli.vault(["edit", "ci", "--secret"], stdin: .data("glpat-AtRestThird0000000000"))
        case "rename": return cli.vault(["rename", "ci", "ci2"])
        case "rm": return cli.vault(["rm", "ci", "--yes"])
        case "restore": return cli.vault(["restore", "old"])
        case "rm --purge": return cli.vault(["rm", "--purge", "old", "--yes"])
        case "history --restore": return cli.vault(["history", "ci", "--restore", "1"])
        case "import":
            let file = cli.home + "/creds"
            _ = FileManager.default.createFile(atPath: file, contents: Data("https://u:glpat-AtRestImp0000000000@g.example\n".utf8),
                                               attributes: [.posixPermissions: 0o600])
            return cli.vault(["import", "git-credentials", file])
        case "passwd": return cli.vault(["passwd"], env: ["TOKENVAULT_NEW_PASSPHRASE": "the next passphrase"])
        case "config": return cli.vault(["config", "trash-days", "11"])
        case "check": return cli.vault(["check"])
        case "git store":
            return helper("store", ["protocol=https", "host=stored.example", "username=u", "password=glpat-AtRestStored00000000"])
        case "git erase":
            return helper("erase", ["protocol=https", "host=h.example", "password=glpat-AtRestSecond000000000"])
        case "gitlab rotate":
            guard let gitlab else { preconditionFailure("rotating needs the GitLab stand-in") }
            return gitlab.gitlab(["rotate", "ci"])
        default: preconditionFailure("no write command '\(command)'")
        }
    }

    @Test(arguments: writes)
    func aChangeIsInAPlainCopyOfTheVaultFileWhileTheAgentRuns(command: String, action: String) throws {
        let gitlab = command == "gitlab rotate" ? try GitLabWorld() : nil
        let cli = gitlab?.cli ?? CLI()
        if let gitlab {
            gitlab.addEntry()  // The token the stand-in knows, kept current.
        } else {
            cli.add("ci", token: "glpat-AtRestFirst0000000000", ["--url", "https://h.example"])
            #expect(cli.vault(["edit", "ci", "--secret"], stdin: .data("glpat-AtRestSecond000000000")).status == 0)
        }
        cli.add("old", token: "glpat-AtRestOld000000000000")
        #expect(cli.vault(["rm", "old", "--yes"]).status == 0)
        #expect(cli.vault(["unlock"]).status == 0)
        // The agent reads too (its reads are recorded in the log): its connection stays open.
        #expect(cli.vault(["get", "ci"]).status == 0)

        let r = Self.perform(command, cli, gitlab: gitlab)
        // `vault check` exits 8 when it has something to say (the entry without an expiry date).
        #expect(r.status == 0 || (command == "check" && r.status == 8), "\(command): \(r.err)")
        if command == "passwd" { cli.environment["TOKENVAULT_PASSPHRASE"] = "the next passphrase" }
        // The agent still runs, and still has the file open.
        #expect(cli.vault(["status"]).status == 0)

        let folder = cli.home + "/copy"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        #expect(run(["/bin/cp", cli.vaultPath, folder + "/vault.db"], environment: ["PATH": "/usr/bin:/bin"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: folder + "/vault.db-wal"))

        let live = try Self.changes(cli)
        let last = try #require(live.last)
        #expect(last.1 == action, "\(command) recorded \(live)")
        let copied = try Self.changes(cli, vault: folder + "/vault.db")
        #expect(copied.last.map { $0 == last } == true, "\(command): the copy of vault.db ends at \(copied.suffix(2)), the vault at \(last)")
    }
}
