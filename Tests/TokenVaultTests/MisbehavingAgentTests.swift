import Foundation
import Glibc
import Testing
@testable import TokenVault

/// An agent that answers in the protocol but not faithfully: a real `AgentServer`'s answers
/// (`respond(to:)`, the agent's own work on the vault), changed by `tamper` on their way to the
/// client, on a real Unix socket in the test's folder.
final class MisbehavingAgent: Sendable {
    let socketPath: String

    init(folder: TempFolder, passphrase: String = "correct horse",
         tamper: @escaping @Sendable (AgentRequest, AgentResponse) -> AgentResponse) throws {
        let folderPath = folder.path + "/misbehaving"
        mkdir(folderPath, 0o700)
        socketPath = folderPath + "/agent.sock"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0, var address = AgentProtocol.makeAddress(socketPath) else { throw VaultError.io("socket") }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 4) == 0 else { throw VaultError.io("bind") }
        let vaultPath = folder.vaultPath, environment = folder.agentEnvironment
        Thread.detachNewThread {
            defer { close(listener) }
            let server = AgentServer(vaultPath: vaultPath, environment: environment)
            guard case .done = server.respond(to: .unlock(passphrase: Secret(passphrase), idle: .seconds(60),
                                                          lifetime: .seconds(60), allowingCostlyKDF: false)) else { return }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            defer { close(client) }
            while let body = AgentProtocol.receive(client, within: 30) {
                guard let request = try? body.withUnsafeBytes({ bytes throws(AgentCodecError) in try AgentRequest.decode(bytes) }) else { return }
                var out = AgentProtocol.Builder()
                tamper(request, server.respond(to: request)).encode(into: &out)
                guard out.send(client) else { return }
            }
        }
    }

    /// A vault at `folder`, unlocked through this agent.
    func unlock(_ folder: TempFolder) throws -> Vault {
        let vault = try Vault.open(at: folder.vaultPath)
        try vault.unlock(with: try #require(AgentClient.connect(socketPath: socketPath)))
        return vault
    }
}

/// What a client makes of an agent's answer it cannot check by itself (it holds no key): each
/// opened record is bound to its row, and what it is not sure of it never shows.
@Suite struct MisbehavingAgentTests {
    /// A token that does not look like one: `Redaction` would show it as it is.
    static let token = "correct horse battery staple"

    func vault(in folder: TempFolder) throws {
        let vault = try makeVault(in: folder)
        try vault.add(Entry(name: "deploy", notes: "n"), secret: Secret(Self.token))
    }

    /// (The agent reviews the tokens itself and hands out none; an agent too busy to review
    /// leaves the pass to the client, which then opens them through it in batches: the case
    /// these tests make.)
    ///
    /// Each entry's metadata and token, in the answer to the batch that opens both, the other way
    /// round: both records are bound to the same row, so only their contents tell them apart.
    static func swappingPairs(_ request: AgentRequest, _ response: AgentResponse) -> AgentResponse {
        if case .review = request { return .failure(.busy) }
        guard case .open(let boxes) = request, case .opened(var opened) = response else { return response }
        for index in stride(from: 0, to: boxes.count - 1, by: 2)
        where boxes[index].purpose == .entryMetadata && boxes[index + 1].purpose == .entrySecret {
            opened.swapAt(index, index + 1)
        }
        return .opened(opened)
    }

    @Test func aTokenOpenedInPlaceOfMetadataIsRefusedAndNeverShownAsAName() throws {
        let folder = TempFolder()
        try vault(in: folder)
        let agent = try MisbehavingAgent(folder: folder, tamper: Self.swappingPairs)
        let vault = try agent.unlock(folder)
        do {
            _ = try vault.reviewTokens()
            Issue.record("a swapped answer was taken")
        } catch {
            guard case .tampered = error else { Issue.record("\(error)"); return }
            #expect(!"\(error)".contains("horse"), "\(error)")
        }
    }

    @Test func metadataOpenedInPlaceOfATokenIsRefused() throws {
        let folder = TempFolder()
        try vault(in: folder)
        let agent = try MisbehavingAgent(folder: folder) { request, response in
            // The metadata record again, where the token should be.
            if case .review = request { return .failure(.busy) }
            guard case .open(let boxes) = request, case .opened(var opened) = response else { return response }
            for index in stride(from: 0, to: boxes.count - 1, by: 2) where boxes[index + 1].purpose == .entrySecret {
                opened[index + 1] = opened[index]
            }
            return .opened(opened)
        }
        let vault = try agent.unlock(folder)
        #expect(throws: VaultError.self) { _ = try vault.reviewTokens() }
    }
    /// The log's events as a client of the vault gets them from the file: sequence numbers that
    /// a file may hold, each once, in order. An answer otherwise (`vault log --json` traps on a
    /// number past Int64.max) is refused.
    @Test(arguments: ["past Int64.max", "zero", "in the wrong order", "twice"])
    func aLogAnswerWithImpossibleSequenceNumbersIsRefused(_ how: String) throws {
        let folder = TempFolder()
        try vault(in: folder)
        // Two events at least: the first entry's and this one's.
        let local = try Vault.open(at: folder.vaultPath)
        try local.unlock(passphrase: Secret("correct horse"))
        try local.add(Entry(name: "other"), secret: Secret("another token"))
        let agent = try MisbehavingAgent(folder: folder) { _, response in
            guard case .log(var report) = response, report.events.count >= 2 else { return response }
            switch how {
            case "past Int64.max": report.events[0].sequence = UInt64(Int64.max) + 1
            case "zero": report.events[0].sequence = 0
            case "in the wrong order": report.events.swapAt(0, 1)
            default: report.events[1].sequence = report.events[0].sequence
            }
            return .log(report)
        }
        let vault = try agent.unlock(folder)
        #expect(throws: VaultError.self, "\(how)") { _ = try vault.activityLog() }
    }
}
