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

    func validate() throws {
        if !(1...600).contains(timeout) { throw ValidationError("--timeout takes 1 to 600 seconds") }
        if let caFile, !VaultLocation.exists(caFile) { throw ValidationError("no file at '\(caFile)' (--ca-file)") }
    }

    /// GitLab's API as these options reach it: only from `tokenvault-gitlab`, which has a transport.
    func access() throws -> GitLabAccess {
        guard let transport = Online.transport else {
            throw CLIError.failed("GitLab's commands run in tokenvault-gitlab", hint: "run them as '\(ProgramName.current) gitlab ...'")
        }
        return GitLabAccess(transport: transport, caFile: caFile, timeout: timeout)
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

    /// Verifies the entry `name` at GitLab (the library brings the entry up to date) and says
    /// what it found.
    init(_ vault: Vault, _ name: String, access: GitLabAccess) {
        self.name = name
        let found: GitLabVerification
        do { found = try vault.verifyAtGitLab(name, using: access) } catch {
            (state, report) = (.failed, "\(name): \(error.description)")
            return
        }
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
