import Foundation
import Testing
@testable import TokenVault

/// The completion scripts of `vault completions`, sourced in real shells, completing entry names
/// through the real agent of a real vault; nothing, and silently, while it is locked.
@Suite struct CompletionTests {
    /// A name no `add` accepts (written by something else): quotes, a command substitution in
    /// both forms, a space, a semicolon, a glob.
    static func hostileName(_ cli: CLI) -> String {
        "it's $(touch \(cli.home)/ran) `touch \(cli.home)/ran2` a;b*"
    }

    static let tokenLikeName = "glpat-Kx7Name8Secret9Q2wE4r"

    /// A vault with live entries, one in the trash, one rejected by git (and one with a hostile
    /// name); unlocked; and a `bin` folder on PATH where `vault` and `tokenvault` are the front end.
    func fixture(hostile: Bool = false) throws -> CLI {
        let cli = CLI()
        for name in ["gitlab-ci", "github-ci", "team:ci", "me@host/x+y", "other", "binned", "refused", "odd"] {
            #expect(cli.add(name, token: "glpat-Completion\(name.count)000000000").status == 0)
        }
        let library = try cli.library()
        try library.update("refused") { $0.rejected = Timestamp(date: "2024-07-08") }
        #expect(cli.vault(["rm", "binned", "--yes"]).status == 0)
        if hostile {
            try OlderTokenVault.add(cli, name: Self.hostileName(cli), token: "glpat-CompletionHostile00000")
            // A name that looks like a token (someone typed the token as its name once): never printed.
            try OlderTokenVault.add(cli, name: Self.tokenLikeName, token: "glpat-CompletionTokenLike000")
        }
        #expect(cli.vault(["unlock"]).status == 0)
        let bin = cli.home + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for name in ["vault", "tokenvault"] {
            try FileManager.default.createSymbolicLink(atPath: bin + "/" + name, withDestinationPath: Binary.path("vault"))
        }
        cli.environment["PATH"] = bin + ":/usr/bin:/bin"
        cli.environment["TOKENVAULT_PASSPHRASE"] = nil
        return cli
    }

    /// The script `PROGRAM completions SHELL` prints, saved in HOME.
    func script(_ cli: CLI, _ shell: String, program: String = "vault", _ options: [String] = []) -> String {
        let r = run([cli.home + "/bin/" + program, "completions", shell] + options, environment: cli.environment)
        #expect(r.status == 0 && r.err.isEmpty, "\(r.err)")
        return cli.script("\(program).\(shell)", r.out)
    }

    /// What bash's completion offers for `line`, the cursor at its end: the script sourced in a
    /// bare bash, COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set as readline sets them,
    /// and the function that `complete -p` names for the command called; COMPREPLY, one a line.
    func bash(_ cli: CLI, _ script: String, _ line: String) -> RunResult {
        let driver = cli.script("complete.bash", #"""
            source "$1" || exit 90
            line=$2
            COMP_LINE=$line
            COMP_POINT=${#line}
            read -ra COMP_WORDS <<< "$line"
            [[ $line == *" " ]] && COMP_WORDS+=("")
            COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            spec=$(complete -p "${COMP_WORDS[0]}") || exit 91
            function=${spec##*-F }
            function=${function%% *}
            COMPREPLY=()
            "$function" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
            ((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}"
            exit 0
            """#)
        return run(["/bin/bash", "--norc", "--noprofile", driver, script, line], environment: cli.environment, timeout: 30)
    }

    /// An interactive shell on a terminal, the script loaded: `line` typed, then TAB, then the
    /// cursor sent to the start of the line (C-a) and `echo ` typed before it, then Enter. The
    /// shell shows what the completion made of the line, then `echo` prints it as the shell
    /// parsed it: returns the terminal's text (its line ends as \n) after the echo.
    func typed(_ cli: CLI, shell: String, _ script: String, _ line: String) -> String {
        let (arguments, load): ([String], String) = switch shell {
        case "fish": (["/usr/bin/fish", "--no-config", "-i"], "source \(script)")
        case "zsh": (["/usr/bin/zsh", "-f", "-i"], "autoload -U compinit && compinit -u && source \(script)")
        default: (["/bin/bash", "--norc", "--noprofile", "-i"], "source \(script)")
        }
        let terminal = PTYProcess(arguments, environment: cli.environment.merging(["TERM": "dumb", "PS1": "$ "]) { $1 })
        terminal.send(load + "\n")
        terminal.send("echo READ''Y\n")
        #expect(terminal.expect("READY\r\n"), "\(terminal.text)")
        let before = terminal.text.count
        terminal.send(line + "\t\u{01}echo \n" + "echo DON''E\n")
        #expect(terminal.expect("DONE\r\n"), "\(terminal.text)")
        terminal.send("exit\n")
        _ = terminal.wait()
        return String(terminal.text.dropFirst(before)).replacing("\r\n", with: "\n")
    }

    func lines(_ r: RunResult) -> Set<String> {
        Set(r.out.split(separator: "\n").map(String.init))
    }

    @Test func bashCompletesTheNamesEachCommandTakesThroughTheUnlockedAgent() throws {
        let cli = try fixture()
        let script = script(cli, "bash")
        let live: Set = ["gitlab-ci", "github-ci", "team:ci", "me@host/x+y", "other", "refused", "odd"]
        let cases: [(String, Set<String>)] = [
            ("vault get gi", ["gitlab-ci", "github-ci"]),
            ("vault get ", live),
            ("vault show ", live.union(["binned"])),
            ("vault rm ", live),
            ("vault rm --purge ", live.union(["binned"])),
            ("vault restore ", ["binned", "refused"]),
            ("vault history o", ["other", "odd"]),
            ("vault edit gitl", ["gitlab-ci"]),
            ("vault rename gitl", ["gitlab-ci"]),
            ("vault exec gitl", ["gitlab-ci"]),
            ("vault log ot", ["other"]),
            ("vault gitlab rotate gitl", ["gitlab-ci"]),
            ("vault gitlab revoke gitl", ["gitlab-ci"]),
            ("vault gitlab verify gitl", ["gitlab-ci"]),
            ("vault export gitlab-ci o", ["other", "odd"]),
            ("vault get --vault \(cli.vaultPath) ot", ["other"]),
            ("vault ge", ["get"]),
        ]
        for (line, expected) in cases {
            let r = bash(cli, script, line)
            #expect(r.status == 0 && r.err.isEmpty, "\(line): \(r.status) \(r.err)")
            #expect(lines(r) == expected, "\(line): \(r.out)")
        }
        // Another vault named on the line, which no agent holds: nothing.
        let elsewhere = bash(cli, script, "vault get --vault \(cli.home)/other.db ")
        #expect(elsewhere.status == 0 && elsewhere.out.isEmpty && elsewhere.err.isEmpty, "\(elsewhere.out)\(elsewhere.err)")
        // Completing records nothing: the agent's entry list is not a read.
        let log = cli.vault(["log"], env: ["TOKENVAULT_PASSPHRASE": CLI.passphrase])
        #expect(!log.out.contains("read"), "\(log.out)")
    }

    @Test func aLockedVaultCompletesNoNameQuicklyAndSilently() throws {
        let cli = try fixture()
        let script = script(cli, "bash")
        #expect(cli.vault(["lock"]).status == 0)
        for line in ["vault get ", "vault get gi", "vault restore ", "vault gitlab rotate g"] {
            let r = bash(cli, script, line)
            #expect(r.status == 0 && r.out.isEmpty && r.err.isEmpty, "\(line): \(r.out)\(r.err)")
            #expect(r.seconds < 5, "\(line): \(r.seconds) s")
        }
        // Subcommands are still completed, without the agent.
        #expect(lines(bash(cli, script, "vault resto")) == ["restore"])
        // An agent that never answers: nothing, within its one-second timeout.
        let hung = try HungAgent(cli)
        #expect(hung.process.firstLine == "ready")
        let r = bash(cli, script, "vault get ")
        #expect(r.status == 0 && r.out.isEmpty && r.err.isEmpty, "\(r.out)\(r.err)")
        #expect(r.seconds < 5, "\(r.seconds) s")
        withExtendedLifetime(hung) {}
    }

    @Test func namesReachTheLineAsTheyAreAndNoneIsRun() throws {
        let cli = try fixture(hostile: true)
        // Typed at a terminal, TAB puts the name on the line quoted as the shell needs (zsh's
        // _describe would cut team:ci at its colon): echo prints it as it is.
        for shell in ["bash", "zsh", "fish"] {
            let script = script(cli, shell)
            for (line, completed) in [("vault get me", "vault get me@host/x+y"), ("vault get te", "vault get team:ci")] {
                let text = typed(cli, shell: shell, script, line)
                #expect(text.contains("\n\(completed)\n"), "\(shell), \(line): \(text)")
            }
            // A name that today's rule refuses (quotes, $(...), spaces) is not offered: bash's
            // own quoting of it would break the line.
            let text = typed(cli, shell: shell, script, "vault get it")
            #expect(text.contains("\nvault get it\n"), "\(shell): \(text)")
        }
        let r = bash(cli, script(cli, "bash"), "vault get ")
        #expect(r.status == 0 && r.err.isEmpty && !r.out.isEmpty && !r.out.contains("touch"), "\(r.out)\(r.err)")
        #expect(!r.out.contains("Kx7Name8"), "a name that looks like a token was offered: \(r.out)")
        #expect(!FileManager.default.fileExists(atPath: cli.home + "/ran") && !FileManager.default.fileExists(atPath: cli.home + "/ran2"))
    }

    @Test func zshAndFishCompleteNamesAtATerminal() throws {
        let cli = try fixture()
        for shell in ["zsh", "fish"] {
            let script = script(cli, shell)
            for (line, completed) in [("vault get gitl", "vault get gitlab-ci"), ("vault restore b", "vault restore binned"),
                                      ("vault gitlab rotate gitl", "vault gitlab rotate gitlab-ci"),
                                      ("vault exec --env GL=gitl", "vault exec --env GL=gitlab-ci"), ("vault res", "vault restore"),
                                      // Two candidates (github-ci, gitlab-ci): completed up to where they differ.
                                      ("vault get gi", "vault get git")] {
                let text = typed(cli, shell: shell, script, line)
                #expect(text.contains("\n\(completed)\n"), "\(shell), \(line): \(text)")
            }
        }
    }

    @Test func theScriptForTokenvaultRegistersTokenvaultAlone() throws {
        let cli = try fixture()
        // Named after the program as it was run, or after --name.
        for (program, options) in [("tokenvault", [String]()), ("vault", ["--name", "tokenvault"])] {
            let bashScript = script(cli, "bash", program: program, options)
            let registered = run(["/bin/bash", "--norc", "--noprofile", "-c", "source \"$1\" && complete -p", "bash", bashScript],
                                 environment: cli.environment)
            #expect(registered.out == "complete -o filenames -F _tokenvault tokenvault\n", "\(registered.out)\(registered.err)")
            #expect(lines(bash(cli, bashScript, "tokenvault get gi")) == ["gitlab-ci", "github-ci"])
            let fish = try String(contentsOfFile: script(cli, "fish", program: program, options), encoding: .utf8)
            #expect(fish.contains("complete -c 'tokenvault'") && !fish.contains("complete -c 'vault'"))
            let zsh = try String(contentsOfFile: script(cli, "zsh", program: program, options), encoding: .utf8)
            #expect(zsh.hasPrefix("#compdef tokenvault\n") && zsh.contains("compdef _tokenvault tokenvault\n"))
            #expect(!zsh.contains("compdef _vault"))
        }
        let bad = run([cli.home + "/bin/vault", "completions", "bash", "--name", "x;rm"], environment: cli.environment)
        #expect(bad.status == 64 && bad.out.isEmpty && bad.err.contains("not a command's name"), "\(bad.err)")
    }

    @Test func makeInstallsCompletionsForEachNameAndUninstallRemovesThem() throws {
        let cli = CLI(initialise: false)
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let destination = cli.home + "/destination"
        func make(_ target: String, _ variables: [String]) {
            let r = run(["/usr/bin/make", "-s", "-C", root.path, target, "DESTDIR=" + destination, "PREFIX=/usr",
                         "COMPLETION_CLI=" + Binary.path("tokenvault-cli")] + variables,
                        environment: ["PATH": "/usr/bin:/bin", "HOME": cli.home], timeout: 60)
            #expect(r.status == 0, "\(r.out)\(r.err)")
        }
        let share = destination + "/usr/share"
        func files(_ name: String) -> [String] {
            [share + "/bash-completion/completions/" + name, share + "/zsh/site-functions/_" + name,
             share + "/fish/vendor_completions.d/" + name + ".fish"]
        }
        func installed(_ name: String) -> Bool { files(name).allSatisfy { FileManager.default.fileExists(atPath: $0) } }
        func absent(_ name: String) -> Bool { files(name).allSatisfy { !FileManager.default.fileExists(atPath: $0) } }
        make("install-completions", ["NAMES=tokenvault"])
        #expect(installed("tokenvault") && absent("vault"))
        let bash = try String(contentsOfFile: files("tokenvault")[0], encoding: .utf8)
        #expect(bash.hasSuffix("\ncomplete -o filenames -F _tokenvault tokenvault\n"), "\(bash.suffix(80))")
        make("install-completions", [])
        #expect(installed("tokenvault") && installed("vault"))
        make("uninstall", ["NAMES=tokenvault"])
        #expect(absent("tokenvault") && installed("vault"))
        make("uninstall", [])
        #expect(absent("vault"))
    }
}

extension OlderTokenVault {
    /// Adds an entry as a TokenVault from before today's rule on names could: any name.
    static func add(_ cli: CLI, name: String, token: String) throws {
        let vault = try cli.library()
        try vault.write { db, keys, manifest, events throws(VaultError) in
            let lookup = try keys.lookup(name)
            let revision = manifest.nextRevision()
            let row = try Vault.seal(Entry(name: name), record: SecretRecord(current: Secret(token), previous: []),
                                     lookup: lookup, revision: revision, keys: keys)
            try db.prepare(Vault.EntrySQL.insert).run([.blob(lookup), .blob(row.metadata), .blob(row.secret)])
            try Landed.entry(db, lookup: lookup, row)
            manifest.insert([(lookup, revision)])
            events.append(Vault.PendingEvent(action: "add", entry: name))
        }
    }
}
