import Foundation
import Testing
@testable import TokenVault

/// Prompts on a real pseudo-terminal: nothing typed is echoed.
@Suite struct TerminalTests {
    @Test func initAsksTwiceWithoutEcho() throws {
        let cli = CLI(initialise: false)
        var env = cli.environment
        env["TOKENVAULT_PASSPHRASE"] = nil
        let secret = "tty-passphrase-do-not-echo"
        let p = PTYProcess([Binary.path("vault"), "init", "--kdf", "minimum"], environment: env)
        #expect(p.expect("New passphrase for"))
        p.send(secret + "\n")
        #expect(p.expect("Repeat to confirm: "))
        p.send(secret + "\n")
        #expect(p.wait() == 0)
        #expect(p.text.contains("created"))
        #expect(!p.text.contains(secret), "echoed: \(p.text)")
        let vault = try Vault.open(at: cli.vaultPath)
        try vault.unlock(passphrase: Secret(secret))
    }

    @Test func thePromptShowsAVaultPathWithEscapeSequencesEscaped() throws {
        let cli = CLI(initialise: false)
        var env = cli.environment
        env["TOKENVAULT_PASSPHRASE"] = nil
        // A folder whose name would set the window title if printed raw.
        let folder = cli.home + "/v\u{1B}]0;pwned\u{07}"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        env["TOKENVAULT_PATH"] = folder + "/vault.db"
        let p = PTYProcess([Binary.path("vault"), "init", "--kdf", "minimum"], environment: env)
        #expect(p.expect("New passphrase for"))
        p.send("one\n")
        #expect(p.expect("Repeat"))
        p.send("two\n")
        _ = p.wait()
        #expect(p.text.contains("v\\e]0;pwned\\x07/vault.db"), "\(p.text)")
        #expect(!p.text.contains("\u{1B}]0;"), "\(p.text)")
    }

    @Test func mismatchedConfirmationCreatesNothing() throws {
        let cli = CLI(initialise: false)
        var env = cli.environment
        env["TOKENVAULT_PASSPHRASE"] = nil
        let p = PTYProcess([Binary.path("vault"), "init", "--kdf", "minimum"], environment: env)
        #expect(p.expect("New passphrase"))
        p.send("one\n")
        #expect(p.expect("Repeat"))
        p.send("two\n")
        #expect(p.wait() != 0)
        #expect(p.text.contains("differ"))
        #expect(!FileManager.default.fileExists(atPath: cli.vaultPath))
    }

    @Test func addPromptsForTheTokenWithoutEcho() throws {
        let cli = CLI()
        let token = "glpat-typed-at-the-prompt-123"
        let p = PTYProcess([Binary.path("vault"), "add", "typed"], environment: cli.environment)
        #expect(p.expect("Token for typed: "))
        p.send(token + "\n")
        #expect(p.wait() == 0)
        #expect(!p.text.contains(token), "echoed: \(p.text)")
        #expect(try cli.library().secret(named: "typed").revealString() == token)
        // The terminal's echo is back on afterwards: the prompt restored the settings.
    }

    @Test func passphrasePromptOnTheTerminal() throws {
        let cli = CLI()
        cli.add("a", token: "token-a")
        var env = cli.environment
        env["TOKENVAULT_PASSPHRASE"] = nil
        let p = PTYProcess([Binary.path("vault"), "list"], environment: env)
        #expect(p.expect("Passphrase for"))
        p.send(CLI.passphrase + "\n")
        #expect(p.wait() == 0)
        #expect(p.text.contains("NAME"))
        #expect(!p.text.contains(CLI.passphrase))
    }

    @Test func rmAsksBeforeDeleting() throws {
        let cli = CLI()
        cli.add("keep", token: "token-keep")
        let no = PTYProcess([Binary.path("vault"), "rm", "keep"], environment: cli.environment)
        #expect(no.expect("Remove 'keep' and its token? [y/N] "))
        no.send("n\n")
        #expect(no.wait() != 0)
        #expect(try cli.library().names() == ["keep"])

        let yes = PTYProcess([Binary.path("vault"), "rm", "keep"], environment: cli.environment)
        #expect(yes.expect("[y/N]"))
        yes.send("y\n")
        #expect(yes.wait() == 0)
        #expect(try cli.library().entry(named: "keep").deleted != nil)

        // Destroying asks too.
        let purge = PTYProcess([Binary.path("vault"), "rm", "--purge", "keep"], environment: cli.environment)
        #expect(purge.expect("for good? [y/N]"))
        purge.send("y\n")
        #expect(purge.wait() == 0)
        #expect(try cli.library().names().isEmpty)

        // Without a terminal, --yes is required.
        cli.add("keep", token: "token-keep")
        let r = cli.vault(["rm", "keep"])
        #expect(r.status == 64)
        #expect(r.err.contains("--yes"))
        #expect(try cli.library().entry(named: "keep").deleted == nil)
    }
}

/// `vault export --plain-json` never prints tokens on a terminal.
@Suite struct PlainJSONTerminalTests {
    @Test func plainJSONRefusesATerminal() throws {
        let cli = CLI()
        let token = "glpat-plain-json-never-on-a-tty"
        cli.add("plain", token: token)
        let p = PTYProcess([Binary.path("vault"), "export", "--plain-json"], environment: cli.environment)
        #expect(p.wait() == 64)
        #expect(p.text.contains("standard output is a terminal"), "\(p.text)")
        #expect(!p.text.contains(token))
        // Through a pipe it is the documented JSON, with a warning on stderr.
        let r = cli.vault(["export", "--plain-json"])
        #expect(r.status == 0)
        #expect(r.out.hasPrefix("{\"format\":\"tokenvault-plain-export\",\"version\":1,"))
        #expect(r.out.contains("\"secret\":\"\(token)\""))
        #expect(r.err.contains("vault: warning: "))
        #expect(cli.vault(["export", "--plain-json", "-o", cli.home + "/x.json"]).status == 64)
        #expect(!FileManager.default.fileExists(atPath: cli.home + "/x.json"))
    }
}
