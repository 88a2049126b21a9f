import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct AgentCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "agent",
            abstract: "Run the vault's agent in the foreground (for a systemd user unit, or debugging).",
            discussion: """
                `\(ProgramName.current) unlock` starts the agent by itself; run it yourself only to supervise it. \
                It listens on $XDG_RUNTIME_DIR/tokenvault/ (without XDG_RUNTIME_DIR, on \
                ~/.local/share/tokenvault/agents/, or $XDG_DATA_HOME/tokenvault/agents/) and waits \
                for `\(ProgramName.current) unlock`.

                Examples:
                  \(ProgramName.current) agent --verbose
                """)

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let server = AgentServer(vaultPath: global.path, environment: Environment.current)
            try server.run { message in if global.verbose { Output.note(message) } }
        }
    }
}
