import Foundation
import Testing
@testable import TokenVault

/// An agent that does not apply `get`'s rules (an older one, or a faulty one) answers a read
/// with whatever the entry holds: the client applies the rules again and hands out nothing
/// that `get` refuses.
@Suite struct AgentReadRulesTests {
    /// A socket that answers `attach` with ok and every read with `entry` and its token, as an
    /// agent without the rules would. It serves one connection, then stops.
    final class RulelessAgent: Sendable {
        let socketPath: String
        private let listener: Int32

        init(folder: TempFolder, entry: Entry, token: String) throws {
            socketPath = folder.path + "/agent.sock"
            let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            self.listener = listener
            var address = try #require(AgentProtocol.makeAddress(socketPath))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(bound == 0 && listen(listener, 4) == 0)
            Thread.detachNewThread {
                let fd = accept(listener, nil, nil)
                guard fd >= 0 else { return }
                defer { close(fd) }
                while let body = AgentProtocol.receive(fd, within: 10) {
                    let request = try? body.withUnsafeBytes { bytes throws(AgentCodecError) in try AgentRequest.decode(bytes) }
                    var out = AgentProtocol.Builder()
                    if case .read = request {
                        AgentResponse.entry(entry, Secret(token), .recorded).encode(into: &out)
                    } else {
                        AgentResponse.done.encode(into: &out)
                    }
                    guard out.send(fd) else { return }
                }
            }
        }

        deinit { close(listener) }
    }

    func get(_ entry: Entry, allowingExpired: Bool = false) throws -> String {
        let folder = TempFolder()
        _ = try makeVault(in: folder)
        let agent = try RulelessAgent(folder: folder, entry: entry, token: "token-from-the-agent-01")
        let vault = try Vault.open(at: folder.vaultPath)
        try vault.unlock(with: try #require(AgentClient.connect(socketPath: agent.socketPath)))
        return try vault.get(entry.name, allowingExpired: allowingExpired).secret.revealString()
    }

    @Test func theClientRefusesWhatAnAgentWithoutTheRulesSends() throws {
        let expires = try #require(Timestamp(date: "2020-01-01"))
        let expired = Entry(name: "old", expires: expires)
        var revoked = Entry(name: "gone")
        revoked.revoked = expires
        var trashed = Entry(name: "binned")
        trashed.deleted = .now()
        #expect(throws: VaultError.expired(name: "old", on: expires)) { _ = try get(expired) }
        #expect(throws: VaultError.revoked(name: "gone", on: expires)) { _ = try get(revoked) }
        #expect(throws: VaultError.inTrash(name: "binned")) { _ = try get(trashed, allowingExpired: true) }
        // What the rules allow comes through from the same agent.
        #expect(try get(expired, allowingExpired: true) == "token-from-the-agent-01")
        #expect(try get(Entry(name: "fine")) == "token-from-the-agent-01")
    }
}
