import Glibc
import TokenVault

/// The controlling terminal, for prompts that must not echo and must not touch stdin/stdout
/// (which may be a pipe to a script, or git's credential protocol).
package enum Terminal {
    package static func isTerminal(_ fd: Int32) -> Bool { TerminalPrompt.isTerminal(fd) }

    /// Opens `/dev/tty`, or nil when the process has no controlling terminal.
    package static func open() -> Int32? { TerminalPrompt.open() }

    /// Shows `prompt` on the terminal and reads one line with echo off, into secure memory.
    /// Returns nil when there is no terminal.
    package static func readSecret(prompt: String) throws(CLIError) -> Secret? {
        do {
            return try TerminalPrompt.readSecret(prompt: prompt)
        } catch {
            throw CLIError(error)
        }
    }

    /// Writes `line` and a newline on the terminal, where a prompt was shown (stderr may go
    /// elsewhere); nothing when there is no terminal.
    package static func show(_ line: String) {
        guard let fd = open() else { return }
        defer { close(fd) }
        write(fd, TerminalText.escape(line) + "\n")
    }

    /// Asks a yes/no question on the terminal; nil when there is no terminal.
    package static func confirm(_ question: String) -> Bool? {
        guard let fd = open() else { return nil }
        defer { close(fd) }
        write(fd, question + " [y/N] ")
        var answer: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") { answer.append(byte) }
        let text = String(decoding: answer, as: UTF8.self).lowercased()
        return text == "y" || text == "yes"
    }

    package static func write(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}
