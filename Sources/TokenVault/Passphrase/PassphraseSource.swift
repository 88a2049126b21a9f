import Glibc

/// Where a passphrase comes from, by the rules of the `vault` command, tried in this order: a
/// file descriptor, a file (refused unless private to its owner), an environment variable
/// (`TOKENVAULT_PASSPHRASE`), the program named by `TOKENVAULT_ASKPASS` (its stdout is the
/// passphrase), and last a no-echo prompt on `/dev/tty`. With none of them, ``read(prompt:confirm:)``
/// fails at once with ``PassphraseError/noSource``: it never waits on stdin.
///
/// A passphrase is bytes, the same whatever its source: never decoded as UTF-8 or normalised.
/// From a file descriptor, a file, the askpass program and the prompt it is the first line
/// without its line ending (`\n` or `\r\n`, nothing else); from the environment variable it is
/// the value exactly as it is, nothing removed.
///
/// The askpass program gets the prompt as its one argument, `/dev/null` as stdin and no other
/// open file descriptor; it has ``askpassTimeout`` seconds (120, or
/// `TOKENVAULT_ASKPASS_TIMEOUT`) to answer and exit, else it is ended (SIGTERM, then SIGKILL)
/// and reaped.
public struct PassphraseSource: Sendable {
    /// The longest passphrase read, in bytes.
    public static let maximumLength = 64 * 1024
    /// The variable that gives the askpass program another time limit, in whole seconds.
    public static let askpassTimeoutVariable = "TOKENVAULT_ASKPASS_TIMEOUT"
    /// The time limits `TOKENVAULT_ASKPASS_TIMEOUT` may set, in seconds.
    public static let askpassTimeoutRange = 1...3600
    /// The askpass program's time limit unless set: a person types into it, so it is generous.
    public static let defaultAskpassTimeout = 120

    /// A file descriptor to read the first line from (`--passphrase-fd`).
    public var fd: Int32?
    /// A file, private to its owner, to read the first line from (`--passphrase-file`).
    public var file: String?
    /// The environment variable that may hold the passphrase, for ``sourceName``.
    public var variable: String
    /// The bytes of ``variable``; nil when it is unset or empty.
    public var variableValue: Secret?
    /// The askpass program, when one may be asked.
    public var askpass: String?
    /// Whether a person may be asked on the terminal when no other source is set.
    public var allowsPrompt: Bool
    private var timeoutText: String?

    /// The sources as this process's environment sets them: `variable` (its bytes as the
    /// process got them), and unless `askpass` is false, `TOKENVAULT_ASKPASS` with
    /// `TOKENVAULT_ASKPASS_TIMEOUT`.
    public init(fd: Int32? = nil, file: String? = nil, variable: String = "TOKENVAULT_PASSPHRASE",
                askpass: Bool = true, allowsPrompt: Bool = true) {
        func text(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        let value = getenv(variable).map { Secret(copying: UnsafeRawBufferPointer(start: $0, count: strlen($0))) }
        self.init(fd: fd, file: file, variable: variable, variableValue: value,
                  askpass: askpass ? text("TOKENVAULT_ASKPASS") : nil,
                  askpassTimeout: text(Self.askpassTimeoutVariable), allowsPrompt: allowsPrompt)
    }

    /// Sources given one by one, for a caller that read (and perhaps wiped) its environment
    /// itself: `variableValue` is the variable's bytes, `askpass` the program, `askpassTimeout`
    /// the text of `TOKENVAULT_ASKPASS_TIMEOUT` (checked when the program is run). An empty
    /// value or program counts as unset.
    public init(fd: Int32?, file: String?, variable: String, variableValue: Secret?, askpass: String?,
                askpassTimeout: String?, allowsPrompt: Bool = true) {
        self.fd = fd
        self.file = file
        self.variable = variable
        self.variableValue = variableValue.flatMap { $0.isEmpty ? nil : $0 }
        self.askpass = askpass.flatMap { $0.isEmpty ? nil : $0 }
        self.timeoutText = askpassTimeout
        self.allowsPrompt = allowsPrompt
    }

    /// Which source ``read(prompt:confirm:)`` will use, for a log line.
    public var sourceName: String {
        if let fd { return "file descriptor \(fd)" }
        if let file { return "the file \(file)" }
        if variableValue != nil { return variable }
        if let askpass { return "TOKENVAULT_ASKPASS (\(askpass))" }
        return "a prompt on the terminal"
    }

    /// Whether ``read(prompt:confirm:)`` will ask a person at the terminal (no other source is
    /// set): the only source worth asking again after a typo.
    public var isTerminalPrompt: Bool {
        fd == nil && file == nil && variableValue == nil && askpass == nil
    }

    /// The askpass program's time limit, in seconds: `TOKENVAULT_ASKPASS_TIMEOUT`, or 120.
    public var askpassTimeout: Int {
        get throws(PassphraseError) {
            guard let text = timeoutText, !text.isEmpty else { return Self.defaultAskpassTimeout }
            guard let seconds = Int(text), Self.askpassTimeoutRange.contains(seconds) else { throw .invalidAskpassTimeout }
            return seconds
        }
    }

    /// Reads the passphrase from the first source set. `confirm` asks twice when it comes from
    /// the terminal prompt (for a new passphrase). An empty passphrase is refused, except from
    /// the environment variable, where an empty value counts as unset.
    public func read(prompt: String, confirm: Bool = false) throws(PassphraseError) -> Secret {
        if let fd {
            guard !TerminalPrompt.isTerminal(fd) else { throw .descriptorIsTerminal(fd) }
            return try nonEmpty(LineReader.readLine(fd: fd, what: "the passphrase from file descriptor \(fd)"))
        }
        if let file { return try nonEmpty(Self.readFile(file)) }
        if let variableValue { return variableValue }
        if let askpass { return try nonEmpty(Askpass.read(askpass, prompt: prompt, seconds: askpassTimeout)) }
        guard allowsPrompt, let first = try TerminalPrompt.readSecret(prompt: prompt) else { throw .noSource }
        if confirm {
            guard let second = try TerminalPrompt.readSecret(prompt: "Repeat to confirm: ") else { throw .noSource }
            guard first.isEqual(to: second) else { throw .mismatch }
        }
        return try nonEmpty(first)
    }

    private func nonEmpty(_ secret: Secret) throws(PassphraseError) -> Secret {
        guard !secret.isEmpty else { throw .empty }
        return secret
    }

    /// The first line of the file at `path`, which must belong to this user and be readable by
    /// no one else.
    static func readFile(_ path: String) throws(PassphraseError) -> Secret {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpenFile(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotInspectFile(path: path) }
        if info.st_uid != geteuid() || info.st_mode & 0o077 != 0 {
            throw .filePermissions(path: path, mode: UInt32(info.st_mode))
        }
        return try LineReader.readLine(fd: fd, what: "the passphrase file")
    }
}
