import Foundation
import Testing
@testable import TokenVault

/// show, edit, rename, passwd, completions, --version, get --field/--json, list filters.
@Suite struct LifecycleCommandTests {
    static let token = "glpat-Ab12Cd34Ef56Gh78Ij90"

    func fixture() -> CLI {
        let cli = CLI()
        cli.add("gitlab-ci", token: Self.token, ["--url", "https://gitlab.com/group/project", "--username", "oauth2",
                                                  "--scopes", "read_api", "--expires", "2099-06-30", "--note", "runner"])
        cli.add("github", token: "ghp_0123456789abcdefghijABCDEFGHIJ012345", ["--url", "https://github.com"])
        cli.add("artifacts", token: "plain-secret", ["--url", "https://artifacts.example.com:8443"])
        return cli
    }

    @Test func showHidesTheTokenUnlessRevealed() throws {
        let cli = fixture()
        let shown = cli.vault(["show", "gitlab-ci"])
        #expect(shown.status == 0)
        #expect(shown.out.contains("name:       gitlab-ci\n"))
        #expect(shown.out.contains("url:        https://gitlab.com/group/project\n"))
        #expect(shown.out.contains("expires:    2099-06-30"))
        #expect(shown.out.contains("token:      <hidden: use --reveal>"))
        #expect(!shown.out.contains(Self.token))
        let revealed = cli.vault(["show", "gitlab-ci", "--reveal"])
        #expect(revealed.out.hasSuffix("token:      \(Self.token)\n"))

        let json = try JSONSerialization.jsonObject(with: Data(cli.vault(["show", "gitlab-ci", "--json"]).stdout)) as? [String: Any]
        #expect(json?["name"] as? String == "gitlab-ci")
        #expect(json?["notes"] as? String == "runner")
        #expect(json?["secret"] == nil)
        let withSecret = try JSONSerialization.jsonObject(with: Data(cli.vault(["show", "gitlab-ci", "--json", "--reveal"]).stdout)) as? [String: Any]
        #expect(withSecret?["secret"] as? String == Self.token)
    }

    @Test func getFieldsAndJSON() throws {
        let cli = fixture()
        let expected = ["username": "oauth2", "url": "https://gitlab.com/group/project", "host": "gitlab.com",
                        "scopes": "read_api", "expires": "2099-06-30", "kind": "gitlab"]
        for (field, value) in expected {
            let r = cli.vault(["get", "gitlab-ci", "--field", field])
            #expect(r.out == value + "\n", "\(field)")
        }
        #expect(cli.vault(["get", "gitlab-ci", "--field", "password"]).status == 64)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(cli.vault(["get", "gitlab-ci", "--json"]).stdout)) as? [String: Any])
        #expect(json["secret"] as? String == Self.token)
        #expect(json["username"] as? String == "oauth2")
        #expect(json["scopes"] as? [String] == ["read_api"])
        #expect(json["expired"] as? Bool == false)
        #expect(cli.vault(["get", "github", "--field", "kind"]).out == "github\n")
        #expect(cli.vault(["get", "artifacts", "--field", "kind"]).out == "generic\n")
        #expect(cli.vault(["get", "artifacts", "--field", "host"]).out == "artifacts.example.com:8443\n")
    }

    @Test func listFilters() throws {
        let cli = fixture()
        cli.add("soon", token: "glpat-soon", ["--url", "https://gitlab.com", "--expires", Timestamp.now().adding(days: 10).dateString])
        func names(_ arguments: [String]) throws -> [String] {
            let r = cli.vault(["list", "--json"] + arguments)
            let array = try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [[String: Any]] ?? []
            return array.compactMap { $0["name"] as? String }
        }
        #expect(try names([]) == ["artifacts", "github", "gitlab-ci", "soon"])
        #expect(try names(["--host", "gitlab.com"]) == ["gitlab-ci", "soon"])
        #expect(try names(["--host", "artifacts.example.com:8443"]) == ["artifacts"])
        #expect(try names(["--kind", "github"]) == ["github"])
        #expect(try names(["--expiring", "30d"]) == ["soon"])
        #expect(try names(["--expiring", "1w"]).isEmpty)
        #expect(cli.vault(["list", "--expiring", "soon"]).status == 64)
        let table = cli.vault(["list"])
        #expect(table.out.hasPrefix("NAME"))
        #expect(table.out.contains("LAST USED"))
        #expect(table.out.contains("in 10 days") || table.out.contains("in 9 days"))
        #expect(!table.out.contains("\u{1B}["), "no colour when stdout is not a terminal")
    }

    @Test func editChangesOnlyWhatIsGiven() throws {
        let cli = fixture()
        let edited = cli.vault(["edit", "gitlab-ci", "--scopes", "api,read_repository", "--no-expiry"])
        #expect(edited.status == 0, "\(edited.err)")
        let entry = try cli.library().entry(named: "gitlab-ci")
        #expect(entry.scopes == ["api", "read_repository"])
        #expect(entry.expires == nil)
        #expect(entry.username == "oauth2")
        #expect(entry.notes == "runner")
        #expect(try cli.library().secret(named: "gitlab-ci").revealString() == Self.token)

        let replaced = cli.vault(["edit", "gitlab-ci", "--secret"], stdin: .data("glpat-replacement-value\n"))
        #expect(replaced.status == 0)
        #expect(cli.vault(["get", "gitlab-ci"]).out == "glpat-replacement-value\n")
        #expect(!replaced.err.contains("glpat-replacement-value"))

        #expect(cli.vault(["edit", "gitlab-ci"]).status == 64)
        #expect(cli.vault(["edit", "gitlab-ci", "--expires", "2030-01-01", "--no-expiry"]).status == 64)
        #expect(cli.vault(["edit", "gitlab-ci", "glpat-0123456789abcdefghij"]).status == 64)
        let missing = cli.vault(["edit", "gitlab-cj", "--note", "x"])
        #expect(missing.status == 2)
        #expect(missing.err.contains("did you mean gitlab-ci?"))
    }

    @Test func renameKeepsTheToken() throws {
        let cli = fixture()
        #expect(cli.vault(["rename", "gitlab-ci", "gitlab-runner"]).status == 0)
        #expect(cli.vault(["get", "gitlab-runner"]).out == Self.token + "\n")
        #expect(cli.vault(["get", "gitlab-ci"]).status == 2)
        let taken = cli.vault(["rename", "gitlab-runner", "github"])
        #expect(taken.status == 1)
        #expect(taken.err.contains("already exists"))
        #expect(cli.vault(["rename", "gitlab-runner", "bad name"]).status == 64)
    }

    @Test func passwdChangesThePassphrase() throws {
        let cli = fixture()
        let changed = cli.vault(["passwd", "--kdf", "interactive"], env: ["TOKENVAULT_NEW_PASSPHRASE": "a new passphrase"])
        #expect(changed.status == 0, "\(changed.err)")
        #expect(!changed.err.contains("a new passphrase"))
        #expect(cli.vault(["get", "gitlab-ci"]).status == 3)
        let after = cli.vault(["get", "gitlab-ci"], env: ["TOKENVAULT_PASSPHRASE": "a new passphrase"])
        #expect(after.out == Self.token + "\n")
        let vault = try Vault.open(at: cli.vaultPath)
        #expect(try vault.kdfParameters() == .interactive)
        // From a file descriptor, for scripts.
        let again = cli.vault(["passwd", "--new-passphrase-fd", "7", "--kdf", "minimum"],
                              env: ["TOKENVAULT_PASSPHRASE": "a new passphrase"], extraFDs: [7: "third\n"])
        #expect(again.status == 0, "\(again.err)")
        #expect(cli.vault(["get", "github"], env: ["TOKENVAULT_PASSPHRASE": "third"]).status == 0)
        // Without a new passphrase source and no terminal: refused, nothing changed.
        let none = cli.vault(["passwd"], env: ["TOKENVAULT_PASSPHRASE": "third"])
        #expect(none.status == 3)
        #expect(cli.vault(["get", "github"], env: ["TOKENVAULT_PASSPHRASE": "third"]).status == 0)
    }

    @Test func initUsesTheModerateCostByDefault() throws {
        let cli = CLI(initialise: false)
        let r = cli.vault(["init"])
        #expect(r.status == 0, "\(r.err)")
        #expect(try Vault.open(at: cli.vaultPath).kdfParameters() == .moderate)
        #expect(cli.vault(["init"]).status == 1, "a second init must not overwrite the vault")
        #expect(cli.vault(["init"]).err.contains("already exists"))
    }

    @Test func completionsVersionAndHelp() throws {
        let cli = CLI(initialise: false)
        for shell in ["bash", "zsh", "fish"] {
            let r = cli.vault(["completions", shell])
            #expect(r.status == 0)
            #expect(r.out.contains("vault"))
            #expect(r.out.contains("rename"))
        }
        #expect(cli.vault(["completions", "tcsh"]).status == 64)
        let version = cli.vault(["--version"])
        #expect(version.status == 0)
        #expect(version.out.split(separator: ".").count == 3)
        let help = cli.vault(["help"])
        #expect(help.status == 0)
        #expect(help.out.contains("Exit codes:"))
        for code in ["0", "1", "2", "3", "4", "5", "6", "8", "64"] { #expect(help.out.contains("\n  \(code) ")) }
        for command in ["init", "add", "get", "list", "show", "edit", "rename", "rm", "history", "restore", "check", "log",
                        "config", "import", "git-credential", "unlock", "lock", "status", "agent", "passwd", "completions"] {
            let sub = cli.vault([command, "--help"])
            #expect(sub.status == 0, "\(command)")
            #expect(sub.out.contains("Examples:"), "\(command) has no examples")
        }
    }

    @Test func verboseNeverShowsASecret() throws {
        let cli = fixture()
        for arguments in [["get", "gitlab-ci", "-v"], ["list", "--verbose"], ["show", "gitlab-ci", "-v"]] {
            let r = cli.vault(arguments)
            #expect(r.status == 0)
            #expect(r.err.contains("vault: passphrase from TOKENVAULT_PASSPHRASE"))
            #expect(r.err.contains("unlocked: Argon2id"))
            #expect(!r.err.contains(Self.token) && !r.err.contains(CLI.passphrase))
        }
    }

    @Test func writingToAClosedOrFullStdoutFails() throws {
        let cli = fixture()
        let r = run([Binary.path("vault"), "get", "gitlab-ci"], environment: cli.environment, stdoutPath: "/dev/full")
        #expect(r.status == 1)
        #expect(r.err.contains("cannot write to standard output"))
    }

    @Test func coreDumpsAreOffWhileAKeyIsHeld() throws {
        let cli = CLI()
        var env = cli.environment
        env["TOKENVAULT_PASSPHRASE"] = nil
        // The process waits at its passphrase prompt: read its limits from /proc.
        let p = PTYProcess([Binary.path("vault"), "list"], environment: env)
        #expect(p.expect("Passphrase for"))
        let limits = (try? String(contentsOfFile: "/proc/\(p.pid)/limits", encoding: .utf8)) ?? ""
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }
        #expect(core?.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2).joined(separator: " ") == "0 0")
        p.send(CLI.passphrase + "\n")
        #expect(p.wait() == 0)
    }
}
