/// Why the agent did not do what was asked: `VaultError`'s cases that cross the socket, and the
/// protocol's own. Their codes on the wire, and their translation from and to `VaultError`
/// (once each way), are here.
enum AgentFailure: Equatable, Sendable {
    case locked, wrongPassphrase, busy
    case tampered(String), corrupt(String), badRequest(String), other(String)
    case notFound(String), inTrash(String)
    case expired(Timestamp), revoked(Timestamp)
    case unsupportedFormat(Int)
    /// The request is of another version of the protocol; the agent speaks this one.
    case unsupportedVersion(Int)

    /// The failure that reports `error` to a client: the one place the agent translates errors.
    init(_ error: VaultError) {
        switch error {
        case .notFound(let name, _): self = .notFound(name)
        case .inTrash(let name): self = .inTrash(name)
        case .expired(_, let date): self = .expired(date)
        case .revoked(_, let date): self = .revoked(date)
        case .tampered(let what): self = .tampered(what)
        case .corrupt(let what): self = .corrupt(what)
        case .unsupportedFormat(let version): self = .unsupportedFormat(version)
        case .busy: self = .busy
        case .locked: self = .locked
        case .wrongPassphrase: self = .wrongPassphrase
        default: self = .other("\(error)")
        }
    }

    /// The error a client reports for this failure (`name`: the entry it asked for), the one
    /// place a client translates them. An agent that answers a well-formed request `badRequest`
    /// predates it: another version.
    func vaultError(name: String?) -> VaultError {
        switch self {
        case .locked: .locked
        case .wrongPassphrase: .wrongPassphrase
        case .busy: .busy(seconds: 1)  // The client's deadline.
        case .tampered(let what): .tampered(what.isEmpty ? "a record (checked by the agent)" : what)
        case .corrupt(let what): .corrupt(what)
        case .badRequest, .unsupportedVersion: .otherAgentVersion
        case .other(let message): .io("the agent: \(message)")
        case .notFound(let found): .notFound(name: name ?? found, suggestion: nil)
        case .inTrash(let found): .inTrash(name: name ?? found)
        case .expired(let date): .expired(name: name ?? "", on: date)
        case .revoked(let date): .revoked(name: name ?? "", on: date)
        case .unsupportedFormat(let version): .unsupportedFormat(version)
        }
    }
}

extension AgentFailure {
    /// The code and message on the wire.
    var wire: (UInt8, String) {
        switch self {
        case .locked: (1, "the agent holds no key for this file")
        case .wrongPassphrase: (2, "wrong passphrase")
        case .tampered(let what): (3, what)
        case .badRequest(let why): (4, why)
        case .other(let message): (5, message)
        case .notFound(let name): (6, name)
        case .busy: (7, "busy")
        case .corrupt(let what): (8, what)
        case .unsupportedFormat(let version): (9, String(version))
        case .inTrash(let name): (10, name)
        case .expired(let date): (11, String(date.secondsSince1970))
        case .revoked(let date): (12, String(date.secondsSince1970))
        case .unsupportedVersion(let version): (13, String(version))
        }
    }

    init(code: UInt8, message: String) throws(AgentCodecError) {
        func date() throws(AgentCodecError) -> Timestamp {
            guard let seconds = Int64(message) else { throw .invalid("a date") }
            return Timestamp(secondsSince1970: seconds)
        }
        switch code {
        case 1: self = .locked
        case 2: self = .wrongPassphrase
        case 3: self = .tampered(message)
        case 4: self = .badRequest(message)
        case 5: self = .other(message)
        case 6: self = .notFound(message)
        case 7: self = .busy
        case 8: self = .corrupt(message)
        case 9: self = .unsupportedFormat(Int(message) ?? 0)
        case 10: self = .inTrash(message)
        case 11: self = .expired(try date())
        case 12: self = .revoked(try date())
        case 13: self = .unsupportedVersion(Int(message) ?? 0)
        default: self = .other(message)  // A later version's failure: reported as it says.
        }
    }
}

extension Duration {
    /// Whole seconds, for the wire (never negative).
    var wholeSeconds: UInt64 { UInt64(clamping: max(0, components.seconds)) }

    init(wireSeconds: UInt64) { self = .seconds(Int64(clamping: wireSeconds)) }
}
