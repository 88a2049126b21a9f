import ArgumentParser
import TokenVault

extension VaultCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List entries (never their tokens).",
            discussion: """
                Examples:
                  vault list
                  vault list --json | jq -r '.[].name'
                """)

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Print a JSON array of entries.")
        var json = false

        func run() throws {
            let vault = try global.unlockedVault()
            let entries = try vault.entries()
            let now = Timestamp.now()
            if json {
                try Output.out(JSON.encode(.array(entries.map { EntryJSON.metadata($0) })) + "\n")
                return
            }
            if entries.isEmpty {
                Output.note("the vault is empty")
                return
            }
            let rows = entries.map { entry -> [String] in
                [entry.name, entry.kind.rawValue, entry.host ?? "-", entry.username ?? "-",
                 entry.scopes.isEmpty ? "-" : entry.scopes.joined(separator: ","),
                 entry.expires.map { $0 <= now ? "expired " + RelativeTime.describe($0, now: now) : RelativeTime.describe($0, now: now) } ?? "never"]
            }
            try Output.out(Table.render(header: ["NAME", "KIND", "HOST", "USER", "SCOPES", "EXPIRES"], rows: rows))
        }
    }
}

enum Table {
    /// Left-aligned columns separated by two spaces.
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = header.map(\.count)
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

enum EntryJSON {
    static func metadata(_ entry: Entry) -> JSON.Value {
        .object([
            ("name", .string(entry.name)),
            ("kind", .string(entry.kind.rawValue)),
            ("url", entry.url.map { .string($0.description) } ?? .null),
            ("host", entry.host.map { .string($0) } ?? .null),
            ("username", entry.username.map { .string($0) } ?? .null),
            ("scopes", .array(entry.scopes.map { .string($0) })),
            ("expires", entry.expires.map { .string($0.dateString) } ?? .null),
            ("notes", entry.notes.map { .string($0) } ?? .null),
            ("created", .string(entry.created.iso8601)),
            ("updated", .string(entry.updated.iso8601)),
            ("last_used", entry.lastUsed.map { .string($0.iso8601) } ?? .null),
        ])
    }
}
