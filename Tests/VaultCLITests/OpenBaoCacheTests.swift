import Foundation
import Testing
@testable import TokenVault

/// The agent's cache of remote entries (`vault unlock --cache-ttl`), against a real OpenBao.
@Suite struct OpenBaoCacheTests {
    static let token = "glpat-cachedAAAAAAAAAAAA1"
    static let newer = "glpat-cachedBBBBBBBBBBBB2"

    /// Writes the entry `deploy` straight into OpenBao (as a teammate's `bao kv put` would).
    static func put(_ server: OpenBaoServer, token: String) {
        let put = server.bao(["kv", "put", "secret/tokenvault/deploy", "token=\(token)", "format=tokenvault-entry-1", "kind=gitlab"])
        precondition(put.status == 0, "kv put: \(put.err)")
    }

    @Test func theAgentServesARemoteEntryFromMemoryWithinItsTimeToLiveAndAsksOpenBaoAfterIt() {
        let server = OpenBaoServer()
        let cli = OpenBaoRemoteTests.vault(with: server)
        Self.put(server, token: Self.token)
        #expect(cli.vault(["unlock", "--cache-ttl", "3s"]).status == 0)
        let viaAgent: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]
        #expect(cli.vault(["get", "team/deploy"], env: viaAgent).out == Self.token + "\n")
        // Changed in OpenBao: the cache still answers within its time to live...
        Self.put(server, token: Self.newer)
        #expect(cli.vault(["get", "team/deploy"], env: viaAgent).out == Self.token + "\n")
        // ...and OpenBao after it.
        usleep(3_500_000)
        #expect(cli.vault(["get", "team/deploy"], env: viaAgent).out == Self.newer + "\n")
        // OpenBao stopped: served from memory, then unreachable once the time is up.
        server.stop()
        let cached = cli.vault(["get", "team/deploy"], env: viaAgent)
        #expect(cached.status == 0 && cached.out == Self.newer + "\n", "\(cached.err)")
        usleep(3_500_000)
        #expect(cli.vault(["get", "team/deploy"], env: viaAgent).status == 11)
        // Never on disk.
        for (path, bytes) in cli.files() {
            #expect(!bytes.contains(bytes: Self.token) && !bytes.contains(bytes: Self.newer), "a token is in \(path)")
        }
    }

    @Test func aCacheTimeToLiveOfZeroKeepsNothing() {
        let server = OpenBaoServer()
        let cli = OpenBaoRemoteTests.vault(with: server)
        Self.put(server, token: Self.token)
        #expect(cli.vault(["unlock", "--cache-ttl", "0"]).status == 0)
        let viaAgent: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]
        #expect(cli.vault(["get", "team/deploy"], env: viaAgent).out == Self.token + "\n")
        Self.put(server, token: Self.newer)
        #expect(cli.vault(["get", "team/deploy"], env: viaAgent).out == Self.newer + "\n")
        server.stop()
        #expect(cli.vault(["get", "team/deploy"], env: viaAgent).status == 11)
    }

    @Test func anEntryRemovedThroughTheAgentsVaultIsNotServedFromTheCache() {
        let server = OpenBaoServer()
        let cli = OpenBaoRemoteTests.vault(with: server)
        Self.put(server, token: Self.token)
        #expect(cli.vault(["unlock", "--cache-ttl", "5m"]).status == 0)
        let viaAgent: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]
        #expect(cli.vault(["get", "team/deploy"], env: viaAgent).out == Self.token + "\n")
        #expect(cli.vault(["rm", "--yes", "team/deploy"], env: viaAgent).status == 0)
        #expect(cli.vault(["get", "team/deploy"], env: viaAgent).status == 2)
        #expect(cli.vault(["restore", "team/deploy"], env: viaAgent).status == 0)
        #expect(cli.vault(["get", "team/deploy"], env: viaAgent).out == Self.token + "\n")
    }

    @Test func aRemoteRemovedAndAddedAgainUnderItsNameIsNotAnsweredFromWhatTheAgentCachedOfTheOldOne() {
        let server = OpenBaoServer()
        let cli = OpenBaoRemoteTests.vault(with: server)
        Self.put(server, token: Self.token)
        #expect(cli.vault(["unlock", "--cache-ttl", "5m"]).status == 0)
        let viaAgent: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]
        #expect(cli.vault(["get", "team/deploy"], env: viaAgent).out == Self.token + "\n")
        #expect(cli.vault(["remote", "rm", "team"], env: viaAgent).status == 0)
        // The same name for another place (a folder of the server without that entry).
        let added = cli.vault(["remote", "add", "team", "--url", server.address, "--prefix", "elsewhere/"],
                              stdin: .data(server.rootToken), env: viaAgent)
        #expect(added.status == 0, "\(added.err)")
        let get = cli.vault(["get", "team/deploy"], env: viaAgent)
        #expect(get.status == 2 && !get.out.contains(Self.token), "\(get.status) \(get.err)")
    }

    @Test func gitsHelperServesARemoteEntryWhileTheAgentHoldsTheKey() {
        let server = OpenBaoServer()
        let cli = OpenBaoRemoteTests.vault(with: server)
        #expect(cli.add("team/deploy", token: Self.token, ["--url", "https://gitlab.example.com"]).status == 0)
        #expect(cli.vault(["unlock"]).status == 0)
        let viaAgent: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]
        let served = cli.gitHelperGet(host: "gitlab.example.com", env: viaAgent)
        #expect(served.status == 0 && served.out.contains("password=\(Self.token)\n"), "\(served.out) \(served.err)")
        let none = cli.gitHelperGet(host: "elsewhere.example.com", env: viaAgent)
        #expect(none.status == 0 && none.out.isEmpty && none.err.isEmpty, "\(none.out) \(none.err)")
    }
}
