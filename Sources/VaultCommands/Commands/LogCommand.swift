import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct LogCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "log",
            abstract: "Show the activity log: every read of a token and every change, and whether its chain verifies.",
            discussion: """
                Events are encrypted and chained by MACs: a deleted, changed or reordered event is \
                reported (exit code 5). The log keeps 10,000 events or 365 days.

                Examples:
                  \(ProgramName.current) log
                  \(ProgramName.current) log gitlab-ci --since 7d
                  \(ProgramName.current) log --json | jq -r '.events[] | select(.action == "read") | .entry'
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Only events of this entry.", completion: NameCompletion.names(.all))
        var name: String?

        @Option(help: ArgumentHelp("Only events newer than this (e.g. 7d, 12h).", valueName: "span"))
        var since: Span?

        @Flag(help: "Print one JSON object: the events and whether the chain verifies.")
        var json = false

        func run() throws {
            let vault = try global.unlockedVault()
            let report = try vault.activityLog()
            let cutoff = since.map { Timestamp.now().secondsSince1970 - $0.seconds }
            let events = report.events.filter { event in
                if let name, event.entry != name { return false }
                if let cutoff, event.time.secondsSince1970 < cutoff { return false }
                return true
            }
            if json {
                try Output.json(.object([
                    ("verified", .bool(report.verified)),
                    ("problem", report.problem.map { .string($0) } ?? .null),
                    ("events", .array(events.map { e in
                        .object([("sequence", .number(Int64(e.sequence))), ("time", .string(e.time.iso8601)),
                                 ("action", .string(e.action.text)), ("entry", e.entry.map { .string($0) } ?? .null),
                                 ("actor", .string(e.actor)), ("parent_pid", e.parentPID.map { .number($0) } ?? .null),
                                 ("parent", e.parentName.map { .string($0) } ?? .null),
                                 ("detail", e.detail.map { .string($0) } ?? .null)])
                    })),
                ]))
            } else {
                let rows = events.map { e -> [Table.Cell] in
                    [Table.Cell(e.time.iso8601), Table.Cell(e.action.text), Table.Cell(e.entry ?? "-"),
                     Table.Cell(e.actor + (e.detail.map { " (\($0))" } ?? "")),
                     Table.Cell([e.parentName, e.parentPID.map(String.init)].compactMap { $0 }.joined(separator: " "))]
                }
                if !rows.isEmpty {
                    try Output.out(Table.render(header: ["TIME", "ACTION", "ENTRY", "BY", "PARENT"], rows: rows, style: Style.forStdout()))
                }
            }
            if let problem = report.problem {
                Output.error("the activity log was tampered with: \(problem)")
                Output.hint("restore the vault from a backup; events after that point cannot be trusted")
                throw CLIError.exit(.tampered)
            }
            Output.note("the activity log's chain verifies (\(report.events.count) event\(report.events.count == 1 ? "" : "s"))")
        }
    }
}
