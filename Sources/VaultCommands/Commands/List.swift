import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import VaultCLICommon
import Glibc

extension VaultCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List entries (never their tokens), sorted by name.",
            discussion: """
                A name may be followed by (revoked): GitLab revoked the token; (rejected): git's \
                server refused it, and git no longer gets it ('\(ProgramName.current) restore NAME'); or (new from \
                git): git's helper stored it from git's prompt and nobody has looked at it yet \
                ('\(ProgramName.current) rename NAME NEW-NAME', or '\(ProgramName.current) edit NAME --reviewed').

                Examples:
                  \(ProgramName.current) list
                  \(ProgramName.current) list --host gitlab.com --expiring 30d
                  \(ProgramName.current) list --json | jq -r '.[].name'
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

        @Argument(help: ArgumentHelp("A remote's entries instead: REMOTE/ or REMOTE/FOLDER/.", valueName: "remote"))
        var remote: String?

        func validate() throws {
            try checkingInput {
                if let host { try Redaction.refuseToken(host, what: "the value of --host") }
                if let scope { try Redaction.refuseToken(scope, what: "the value of --scope") }
            }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            let now = Timestamp.now()
            let all: [Entry]
            if let remote {
                let name = remote.contains("/") ? remote : remote + "/"
                guard let found = try RemoteAccess.resolve(name, in: vault) else { throw VaultError.notFound(name: String(name.dropLast()), suggestion: nil) }
                let listed = try found.entries.list(found.entry)
                for folder in listed.folders { Output.note("folder \(folder) ('\(ProgramName.current) list \(folder)')") }
                for name in listed.unreadable { Output.warning("'\(name)' cannot be read (not TokenVault's, or denied)") }
                all = listed.entries
            } else {
                all = try vault.entries()
            }
            let entries = all.filter { entry in
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
                try Output.json(.array(entries.map { EntryJSON.metadata($0) }))
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
