import Foundation
import Testing
@testable import TokenVault

/// `vault gitlab verify|rotate|revoke REMOTE/ENTRY`: GitLab's stand-in and a real OpenBao.
@Suite struct OpenBaoGitLabTests {
    @Test func aRotatedRemoteTokenIsANewVersionInOpenBaoAndTheOldOneThePreviousVersion() throws {
        let world = try GitLabWorld()
        let server = OpenBaoServer()
        let cli = world.cli
        #expect(cli.vault(["remote", "add", "team", "--url", server.address], stdin: .data(server.rootToken)).status == 0)
        #expect(cli.add("team/ci", token: GitLabWorld.token, ["--url", world.url, "--kind", "gitlab"]).status == 0)
        let verify = world.gitlab(["verify", "team/ci"])
        #expect(verify.status == 0 && verify.out.contains("team/ci: active at GitLab"), "\(verify.out) \(verify.err)")
        let rotate = world.gitlab(["rotate", "team/ci"])
        #expect(rotate.status == 0, "\(rotate.err)")
        let newToken = cli.vault(["get", "team/ci"]).out.trimmingCharacters(in: .newlines)
        #expect(newToken.hasPrefix("glpat-") && newToken != GitLabWorld.token)
        #expect(try world.tokens()[newToken]?["revoked"] as? Bool == false)
        #expect(try world.tokens()[GitLabWorld.token]?["revoked"] as? Bool == true)
        let history = cli.vault(["history", "team/ci", "--reveal"]).out.split(separator: "\n")
        #expect(history.count == 2 && history[0].hasSuffix(GitLabWorld.token) && history[1].hasSuffix(newToken), "\(history)")
        // Neither token is on the local disk.
        for (path, bytes) in cli.files() { #expect(!bytes.contains(bytes: newToken), "the new token is in \(path)") }
        let revoke = world.gitlab(["revoke", "--yes", "team/ci"])
        #expect(revoke.status == 0, "\(revoke.err)")
        let get = cli.vault(["get", "team/ci"])
        #expect(get.status == 4 && get.out.isEmpty, "\(get.err)")
    }
}
