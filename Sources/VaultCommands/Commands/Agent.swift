import ArgumentParser
import CTerminal
import TokenVault
import VaultSupport
#if canImport(Glibc)
import Glibc
#endif

extension VaultCommand {
    struct Unlock: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unlock the vault once: an agent holds the key, and every command and git use it.",
            discussion: """
                Asks for the passphrase (from the usual sources) and starts the vault's agent if \
                none runs. The key stays in the agent's locked memory, never on disk and never in \
                another process, until it has not been used for the timeout, reaches its maximum \
                lifetime, or `vault lock`.

                Examples:
                  vault unlock
                  vault unlock --timeout 1h --max-lifetime 8h
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Lock after this long without use (e.g. 15m, 1h).", valueName: "span"))
        var timeout = Span(seconds: AgentLauncher.defaultIdleTimeout)

        @Option(help: ArgumentHelp("Lock after this long whatever happens (e.g. 8h).", valueName: "span"))
        var maxLifetime = Span(seconds: AgentLauncher.defaultMaximumLifetime)

        func validate() throws {
            if timeout.seconds < 1 || maxLifetime.seconds < 1 { throw ValidationError("spans must be at least 1s") }
        }

        func run() throws {
            let path = global.path
            // The vault exists and is private, and its cost is one TokenVault writes (or allowed).
            try Vault.open(at: path).checkKDFCost(allowingCostly: global.allowCostlyKDF)
            let passphrase = try global.passphrase.read(prompt: "Passphrase for \(path): ")
            let agent = try AgentLauncher.connectOrStart(vaultPath: path)
            try agent.unlock(passphrase: passphrase, idleTimeout: timeout.seconds, maximumLifetime: maxLifetime.seconds,
                             allowingCostlyKDF: global.allowCostlyKDF)
            let status = try agent.status()
            Output.note("unlocked: the agent locks at \(status.locksAt?.iso8601 ?? "?") unless used before (each use gives it another \(timeout.seconds) s, up to \(maxLifetime.seconds) s in all)")
        }
    }

    struct Lock: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lock the vault now: its agent wipes the key and exits.",
            discussion: """
                Examples:
                  vault lock
                  vault lock --all       # every vault of yours
                """)

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Lock every vault that has an agent.")
        var all = false

        func run() throws {
            if all {
                let folder = AgentLauncher.folder
                var count = 0
                for socket in AgentLauncher.sockets(in: folder) {
                    if let agent = AgentClient.connect(socketPath: socket) {
                        try? agent.lock()
                        count += 1
                    }
                }
                Output.note(count == 0 ? "no vault was unlocked" : "locked \(count) vault\(count == 1 ? "" : "s")")
                return
            }
            guard let agent = AgentClient.connect(vaultPath: global.path, environment: Environment.current) else {
                Output.note("\(global.path) was not unlocked")
                return
            }
            try agent.lock()
            Output.note("locked \(global.path)")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether the vault is unlocked, and until when (exit code 3 when locked).",
            discussion: """
                Examples:
                  vault status
                  vault status --json
                """)

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() throws {
            let status = AgentClient.connect(vaultPath: global.path, environment: Environment.current).flatMap { try? $0.status() }
            let unlocked = status?.unlocked ?? false
            if json {
                try Output.out(JSON.encode(.object([
                    ("vault", .string(global.path)), ("unlocked", .bool(unlocked)),
                    ("locks_at", status?.locksAt.map { .string($0.iso8601) } ?? .null),
                    ("idle_timeout_seconds", unlocked ? .number(status!.idleTimeout) : .null),
                ])) + "\n")
            } else if unlocked, let status {
                try Output.out("\(TerminalText.escape(global.path)): unlocked until \(status.locksAt?.iso8601 ?? "?") (idle timeout \(status.idleTimeout) s)\n")
            } else {
                try Output.out("\(TerminalText.escape(global.path)): locked\n")
            }
            if !unlocked { throw CLIError.exit(.locked) }
        }
    }

    struct AgentCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "agent",
            abstract: "Run the vault's agent in the foreground (for a systemd user unit, or debugging).",
            discussion: """
                `vault unlock` starts the agent by itself; run it yourself only to supervise it. \
                It listens on $XDG_RUNTIME_DIR/tokenvault/ (without XDG_RUNTIME_DIR, on \
                ~/.local/share/tokenvault/agents/, or $XDG_DATA_HOME/tokenvault/agents/) and waits \
                for `vault unlock`.

                Examples:
                  vault agent --verbose
                """)

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let server = AgentServer(vaultPath: global.path, environment: Environment.current)
            try server.run { message in if global.verbose { Output.note(message) } }
        }
    }
}
