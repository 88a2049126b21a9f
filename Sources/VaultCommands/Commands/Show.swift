import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import VaultCLICommon

extension VaultCommand {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every field of one entry (the token hidden unless --reveal).",
            discussion: """
                --reveal shows an expired or revoked token too; a token in the trash is not \
                shown ('\(ProgramName.current) restore' it first).

                Examples:
                  \(ProgramName.current) show gitlab-ci
                  \(ProgramName.current) show gitlab-ci --json | jq -r .expires
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's name.", completion: NameCompletion.names(.all))
        var name: String

        @Flag(help: "Include the token.")
        var reveal = false

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() throws {
            let vault = try global.unlockedVault()
            let entry: Entry
            var secret: Secret?
            if let remote = try RemoteAccess.resolve(name, in: vault) {
                if reveal {
                    (entry, secret) = try remote.entries.get(remote.entry, allowingExpired: true)
                } else {
                    entry = try remote.entries.entry(remote.entry).entry
                }
            } else if reveal {
                // Every field, an expired or revoked token included (the rows say so); a
                // token in the trash is given to nobody: the library refuses it.
                let token = try withSuggestion(vault) { try vault.get(name, allowingExpired: true) }
                (entry, secret) = (token.entry, token.secret)
            } else {
                entry = try withSuggestion(vault) { try vault.entry(named: name) }
            }
            if json {
                try Output.json(EntryJSON.metadata(entry, secret: secret))
                return
            }
            let now = Timestamp.now()
            var rows: [(String, String)] = [
                ("name", entry.name),
                ("kind", entry.kind.rawValue),
                ("url", entry.url?.description ?? "-"),
                ("host", entry.host ?? "-"),
                ("username", entry.username ?? "-"),
                ("scopes", entry.scopes.isEmpty ? "-" : entry.scopes.joined(separator: ",")),
                ("expires", entry.expires.map { "\($0.dateString) (\(RelativeTime.expiry($0, now: now)))" } ?? "never"),
                ("notes", entry.notes ?? "-"),
                ("created", entry.created.iso8601),
                ("updated", entry.updated.iso8601),
                ("last used", entry.lastUsed.map(\.iso8601) ?? "never"),
            ]
            if let rejected = entry.rejected { rows.append(("rejected", "\(rejected.iso8601) (by git; '\(ProgramName.current) restore' brings it back)")) }
            if let revoked = entry.revoked { rows.append(("revoked", "\(revoked.iso8601) (at GitLab)")) }
            if let started = entry.rotationStarted { rows.append(("rotation", "started \(started.iso8601), outcome unknown: '\(ProgramName.current) gitlab verify \(entry.name)'")) }
            if entry.isGitDefault { rows.append(("git", "the default for its host")) }
            if let rotate = entry.rotateEvery { rows.append(("rotate", "every \(rotate.wholeDays) days")) }
            if let deleted = entry.deleted { rows.append(("trash", "since \(deleted.iso8601) ('\(ProgramName.current) restore' brings it back)")) }
            for link in entry.gitlabLinks { rows.append(("link", GitLabLinkText.shown(link))) }
            if let token = entry.gitlabToken { rows.append(("gitlab id", "\(token.id) (its record is read by this id with an admin token)")) }
            rows.append(("token", secret == nil ? "<hidden: use --reveal>" : ""))
            var text = ""
            for (label, value) in rows {
                text += label + ":" + String(repeating: " ", count: 11 - label.count) + TerminalText.escape(value)
                if label == "token", let secret {
                    try Output.out(text)
                    try Output.out(secret: secret)
                    return
                }
                text += "\n"
            }
            try Output.out(text)
        }
    }
}
