import Glibc
import CTerminal
import TokenVault

/// Where a passphrase comes from, tried in this order: `--passphrase-fd N`,
/// `--passphrase-file PATH` (refused unless private to its owner), `$TOKENVAULT_PASSPHRASE`,
/// the program named by `$TOKENVAULT_ASKPASS` (its stdout is the passphrase), and last a
/// no-echo prompt on `/dev/tty`. With none of them, the command fails at once: it never waits
/// on stdin.
///
/// A passphrase is bytes, the same whatever its source: never decoded as UTF-8 or normalised.
/// From a file descriptor, a file, the askpass program and the prompt it is the first line
/// without its line ending (`\n` or `\r\n`, nothing else); from the environment variable it is
/// the value exactly as it is, nothing removed.
package struct PassphraseSource {
    package var fd: Int32?
    package var file: String?
    /// The environment variable that may hold the passphrase (see ``Environment/secretNames``).
    package var variable: String
    /// The askpass program, when one may be asked.
    package var askpass: String?

    package init(fd: Int32?, file: String?, variable: String = "TOKENVAULT_PASSPHRASE", askpass: Bool = true) {
        self.fd = fd
        self.file = file
        self.variable = variable
        self.askpass = askpass ? Environment["TOKENVAULT_ASKPASS"].flatMap { $0.isEmpty ? nil : $0 } : nil
    }

    /// Which source ``read(prompt:confirm:allowPrompt:)`` will use, for --verbose.
    package var sourceName: String {
        if let fd { return "file descriptor \(fd)" }
        if let file { return "the file \(file)" }
        if Environment.secret(variable) != nil { return variable }
        if let askpass { return "TOKENVAULT_ASKPASS (\(askpass))" }
        return "a prompt on the terminal"
    }

    /// Whether ``read(prompt:confirm:allowPrompt:)`` will ask a person at the terminal (no
    /// other source is set): the only source worth asking again after a typo.
    package var isTerminalPrompt: Bool {
        fd == nil && file == nil && Environment.secret(variable) == nil && askpass == nil
    }

    /// Reads the passphrase. `confirm` asks twice when it comes from a terminal prompt (for a
    /// new passphrase).
    package func read(prompt: String, confirm: Bool = false, allowPrompt: Bool = true) throws(CLIError) -> Secret {
        if let fd {
            guard !Terminal.isTerminal(fd) else {
                throw CLIError.failed("--passphrase-fd \(fd) is a terminal, where the passphrase would be echoed",
                                      hint: "leave out --passphrase-fd to be asked without echo")
            }
            return try nonEmpty(LineReader.readLine(fd: fd, what: "the passphrase from file descriptor \(fd)"))
        }
        if let file {
            return try nonEmpty(Self.readFile(file))
        }
        if let secret = Environment.secret(variable) {
            return secret
        }
        if let askpass {
            return try nonEmpty(Askpass.read(askpass, prompt: prompt))
        }
        guard allowPrompt, let first = try Terminal.readSecret(prompt: prompt) else { throw CLIError.noPassphrase }
        if confirm {
            guard let second = try Terminal.readSecret(prompt: "Repeat to confirm: ") else { throw CLIError.noPassphrase }
            guard first.isEqual(to: second) else { throw CLIError.failed("the two passphrases differ") }
        }
        return try nonEmpty(first)
    }

    private func nonEmpty(_ secret: Secret) throws(CLIError) -> Secret {
        guard !secret.isEmpty else { throw CLIError.failed("the passphrase is empty") }
        return secret
    }

    package static func readFile(_ path: String) throws(CLIError) -> Secret {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError.failed("cannot open the passphrase file '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CLIError.failed("cannot inspect the passphrase file '\(path)'") }
        if info.st_uid != geteuid() || info.st_mode & 0o077 != 0 {
            throw CLIError.failed("the passphrase file '\(path)' is readable by other users (mode \(String(info.st_mode & 0o777, radix: 8)))",
                                  hint: "chmod 600 '\(path)'")
        }
        return try LineReader.readLine(fd: fd, what: "the passphrase file")
    }
}
