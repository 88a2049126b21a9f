import Foundation
import Testing
@testable import TokenVault

extension CLI {
    /// Runs the built `vault` front end through a link named `name` (as `make install` installs
    /// it as `tokenvault`), with this fixture's environment plus `env` (a nil value unsets).
    @discardableResult
    func invoked(as name: String, _ arguments: [String], stdin: Stdin = .devNull, env: [String: String?] = [:]) -> RunResult {
        let folder = home + "/names"
        let link = folder + "/" + name
        if !FileManager.default.fileExists(atPath: link) {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try? FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Binary.path("vault"))
        }
        var environment = self.environment
        for (key, value) in env { environment[key] = value }
        return run([link] + arguments, environment: environment, stdin: stdin)
    }
}

/// Messages, hints and help say the name the program was invoked as: `tokenvault` installed
/// beside (or instead of) `vault`, any other name `vault`, never the name as it came.
@Suite struct ProgramNameTests {
    let noPassphrase: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]

    /// Every line of `err` starts with `name: ` (and none with the other name's prefix).
    func spokenAs(_ name: String, _ err: String) -> Bool {
        let lines = err.split(separator: "\n")
        return !lines.isEmpty && lines.allSatisfy { $0.hasPrefix(name + ": ") }
    }

    @Test func errorsAndHintsSayTokenvaultWhenInvokedAsTokenvault() {
        let cli = CLI()
        cli.add("binned", token: "plain-token-value-binned")
        #expect(cli.vault(["rm", "binned", "--yes"]).status == 0)

        let missing = cli.invoked(as: "tokenvault", ["get", "nope"])
        #expect(missing.status == 2)
        #expect(missing.err == "tokenvault: error: no entry named 'nope'\n", "\(missing.err)")
        // The library's hint spells the command under the same name.
        let trashed = cli.invoked(as: "tokenvault", ["get", "binned"])
        #expect(trashed.err == "tokenvault: error: 'binned' is in the trash\ntokenvault: hint: tokenvault restore binned\n", "\(trashed.err)")
        // The command line's own hints.
        let noName = cli.invoked(as: "tokenvault", ["rm"])
        #expect(noName.status == 64)
        #expect(noName.err.hasSuffix("tokenvault: hint: see 'tokenvault help rm'\n"), "\(noName.err)")
        let typo = cli.invoked(as: "tokenvault", ["lsit"])
        #expect(typo.err == "tokenvault: error: unknown command 'lsit'\ntokenvault: hint: did you mean 'list'?\n", "\(typo.err)")
        let empty = cli.invoked(as: "tokenvault", ["add", "x"], stdin: .data(""))
        #expect(empty.err.contains("tokenvault: hint: pipe it on standard input: printf %s \"$TOKEN\" | tokenvault add NAME"), "\(empty.err)")
        let noVault = cli.invoked(as: "tokenvault", ["list", "--vault", cli.home + "/none.db"])
        #expect(noVault.err.contains("tokenvault: hint: create one with 'tokenvault init'"), "\(noVault.err)")
        for r in [missing, trashed, noName, typo, empty, noVault] { #expect(spokenAs("tokenvault", r.err), "\(r.err)") }

        // The same under `vault`.
        #expect(cli.invoked(as: "vault", ["get", "binned"]).err == "vault: error: 'binned' is in the trash\nvault: hint: vault restore binned\n")
        #expect(cli.vault(["lsit"]).err == "vault: error: unknown command 'lsit'\nvault: hint: did you mean 'list'?\n")
    }

    @Test func helpSaysTheNameItWasInvokedAsInItsUsageAndExamples() {
        let cli = CLI(initialise: false)
        let root = cli.invoked(as: "tokenvault", ["--help"], env: ["COLUMNS": "80"]).out
        #expect(root.contains("USAGE: tokenvault <subcommand>"), "\(root)")
        #expect(root.contains("\n  tokenvault init\n") && root.contains("TOKEN=$(tokenvault get gitlab-ci)"), "\(root)")
        #expect(root.contains("(tokenvault verify: something"), "\(root)")
        for (arguments, usage) in [(["get", "--help"], "USAGE: tokenvault get "), (["help", "rm"], "USAGE: tokenvault rm "),
                                   (["gitlab", "rotate", "--help"], "USAGE: tokenvault gitlab rotate ")] {
            let help = cli.invoked(as: "tokenvault", arguments, env: ["COLUMNS": "80"]).out
            #expect(help.contains(usage), "\(arguments): \(help)")
            // Every example line: `tokenvault ...`, never `vault ...`.
            let examples = help.components(separatedBy: "Examples:").dropFirst().first ?? ""
            #expect(examples.contains("tokenvault "), "\(arguments): \(help)")
            #expect(!examples.replacingOccurrences(of: "tokenvault", with: "").contains("vault \(arguments[0] == "help" ? "rm" : arguments[0])"),
                    "\(arguments): \(help)")
        }
        #expect(cli.vault(["--help"]).out.contains("USAGE: vault <subcommand>"))
    }

    /// What `get --clip`, `gitlab link` and `gitlab push` tell a person, and `completions`' help
    /// and default name: under the name invoked as.
    @Test func theClipboardGitLabLinksAndCompletionsSpeakUnderTheNameInvoked() {
        let cli = CLI()
        cli.add("ci", token: "glpat-ProgramNameLinks0000", ["--url", "https://gitlab.example.com", "--kind", "gitlab"])
        let clip = cli.invoked(as: "tokenvault", ["get", "ci", "--clip"], env: ["DISPLAY": nil, "WAYLAND_DISPLAY": nil])
        #expect(clip.status == 1 && clip.out.isEmpty)
        #expect(clip.err.hasSuffix("tokenvault: hint: --clip needs a graphical session; elsewhere use TOKEN=$(tokenvault get NAME) or tokenvault exec\n"),
                "\(clip.err)")
        let push = cli.invoked(as: "tokenvault", ["gitlab", "push", "ci", "--self-auth"])
        #expect(push.status == 1)
        #expect(push.err.hasSuffix("tokenvault: hint: tokenvault gitlab link ci --project PATH --variable KEY\n"), "\(push.err)")
        let link = cli.invoked(as: "tokenvault", ["gitlab", "link", "ci", "--project", "team/app", "--variable", "DEPLOY_TOKEN"])
        #expect(link.status == 0 && link.err.hasSuffix("; 'tokenvault gitlab push ci' writes the token there\n"), "\(link.err)")
        for r in [clip, push, link] { #expect(spokenAs("tokenvault", r.err), "\(r.err)") }
        #expect(cli.invoked(as: "vault", ["gitlab", "push", "ci", "--self-auth", "--api-url", "https://other.example.com/api/v4"]).err
            .contains("(vault config gitlab-api-url.gitlab.example.com URL sets its default)"))

        let help = cli.invoked(as: "tokenvault", ["completions", "--help"], env: ["COLUMNS": "80"]).out
        #expect(help.contains("tokenvault completions zsh > \"${fpath[1]}/_tokenvault\"") && help.contains("after 'tokenvault unlock'"),
                "\(help)")
        let others = help.replacingOccurrences(of: "tokenvault", with: "")
        #expect(!others.contains("vault completions") && !others.contains("completions/vault"), "\(help)")
        // Run under any other name, the script is for `vault` (the name as it came is not printed).
        let script = cli.invoked(as: "tv", ["completions", "bash"]).out
        #expect(script.hasSuffix("\ncomplete -o filenames -F _vault vault\n") && !script.contains("_tv"), "\(script.suffix(80))")
    }

    /// `tokenvault-cli` run directly, or a link of any other name (one that would drive the
    /// terminal among them): `vault`, and the name is never printed.
    @Test func anyOtherNameIsVaultAndIsNeverPrinted() {
        let cli = CLI()
        let names = ["tokenvault-cli", "tokenvaultx", "Tokenvault", "\u{1b}]0;owned\u{07}tokenvault", "tokenvault\u{1b}[2J"]
        for name in names {
            let r = cli.invoked(as: name, ["get", "nope"])
            #expect(r.err == "vault: error: no entry named 'nope'\n", "\(name.debugDescription): \(r.err.debugDescription)")
            let help = cli.invoked(as: name, ["--help"]).out
            #expect(help.contains("USAGE: vault <subcommand>") && !help.contains("\u{1b}"), "\(name.debugDescription)")
        }
        let direct = run([VaultFrontEndTests.swiftCLI, "get", "nope"], environment: cli.environment)
        #expect(direct.err == "vault: error: no entry named 'nope'\n", "\(direct.err)")
    }

    /// The C front end's own `get`: its messages, and the warnings the agent renders (which
    /// quote `'vault restore NAME'`), under the name it was invoked as.
    @Test func theFrontEndsOwnGetSpeaksUnderTheNameItWasInvokedAs() throws {
        let cli = CLI()
        cli.add("plain", token: "glpat-ProgramNamePlain0000")
        cli.add("refused", token: "glpat-ProgramNameRefused00", ["--url", "https://h.example"])
        try cli.library().update("refused") { $0.rejected = Timestamp(date: "2024-07-08") }
        #expect(cli.vault(["unlock"]).status == 0)

        let refused = cli.invoked(as: "tokenvault", ["get", "refused"], env: noPassphrase)
        #expect(refused.out == "glpat-ProgramNameRefused00\n")
        #expect(refused.err.hasPrefix("tokenvault: warning: git's server refused the token 'refused' on "), "\(refused.err)")
        #expect(refused.err.hasSuffix("('tokenvault restore refused' gives it back)\n"), "\(refused.err)")
        // The same bytes as the Swift command line invoked as tokenvault (it reads the vault itself).
        let swift = cli.invoked(as: "tokenvault", ["--vault", cli.vaultPath, "get", "refused"])
        #expect(swift.err == refused.err, "\(swift.err) against \(refused.err)")
        #expect(cli.invoked(as: "vault", ["get", "refused"], env: noPassphrase).err.hasSuffix("('vault restore refused' gives it back)\n"))

        // A closed stdout: the front end's own error.
        let link = cli.home + "/names/closed/tokenvault"
        try FileManager.default.createDirectory(atPath: cli.home + "/names/closed", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Binary.path("vault"))
        var environment = cli.environment
        environment["TOKENVAULT_PASSPHRASE"] = nil
        let closed = run(["/bin/sh", "-c", "exec \"$@\" >&-", "sh", link, "get", "plain"], environment: environment)
        #expect(closed.status == 1)
        #expect(closed.err == "tokenvault: error: cannot write to standard output: Bad file descriptor\n", "\(closed.err)")

        // A copy alone, with no tokenvault-cli to hand over to.
        let lone = cli.home + "/lone/tokenvault"
        let copy = run(["/bin/sh", "-c", "mkdir -p \"${1%/*}\" && cp \"$2\" \"$1\"", "sh", lone, Binary.path("vault")],
                       environment: ["PATH": "/usr/bin:/bin"])
        #expect(copy.status == 0)
        let handOver = run([lone, "list"], environment: cli.environment)
        #expect(handOver.err == "tokenvault: error: tokenvault cannot find tokenvault-cli (reinstall TokenVault)\n", "\(handOver.err)")
    }
}
