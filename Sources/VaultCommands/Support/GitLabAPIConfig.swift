import ArgumentParser
import TokenVault
import TokenVaultGitLab
import VaultCLICommon

/// `vault config gitlab-api-url.HOST URL`: the API URL of the GitLab on HOST, for a GitLab
/// installed under a path. `none` removes it.
enum GitLabAPIConfig {
    static let prefix = "gitlab-api-url."

    /// Whether `key` is one of these settings.
    static func isKey(_ key: String) -> Bool { key.hasPrefix(prefix) }

    /// The host a key names (`gitlab-api-url.git.example.com:8443` → `git.example.com:8443`).
    static func host(_ key: String) -> String { String(key.dropFirst(prefix.count)).lowercased() }

    /// Checks a value for `key`: `none`, or an API URL on the key's host.
    static func validate(key: String, value: String) throws {
        guard !host(key).isEmpty else { throw ValidationError("gitlab-api-url.HOST names a host, e.g. gitlab-api-url.git.example.com") }
        if value == "none" { return }
        let api: GitLabAPIURL
        do { api = try GitLabAPIURL(parsing: value) } catch { throw ValidationError("\(key): \(error.description)") }
        guard api.host == host(key) else {
            throw ValidationError("\(key) takes an API URL on \(host(key)), not on \(api.host)")
        }
    }

    /// The value shown for `key` (its URL, or `none`).
    static func shown(_ settings: VaultSettings, key: String) -> String {
        settings.gitLabAPIURLs[host(key)] ?? "none"
    }

    /// Sets (or, with `none`, removes) the value of `key`.
    static func change(_ settings: inout VaultSettings, key: String, value: String) {
        settings.gitLabAPIURLs[host(key)] = value == "none" ? nil : (try? GitLabAPIURL(parsing: value))?.description
    }

    /// Every host's setting, as `vault config` lists them.
    static func all(_ settings: VaultSettings) -> [(String, String)] {
        settings.gitLabAPIURLs.sorted { $0.key < $1.key }.map { (prefix + $0.key, $0.value) }
    }

    /// The vault's API URLs by host, for ``GitLabAccess/apiURLDefaults``. One that does not
    /// parse (written by hand into a later version's vault) is an error, not skipped.
    static func defaults(_ vault: Vault) throws -> [String: GitLabAPIURL] {
        var defaults: [String: GitLabAPIURL] = [:]
        for (host, text) in try vault.settings().gitLabAPIURLs {
            guard let api = try? GitLabAPIURL(parsing: text), api.host == host else {
                throw CLIError.failed("the vault's setting \(prefix)\(TerminalText.escape(host)) is not a GitLab API URL on that host",
                                      hint: "\(ProgramName.current) config \(prefix)\(TerminalText.escape(host)) none")
            }
            defaults[host] = api
        }
        return defaults
    }
}
