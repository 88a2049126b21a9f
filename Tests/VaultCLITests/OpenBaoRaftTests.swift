import Foundation
import Testing
@testable import TokenVault

/// Three OpenBao nodes on loopback in one Raft cluster (integrated storage), initialised,
/// unsealed and joined as an operator would; stopped and removed when the object goes away.
final class OpenBaoCluster: @unchecked Sendable {
    let directory: String
    let apiPorts: [Int]
    let clusterPorts: [Int]
    private(set) var pids: [pid_t]
    private(set) var rootToken = ""
    private var unsealKey = ""

    func address(_ node: Int) -> String { "http://127.0.0.1:\(apiPorts[node])" }

    init() {
        var template = Array((NSTemporaryDirectory() + "/tokenvault-raft-XXXXXX").utf8CString)
        _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        directory = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        apiPorts = (0..<3).map { _ in OpenBaoServer.freePort() }
        clusterPorts = (0..<3).map { _ in OpenBaoServer.freePort() }
        pids = [0, 0, 0]
        for node in 0..<3 {
            let folder = directory + "/node\(node)"
            try? FileManager.default.createDirectory(atPath: folder + "/raft", withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
            let config = """
                storage "raft" {
                  path    = "\(folder)/raft"
                  node_id = "node\(node)"
                }
                listener "tcp" {
                  address         = "127.0.0.1:\(apiPorts[node])"
                  cluster_address = "127.0.0.1:\(clusterPorts[node])"
                  tls_disable     = true
                }
                api_addr      = "http://127.0.0.1:\(apiPorts[node])"
                cluster_addr  = "https://127.0.0.1:\(clusterPorts[node])"
                disable_mlock = true
                """
            _ = FileManager.default.createFile(atPath: folder + "/config.hcl", contents: Data(config.utf8), attributes: [.posixPermissions: 0o600])
            start(node)
        }
        // Node 0: initialised (one key share) and unsealed; then the others join it.
        let initialised = bao(0, ["operator", "init", "-key-shares=1", "-key-threshold=1", "-format=json"], token: "")
        precondition(initialised.status == 0, "operator init: \(initialised.err)")
        let answer = (try? JSONSerialization.jsonObject(with: Data(initialised.stdout))) as? [String: Any]
        rootToken = answer?["root_token"] as? String ?? ""
        unsealKey = (answer?["unseal_keys_b64"] as? [String])?.first ?? ""
        unseal(0)
        waitUntil { self.bao(0, ["status"]).out.contains("active") }
        for node in 1..<3 {
            let joined = bao(node, ["operator", "raft", "join", address(0)], token: "")
            precondition(joined.status == 0, "raft join: \(joined.err)")
            unseal(node)
        }
        // Autopilot makes the new nodes voters once they are stable (about 10 seconds).
        waitUntil(90) { self.bao(0, ["operator", "raft", "list-peers", "-format=json"]).out.components(separatedBy: "\"voter\": true").count - 1 == 3 }
        let kv = bao(0, ["secrets", "enable", "-path=secret", "kv-v2"])
        precondition(kv.status == 0, "secrets enable: \(kv.err)")
    }

    func start(_ node: Int) {
        pids[node] = OpenBaoServer.background([OpenBaoServer.binary, "server", "-config=\(directory)/node\(node)/config.hcl"],
                                              log: directory + "/node\(node)/server.log",
                                              environment: ["HOME": directory, "PATH": "/usr/bin:/bin"])
        waitUntil { self.bao(node, ["status"]).status != 1 }
    }

    func unseal(_ node: Int) {
        waitUntil { self.bao(node, ["operator", "unseal", self.unsealKey], token: "").status == 0 }
        waitUntil { self.bao(node, ["status"]).status == 0 }
    }

    func stop(_ node: Int) {
        guard pids[node] > 0 else { return }
        OpenBaoServer.terminate(pids[node])
        pids[node] = 0
    }

    /// The node that is active now, if one is.
    func leader() -> Int? {
        (0..<3).first { node in
            guard pids[node] > 0 else { return false }
            let status = (try? JSONSerialization.jsonObject(with: Data(bao(node, ["status", "-format=json"]).stdout))) as? [String: Any]
            return status?["is_self"] as? Bool == true && status?["sealed"] as? Bool == false
        }
    }

    @discardableResult
    func bao(_ node: Int, _ arguments: [String], token: String? = nil) -> RunResult {
        run([OpenBaoServer.binary] + arguments,
            environment: ["HOME": directory, "PATH": "/usr/bin:/bin", "BAO_ADDR": address(node), "BAO_TOKEN": token ?? rootToken],
            timeout: 60)
    }

    func waitUntil(_ seconds: Double = 60, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return }
            usleep(200_000)
        }
        for node in 0..<3 { stop(node) }
        fatalError("the OpenBao cluster did not get there in time: \(directory)")
    }

    deinit {
        for node in 0..<3 { stop(node) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

@Suite struct OpenBaoRaftTests {
    @Test func aRemoteOnAClusterReadsAndWritesAgainOnceANewLeaderIsElectedWithNothingLost() throws {
        let cluster = OpenBaoCluster()
        let cli = CLI()
        // What a team does: every node's address, tried in order while one cannot be reached.
        let add = cli.vault(["remote", "add", "team"] + (0..<3).flatMap { ["--url", cluster.address($0)] },
                            stdin: .data(cluster.rootToken))
        #expect(add.status == 0, "\(add.err)")
        let leader = try #require(cluster.leader())
        #expect(cli.add("team/deploy", token: "glpat-raftAAAAAAAAAAAAAAA1", ["--url", "https://gitlab.example.com"]).status == 0)
        cluster.stop(leader)
        // A new leader among the two left.
        cluster.waitUntil { cluster.leader() != nil }
        let get = cli.vault(["get", "team/deploy"])
        #expect(get.status == 0 && get.out == "glpat-raftAAAAAAAAAAAAAAA1\n", "\(get.err)")
        let edit = cli.vault(["edit", "team/deploy", "--secret"], stdin: .data("glpat-raftBBBBBBBBBBBBBBB2"))
        #expect(edit.status == 0, "\(edit.err)")
        let history = cli.vault(["history", "team/deploy", "--reveal"]).out.split(separator: "\n")
        #expect(history.count == 2 && history[0].hasSuffix("glpat-raftAAAAAAAAAAAAAAA1") && history[1].hasSuffix("glpat-raftBBBBBBBBBBBBBBB2"),
                "\(history)")
        #expect(cli.vault(["get", "team/deploy"]).out == "glpat-raftBBBBBBBBBBBBBBB2\n")
    }
}
