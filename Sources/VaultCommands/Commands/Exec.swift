import ArgumentParser
import CExec
import Glibc
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Exec: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a program with tokens in its environment.",
            discussion: """
                Every reference is read (under `\(ProgramName.current) get`'s rules: a token in the trash, revoked \
                or expired is refused, with get's exit codes) before the program starts; when one \
                is refused nothing runs. Each read is recorded in the activity log as \
                `\(ProgramName.current) exec PROGRAM`. The token is never in any command line: it is passed in \
                the program's environment only (which the program, and processes of your user, \
                can read: see SECURITY.md). Variables already set are overwritten; the rest of \
                the environment is passed on.

                --env NAME=ENTRY sets NAME to the entry's token, --env NAME=ENTRY:FIELD to one \
                of its fields (username, url, host, scopes, expires or kind; an entry whose name \
                ends in such a suffix is written ENTRY:FIELD anyway). A bare ENTRY sets the \
                variable its kind suggests: GITLAB_TOKEN, GITHUB_TOKEN, else TOKEN. NAME is a \
                POSIX name ([A-Za-z_][A-Za-z0-9_]*), each set once.

                The program gets stdin, stdout and stderr as they are, and the signals HUP, \
                INT, QUIT, TERM, USR1, USR2, WINCH and ALRM sent to \(ProgramName.current) (one that a terminal \
                sends to both is not sent twice; one ignored when \(ProgramName.current) started, as under nohup, \
                stays ignored), and starts with no signal blocked. \(ProgramName.current) exits with the program's status, or \
                128+N when signal N ended it; 127 when the program is not found, 126 when it \
                cannot be run (as env(1) and shells do).

                Examples:
                  \(ProgramName.current) exec gitlab-ci -- glab mr list
                  \(ProgramName.current) exec --env GL_TOKEN=gitlab-ci --env GL_USER=gitlab-ci:username \\
                      -- ./deploy.sh
                """)

        @OptionGroup var global: GlobalOptions

        @Option(name: .customLong("env"), help: ArgumentHelp(
            "Set this variable to an entry's token, or to one of its fields.", valueName: "NAME=ENTRY[:FIELD]"),
            completion: NameCompletion.variable)
        var variables: [String] = []

        @Flag(help: "Pass tokens even if they have expired or are revoked.")
        var allowExpired = false

        @Argument(help: "An entry whose token goes in the variable its kind suggests (without --env, or besides).",
                  completion: NameCompletion.names(.live))
        var entry: String?

        @Argument(parsing: .postTerminator, help: ArgumentHelp("The program and its arguments, after --.", valueName: "command"))
        var command: [String] = []

        func validate() throws {
            if command.isEmpty { throw ValidationError("no program to run: \(ProgramName.current) exec [--env NAME=ENTRY]... [ENTRY] -- COMMAND [ARG]...") }
            if entry == nil && variables.isEmpty { throw ValidationError("nothing to pass: give --env NAME=ENTRY or an entry's name") }
        }

        func run() throws {
            // Everything that held a token (the values, their environment block, the vault) is
            // gone once the program has started: this process then only waits for it.
            let pid = try start()
            Session.closeVaults()
            Glibc.exit(tv_exec_wait(pid))
        }

        private func start() throws -> pid_t {
            var bindings = try variables.map(ExecBinding.parse)
            let program = try ExecProgram.locate(command[0])
            let vault = try global.session.unlockedVault()
            vault.actor = "vault exec " + ExecProgram.shortName(command[0])
            if let entry {
                let kind = try RemoteAccess.resolve(entry, in: vault).map { try $0.entries.entry($0.entry).entry.kind }
                    ?? withSuggestion(vault) { try vault.entry(named: entry) }.kind
                bindings.append(ExecBinding(variable: ExecBinding.defaultVariable(for: kind), reference: SecretReference(entry: entry)))
            }
            try ExecBinding.checkUnique(bindings)
            let values = try withSuggestion(vault) {
                try RemoteAccess.values(of: bindings.map(\.reference), in: vault, allowingExpired: allowExpired)
            }
            var warned: Set<String> = []
            for (binding, value) in zip(bindings, values) where binding.reference.field == nil && warned.insert(value.entry.name).inserted {
                ExpiryPolicy.warn(value.entry)
            }
            // The keys go now: the program gets no more of the vault than its variables (the
            // file and the agent's socket are close-on-exec).
            vault.lock()
            return try ExecEnvironment.start(program: program, arguments: command,
                                             variables: zip(bindings, values).map { ($0.variable, $1.value) })
        }
    }
}
