import Foundation
import Testing
@testable import TokenVault

/// git at a terminal, with no agent running: a real `git clone` over HTTP on a pseudo-terminal,
/// the helper configured, and what the terminal shows counted.
@Suite(.serialized) struct GitPromptTests {
    static let token = "glpat-PromptServerToken0001"
    static let prompt = "Passphrase for"

    /// A server that wants `token`, a vault entry that holds it, and the environment of a person
    /// at a terminal: no passphrase in the environment, git allowed to prompt.
    func world() throws -> (GitWorld, [String: String]) {
        let world = try GitWorld(repos: ["p.git"], access: ["*": [["*", Self.token]]])
        world.cli.add("local", token: Self.token, ["--url", world.base, "--username", "oauth2"])
        var environment = world.cli.environment
        environment["TOKENVAULT_PASSPHRASE"] = nil
        environment["GIT_TERMINAL_PROMPT"] = nil
        return (world, environment)
    }

    func git(_ world: GitWorld, _ arguments: [String], _ environment: [String: String]) -> PTYProcess {
        PTYProcess(["/usr/bin/git"] + arguments, environment: environment)
    }

    /// `vault status` without a passphrase: exit 0 and its line when an agent holds the key.
    func status(_ world: GitWorld) -> RunResult {
        world.cli.vault(["status"], env: ["TOKENVAULT_PASSPHRASE": nil])
    }

    @Test func oneCloneAtATerminalAsksOnceAndLeavesTheAgentRunning() throws {
        let (world, environment) = try world()
        #expect(status(world).status == 3)
        let clone = git(world, ["clone", "-q", world.base + "/p.git", world.cli.home + "/work/p"], environment)
        // git's `get` asks; its `store` after the clone finds the agent. And git does not wait on
        // the agent the helper started (it holds none of git's descriptors).
        let exit = clone.drive(answering: Self.prompt, with: [CLI.passphrase], timeout: 60)
        #expect(exit == 0, "\(clone.text)")
        #expect(clone.count(Self.prompt) == 1, "\(clone.text)")
        #expect(!clone.text.contains(CLI.passphrase))
        #expect(!clone.text.contains("vault:"), "\(clone.text)")
        let unlocked = status(world)
        #expect(unlocked.status == 0, "\(unlocked.out)\(unlocked.err)")
        #expect(unlocked.out.contains("(idle timeout 900 s)"))
        // The next git operation asks nothing.
        let fetch = git(world, ["-C", world.cli.home + "/work/p", "fetch", "-q"], environment)
        #expect(fetch.drive(answering: Self.prompt, with: [], timeout: 60) == 0, "\(fetch.text)")
        #expect(fetch.count(Self.prompt) == 0)
    }

    @Test func aTypoThenTheRightPassphraseWorks() throws {
        let (world, environment) = try world()
        let clone = git(world, ["clone", "-q", world.base + "/p.git", world.cli.home + "/work/p"], environment)
        let exit = clone.drive(answering: Self.prompt, with: ["correct horse battery typo", CLI.passphrase], timeout: 60)
        #expect(exit == 0, "\(clone.text)")
        #expect(clone.count(Self.prompt) == 2, "\(clone.text)")
        #expect(clone.count("vault: error: wrong passphrase, try again") == 1, "\(clone.text)")
        #expect(status(world).status == 0)
        #expect(try world.cli.library().entry(named: "local").lastUsed != nil)
    }

    @Test func threeWrongPassphrasesAreAClearErrorAndGitGoesOn() throws {
        let (world, base) = try world()
        // git's own askpass answers what the vault did not: git went on without the vault.
        let askpass = world.cli.script("askpass.sh", """
            #!/bin/sh
            echo "$1" >> "$HOME/askpass-called"
            case "$1" in Username*) echo oauth2;; *) echo \(Self.token);; esac

            """)
        var environment = base
        environment["GIT_ASKPASS"] = askpass
        let clone = git(world, ["clone", "-q", world.base + "/p.git", world.cli.home + "/work/p"], environment)
        // Three typos for `get`; then git's `store` asks again, and is answered.
        let exit = clone.drive(answering: Self.prompt, with: ["typo one", "typo two", "typo three", CLI.passphrase], timeout: 60)
        #expect(exit == 0, "\(clone.text)")
        #expect(clone.count("vault: error: wrong passphrase, try again") == 2, "\(clone.text)")
        #expect(clone.count("vault: error: wrong passphrase, 3 times: git goes on without the vault") == 1, "\(clone.text)")
        #expect(FileManager.default.fileExists(atPath: world.cli.home + "/askpass-called"))
        #expect(clone.count(Self.prompt) == 4, "\(clone.text)")
        for typo in ["typo one", "typo two", "typo three"] { #expect(!clone.text.contains(typo)) }
        // The passphrase typed for `store` started the agent.
        #expect(status(world).status == 0)
        #expect(world.cli.vault(["lock"]).status == 0)
        // Not a retry anywhere else: a wrong TOKENVAULT_PASSPHRASE is read once, and git's `get`
        // still exits 0 so that git carries on.
        let r = run([Binary.path("git-credential-vault"), "get"], environment: world.cli.environment.merging(["TOKENVAULT_PASSPHRASE": "wrong"]) { $1 },
                    stdin: .data("protocol=http\nhost=127.0.0.1:\(world.port)\n\n"))
        #expect(r.status == 0)
        #expect(r.out.isEmpty)
        #expect(r.err == "vault: error: wrong passphrase\n")
    }

    @Test func withAutostartOffNoAgentStartsAndTheNextGitCallAsksAgain() throws {
        let (world, environment) = try world()
        let off = world.cli.vault(["config", "agent-autostart", "off"])
        #expect(off.status == 0, "\(off.err)")
        let clone = git(world, ["clone", "-q", world.base + "/p.git", world.cli.home + "/work/p"], environment)
        // `get`, then `store`: each asks, as before the setting existed.
        let exit = clone.drive(answering: Self.prompt, with: [CLI.passphrase, CLI.passphrase], timeout: 60)
        #expect(exit == 0, "\(clone.text)")
        #expect(clone.count(Self.prompt) == 2, "\(clone.text)")
        #expect(status(world).status == 3)
        let fetch = git(world, ["-C", world.cli.home + "/work/p", "fetch", "-q"], environment)
        #expect(fetch.drive(answering: Self.prompt, with: [CLI.passphrase, CLI.passphrase], timeout: 60) == 0, "\(fetch.text)")
        #expect(fetch.count(Self.prompt) >= 1)
        #expect(status(world).status == 3)
        // `vault unlock` stays the explicit way.
        #expect(world.cli.vault(["unlock"]).status == 0)
        #expect(status(world).status == 0)
    }

    @Test func thePassphraseFromTheEnvironmentStartsNoAgent() throws {
        let (world, _) = try world()
        let r = world.fill("protocol=http\nhost=127.0.0.1:\(world.port)\n\n")
        #expect(r.out.contains("password=\(Self.token)\n"))
        #expect(status(world).status == 3)
    }

    @Test func theLockedHintNamesVaultUnlockAndSaysWhenTheAgentDidNotAnswer() throws {
        let cli = CLI()
        cli.add("gl", token: Self.token, ["--url", "https://h.example"])
        let locked: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil, "GIT_TERMINAL_PROMPT": "0"]
        let plain = cli.gitHelperGet(host: "h.example", env: locked)
        #expect(plain.status == 0 && plain.out.isEmpty)
        #expect(plain.err.hasPrefix("vault: hint: the vault is locked and there is no passphrase source"), "\(plain.err)")
        #expect(plain.err.contains("run 'vault unlock'"))
        #expect(!plain.err.contains("did not answer"))
        #expect(plain.err.split(separator: "\n").count == 1)

        // An agent that accepts and never answers.
        let hung = try HungAgent(cli)
        #expect(hung.process.firstLine == "ready")
        let silent = cli.gitHelperGet(host: "h.example", env: locked, timeout: 20)
        #expect(!silent.timedOut && silent.status == 0 && silent.out.isEmpty)
        #expect(silent.err.hasPrefix("vault: hint: the vault is locked (its agent did not answer)"), "\(silent.err)")
        #expect(silent.err.contains("run 'vault unlock'"))
        #expect(silent.err.split(separator: "\n").count == 1)
    }
}

/// `vault config agent-autostart`.
@Suite struct AgentAutostartSettingTests {
    @Test func onByDefaultAndTakesOnOrOffOnly() throws {
        let cli = CLI()
        #expect(cli.vault(["config", "agent-autostart"]).out == "on\n")
        #expect(cli.vault(["config"]).out.contains("agent-autostart on\n"))
        let wrong = cli.vault(["config", "agent-autostart", "maybe"])
        #expect(wrong.status == 64)
        #expect(wrong.err.contains("agent-autostart takes on or off"))
        #expect(try cli.library().settings().agentAutostart)
        #expect(cli.vault(["config", "agent-autostart", "off"]).status == 0)
        #expect(cli.vault(["config", "agent-autostart"]).out == "off\n")
        #expect(try !cli.library().settings().agentAutostart)
        // The other settings are untouched, and the change is in the activity log.
        #expect(try cli.library().settings().trashRetention == .seconds(30 * 86_400))
        #expect(cli.vault(["log"]).out.contains("agent-autostart on → off"))
        #expect(cli.vault(["config", "agent-autostart", "on"]).status == 0)
        #expect(try cli.library().settings().agentAutostart)
    }
}
