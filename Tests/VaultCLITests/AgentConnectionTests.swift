import Foundation
import Testing
import CAgentProtocol
@testable import TokenVault

/// The agent serves many connections at once: a silent, slow, greedy or malformed client never
/// holds up another.
@Suite(.serialized) struct AgentConnectionTests {
    /// A connection to the agent's socket that speaks no protocol at all.
    struct RawConnection {
        let fd: Int32

        init(_ path: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = try #require(AgentProtocol.makeAddress(path))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(fd >= 0 && connected == 0)
        }

        func close() { _ = Glibc.close(fd) }

        /// Sends what the socket takes now; the number of bytes sent.
        @discardableResult
        func send(_ bytes: [UInt8]) -> Int {
            bytes.withUnsafeBytes { max(0, Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))) }
        }

        /// Whether the agent closed its end (everything it sent is read and dropped first).
        func closedByAgent() -> Bool {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if n > 0 { continue }
                return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)
            }
        }
    }

    func unlockedAgent() throws -> (CLI, String) {
        let cli = CLI()
        cli.add("gl", token: "glpat-Connections0000000", ["--url", "https://h.example"])
        let unlocked = cli.vault(["unlock", "--timeout", "5m"])
        try #require(unlocked.status == 0, "\(unlocked.err)")
        return (cli, AgentProtocol.socketPath(forVault: cli.vaultPath, environment: cli.environment))
    }

    /// The time a whole client request takes (connect, ask the status, answer), in milliseconds;
    /// nil when it failed.
    func statusRequest(_ socket: String) -> Double? {
        let start = Date()
        guard let agent = AgentClient.connect(socketPath: socket), let status = try? agent.status(), status.unlocked else { return nil }
        return Date().timeIntervalSince(start) * 1000
    }

    /// A real client, ten times, `pause` apart: answered at once every time (a median under
    /// 100 ms, none slower than 500 ms: an agent held up by one client takes a second).
    func expectPromptAnswers(_ socket: String, pause: useconds_t) throws {
        var latencies: [Double] = []
        for _ in 0..<10 {
            latencies.append(try #require(statusRequest(socket), "the agent did not answer"))
            usleep(pause)
        }
        #expect(latencies.sorted()[latencies.count / 2] < 100, "\(latencies)")
        #expect(latencies.allSatisfy { $0 < 500 }, "\(latencies)")
    }

    @Test func aNormalClientIsAnsweredWhileIdleAndOneByteConnectionsAreHeld() throws {
        let (cli, socket) = try unlockedAgent()
        defer { cli.vault(["lock"]) }
        // 10 connections that send one byte of a frame, then 70 that never say anything.
        let senders = try (0..<10).map { _ in try RawConnection(socket) }
        defer { senders.forEach { $0.close() } }
        senders.forEach { $0.send([5]) }
        let idle = try (0..<70).map { _ in try RawConnection(socket) }
        defer { idle.forEach { $0.close() } }
        // A real client, over the next half second.
        try expectPromptAnswers(socket, pause: 50_000)
        // A frame begun and not finished within a second is dropped; the oldest idle
        // connections made room for the new ones, the newest are still there.
        usleep(1_500_000)
        #expect(senders.allSatisfy { $0.closedByAgent() })
        #expect(idle[0].closedByAgent())
        #expect(!idle[69].closedByAgent())
        #expect(statusRequest(socket) != nil)
        #expect(cli.vault(["get", "gl"], env: ["TOKENVAULT_PASSPHRASE": nil]).out == "glpat-Connections0000000\n")
    }

    @Test func aClientThatNeverReadsItsAnswersHoldsUpNobody() throws {
        let (cli, socket) = try unlockedAgent()
        defer { cli.vault(["lock"]) }
        // Status requests, sent as long as the socket takes them, and never an answer read.
        let greedy = try RawConnection(socket)
        defer { greedy.close() }
        let request: [UInt8] = Array(repeating: [1, 0, 0, 0, 1], count: 4096).flatMap { $0 }
        var sent = 0
        var stalled: Date?
        let until = Date().addingTimeInterval(5)
        while Date() < until {
            let n = greedy.send(request)
            sent += n
            if n > 0 { stalled = nil } else if let since = stalled { if Date().timeIntervalSince(since) > 0.05 { break } } else { stalled = Date() }
        }
        #expect(sent > 50_000)
        try expectPromptAnswers(socket, pause: 20_000)
        // A client that has not taken its answer within a second is dropped.
        usleep(1_500_000)
        #expect(greedy.closedByAgent())
        #expect(statusRequest(socket) != nil)
    }

    @Test func malformedBytesCloseTheirConnectionAndTheAgentStaysUp() throws {
        let (cli, socket) = try unlockedAgent()
        defer { cli.vault(["lock"]) }
        // A frame longer than any the protocol allows: closed at once.
        let oversized = try RawConnection(socket)
        defer { oversized.close() }
        oversized.send([0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3])
        // End of input in the middle of a frame.
        let truncated = try RawConnection(socket)
        truncated.send([9, 0, 0, 0, 2, 0])
        truncated.close()
        // Whole frames that are no request of this version: a typed failure each, and the
        // connection still serves.
        let unknown = try RawConnection(socket)
        defer { unknown.close() }
        let version = UInt8(TV_AGENT_VERSION_BYTE)
        // A status request of the first version (no version byte), an unknown request, a status.
        unknown.send([1, 0, 0, 0, 1] + [2, 0, 0, 0, version, 200] + [2, 0, 0, 0, version, 1])
        var answers: [AgentResponse] = []
        for _ in 0..<3 {
            guard let body = AgentProtocol.receive(unknown.fd, within: 2) else { break }
            answers.append(try body.withUnsafeBytes { bytes throws(AgentCodecError) in try AgentResponse.decode(bytes) })
        }
        try #require(answers.count == 3)
        guard case .failure(.unsupportedVersion(let spoken)) = answers[0] else { Issue.record("\(answers[0])"); return }
        #expect(spoken == Int(TV_AGENT_PROTOCOL_VERSION))
        guard case .failure(.badRequest(let why)) = answers[1] else { Issue.record("\(answers[1])"); return }
        #expect(why.contains("unknownRequest(200)"))
        guard case .status(let status) = answers[2] else { Issue.record("\(answers[2])"); return }
        #expect(status.unlocked)
        usleep(200_000)
        #expect(oversized.closedByAgent())
        #expect(try #require(statusRequest(socket)) < 500)
    }
    /// The agent's resident memory in KiB, from /proc.
    func residentKiB(_ cli: CLI) throws -> Int {
        let pids = run(["/usr/bin/pgrep", "-f", "tokenvault-cli agent --vault \(cli.vaultPath)"], environment: [:]).out
        let pid = try #require(pids.split(separator: "\n").first)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try #require(Int(line.split(separator: " ").dropFirst().first ?? ""))
    }

    @Test func announcedLengthsCostNothingUntilTheBytesArrive() throws {
        let (cli, socket) = try unlockedAgent()
        defer { cli.vault(["lock"]) }
        let before = try residentKiB(cli)
        // 60 connections each announce a 4 MiB request (the most the agent reads) and send a
        // little of it; before, each such header committed the whole length at once.
        var held: [RawConnection] = []
        defer { held.forEach { $0.close() } }
        for _ in 0..<60 {
            let connection = try RawConnection(socket)
            connection.send([0x00, 0x00, 0x40, 0x00] + [UInt8](repeating: 7, count: 100))
            held.append(connection)
        }
        usleep(300_000)
        let after = try residentKiB(cli)
        #expect(after - before < 16 * 1024, "the agent grew from \(before) to \(after) KiB")
        // Longer than a request may be: closed at once.
        let greedy = try RawConnection(socket)
        defer { greedy.close() }
        greedy.send([0x01, 0x00, 0x40, 0x00])
        usleep(200_000)
        #expect(greedy.closedByAgent())
        #expect(try #require(statusRequest(socket)) < 500)
    }

    @Test func anEmptySealRequestIsRefusedAndTheAgentStaysUp() throws {
        let (cli, socket) = try unlockedAgent()
        defer { cli.vault(["lock"]) }
        let connection = try RawConnection(socket)
        defer { connection.close() }
        // The version, seal (5), purpose manifest (1), an empty chunk.
        connection.send([7, 0, 0, 0, UInt8(TV_AGENT_VERSION_BYTE), 5, 1, 0, 0, 0, 0])
        usleep(300_000)
        var answer = [UInt8](repeating: 0, count: 64)
        let n = recv(connection.fd, &answer, answer.count, Int32(MSG_DONTWAIT))
        #expect(n >= 6 && answer[4] == 2 && answer[5] == AgentFailure.badRequest("").wire.0, "\(answer[0..<max(0, n)])")
        #expect(try #require(statusRequest(socket)) < 500)
        #expect(cli.vault(["get", "gl"], env: ["TOKENVAULT_PASSPHRASE": nil]).status == 0)
    }

    /// Request 16 (the git helper's: the key it derived already) is kept only when the key opens
    /// the agent's vault.
    @Test func aKeyThatDoesNotOpenTheVaultLeavesTheAgentLocked() throws {
        let (cli, socket) = try unlockedAgent()
        defer { cli.vault(["lock"]) }
        let agent = try #require(AgentClient.connect(socketPath: socket))
        #expect(throws: VaultError.self) {
            try agent.unlock(vaultKey: SymmetricKey.random(), idleTimeout: .seconds(60), maximumLifetime: .seconds(60))
        }
        #expect(try agent.status().unlocked == false, "a wrong key replaced the right one and was kept")
        // The right key, from a vault unlocked with the passphrase: kept, and it reads.
        let vault = try cli.library()
        try vault.lendKey(to: agent, idleTimeout: .seconds(60), maximumLifetime: .seconds(60))
        #expect(try agent.status().unlocked)
        #expect(cli.vault(["get", "gl"], env: ["TOKENVAULT_PASSPHRASE": nil]).status == 0)
    }
}
