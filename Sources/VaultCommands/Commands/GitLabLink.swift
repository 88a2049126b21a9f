import ArgumentParser
import TokenVault
import TokenVaultGitLab
import VaultCLICommon

/// `--project` or `--group`, `--variable` and `--environment-scope`: which CI/CD variable.
struct GitLabVariableOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The project, by id or full path (team/app).", valueName: "path-or-id"))
    var project: String?

    @Option(help: ArgumentHelp("The group, by id or full path (team), instead of --project.", valueName: "path-or-id"))
    var group: String?

    @Option(help: ArgumentHelp("The CI/CD variable's key.", valueName: "key"))
    var variable: String

    func validate() throws {
        if (project == nil) == (group == nil) { throw ValidationError("give --project or --group (one of them)") }
    }

    var owner: GitLabVariableLink.Owner {
        if let group { return .group(group) }
        return .project(project ?? "")
    }
}

extension VaultCommand.GitLabCommand {
    struct Link: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that a token lives in a GitLab CI/CD variable too.",
            discussion: """
                The link is kept encrypted in the entry's metadata; nothing is sent to GitLab \
                until '\(ProgramName.current) gitlab push NAME' (or '\(ProgramName.current) gitlab rotate NAME') writes the \
                token there; until then the link is pending ('\(ProgramName.current) check' reports \
                it). Linking the same variable again changes its settings. The \
                variable is masked, or with --hidden masked and hidden (GitLab 17.4 or later; \
                GitLab hides a variable only when it creates it).

                Examples:
                  \(ProgramName.current) gitlab link gitlab-ci --project team/app --variable DEPLOY_TOKEN
                  \(ProgramName.current) gitlab link gitlab-ci --group team --variable CI_TOKEN --hidden
                  \(ProgramName.current) gitlab link gitlab-ci --project 42 --variable TOKEN \\
                      --environment-scope production --protected
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's name.")
        var name: String

        @OptionGroup var variable: GitLabVariableOptions

        @Option(name: .customLong("environment-scope"), help: ArgumentHelp(
            "The environments the variable applies to (default: *, all).", valueName: "scope"))
        var environmentScope = "*"

        @Flag(help: "Export the variable only to protected branches and tags (a push never unprotects one).")
        var protected = false

        @Flag(help: "Mask the variable in job logs (the default).")
        var masked = false

        @Flag(help: "Mask and hide it: GitLab never shows its value again.")
        var hidden = false

        func validate() throws {
            if masked && hidden { throw ValidationError("--masked and --hidden exclude each other") }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            let link = GitLabVariableLink(owner: variable.owner, key: variable.variable, environmentScope: environmentScope,
                                          protected: protected, visibility: hidden ? .hidden : .masked)
            let replaced = try withSuggestion(vault) { () throws -> Bool in
                do throws(GitLabLinkError) { return try vault.linkGitLabVariable(name, link) } catch { throw error.cliError }
            }
            Output.note("\(replaced ? "changed" : "linked") '\(name)' → \(link.description); '\(ProgramName.current) gitlab push \(name)' writes the token there")
        }
    }
}
