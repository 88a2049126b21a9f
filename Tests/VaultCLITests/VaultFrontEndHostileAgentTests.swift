import Foundation
import Testing
import CAgentProtocol
@testable import TokenVault

/// What a process on the agent's socket sends the C front end of `vault` is hostile input: it is
/// checked whole before anything is printed, never traps or reads past what arrived, and any
/// answer that is not a well-formed token goes to the Swift command line (which, in a folder of
/// its own, the front end cannot find: it says so).
@Suite struct VaultFrontEndHostileAgentTests {
    static func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    static func chunk(_ bytes: [UInt8]) -> [UInt8] { le32(bytes.count) + bytes }
    static func frame(_ body: [UInt8]) -> [UInt8] { le32(body.count) + body }
    static let token = Array("glpat-from-the-stand-in-0".utf8)
    static let kind = UInt8(TV_AGENT_ANSWER_TOKEN)

    /// A stand-in agent that answers each connection, in turn, with the next of `answers`.
    func standIn(_ cli: CLI, answering answers: [[UInt8]]) throws -> BackgroundProcess {
        let socket = AgentProtocol.socketPath(forVault: cli.vaultPath, environment: cli.environment)
        try FileManager.default.createDirectory(atPath: (socket as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let hex = answers.map { "bytes.fromhex(\"\($0.map { String(format: "%02x", $0) }.joined())\")" }.joined(separator: ", ")
        let agent = BackgroundProcess(["/usr/bin/python3", "-c", """
            import socket, struct
            s = socket.socket(socket.AF_UNIX); s.bind("\(socket)"); s.listen(8); print("ready", flush=True)
            for answer in [\(hex)]:
                c, _ = s.accept()
                n = struct.unpack("<I", c.recv(4, socket.MSG_WAITALL))[0]
                c.recv(n, socket.MSG_WAITALL)
                c.sendall(answer)
                c.close()
            """], environment: ["PATH": "/usr/bin:/bin"])
        #expect(agent.firstLine == "ready")
        return agent
    }

    func lone(_ cli: CLI) -> String { VaultFrontEndTests().loneFrontEnd(cli) }

    /// `vault get x` against a stand-in giving each of `answers` in turn: nothing on stdout,
    /// `status` and `err` each time.
    func expect(_ cli: CLI, answering answers: [[UInt8]], status: Int32, err: String) throws {
        let agent = try standIn(cli, answering: answers)
        _ = agent
        var environment = cli.environment
        environment["TOKENVAULT_PASSPHRASE"] = nil
        let front = lone(cli)
        for index in answers.indices {
            let r = run([front, "get", "x"], environment: environment, timeout: 10)
            #expect(r.status == status && r.out.isEmpty, "answer \(index): \(r.status) \(r.out)")
            #expect(r.err == err, "answer \(index): \(r.err)")
        }
    }

    @Test func aWarningThatCouldDriveTheTerminalIsEscapedAndTheTokenPrinted() throws {
        let cli = CLI()
        let warning: [UInt8] = Array("\u{1B}]0;pwned".utf8) + [0x07, UInt8(ascii: "\\"), 0xC3, 0x0A] + Array("end".utf8)
        let bidi = Array("name \u{202E}txt.exe".utf8)
        let fine = Array("the token 'café' expires in 2 days \\e".utf8)
        let body = [Self.kind] + Self.le32(3) + Self.chunk(warning) + Self.chunk(bidi) + Self.chunk(fine) + Self.chunk(Self.token)
        let agent = try standIn(cli, answering: [Self.frame(body)])
        _ = agent
        var environment = cli.environment
        environment["TOKENVAULT_PASSPHRASE"] = nil
        let r = run([lone(cli), "get", "x"], environment: environment)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.stdout == Self.token + [0x0A])
        #expect(r.err == "vault: warning: \\e]0;pwned\\x07\\\\\\xC3\\nend\n"
                + "vault: warning: name \\xE2\\x80\\xAEtxt.exe\n"
                + "vault: warning: the token 'café' expires in 2 days \\e\n", "\(r.err.debugDescription)")
    }

    @Test func anAnswerThatIsNotATokenGoesToTheSwiftCommand() throws {
        let cli = CLI()
        let good = [Self.kind] + Self.le32(0) + Self.chunk(Self.token)
        let answers: [[UInt8]] = [
            // A frame larger than a client reads.
            Self.le32(Int(UInt32.max)) + good,
            // Another kind of answer, and a refusal.
            Self.frame([UInt8(TV_AGENT_ANSWER_ENTRY)] + Self.chunk(Self.token)),
            Self.frame([UInt8(TV_AGENT_ANSWER_FAILURE), 1] + Self.chunk(Array("locked".utf8))),
            // A refusal that breaks off (a refusal records nothing).
            Self.le32(20) + [UInt8(TV_AGENT_ANSWER_FAILURE), 1],
            // Nothing at all.
            [],
        ]
        try expect(cli, answering: answers, status: 1, err: "vault: error: vault cannot find tokenvault-cli (reinstall TokenVault)\n")
    }

    /// The agent records the read before it answers with the token: a token answer that breaks
    /// off or is malformed is the vault reported locked (as the Swift command line reports an
    /// agent that breaks off), never handed over for a second read.
    @Test func aTokenAnswerThatBreaksOffOrIsMalformedIsLockedAndNotReadAgain() throws {
        let cli = CLI()
        let good = [Self.kind] + Self.le32(0) + Self.chunk(Self.token)
        let answers: [[UInt8]] = [
            // The token's length runs past the frame.
            Self.frame([Self.kind] + Self.le32(0) + Self.le32(1000) + Self.token),
            // A warning's length runs past the frame.
            Self.frame([Self.kind] + Self.le32(1) + Self.le32(0xFFFF_FFFF) + Self.token),
            // More warnings than an answer holds.
            Self.frame([Self.kind] + Self.le32(100_000) + Self.chunk(Self.token)),
            // Bytes after the token.
            Self.frame(good + [0]),
            // A frame that ends before its length (the agent died mid-frame).
            Self.le32(good.count + 10) + good,
            Self.le32(good.count) + [Self.kind],
        ]
        try expect(cli, answering: answers, status: 3, err: "vault: error: the vault is locked\n")
    }
}
