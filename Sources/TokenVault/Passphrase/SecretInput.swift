import Glibc
import CTerminal

/// Reads secrets from file descriptors straight into secure memory.
package enum LineReader {
    package static let limit = PassphraseSource.maximumLength

    /// Reads one line (up to a newline or end of input) from `fd`, without its line ending: a
    /// final `\n` or `\r\n`, nothing else (a `\r` not followed by `\n` is kept).
    package static func readLine(fd: Int32, what: String) throws(PassphraseError) -> Secret {
        try read(fd: fd, what: what, stopAtNewline: true)
    }

    /// The length of the line that ends with the newline at `index` of `bytes`, without its
    /// line ending (`\n`, or `\r\n`).
    package static func lengthWithoutLineEnding(_ bytes: UnsafeRawBufferPointer, newlineAt index: Int) -> Int {
        index > 0 && bytes[index - 1] == UInt8(ascii: "\r") ? index - 1 : index
    }

    /// Reads everything from `fd`; one trailing line ending is removed, and input of more than
    /// one line is refused.
    package static func readAll(fd: Int32, what: String) throws(PassphraseError) -> Secret {
        try read(fd: fd, what: what, stopAtNewline: false)
    }

    private static func read(fd: Int32, what: String, stopAtNewline: Bool) throws(PassphraseError) -> Secret {
        var failure: PassphraseError?
        let secret = Secret.filling(maxCount: limit) { buffer -> Int in
            var length = 0
            var sawNewline = false
            while length < limit {
                let n = Glibc.read(fd, buffer.baseAddress! + length, stopAtNewline ? 1 : limit - length)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .unreadable(what: what, errno: errno)
                    return 0
                }
                if n == 0 { break }
                if stopAtNewline && buffer[length] == UInt8(ascii: "\n") { sawNewline = true; break }
                length += n
            }
            if length == limit && !sawNewline {
                failure = .tooLong(what: what)
                return 0
            }
            // Drop one line ending.
            if stopAtNewline {
                if sawNewline { length = lengthWithoutLineEnding(UnsafeRawBufferPointer(buffer), newlineAt: length) }
            } else {
                if length > 0, buffer[length - 1] == UInt8(ascii: "\n") { length -= 1 }
                if length > 0, buffer[length - 1] == UInt8(ascii: "\r") { length -= 1 }
            }
            if !stopAtNewline, buffer[0..<length].contains(UInt8(ascii: "\n")) {
                failure = .moreThanOneLine(what: what)
                return 0
            }
            return length
        }
        if let failure { throw failure }
        return secret
    }
}

/// The controlling terminal, for prompts that must not echo and must not touch stdin/stdout
/// (which may be a pipe to a script, or git's credential protocol).
package enum TerminalPrompt {
    package static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Opens `/dev/tty`, or nil when the process has no controlling terminal.
    package static func open() -> Int32? {
        let fd = Glibc.open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        guard isatty(fd) == 1 else { close(fd); return nil }
        return fd
    }

    /// Shows `prompt` on the terminal and reads one line with echo off, into secure memory.
    /// Returns nil when there is no terminal.
    package static func readSecret(prompt: String) throws(PassphraseError) -> Secret? {
        guard let fd = open() else { return nil }
        defer { close(fd) }
        guard tv_echo_off(fd) == 0 else { throw .echoOff }
        defer { tv_echo_restore() }
        // The prompt names the vault's path, which comes from the environment or --vault.
        write(fd, TerminalText.escape(prompt))
        let secret = try LineReader.readLine(fd: fd, what: "the answer")
        write(fd, "\n")
        return secret
    }

    package static func write(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}

/// The monotonic clock, in milliseconds.
enum MonotonicClock {
    static func milliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }
}
