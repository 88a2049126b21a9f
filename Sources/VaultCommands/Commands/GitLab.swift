import ArgumentParser
import TokenVault

extension VaultCommand {
    struct GitLabCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gitlab",
            abstract: "Verify, rotate, revoke and push GitLab personal access tokens through GitLab's API.",
            discussion: """
                The token talks to GitLab about itself, over HTTPS at its entry's URL (a \
                GitLab installed under a path: https://host/gitlab; or --api-url, or '\(ProgramName.current) \
                config gitlab-api-url.HOST'), in the PRIVATE-TOKEN header only. Proxies come \
                from https_proxy, all_proxy and no_proxy; a GitLab behind a private certificate \
                authority needs --ca-file. 'link' records the CI/CD variables a token lives in; \
                'push' (and 'rotate') writes it there, authenticated by another entry's token \
                (--admin-token).

                Examples:
                  \(ProgramName.current) gitlab verify gitlab-ci
                  \(ProgramName.current) gitlab verify --all
                  \(ProgramName.current) gitlab rotate gitlab-ci --expires-in 90d
                  \(ProgramName.current) gitlab revoke old-token
                  \(ProgramName.current) gitlab link gitlab-ci --project team/app --variable DEPLOY_TOKEN
                  \(ProgramName.current) gitlab push gitlab-ci --admin-token gitlab-admin
                """,
            subcommands: [Verify.self, Rotate.self, Revoke.self, Link.self, Unlink.self, Push.self])
    }
}
