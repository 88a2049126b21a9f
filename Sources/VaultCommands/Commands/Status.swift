import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether the vault is unlocked, and until when (exit code 3 when locked).",
            discussion: """
                Examples:
                  \(ProgramName.current) status
                  \(ProgramName.current) status --json
                """)

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() throws {
            let status = AgentClient.connect(vaultPath: global.path, environment: Environment.current).flatMap { try? $0.status() }
            let unlocked = status?.unlocked ?? false
            if json {
                try Output.json(.object([
                    ("vault", .string(global.path)), ("unlocked", .bool(unlocked)),
                    ("locks_at", status?.locksAt.map { .string($0.iso8601) } ?? .null),
                    ("idle_timeout_seconds", unlocked ? .number(status!.idleTimeout.components.seconds) : .null),
                ]))
            } else if unlocked, let status {
                try Output.out("\(TerminalText.escape(global.path)): unlocked until \(status.locksAt?.iso8601 ?? "?") (idle timeout \(status.idleTimeout.components.seconds) s)\n")
            } else {
                try Output.out("\(TerminalText.escape(global.path)): locked\n")
            }
            if !unlocked { throw CLIError.exit(.locked) }
        }
    }
}
