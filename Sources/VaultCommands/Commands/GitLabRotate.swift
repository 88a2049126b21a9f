import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import TokenVaultGitLab
import VaultCLICommon

extension VaultCommand.GitLabCommand {
    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rotate a token at GitLab and store its successor, keeping the old one in the entry's history.",
            discussion: """
                GitLab revokes the old token as it creates the new one (GitLab 16.10 or later; the \
                token needs the api or self_rotate scope). The new token is written to the vault \
                the moment GitLab's answer arrives. A rotation is never retried: rotating a token \
                that is already revoked revokes its successor too. If no answer comes after the \
                request was sent, the vault keeps the old token, marks the rotation unfinished, \
                and '\(ProgramName.current) gitlab verify NAME' finds out what happened.

                The new token expires after --expires-in or on --expires; by default after the \
                entry's rotation period (\(ProgramName.current) config rotate-every), at most 365 days.

                A token linked to CI/CD variables ('\(ProgramName.current) gitlab link') is then pushed to each, \
                as '\(ProgramName.current) gitlab push' does (one line per variable on stdout); the admin token \
                is checked before anything is rotated. A variable not updated stays pending \
                for '\(ProgramName.current) gitlab push NAME', and the exit code is 10.

                Examples:
                  \(ProgramName.current) gitlab rotate gitlab-ci
                  \(ProgramName.current) gitlab rotate gitlab-ci --expires-in 30d
                  \(ProgramName.current) gitlab rotate gitlab-ci --expires 2027-03-01
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var gitlab: GitLabOptions
        @OptionGroup var push: GitLabPushOptions

        @Argument(help: "The entry's name.", completion: NameCompletion.names(.live))
        var name: String

        @Option(name: .customLong("expires-in"), help: ArgumentHelp("The new token's lifetime (e.g. 90d).", valueName: "span"))
        var expiresIn: Span?

        @Option(help: ArgumentHelp("The new token's expiry date.", valueName: "YYYY-MM-DD"))
        var expires: String?

        func validate() throws {
            if expiresIn != nil && expires != nil { throw ValidationError("--expires-in and --expires exclude each other") }
            if let expires, Timestamp(date: expires) == nil { throw ValidationError("--expires takes a date, YYYY-MM-DD") }
            if let expiresIn, expiresIn.seconds < 86_400 { throw ValidationError("--expires-in takes at least a day") }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            let access = try gitlab.access(vault: vault)
            var expiry = GitLabRotation.Expiry.rotationPeriod
            if let expires, let date = Timestamp(date: expires) { expiry = .on(date) }
            if let expiresIn { expiry = .after(.seconds(expiresIn.seconds)) }
            if let remote = try RemoteAccess.resolve(name, in: vault) {
                let date = expires.flatMap { Timestamp(date: $0) } ?? expiresIn.map { Timestamp.now().adding(days: Int($0.seconds / 86_400)) }
                try RemoteGitLab.rotate(remote.entries, remote.entry, name: name, access: access, expires: date, vault: vault)
                return
            }

            // Linked variables get the new token: the admin token that will push it must be
            // usable before the old token is revoked.
            let linked = try withSuggestion(vault) { try vault.entry(named: name) }.gitlabLinks.isEmpty == false
            if linked {
                do throws(GitLabPushError) { _ = try vault.gitLabAdmin(for: name, auth: push.auth) } catch { throw error.cliError(name) }
            }

            // The library holds Ctrl-C, kill and a closed terminal while the new token is only
            // in memory; held here as well, they also wait until the outcome is said.
            let status = StopSignals.held { () -> ExitStatus in
                do {
                    let rotation = try withSuggestion(vault) { try rotate(vault, access: access, expiry: expiry) }
                    Output.note("rotated '\(name)' at GitLab: the new token expires on \(rotation.info.expires?.dateString ?? "?"); the old one is revoked, and kept in '\(ProgramName.current) history \(name)'")
                    return ExitStatus.success
                } catch {
                    return Output.report(error)
                }
            }
            if status != .success { throw CLIError.exit(status) }
            guard linked else { return }
            // The new token is stored, its links marked pending with it: a push that fails, or
            // a stop signal now, leaves them pending for '\(ProgramName.current) gitlab push'.
            let pushed: GitLabPush
            do throws(GitLabPushError) { pushed = try vault.pushToGitLab(name, using: access, auth: push.auth, force: push.force) } catch {
                throw error.cliError(name)
            }
            let pushStatus = try GitLabLinkText.report(pushed, name: name)
            if pushStatus != .success { throw CLIError.exit(pushStatus) }
        }

        private func rotate(_ vault: Vault, access: GitLabAccess, expiry: GitLabRotation.Expiry) throws -> GitLabRotation {
            do throws(GitLabRotationError) {
                return try vault.rotateAtGitLab(name, using: access, expiry: expiry)
            } catch {
                throw try report(error)
            }
        }

        /// The CLI's words for a rotation that stored no new token, with the command that helps.
        private func report(_ error: GitLabRotationError) throws -> Error {
            let verify = "\(ProgramName.current) gitlab verify \(name)"
            let store = "\(ProgramName.current) edit \(name) --secret"
            switch error {
            case .vault(let error): return error
            case .access(let error): return error.cliError
            case .inTrash: return CLIError.inTrash(name)
            case .expiryInPast: return CLIError.usage("--expires is in the past")
            case .unfinished: return CLIError.failed(error.description, hint: "\(verify) finds out; rotating again now could revoke its successor")
            case .underWay: return CLIError.failed(error.description, hint: "\(verify) finds out")
            case .revoked: return CLIError.failed(error.description, hint: "create a new token in GitLab, and store it with: \(store)")
            case .refused: return CLIError.failed(error.description, hint: "\(verify) marks it; then create a new token in GitLab")
            case .inactive: return CLIError.failed(error.description, hint: verify)
            case .missingScope: return CLIError.failed(error.description, hint: "create a new token in GitLab instead, and store it with: \(store)")
            case .notChecked(let cause), .notRotated(let cause): return CLIError.failed(error.description, hint: cause.hint)
            case .stopped: return CLIError.failed(error.description)
            case .refusedRotation:
                return CLIError.failed(error.description + " (marked so), and if it had been rotated elsewhere before, GitLab has now revoked that successor too",
                                       hint: "create a new token in GitLab and store it with '\(store)'")
            case .outcomeUnknown:
                return CLIError.failed(error.description + ". The vault keeps the old token and does not retry (rotating a revoked token revokes its successor too).",
                                       hint: "\(verify): if GitLab refuses the old token, create a new one in GitLab and store it with '\(store)'")
            case .notStored(_, let token, _, _):
                // The last resort: the token is shown rather than lost.
                Output.error(error.description + ": it is printed on stdout, so it is not lost")
                Output.hint("store it with: \(store) (the old token is revoked)")
                try Output.out(secret: token)
                return CLIError.exit(.other)
            }
        }
    }
}
