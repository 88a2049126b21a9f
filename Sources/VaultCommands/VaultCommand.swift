import ArgumentParser
import TokenVault
import TokenVaultGitLab
import TokenVaultOpenBao
import VaultCLICommon
import Glibc

/// The `vault` command line, run by `VaultCLI.start()`.
struct VaultCommand: ParsableCommand {
    static let version = "0.1.0"

    /// Built at its first use, after `start()` took the program's name (``ProgramName``): the
    /// usage line and the examples say `tokenvault` when that is how the program was invoked.
    static let configuration = CommandConfiguration(
        commandName: ProgramName.current,
        abstract: "Keep personal access tokens in an encrypted vault instead of plain-text files.",
        discussion: """
            Every token and all of its metadata are encrypted at rest (libsodium secretbox under a key \
            derived from your passphrase with Argon2id).

            Examples:
              \(ProgramName.current) init
              printf %s "$TOKEN" | \(ProgramName.current) add gitlab-ci --url https://gitlab.com
              TOKEN=$(\(ProgramName.current) get gitlab-ci)
              \(ProgramName.current) list

            Exit codes:
            \(ExitStatus.table)
            """,
        version: version,
        subcommands: [Init.self, Add.self, Get.self, Exec.self, Inject.self, List.self, Show.self, Edit.self, Rename.self, Remove.self,
                      History.self, Restore.self, Check.self, RemoteCommand.self, GitLabCommand.self, LogCommand.self, Config.self, Import.self, Export.self, IdCommand.self,
                      GitCredentialCommand.self, Unlock.self, Lock.self, Status.self, AgentCommand.self, Passwd.self, KeyfileCommand.self, Backup.self, Verify.self,
                      Completions.self]
    )

    /// Runs the command line of this process and exits.
    static func start() {
        // First: every message, hint and help text says the name the program was invoked as.
        ProgramName.adopt(invokedAs: CommandLine.arguments.first ?? "")
        if !ProcessHardening.apply() {
            Output.warning("could not disable core dumps")
        }
        // Read the environment once, then keep the passphrase out of any program we start.
        _ = Environment.current
        let arguments = Array(CommandLine.arguments.dropFirst())
        // A completion script asking for names at a TAB (GitLab's commands included: no
        // hand-off, no HTTP): the candidates on stdout, never a prompt or a word on stderr.
        if arguments.first == NameCompletion.request {
            Environment.forgetSecrets()
            Glibc.exit(NameCompletion.respond(to: arguments))
        }
        // `vault get --clip`'s clearer, started by it with its instructions on a pipe.
        if arguments == [ClipboardClearer.argument] && !Terminal.isTerminal(0) {
            Environment.forgetSecrets()
            ClipboardClearer.run()
        }
        // GitLab's commands run in tokenvault-gitlab, which has an HTTP stack (this passes on
        // the environment as it came, passphrase included, as a shell would).
        if Online.transport == nil && Online.needed(arguments) {
            Glibc.exit(Output.report(Online.handOff(arguments)).rawValue)
        }
        Environment.forgetSecrets()
        let status: ExitStatus
        do {
            // `vault [--vault PATH] get NAME` as scripts call it, without the argument parser's
            // start-up cost (about 2 ms).
            if let (path, name) = fastGet(arguments) {
                var session = Session.standard
                if let path { session.path = path }
                try Get.perform(session: session, name: name)
                Session.closeVaults()
                Glibc.exit(ExitStatus.success.rawValue)
            }
            let hoisted = GlobalOptions.hoisted(arguments)
            try CommandPath.refuseUnknown(hoisted)
            var command = try parseAsRoot(hoisted)
            try command.run()
            status = .success
        } catch let error as VaultError {
            status = Output.report(error)
        } catch let error as CLIError {
            status = Output.report(error)
        } catch let error as BundleError {
            status = Output.report(error)
        } catch let error as OpenBaoError {
            status = RemoteAccess.report(error)
        } catch {
            status = reportParserError(error)
        }
        Session.closeVaults()
        Glibc.exit(status.rawValue)
    }

    /// `get NAME` or `--vault PATH get NAME`, and nothing else.
    private static func fastGet(_ arguments: [String]) -> (path: String?, name: String)? {
        var rest = arguments[...]
        var path: String?
        if rest.count == 4, rest.first == "--" + GlobalOptions.Names.vault {
            path = rest.dropFirst().first
            rest = rest.dropFirst(2)
        }
        guard rest.count == 2, rest.first == "get", let name = rest.last, !name.hasPrefix("-"), name != "help" else { return nil }
        return (path, name)
    }

    /// Help and version go to stdout; parse errors to stderr in the `vault: error:` voice, with
    /// any argument that looks like a token masked.
    private static func reportParserError(_ error: Error) -> ExitStatus {
        let code = exitCode(for: error)
        if code == .success {
            do { try Output.out(fullMessage(for: error) + "\n") } catch { return Output.report(error) }
            return .success
        }
        let raw = self.message(for: error)
        let message = Redaction.redact(raw)
        let sawToken = message != raw || CommandLine.arguments.dropFirst().contains { Redaction.redact($0) != $0 }
        if !message.isEmpty { Output.error(message) }
        if sawToken {
            Output.hint("pipe it on standard input instead (printf %s \"$TOKEN\" | \(ProgramName.current) add NAME), or type it at the prompt")
        } else if code.rawValue == ExitStatus.usage.rawValue {
            Output.hint("see '\(CommandPath.helpCommand(GlobalOptions.hoisted(Array(CommandLine.arguments.dropFirst()))))'")
        }
        return code.rawValue == ExitStatus.usage.rawValue ? .usage : (ExitStatus(rawValue: code.rawValue) ?? .other)
    }
}


/// What the programs that run the `vault` command line call.
package enum VaultCLI {
    /// Runs the command line of this process and exits; with `gitlab`, GitLab's API is reachable
    /// through it (tokenvault-gitlab).
    package static func start(gitlab transport: (any HTTPTransport)? = nil) {
        Online.transport = transport
        VaultCommand.start()
    }
}
