import ArgumentParser

extension VaultCommand {
    struct GitLabCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gitlab",
            abstract: "Verify, rotate and revoke GitLab personal access tokens through GitLab's API.",
            discussion: """
                The token talks to GitLab about itself, over HTTPS at its entry's URL (a \
                GitLab installed under a path: https://host/gitlab; or --api-url, or 'vault \
                config gitlab-api-url.HOST'), in the PRIVATE-TOKEN header only. Proxies come from https_proxy, all_proxy and no_proxy; \
                a GitLab behind a private certificate authority needs --ca-file.

                Examples:
                  vault gitlab verify gitlab-ci
                  vault gitlab verify --all
                  vault gitlab rotate gitlab-ci --expires-in 90d
                  vault gitlab revoke old-token
                """,
            subcommands: [Verify.self, Rotate.self, Revoke.self])
    }
}
