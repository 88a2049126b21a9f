import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Lock: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lock the vault now: its agent wipes the key and exits.",
            discussion: """
                Examples:
                  \(ProgramName.current) lock
                  \(ProgramName.current) lock --all       # every vault of yours
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
}
