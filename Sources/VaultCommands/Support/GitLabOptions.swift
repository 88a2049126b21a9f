import ArgumentParser
import TokenVault
import TokenVaultGitLab
import VaultCLICommon

/// Options of the commands that talk to GitLab.
struct GitLabOptions: ParsableArguments {
    @Option(name: .customLong("ca-file"), help: ArgumentHelp(
        "Trust only the certificate authorities in this PEM file (a self-hosted GitLab behind a private CA).",
        valueName: "path"))
    var caFile: String?

    @Option(help: ArgumentHelp("Give GitLab at most this many seconds to answer.", valueName: "seconds"))
    var timeout: Int = 30

    @Option(name: .customLong("api-url"), help: ArgumentHelp(
        "GitLab's API, on the token's host (https://host/gitlab/api/v4 for a GitLab under /gitlab).",
        valueName: "url"))
    var apiURL: String?

    func validate() throws {
        if !(1...600).contains(timeout) { throw ValidationError("--timeout takes 1 to 600 seconds") }
        if let caFile, !VaultLocation.exists(caFile) { throw ValidationError("no file at '\(caFile)' (--ca-file)") }
        if let apiURL {
            do { _ = try GitLabAPIURL(parsing: apiURL) } catch { throw ValidationError("--api-url: \(error.description)") }
        }
    }

    /// ``access()``, with the vault's per-host API URLs (`vault config gitlab-api-url.HOST`)
    /// under --api-url.
    func access(vault: Vault) throws -> GitLabAccess {
        var access = try access()
        access.apiURLDefaults = try GitLabAPIConfig.defaults(vault)
        return access
    }

    /// GitLab's API as these options reach it: only from `tokenvault-gitlab`, which has a transport.
    func access() throws -> GitLabAccess {
        guard let transport = Online.transport else {
            throw CLIError.failed("GitLab's commands run in tokenvault-gitlab", hint: "run them as '\(ProgramName.current) gitlab ...'")
        }
        var access = GitLabAccess(transport: transport, caFile: caFile, timeout: timeout)
        access.apiURL = try apiURL.map { try GitLabAPIURL(parsing: $0) }
        return access
    }
}

extension GitLabAccessError {
    /// The CLI's report: an entry that is not a GitLab token, or has no URL, is a usage error
    /// with the edit that fixes it.
    var cliError: CLIError {
        switch self {
        case .notGitLab(let name, let kind):
            .usage("'\(name)' is not a GitLab token (its kind is \(kind.rawValue))", hint: "if it is one: \(ProgramName.current) edit \(name) --kind gitlab")
        case .noURL(let name):
            .usage("'\(name)' has no URL, so its GitLab is unknown", hint: "\(ProgramName.current) edit \(name) --url https://gitlab.example.com")
        case .gitlab(let error):
            .failed(error.description)
        case .apiURLOnOtherHost(let name, _, let entryHost):
            .usage(description, hint: "give --api-url on \(entryHost), or leave it out for '\(name)' (\(ProgramName.current) config gitlab-api-url.\(entryHost) URL sets its default)")
        }
    }
}

extension GitLabError {
    /// What to do about it, when there is more to say than its description.
    var hint: String? {
        switch self {
        case .proxyUnauthorized:
            "check the proxy's or gateway's sign-in (https_proxy, a VPN, a sign-in gateway), then try again; the token was not judged"
        case .notAvailable, .unreadableAnswer:
            "for a GitLab installed under a path: --api-url https://HOST/PATH/api/v4, or \(ProgramName.current) config gitlab-api-url.HOST URL"
        default:
            nil
        }
    }
}

/// What verifying one entry at GitLab found, as one line for the user.
struct Verification {
    enum State { case active, revoked, expired, failed }
    var name: String
    var state: State
    /// One line for the user: what GitLab says, and what changed in the vault.
    var report: String
    /// What to do about a failure, when there is more to say than the report.
    var hint: String?
    /// GitLab's record of the token's use, when GitLab answered.
    var activity: GitLabActivity?
    /// GitLab's last use as it wrote it, when it wrote no time this reads.
    var lastUsedText: String?

    /// Verifies the entry `name` at GitLab (the library brings the entry up to date), its
    /// record read by `reader`, and says what it found.
    init(_ vault: Vault, _ name: String, access: GitLabAccess, reader: GitLabRecordReader = .configured) {
        self.name = name
        let found: GitLabVerification
        do { found = try vault.verifyAtGitLab(name, using: access, reader: reader) } catch {
            (state, report) = (.failed, "\(name): \(error.description)")
            switch error {
            case .gitlab(let error): hint = error.hint
            case .recordNotShown(_, let refusal):
                hint = (refusal == .unauthorized ? "check the admin token ('\(ProgramName.current) gitlab verify ADMIN'); " : "")
                    + "an admin token reads its own user's tokens, an instance administrator's any: name another with --admin-token ENTRY, or set one with '\(ProgramName.current) config gitlab-admin.HOST ENTRY'"
            default: break
            }
            return
        }
        activity = GitLabActivity(found)
        lastUsedText = found.info?.lastUsed
        guard let info = found.info else {
            // GitLab refused the token (401).
            if found.state == .expired {
                (state, report) = (.expired, "\(name): GitLab refuses the token, which expired on \(found.entry.expires?.dateString ?? "?")")
                return
            }
            var lost = ""
            if case .happened(let started)? = found.settledRotation {
                lost = " The rotation started on \(started.dateString) did happen: its new token never reached the vault. Create a new token in GitLab and store it with '\(ProgramName.current) edit \(name) --secret'."
            }
            (state, report) = (.revoked, "\(name): REVOKED: GitLab refuses the token (401: revoked, expired or invalid); marked revoked.\(lost)")
            return
        }
        let summary = "scopes \(info.scopes.joined(separator: ",")), expires \(info.expires?.dateString ?? "never")"
        let changed = found.changes.isEmpty ? "" : " (updated: \(found.changes.joined(separator: "; ")))"
        switch found.state {
        case .expired: (state, report) = (.expired, "\(name): expired at GitLab; \(summary)\(changed)")
        case .revoked: (state, report) = (.revoked, "\(name): REVOKED at GitLab; \(summary)\(changed)")
        case .active: (state, report) = (.active, "\(name): active; \(summary)\(changed)")
        }
    }
}

extension Verification {
    /// GitLab's record of the token's use beside the vault's own last read, as one indented
    /// line (nil when GitLab did not answer): "last used at GitLab ... from ADDRESSES; last
    /// read from the vault ...". Not escaped: the caller escapes what it prints.
    var activityLine: String? {
        guard let activity else { return nil }
        let record = activity.readBy.map { "GitLab's record, read with the admin token '\($0)'" } ?? "GitLab's record, read with the token itself"
        var gitlab = "never used at GitLab"
        if let used = activity.lastUsedAtGitLab {
            gitlab = "last used at GitLab \(used.iso8601)" + (activity.mayBeOwnRequest ? " (this request: GitLab counts it)" : "")
        } else if let lastUsedText {
            gitlab = "last used at GitLab \(lastUsedText)"
        }
        if !activity.addresses.isEmpty { gitlab += " from " + activity.addresses.joined(separator: ", ") }
        let vault = activity.lastReadFromVault.map { "last read from the vault \($0.iso8601)" } ?? "never read from the vault"
        return "  \(record): \(gitlab); \(vault)"
    }
}
