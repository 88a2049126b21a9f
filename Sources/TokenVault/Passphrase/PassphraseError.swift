import Glibc

/// Why ``PassphraseSource/read(prompt:confirm:)`` found no passphrase. A description never
/// holds the passphrase: only where it was looked for.
public enum PassphraseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No source is set, and there is no terminal to ask on (or asking is not allowed).
    case noSource
    /// The source gave an empty passphrase.
    case empty
    /// The two passphrases typed for a new one differ.
    case mismatch
    /// The file descriptor is a terminal, where the passphrase would be echoed.
    case descriptorIsTerminal(Int32)
    /// Reading failed (`what` names what was read; `errno` says why).
    case unreadable(what: String, errno: Int32)
    /// More than ``PassphraseSource/maximumLength`` bytes without a line break.
    case tooLong(what: String)
    /// Input read whole has more than one line.
    case moreThanOneLine(what: String)
    /// The passphrase file cannot be opened.
    case cannotOpenFile(path: String, errno: Int32)
    /// The passphrase file cannot be inspected.
    case cannotInspectFile(path: String)
    /// The passphrase file belongs to another user, or others may read it (`mode`: its
    /// permission bits).
    case filePermissions(path: String, mode: UInt32)
    /// Echo cannot be turned off on the terminal.
    case echoOff
    /// `TOKENVAULT_ASKPASS_TIMEOUT` is not a whole number of seconds in
    /// ``PassphraseSource/askpassTimeoutRange``.
    case invalidAskpassTimeout
    /// The askpass program cannot be started (`program` nil: not even its pipe).
    case askpassNotStarted(program: String?, errno: Int32)
    /// The askpass program did not answer in time.
    case askpassTimedOut(program: String, seconds: Int)
    /// The askpass program wrote too much without a line break.
    case askpassTooLong(program: String)
    /// The askpass program's output cannot be read.
    case askpassUnreadable(program: String, errno: Int32)
    /// The askpass program answered but did not exit in time.
    case askpassDidNotExit(program: String, seconds: Int)
    /// The askpass program went on writing after its first line.
    case askpassKeptWriting(program: String)
    /// The askpass program was killed by a signal.
    case askpassKilled(program: String, signal: Int32)
    /// The askpass program exited with a status other than 0.
    case askpassFailed(program: String, status: Int32)

    /// One line for a person.
    public var description: String {
        switch self {
        case .noSource: "there is no passphrase source"
        case .empty: "the passphrase is empty"
        case .mismatch: "the two passphrases differ"
        case .descriptorIsTerminal(let fd): "file descriptor \(fd) is a terminal, where the passphrase would be echoed"
        case .unreadable(let what, let errno): "cannot read \(what): \(Self.reason(errno))"
        case .tooLong(let what): "\(what) is longer than \(PassphraseSource.maximumLength) bytes"
        case .moreThanOneLine(let what): "\(what) has more than one line"
        case .cannotOpenFile(let path, let errno): "cannot open the passphrase file '\(path)': \(Self.reason(errno))"
        case .cannotInspectFile(let path): "cannot inspect the passphrase file '\(path)'"
        case .filePermissions(let path, let mode):
            "the passphrase file '\(path)' is readable by other users (mode \(String(mode & 0o777, radix: 8)))"
        case .echoOff: "cannot turn off echo on the terminal; refusing to read a secret from it"
        case .invalidAskpassTimeout:
            "\(PassphraseSource.askpassTimeoutVariable) must be a whole number of seconds from \(PassphraseSource.askpassTimeoutRange.lowerBound) to \(PassphraseSource.askpassTimeoutRange.upperBound)"
        case .askpassNotStarted(nil, _): "cannot run TOKENVAULT_ASKPASS"
        case .askpassNotStarted(let program?, let errno): "cannot run TOKENVAULT_ASKPASS '\(program)': \(Self.reason(errno))"
        case .askpassTimedOut(let program, let seconds): "TOKENVAULT_ASKPASS '\(program)' did not answer within \(seconds) seconds"
        case .askpassTooLong(let program):
            "TOKENVAULT_ASKPASS '\(program)' wrote more than \(PassphraseSource.maximumLength) bytes without a line break"
        case .askpassUnreadable(let program, let errno): "cannot read the output of TOKENVAULT_ASKPASS '\(program)': \(Self.reason(errno))"
        case .askpassDidNotExit(let program, let seconds): "TOKENVAULT_ASKPASS '\(program)' answered but did not exit within \(seconds) seconds"
        case .askpassKeptWriting(let program): "TOKENVAULT_ASKPASS '\(program)' went on writing after its first line"
        case .askpassKilled(let program, let signal): "TOKENVAULT_ASKPASS '\(program)' failed (killed by signal \(signal))"
        case .askpassFailed(let program, let status): "TOKENVAULT_ASKPASS '\(program)' failed (exit status \(status))"
        }
    }

    /// A next step, where there is one.
    public var hint: String? {
        switch self {
        case .filePermissions(let path, _): "chmod 600 '\(path)'"
        case .askpassTimedOut: "set \(PassphraseSource.askpassTimeoutVariable) to give it longer (in seconds), or use another passphrase source"
        default: nil
        }
    }

    private static func reason(_ errno: Int32) -> String { String(cString: strerror(errno)) }
}
