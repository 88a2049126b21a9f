/// Whether a read was recorded in the activity log (with the entry's last-used time). A read
/// that cannot be recorded is not refused: the token is handed out all the same, and the caller
/// says so (the `vault` command prints ``Reason/warning`` once on stderr).
public enum ReadRecording: Sendable, Equatable {
    /// Recorded (or there was nothing to record).
    case recorded
    /// Not recorded, for this reason.
    case notRecorded(Reason)

    /// Why a read was not recorded.
    public enum Reason: UInt8, Sendable, Equatable {
        /// The vault file cannot be written here: a file of mode 0400, a folder the user
        /// cannot write, or a read-only mount (``Vault/isReadOnly``).
        case readOnly = 1
        /// The disk (or the user's quota) is full.
        case diskFull = 2

        /// The line the `vault` command prints after `vault: warning: ` (nothing in it needs
        /// escaping).
        public var warning: String {
            switch self {
            case .readOnly: "the vault is read-only: this read was not recorded in its activity log"
            case .diskFull: "the disk is full: this read was not recorded in the vault's activity log"
            }
        }

        /// The error a write meets for this reason, for the vault at `path`.
        func writeError(path: String) -> VaultError {
            switch self {
            case .readOnly: .readOnly(path: path)
            case .diskFull: .diskFull(path: path)
            }
        }
    }

    /// The reason, when the read was not recorded.
    public var reason: Reason? {
        if case .notRecorded(let reason) = self { reason } else { nil }
    }

    /// Runs `record` (a write that records a read), and says whether it landed: a write refused
    /// because the file is read-only or the disk is full is a read not recorded; any other
    /// failure is thrown.
    static func attempt(_ record: () throws(VaultError) -> Void) throws(VaultError) -> ReadRecording {
        do {
            try record()
            return .recorded
        } catch .readOnly {
            return .notRecorded(.readOnly)
        } catch .diskFull {
            return .notRecorded(.diskFull)
        }
    }

    /// The outcome on the agent's wire: 0 recorded, else the reason's raw value.
    var wire: UInt8 { reason?.rawValue ?? 0 }

    init(wire: UInt8) throws(AgentCodecError) {
        if wire == 0 { self = .recorded; return }
        guard let reason = Reason(rawValue: wire) else { throw .invalid("whether a read was recorded") }
        self = .notRecorded(reason)
    }
}
