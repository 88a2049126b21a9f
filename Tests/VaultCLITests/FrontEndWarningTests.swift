import Foundation
import Testing
import CAgentProtocol
@testable import TokenVault

/// The C front end prints the warnings the agent's answer carries: text from a socket, escaped
/// before it reaches the terminal, as the Swift helper escapes it.
@Suite struct FrontEndWarningTests {
    static func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    @Test func aWarningFromTheAgentCannotDriveTheTerminal() throws {
        let cli = CLI()
        cli.add("gl", token: "glpat-FrontEndWarning000000", ["--url", "https://h.example"])
        // An answer to git's request: one warning holding a terminal title sequence, a bell, a
        // backslash and a byte that is not ASCII; then what git reads.
        let warning: [UInt8] = Array("\u{1B}]0;pwned".utf8) + [0x07, UInt8(ascii: "\\"), 0xC3, 0x0A, 0x00] + Array("end".utf8)
        let stdout = Array("username=oauth2\npassword=from-the-stand-in\n".utf8)
        var body: [UInt8] = [UInt8(TV_AGENT_ANSWER_GIT)] + Self.le32(1)
        body += [UInt8(TV_AGENT_GIT_WARNING)] + Self.le32(warning.count) + warning
        body += Self.le32(stdout.count) + stdout
        let frame = Self.le32(body.count) + body
        let socket = AgentProtocol.socketPath(forVault: cli.vaultPath, environment: cli.environment)
        try FileManager.default.createDirectory(atPath: (socket as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // A stand-in agent: reads one request frame, answers with the frame above.
        let agent = BackgroundProcess(["/usr/bin/python3", "-c", """
            import socket, struct
            s = socket.socket(socket.AF_UNIX); s.bind("\(socket)"); s.listen(1); print("ready", flush=True)
            c, _ = s.accept()
            n = struct.unpack("<I", c.recv(4, socket.MSG_WAITALL))[0]
            c.recv(n, socket.MSG_WAITALL)
            c.sendall(bytes.fromhex("\(frame.map { String(format: "%02x", $0) }.joined())"))
            c.recv(1)
            """], environment: ["PATH": "/usr/bin:/bin"])
        #expect(agent.firstLine == "ready")
        var environment = cli.environment
        environment["TOKENVAULT_PASSPHRASE"] = nil
        let r = run([Binary.path("git-credential-vault"), "--vault", cli.vaultPath, "get"], environment: environment,
                    stdin: .data("protocol=https\nhost=h.example\n\n"))
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == "username=oauth2\npassword=from-the-stand-in\n")
        #expect(r.err == "vault: warning: \\e]0;pwned\\x07\\\\\\xC3\\n\\x00end\n", "\(r.err.debugDescription)")
        #expect(!r.err.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }
}
