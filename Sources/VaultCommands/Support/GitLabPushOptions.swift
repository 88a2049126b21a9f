import ArgumentParser
import TokenVault
import TokenVaultGitLab
import VaultCLICommon

/// Options of the commands that write a token into its linked CI/CD variables (`vault gitlab
/// push`, `vault gitlab rotate`).
struct GitLabPushOptions: ParsableArguments {
    @Option(name: .customLong("admin-token"), help: ArgumentHelp(
        "Authenticate the push with this entry's token (api scope, same host). Default: \(ProgramName.current) config gitlab-admin.HOST.",
        valueName: "entry"))
    var adminToken: String?

    @Flag(name: .customLong("self-auth"), help: "Authenticate the push with the pushed token itself (it needs the api scope).")
    var selfAuth = false

    @Flag(help: "Overwrite a variable that holds none of this entry's tokens (changed at GitLab).")
    var force = false

    func validate() throws {
        if adminToken != nil && selfAuth { throw ValidationError("--admin-token and --self-auth exclude each other") }
    }

    var auth: GitLabPushAuth {
        if selfAuth { return .selfAuth }
        return adminToken.map { .entry($0) } ?? .configured
    }
}

extension GitLabPushError {
    /// The CLI's report, with the command that helps.
    func cliError(_ name: String) -> Error {
        switch self {
        case .vault(let error): error
        case .access(let error): error.cliError
        case .noLinks: CLIError.failed(description, hint: "\(ProgramName.current) gitlab link \(name) --project PATH --variable KEY")
        case .unusable: CLIError.failed(description)
        case .noAdmin(let host):
            CLIError.usage(description, hint: "pass --admin-token ENTRY, or set one: \(ProgramName.current) config gitlab-admin.\(host) ENTRY (or --self-auth)")
        case .adminIsSelf: CLIError.usage(description, hint: "to authenticate with the pushed token itself, pass --self-auth")
        case .adminUnusable: CLIError.failed(description)
        }
    }
}

extension GitLabLinkError {
    /// The CLI's report, with the command that helps.
    var cliError: Error {
        switch self {
        case .vault(let error): error
        case .notGitLab(let name, _): CLIError.usage(description, hint: "if it is one: \(ProgramName.current) edit \(name) --kind gitlab")
        case .notLinked(let name, _, _): CLIError.failed(description, hint: "\(ProgramName.current) show \(name) lists its links")
        case .ambiguous: CLIError.usage(description, hint: "pass --environment-scope")
        case .adminNotForHost: CLIError.usage(description)
        }
    }
}

/// How links and push results read.
enum GitLabLinkText {
    /// One link for `vault show`: the variable, its settings, and what the last push did.
    static func shown(_ link: GitLabVariableLink) -> String {
        var settings = [link.visibility == .hidden ? "masked and hidden" : "masked"]
        if link.protected { settings.append("protected") }
        var text = "\(link.owner.kind) \(link.owner.path) variable \(link.key) (scope \(link.environmentScope); \(settings.joined(separator: ", ")))"
        if let pushed = link.pushed { text += "; pushed \(pushed.iso8601)" }
        if let pending = link.pending {
            text += "; PENDING since \(pending.iso8601)" + (link.pendingReason.map { ": \($0)" } ?? "")
        }
        return text
    }

    /// Prints one line per variable on stdout (`VARIABLE: OUTCOME`), and on stderr how to
    /// finish when one did not succeed. The exit status: success, or partial.
    static func report(_ push: GitLabPush, name: String) throws -> ExitStatus {
        for result in push.results {
            try Output.out(TerminalText.escape("\(result.link.description): \(result.outcome.description)") + "\n")
        }
        if push.allSucceeded { return .success }
        let failed = push.results.filter { !$0.outcome.succeeded }.count
        Output.error("\(failed) of \(push.results.count) variables do not hold the token; the vault keeps it, and '\(ProgramName.current) check' lists them")
        Output.hint("\(ProgramName.current) gitlab push \(name) retries (--force overwrites a variable changed at GitLab)")
        return .partial
    }
}
