import Foundation
import Testing
@testable import TokenVault

/// A GitLab installed under a path (`https://host/gitlab`), and a proxy's 401 in front of
/// GitLab, against the stand-in GitLab.
@Suite struct GitLabPathTests {
    /// The paths of the stand-in's API requests.
    static func apiPaths(_ world: GitLabWorld) throws -> [String] {
        try world.requests().compactMap { $0["path"] as? String }.filter { $0.contains("/api/") }
    }

    @Test func everyGitLabCommandWorksForAGitLabUnderAPath() throws {
        let world = try GitLabWorld(mode: ["prefix": "/gitlab"])
        let cli = world.cli
        #expect(cli.add("ci", token: GitLabWorld.token, ["--url", world.url + "/gitlab", "--kind", "gitlab", "--expires", "2098-12-31"]).status == 0)
        let verified = world.gitlab(["verify", "ci"])
        #expect(verified.status == 0, "\(verified.err)")
        #expect(verified.out.hasPrefix("ci: active; scopes api,read_repository"))
        #expect(world.gitlab(["verify", "--all"]).status == 0)
        let online = cli.vault(["check", "--online", "--ca-file", world.caFile])
        #expect(online.err.contains("gitlab: ci: active"), "\(online.err)")
        let rotated = world.gitlab(["rotate", "ci", "--expires-in", "30d"])
        #expect(rotated.status == 0, "\(rotated.err)")
        let new = try #require(try world.tokens().first { $0.key != GitLabWorld.token }?.key)
        #expect(cli.vault(["get", "ci"]).out == new + "\n")
        let revoked = world.gitlab(["revoke", "ci", "--yes"])
        #expect(revoked.status == 0, "\(revoked.err)")
        #expect(try world.tokens()[new]?["revoked"] as? Bool == true)
        let paths = try Self.apiPaths(world)
        #expect(!paths.isEmpty && paths.allSatisfy { $0.hasPrefix("/gitlab/api/v4/personal_access_tokens/self") }, "\(paths)")
    }

    /// An entry whose URL names a repository says nothing of where GitLab is installed: the
    /// root is asked (and the hint names --api-url); --api-url or the host's default in
    /// `vault config` says where.
    @Test func theAPIURLComesFromTheCommandLineOrTheHostsDefault() throws {
        let world = try GitLabWorld(mode: ["prefix": "/gitlab"])
        let cli = world.cli
        #expect(cli.add("ci", token: GitLabWorld.token, ["--url", world.url + "/gitlab/group/project.git", "--kind", "gitlab"]).status == 0)
        let root = world.gitlab(["verify", "ci"])
        #expect(root.status == 1)
        #expect(root.err.contains("vault: hint: for a GitLab installed under a path: --api-url"), "\(root.err)")
        #expect(try world.entry()["revoked"] is NSNull)
        let api = world.url + "/gitlab/api/v4"
        #expect(world.gitlab(["verify", "ci", "--api-url", api]).status == 0)
        // Each command takes it.
        #expect(world.gitlab(["rotate", "ci", "--api-url", api]).status == 0)
        // Another host's API is refused before anything is sent.
        let before = try world.requests().count
        let other = world.gitlab(["verify", "ci", "--api-url", "https://gitlab.example.com/api/v4"])
        #expect(other.status == 64)
        #expect(other.err.contains("a token is sent only to its own host"), "\(other.err)")
        #expect(try world.requests().count == before)
        for bad in ["http://127.0.0.1/api/v4", world.url + "/gitlab", world.url + "/api/v4?x=1", "https://user@127.0.0.1/api/v4"] {
            #expect(world.gitlab(["verify", "ci", "--api-url", bad]).status == 64, "\(bad)")
        }
        // The host's default, kept in the vault.
        let host = "127.0.0.1:\(world.port)"
        #expect(cli.vault(["config", "gitlab-api-url.\(host)", "https://gitlab.example.com/api/v4"]).status == 64)
        #expect(cli.vault(["config", "gitlab-api-url.\(host)", api]).status == 0)
        #expect(cli.vault(["config", "gitlab-api-url.\(host)"]).out == api + "\n")
        #expect(cli.vault(["config"]).out.contains("gitlab-api-url.\(host) \(api)\n"))
        #expect(world.gitlab(["verify", "ci"]).status == 0)
        #expect(cli.vault(["config", "gitlab-api-url.\(host)", "none"]).status == 0)
        #expect(world.gitlab(["verify", "ci"]).status == 1)
    }

    /// A 401 without GitLab's JSON body comes from a proxy in front of GitLab: the token was
    /// not judged, so nothing is marked, and the user is told.
    @Test func aProxysRefusalIsNotTakenForARevokedToken() throws {
        for page in ["html", "empty"] {
            let world = try GitLabWorld(mode: ["proxy": page])
            world.addEntry()
            let verified = world.gitlab(["verify", "ci"])
            #expect(verified.status == 1)
            #expect(verified.err.contains("vault: error: ci: authentication failed at a proxy"), "\(verified.err)")
            #expect(verified.err.contains("vault: hint: check the proxy's or gateway's sign-in"))
            let rotated = world.gitlab(["rotate", "ci"])
            #expect(rotated.status == 1)
            #expect(rotated.err.contains("authentication failed at a proxy") && rotated.err.contains("nothing was rotated"), "\(rotated.err)")
            let revoked = world.gitlab(["revoke", "ci", "--yes"])
            #expect(revoked.status == 1)
            #expect(revoked.err.contains("authentication failed at a proxy") && revoked.err.contains("the token was not revoked"), "\(revoked.err)")
            let check = world.cli.vault(["check", "--online", "--ca-file", world.caFile])
            #expect(check.out.contains("ci: could not be verified at GitLab: authentication failed at a proxy"), "\(check.out)")
            // Nothing marked: not revoked, no rotation mark, not in the trash, the same token.
            let entry = try world.entry()
            #expect(entry["revoked"] is NSNull && entry["rotation_started"] is NSNull && entry["deleted"] is NSNull)
            #expect(world.cli.vault(["get", "ci"]).out == GitLabWorld.token + "\n")
            #expect(try world.tokens()[GitLabWorld.token]?["revoked"] as? Bool == false)
        }
    }
}
