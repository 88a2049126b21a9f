/// What an event of the activity log records. The log keeps each action as the text
/// ``text`` gives (`read`, `replace token`, ...): an action this version does not know, written
/// by a later version or named by a caller, is kept as ``other(_:)`` with its text unchanged.
///
/// A string literal makes an action, so `event.action == "read"` and
/// `vault.update(name, action: "verify at GitLab")` read naturally.
public enum EventAction: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// A read of the token (`vault get`, git's `get`, ``Vault/get(_:allowingExpired:)``).
    case read
    /// A read of the tokens an entry held before (``Vault/history(of:)``).
    case readHistory
    /// A read of git's refresh token beside an expired token.
    case readRefreshToken
    /// A read of the token for a purpose that is not a use (``Vault/secret(named:for:)``):
    /// `read for PURPOSE`.
    case readFor(String)
    /// An entry was added.
    case add
    /// An entry's metadata changed.
    case edit
    /// An entry's token was replaced.
    case replaceToken
    /// An entry was renamed.
    case rename
    /// An entry went to the trash.
    case trash
    /// An entry came back from the trash, or a token rejected by git was restored.
    case restore
    /// A previous token became current again: its number (1 is the newest) as the history
    /// listed it.
    case restoreVersion(Int)
    /// git reported the token as failing.
    case rejectedByGit
    /// An entry was destroyed.
    case purge
    /// An entry was destroyed after its time in the trash.
    case purgeTrashExpired
    /// The passphrase changed.
    case passphraseChange
    /// The vault's settings changed.
    case config
    /// The tokens were reviewed (``Vault/reviewTokens()``).
    case review
    /// Any other action, with its text as the log holds it.
    case other(String)

    /// The action of the log's text `text`.
    public init(_ text: String) {
        switch text {
        case "read": self = .read
        case "read history": self = .readHistory
        case "read refresh token": self = .readRefreshToken
        case "add": self = .add
        case "edit": self = .edit
        case "replace token": self = .replaceToken
        case "rename": self = .rename
        case "trash": self = .trash
        case "restore": self = .restore
        case "rejected by git": self = .rejectedByGit
        case "purge": self = .purge
        case "purge (trash expired)": self = .purgeTrashExpired
        case "passphrase change": self = .passphraseChange
        case "config": self = .config
        case "review": self = .review
        default:
            if text.hasPrefix("read for "), text.count > "read for ".count {
                self = .readFor(String(text.dropFirst("read for ".count)))
            } else if text.hasPrefix("restore version "), let number = Int(text.dropFirst("restore version ".count)),
                      number > 0, "restore version \(number)" == text {
                self = .restoreVersion(number)
            } else {
                self = .other(text)
            }
        }
    }

    /// The action of a string literal, as ``init(_:)``.
    public init(stringLiteral text: String) { self.init(text) }

    /// The text the log holds for this action.
    public var text: String {
        switch self {
        case .read: "read"
        case .readHistory: "read history"
        case .readRefreshToken: "read refresh token"
        case .readFor(let purpose): "read for \(purpose)"
        case .add: "add"
        case .edit: "edit"
        case .replaceToken: "replace token"
        case .rename: "rename"
        case .trash: "trash"
        case .restore: "restore"
        case .restoreVersion(let number): "restore version \(number)"
        case .rejectedByGit: "rejected by git"
        case .purge: "purge"
        case .purgeTrashExpired: "purge (trash expired)"
        case .passphraseChange: "passphrase change"
        case .config: "config"
        case .review: "review"
        case .other(let text): text
        }
    }

    /// ``text``.
    public var description: String { text }

    /// Whether the action reads a token (its text is `read` or starts with `read `): a change
    /// cannot be named so.
    public var isRead: Bool { ActivityLog.isRead(text) }

    /// Two actions are equal when the log would hold the same text for them (`.other("add")`
    /// is `.add`).
    public static func == (a: EventAction, b: EventAction) -> Bool { a.text == b.text }

    /// Hashes ``text``, as ``==(_:_:)`` compares it.
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}
