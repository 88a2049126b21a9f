import Glibc
import TokenVault

/// Exit codes, one per kind of failure. Documented in `vault help` and the README; scripts
/// depend on them, so they never change.
package enum ExitStatus: Int32, CaseIterable {
    case success = 0
    case other = 1
    case notFound = 2
    case locked = 3
    case expired = 4
    case tampered = 5
    case unsafePermissions = 6
    case cannotWrite = 7
    case findings = 8
    case bundleRefused = 9
    case partial = 10
    case unreachable = 11
    case sealed = 12
    case tlsFailure = 13
    case denied = 14
    case usage = 64

    package var meaning: String {
        switch self {
        case .success: "success"
        case .other: "any other failure"
        case .notFound: "no such entry, or no vault"
        case .locked: "locked: wrong passphrase or key file, or none given"
        case .expired: "the token has expired, or GitLab revoked it"
        case .tampered: "the vault was tampered with or is corrupt (\(ProgramName.current) verify: something does not verify)"
        case .unsafePermissions: "the vault file or folder is open to other users"
        case .cannotWrite: "the vault cannot be changed: it is read-only, or its disk is full"
        case .findings: "\(ProgramName.current) check found something to do (4 when a token has expired)"
        case .bundleRefused: "a bundle was refused: damaged, for another vault, or untrusted"
        case .partial: "a linked CI/CD variable was not updated (the token is stored)"
        case .unreachable: "OpenBao (a remote) could not be reached: network failure or timeout"
        case .sealed: "OpenBao is sealed, or a standby with no active node"
        case .tlsFailure: "TLS failed with OpenBao (an untrusted certificate: --ca-file)"
        case .denied: "OpenBao refused: its policy denies it, or the remote's token expired or was revoked"
        case .usage: "usage error"
        }
    }

    package static var table: String {
        allCases.map { "  \($0.rawValue)\(String(repeating: " ", count: 4 - String($0.rawValue).count))\($0.meaning)" }
            .joined(separator: "\n")
    }
}

/// Failures of the CLI itself (the library's are `VaultError`).
package enum CLIError: Error, CustomStringConvertible {
    case failed(String, hint: String? = nil)
    case usage(String, hint: String? = nil)
    case noPassphrase
    /// The vault stays locked: a passphrase source gave no answer (exit code 3).
    case locked(String, hint: String? = nil)
    /// The entry is in the trash (as `VaultError.inTrash`).
    case inTrash(String)
    /// Exit quietly with this status (the message was already printed).
    case exit(ExitStatus)

    /// The message alone (used when the argument parser reports an error thrown by validate()).
    package var description: String {
        switch self {
        case .failed(let message, _), .usage(let message, _), .locked(let message, _): message
        case .noPassphrase: "the vault is locked and there is no passphrase source"
        case .inTrash(let name): VaultError.inTrash(name: name).description
        case .exit: ""
        }
    }
}

/// stdout carries only the data asked for; every message goes to stderr as `vault: ...`, under the
/// name the program was invoked as (`tokenvault: ...`, ``ProgramName``).
package enum Output {
    /// Writes data to stdout; a failed write (a closed pipe, a full disk) is an error, so a
    /// script never gets an empty token with success.
    package static func out(_ text: String) throws(CLIError) {
        var text = text
        let ok = text.withUTF8 { writeAll(1, UnsafeRawBufferPointer($0)) }
        guard ok else { throw stdoutFailure() }
    }

    /// Writes what a `--json` flag prints: `value` with ``JSON/versioned(_:)``, and a newline.
    package static func json(_ value: JSON.Value) throws(CLIError) {
        try out(JSON.encode(JSON.versioned(value)) + "\n")
    }

    /// Writes bytes to stdout as they are (a bundle).
    package static func out(bytes: [UInt8]) throws(CLIError) {
        guard bytes.withUnsafeBytes({ writeAll(1, $0) }) else { throw stdoutFailure() }
    }

    /// Writes a secret to stdout straight from secure memory, then a newline.
    package static func out(secret: Secret) throws(CLIError) {
        guard secret.withUnsafeBytes({ writeAll(1, $0) }) else { throw stdoutFailure() }
        try out("\n")
    }

    /// Writes a secret to stdout straight from secure memory, without a newline.
    package static func write(secret: Secret) throws(CLIError) {
        guard secret.withUnsafeBytes({ writeAll(1, $0) }) else { throw stdoutFailure() }
    }

    private static func stdoutFailure() -> CLIError {
        .failed("cannot write to standard output: \(String(cString: strerror(errno)))")
    }

    /// Messages for a person, one line each: whatever they quote (a name, a URL, a path, a
    /// process name) is shown through `TerminalText.escape`, so none can drive the terminal.
    package static func error(_ message: String) { err(prefix + "error: " + TerminalText.escape(message)) }
    package static func hint(_ message: String) { err(prefix + "hint: " + TerminalText.escape(message)) }
    package static func warning(_ message: String) { err(prefix + "warning: " + TerminalText.escape(message)) }
    /// A warning the library rendered for the terminal already (escaped: `Entry.readWarnings`).
    package static func warning(rendered line: String) { err(prefix + "warning: " + line) }
    package static func note(_ message: String) { err(prefix + TerminalText.escape(message)) }

    /// `vault: ` or `tokenvault: `: one of two fixed names, never argv[0] as it came.
    private static var prefix: String { ProgramName.current + ": " }

    /// Writes `line` and a newline to stderr as it is: for text this program wrote itself (a
    /// usage text); anything else goes through ``error(_:)``, ``hint(_:)``, ``warning(_:)`` or
    /// ``note(_:)``.
    package static func err(_ line: String) {
        var text = line + "\n"
        _ = text.withUTF8 { writeAll(2, UnsafeRawBufferPointer($0)) }
    }

    @discardableResult
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Prints an error the CLI's way and returns the exit status for it.
    package static func report(_ error: Error) -> ExitStatus {
        switch error {
        case let error as VaultError:
            self.error(error.description)
            if let hint = error.hint { self.hint(hint) }
            return status(for: error)
        case let error as BundleError:
            if case .vault(let inner) = error { return report(inner) }
            self.error(error.description)
            if let hint = error.hint { self.hint(hint) }
            switch error {
            case .wrongPassphrase, .needsPassphrase: return .locked
            default: return .bundleRefused
            }
        case let error as CLIError:
            switch error {
            case .failed(let message, let hint):
                self.error(message)
                if let hint { self.hint(hint) }
                return .other
            case .usage(let message, let hint):
                self.error(message)
                if let hint { self.hint(hint) }
                return .usage
            case .locked(let message, let hint):
                self.error(message)
                if let hint { self.hint(hint) }
                return .locked
            case .noPassphrase:
                self.error("the vault is locked and there is no passphrase source")
                hint("use --passphrase-fd, --passphrase-file, TOKENVAULT_PASSPHRASE or TOKENVAULT_ASKPASS, or run from a terminal")
                return .locked
            case .inTrash(let name):
                return report(VaultError.inTrash(name: name))
            case .exit(let status):
                return status
            }
        default:
            self.error("\(error)")
            return .other
        }
    }

    package static func status(for error: VaultError) -> ExitStatus {
        switch error {
        case .notFound, .noVault, .inTrash: .notFound
        case .expired, .revoked: .expired
        case .wrongPassphrase, .wrongPassphraseOrKeyFile, .keyFileRequired, .locked, .otherAgentVersion: .locked
        case .tampered, .corrupt, .costlyKeyDerivation: .tampered
        case .unsafePermissions, .wrongOwner: .unsafePermissions
        case .readOnly, .diskFull: .cannotWrite
        case .invalidInput: .usage
        default: .other
        }
    }
}

/// A small JSON writer (the CLI does without Foundation to start fast).
package struct JSON {
    package enum Value {
        case string(String)
        case number(Int64)
        case bool(Bool)
        case array([Value])
        case object([(String, Value)])
        case null
    }

    /// The version of the shapes `--json` prints (SECURITY.md): every object printed, or every
    /// object of an array printed, carries it first as `schema_version`. Fields may be added
    /// within a version; one removed or changing meaning makes a new version.
    package static let schemaVersion: Int64 = 1

    /// `value` as a `--json` flag prints it: an object, or each object of an array, with
    /// `schema_version` first.
    package static func versioned(_ value: Value) -> Value {
        switch value {
        case .object(let fields): .object([("schema_version", .number(schemaVersion))] + fields)
        case .array(let items): .array(items.map { item in if case .object = item { versioned(item) } else { item } })
        default: value
        }
    }

    package static func encode(_ value: Value) -> String {
        switch value {
        case .string(let s): return quote(s)
        case .number(let n): return String(n)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map(encode).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.map { quote($0.0) + ":" + encode($0.1) }.joined(separator: ",") + "}"
        }
    }

    package static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
