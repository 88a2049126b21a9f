import ArgumentParser
import Glibc
import TokenVault
import TokenVaultGitLab
import VaultCLICommon

extension VaultCommand {
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or change the vault's settings.",
            discussion: """
                Settings: rotate-every (how often tokens should be replaced when an entry names no \
                period; default 90d), trash-days (how long `\(ProgramName.current) rm` keeps an entry; default 30), \
                log-events and log-days (how much of the activity log is kept; default 10000 \
                events and 365 days), agent-autostart (on: after a passphrase typed at the \
                terminal, git's helper starts the agent with the default idle timeout, so that one \
                git operation asks once; off: it asks at each of git's calls, and only `\(ProgramName.current) \
                unlock` starts the agent; default on), gitlab-api-url.HOST (the API URL of a \
                GitLab on HOST installed under a path, such as https://HOST/gitlab/api/v4, for \
                the gitlab commands; none removes it), gitlab-admin.HOST (the entry whose token \
                '\(ProgramName.current) gitlab push' authenticates with at HOST; none removes it). They are \
                stored encrypted in the vault.

                key-file is this machine's, kept apart from them: the path of the vault's key \
                file (never its content), in a settings file beside the vault (VAULT.settings, \
                mode 600, not encrypted), read before the vault is unlocked; --unset forgets it. \
                --key-file and TOKENVAULT_KEY_FILE come first.

                Examples:
                  \(ProgramName.current) config
                  \(ProgramName.current) config rotate-every 60d
                  \(ProgramName.current) config trash-days 14
                  \(ProgramName.current) config log-days 90
                  \(ProgramName.current) config agent-autostart off
                  \(ProgramName.current) config gitlab-api-url.example.com \\
                      https://example.com/gitlab/api/v4
                  \(ProgramName.current) config gitlab-admin.gitlab.example.com gitlab-admin
                  \(ProgramName.current) config key-file /media/usb/vault.key
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "rotate-every, trash-days, log-events, log-days, agent-autostart, gitlab-api-url.HOST, gitlab-admin.HOST or key-file.")
        var key: String?

        @Argument(help: "The new value.")
        var value: String?

        @Flag(help: "With key-file: forget the key file's path.")
        var unset = false

        static let keys = ["rotate-every", "trash-days", "log-events", "log-days", "agent-autostart"]

        /// `gitlab-admin.HOST`: the host, or nil for another key.
        static func adminHost(_ key: String?) -> String? {
            guard let key, key.hasPrefix("gitlab-admin."), key.count > "gitlab-admin.".count else { return nil }
            return String(key.dropFirst("gitlab-admin.".count))
        }

        func validate() throws {
            if unset && (key != LocalSettings.keyFileName || value != nil) { throw ValidationError("--unset goes with key-file alone") }
            if key == LocalSettings.keyFileName { return }
            if let key, GitLabAPIConfig.isKey(key) {
                if let value { try GitLabAPIConfig.validate(key: key, value: value) }
                return
            }
            if Self.adminHost(key) != nil { return }
            if let key, !Self.keys.contains(key) {
                throw ValidationError("unknown setting '\(key)': rotate-every, trash-days, log-events, log-days or agent-autostart")
            }
            if let value {
                if key == "agent-autostart" {
                    guard Self.switches[value] != nil else { throw ValidationError("agent-autostart takes on or off") }
                    return
                }
                if key == "rotate-every", !(86_400...(36_500 * 86_400)).contains(Span(argument: value)?.seconds ?? 0) {
                    throw ValidationError("rotate-every takes a span from 1d to 36500d, such as 90d")
                }
                let limit: Int64 = key == "log-events" ? 10_000_000 : 36_500
                if key != "rotate-every", !(1...limit).contains(Int64(value) ?? 0) {
                    throw ValidationError("\(key!) takes a whole number from 1 to \(limit)")
                }
            }
        }

        func run() throws {
            // This machine's, beside the vault: no unlocking.
            if key == LocalSettings.keyFileName { return try keyFileSetting() }
            let vault = try global.unlockedVault()
            if let key, GitLabAPIConfig.isKey(key) {
                guard let value else { return try Output.out(GitLabAPIConfig.shown(try vault.settings(), key: key) + "\n") }
                let old = GitLabAPIConfig.shown(try vault.settings(), key: key)
                try vault.updateSettings(detail: "\(key) \(old) → \(value)") { GitLabAPIConfig.change(&$0, key: key, value: value) }
                return Output.note("\(key) set to \(value)")
            }
            if let host = Self.adminHost(key) {
                try gitlabAdmin(vault, host: host)
                return
            }
            if let key, let value {
                let before = try vault.settings()
                let old = switch key {
                case "rotate-every": "\(before.rotateEvery.wholeDays)d"
                case "trash-days": "\(before.trashRetention.wholeDays)"
                case "log-events": "\(before.logMaxEvents)"
                case "agent-autostart": Self.shown(before.agentAutostart)
                default: "\(before.logRetention.wholeDays)"
                }
                try vault.updateSettings(detail: "\(key) \(old) → \(value)") { settings in
                    switch key {
                    case "rotate-every": settings.rotateEvery = .seconds(Span(argument: value)!.seconds)
                    case "trash-days": settings.trashRetention = .seconds(Int64(value)! * 86_400)
                    case "log-events": settings.logMaxEvents = Int64(value)!
                    case "agent-autostart": settings.agentAutostart = Self.switches[value]!
                    default: settings.logRetention = .seconds(Int64(value)! * 86_400)
                    }
                }
                Output.note("\(key) set to \(value)")
                return
            }
            let settings = try vault.settings()
            let all = [("rotate-every", "\(settings.rotateEvery.wholeDays)d"), ("trash-days", "\(settings.trashRetention.wholeDays)"),
                       ("log-events", "\(settings.logMaxEvents)"), ("log-days", "\(settings.logRetention.wholeDays)"),
                       ("agent-autostart", Self.shown(settings.agentAutostart))] + GitLabAPIConfig.all(settings)
            for (name, shown) in all where key == nil || key == name {
                try Output.out(TerminalText.escape(key == nil ? "\(name) \(shown)" : shown) + "\n")
            }
            if key == nil {
                for (host, entry) in settings.gitlabAdmin.sorted(by: { $0.key < $1.key }) {
                    try Output.out(TerminalText.escape("gitlab-admin.\(host) \(entry)") + "\n")
                }
            }
        }

        /// Shows, sets or forgets the key file's path in the settings file beside the vault.
        private func keyFileSetting() throws {
            let path = global.path
            guard VaultLocation.exists(path) else { throw VaultError.noVault(path: path) }
            var settings = try LocalSettings.read(forVault: path)
            if unset {
                settings.keyFile = nil
                try settings.write(forVault: path)
                return Output.note("key-file unset")
            }
            guard let value else { return try Output.out(TerminalText.escape(settings.keyFile ?? "none") + "\n") }
            var absolute = value
            if !value.hasPrefix("/") {
                guard let folder = getcwd(nil, 0) else { throw CLIError.failed("cannot find the current folder, to make '\(value)' an absolute path") }
                absolute = String(cString: folder) + "/" + value
                free(folder)
            }
            // A path that names a key file this user may use (its content is not kept).
            _ = try CLIKeyFile.read(absolute)
            settings.keyFile = absolute
            try settings.write(forVault: path)
            Output.note("key-file set to \(absolute)")
        }

        /// Shows or sets the admin token for a GitLab host.
        private func gitlabAdmin(_ vault: Vault, host: String) throws {
            guard let value else {
                try Output.out(TerminalText.escape(try vault.settings().gitlabAdmin[host.lowercased()] ?? "none") + "\n")
                return
            }
            do throws(GitLabLinkError) {
                try vault.setGitLabAdmin(host: host, entry: value == "none" ? nil : value)
            } catch {
                throw error.cliError
            }
            Output.note("gitlab-admin.\(host) set to \(value)")
        }

        /// The words a switch takes.
        static let switches = ["on": true, "off": false]

        static func shown(_ on: Bool) -> String { on ? "on" : "off" }
    }
}
