import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import TokenVaultGitLab
import VaultCLICommon

extension VaultCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Review every token: expired, expiring, due for rotation, too broad, duplicated, unused.",
            discussion: """
                One line per finding on stdout, worst first. Exit code 0: nothing to do; 8: \
                something to do; 4: something has expired. For cron and CI jobs.

                --online first asks GitLab about every GitLab token (as '\(ProgramName.current) gitlab verify \
                --all' does, updating scopes, expiry and revoked tokens); a token GitLab could \
                not be asked about is a finding too. It then compares GitLab's record of each \
                token's use with the vault's: a token GitLab saw unused for longer than \
                --unused (a candidate for revocation), and one GitLab saw used within --unused \
                although the vault did not hand it out in that time and knows no other place it \
                lives (used somewhere the vault does not know, or leaked). GitLab counts a \
                token's question about itself as a use, so a last use at GitLab within 15 \
                minutes of the vault's own request with the token is not taken for one \
                elsewhere. With an admin token for the host (--admin-token, or \
                '\(ProgramName.current) config gitlab-admin.HOST ENTRY'), a token whose GitLab id \
                the vault knows is not sent: the admin token reads its record by the id, and \
                GitLab's record shows the token's own uses only.

                Examples:
                  \(ProgramName.current) check
                  \(ProgramName.current) check --within 30d --json
                  \(ProgramName.current) check --online
                  \(ProgramName.current) check --online --unused 60d
                  \(ProgramName.current) check --online --admin-token gitlab-admin
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Report tokens that expire within this span (e.g. 30d, 2w; a bare number is days).",
                                   valueName: "span"))
        var within = DaySpan(days: 14)

        @Flag(help: "Print a JSON array of findings.")
        var json = false

        @Flag(help: "Ask GitLab about every GitLab token first.")
        var online = false

        @Option(help: ArgumentHelp("With --online: a span of no use at GitLab that makes a token unused, and of use that counts as recent (e.g. 90d; a bare number is days).",
                                   valueName: "span"))
        var unused = DaySpan(days: 90)

        @OptionGroup var gitlab: GitLabOptions
        @OptionGroup var record: GitLabRecordOptions

        /// The time to review at (for tests): YYYY-MM-DD or seconds since 1970.
        @Option(help: .hidden)
        var now: String?

        func validate() throws {
            if let now, Timestamp(date: now) == nil && Int64(now) == nil {
                throw ValidationError("--now takes YYYY-MM-DD or seconds since 1970")
            }
            if !(1...36_500).contains(unused.days) { throw ValidationError("--unused takes a span from 1d to 36500d") }
            if record.adminToken != nil && !online { throw ValidationError("--admin-token goes with --online") }
        }

        func run() throws {
            let at = now.flatMap { Timestamp(date: $0) ?? Int64($0).map(Timestamp.init(secondsSince1970:)) } ?? .now()
            let vault = try global.unlockedVault()
            var gitLabFindings: [Review.Finding] = []
            if online {
                let access = try gitlab.access(vault: vault)
                let readers = try record.readers(vault, named: false)
                for entry in try vault.gitLabEntries() {
                    let result = Verification(vault, entry.name, access: access, reader: readers(entry))
                    if result.state == .failed {
                        gitLabFindings.append(Review.Finding(kind: .unverified, name: entry.name, detail: String(result.report.dropFirst(entry.name.count + 2))))
                    } else {
                        Output.note("gitlab: " + result.report)
                        // GitLab's record of the token's use, for a token it still accepts.
                        if result.state == .active, let activity = result.activity {
                            gitLabFindings += activity.findings(for: entry, now: at, window: .seconds(Int64(unused.days) * 86_400))
                        }
                    }
                }
            }
            // Remote entries are reviewed too, in the program that reaches OpenBao.
            let remotes = try vault.remotes()
            var remoteEntries: [Entry] = []
            for remote in remotes {
                do {
                    remoteEntries += try RemoteAccess.entries(of: remote).list("").entries
                } catch let error as OpenBaoError {
                    gitLabFindings.append(Review.Finding(kind: .unverified, name: remote.name + "/", detail: error.description))
                }
            }
            let entries = try vault.entries().filter { $0.deleted == nil } + remoteEntries.filter { $0.deleted == nil }
            let settings = try vault.settings()
            // Duplicates and GitHub classic tokens need the tokens themselves; the library looks
            // at them without handing them out.
            let findings = Review.findings(entries, now: at, withinDays: within.days, rotateEvery: settings.rotateEvery,
                                           tokens: try vault.reviewTokens()) + gitLabFindings
            if json {
                try Output.json(.array(findings.map { finding in
                    .object([("name", .string(finding.name)), ("finding", .string(finding.kind.rawValue)),
                             ("severity", .string(finding.severity.rawValue)), ("message", .string(finding.message))])
                }))
            } else {
                for finding in findings {
                    let severity = finding.severity.rawValue
                    try Output.out(severity + String(repeating: " ", count: 8 - severity.count)
                                   + TerminalText.escape("\(finding.name): \(finding.message)") + "\n")
                }
                if findings.isEmpty { Output.note("nothing to do: \(entries.count) token\(entries.count == 1 ? "" : "s") reviewed") }
            }
            if findings.contains(where: { $0.kind == .expired || $0.kind == .revoked }) { throw CLIError.exit(.expired) }
            if !findings.isEmpty { throw CLIError.exit(.findings) }
        }
    }
}
