import ArgumentParser
import TokenVault

extension VaultCommand {
    struct GitLabCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gitlab",
            abstract: "Verify, rotate and revoke GitLab personal access tokens through GitLab's API.",
            discussion: """
                The token talks to GitLab about itself, over HTTPS at its entry's URL, in the \
                PRIVATE-TOKEN header only. Proxies come from https_proxy, all_proxy and no_proxy; \
                a GitLab behind a private certificate authority needs --ca-file.

                Examples:
                  \(ProgramName.current) gitlab verify gitlab-ci
                  \(ProgramName.current) gitlab verify --all
                  \(ProgramName.current) gitlab rotate gitlab-ci --expires-in 90d
                  \(ProgramName.current) gitlab revoke old-token
                """,
            subcommands: [Verify.self, Rotate.self, Revoke.self])
    }
}
