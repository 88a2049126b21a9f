import ArgumentParser
import TokenVault
import VaultSupport
#if canImport(Glibc)
import Glibc
#endif

extension VaultCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List entries (never their tokens), sorted by name.",
            discussion: """
                Examples:
                  vault list
                  vault list --host gitlab.com --expiring 30d
                  vault list --json | jq -r '.[].name'
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Only entries for this host (with :port if it has one).", valueName: "host"))
        var host: String?

        @Option(help: ArgumentHelp("Only entries of this kind: gitlab, github or generic.", valueName: "kind"))
        var kind: TokenKind?

        @Option(help: ArgumentHelp("Only entries that expire within this span (e.g. 30d, 2w), or have expired.",
                                   valueName: "span"))
        var expiring: Span?

        @Option(help: ArgumentHelp("Only entries with this scope.", valueName: "scope"))
        var scope: String?

        @Flag(help: "List the entries in the trash instead.")
        var trash = false

        @Flag(help: "Print a JSON array of entries.")
        var json = false

        func validate() throws {
            try checkingInput {
                if let host { try Redaction.refuseToken(host, what: "the value of --host") }
                if let scope { try Redaction.refuseToken(scope, what: "the value of --scope") }
            }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            let now = Timestamp.now()
            let entries = try vault.entries().filter { entry in
                if (entry.deleted != nil) != trash { return false }
                if let host, entry.host != host.lowercased() { return false }
                if let kind, entry.kind != kind { return false }
                if let scope, !entry.scopes.contains(scope) { return false }
                if let expiring {
                    guard let expires = entry.expires,
                          expires.secondsSince1970 <= now.secondsSince1970 + expiring.seconds else { return false }
                }
                return true
            }
            if json {
                try Output.out(JSON.encode(.array(entries.map { EntryJSON.metadata($0) })) + "\n")
                return
            }
            if entries.isEmpty {
                Output.note("no entries")
                return
            }
            let style = Style.forStdout()
            let rows = entries.map { entry -> [Table.Cell] in
                let expiry: Table.Cell = entry.expires.map { date in
                    let soon = date.secondsSince1970 <= now.secondsSince1970 + Int64(ExpiryPolicy.warningDays) * 86_400
                    return Table.Cell(RelativeTime.expiry(date, now: now), colour: date <= now ? .red : soon ? .yellow : nil)
                } ?? Table.Cell("never")
                let name = entry.revoked != nil ? Table.Cell(entry.name + " (revoked)", colour: .red)
                    : entry.rejected != nil ? Table.Cell(entry.name + " (rejected)", colour: .red)
                    : entry.storedByGit ? Table.Cell(entry.name + " (new from git)", colour: .yellow) : Table.Cell(entry.name)
                return [name, Table.Cell(entry.kind.rawValue), Table.Cell(entry.host ?? "-"),
                        Table.Cell(entry.username ?? "-"),
                        Table.Cell(entry.scopes.isEmpty ? "-" : entry.scopes.joined(separator: ",")), expiry,
                        Table.Cell(entry.lastUsed.map { RelativeTime.describe($0, now: now) } ?? "never")]
            }
            try Output.out(Table.render(header: ["NAME", "KIND", "HOST", "USER", "SCOPES", "EXPIRES", "LAST USED"],
                                        rows: rows, style: style))
        }
    }
}

/// Colour and width for a table on a terminal; plain and full-width otherwise.
struct Style {
    var colour: Bool
    var width: Int?

    static func forStdout() -> Style {
        guard isatty(1) == 1 else { return Style(colour: false, width: nil) }
        var size = winsize()
        let columns = ioctl(1, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        let noColour = Environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return Style(colour: !noColour && Environment["TERM"] != "dumb", width: columns)
    }
}

enum Table {
    enum Colour: String { case red = "31", yellow = "33" }

    /// A cell's text is escaped (`TerminalText`): the columns line up on what the terminal shows.
    struct Cell {
        var text: String
        var colour: Colour?
        init(_ text: String, colour: Colour? = nil) {
            self.text = TerminalText.escape(text)
            self.colour = colour
        }
    }

    /// Left-aligned columns separated by two spaces. With a width, the widest columns are cut
    /// (ending in "…") until the table fits.
    static func render(header: [String], rows: [[Cell]], style: Style = Style(colour: false, width: nil)) -> String {
        let all = [header.map { Cell($0) }] + rows
        var widths = header.map(\.count)
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.text.count) } }
        if let width = style.width {
            let minimum = header.map { max($0.count, 6) }
            while widths.reduce(0, +) + 2 * (widths.count - 1) > width {
                guard let widest = widths.indices.filter({ widths[$0] > minimum[$0] }).max(by: { widths[$0] < widths[$1] })
                else { break }
                widths[widest] -= 1
            }
        }
        return all.map { row in
            row.enumerated().map { i, cell -> String in
                var text = cell.text
                if text.count > widths[i] { text = String(text.prefix(widths[i] - 1)) + "…" }
                let padding = i == row.count - 1 ? "" : String(repeating: " ", count: widths[i] - text.count)
                if style.colour, let colour = cell.colour { return "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" + padding }
                return text + padding
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

enum EntryJSON {
    static func metadata(_ entry: Entry, secret: Secret? = nil) -> JSON.Value {
        var fields: [(String, JSON.Value)] = [
            ("name", .string(entry.name)),
            ("kind", .string(entry.kind.rawValue)),
            ("url", entry.url.map { .string($0.description) } ?? .null),
            ("host", entry.host.map { .string($0) } ?? .null),
            ("username", entry.username.map { .string($0) } ?? .null),
            ("scopes", .array(entry.scopes.map { .string($0) })),
            ("expires", entry.expires.map { .string($0.dateString) } ?? .null),
            ("expired", .bool(entry.isExpired())),
            ("notes", entry.notes.map { .string($0) } ?? .null),
            ("created", .string(entry.created.iso8601)),
            ("updated", .string(entry.updated.iso8601)),
            ("last_used", entry.lastUsed.map { .string($0.iso8601) } ?? .null),
            ("rejected", entry.rejected.map { .string($0.iso8601) } ?? .null),
            ("revoked", entry.revoked.map { .string($0.iso8601) } ?? .null),
            ("rotation_started", entry.rotationStarted.map { .string($0.iso8601) } ?? .null),
            ("git_default", .bool(entry.isGitDefault)),
            ("stored_by_git", .bool(entry.storedByGit)),
            ("rotate_every_days", entry.rotateEvery.map { .number($0 / 86_400) } ?? .null),
            ("deleted", entry.deleted.map { .string($0.iso8601) } ?? .null),
        ]
        if let secret { fields.append(("secret", .string(secret.revealString()))) }
        return .object(fields)
    }
}
