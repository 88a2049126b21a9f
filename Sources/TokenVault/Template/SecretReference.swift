/// A field of an entry that can be asked for instead of its token, as `vault get --field` does.
public enum EntryField: String, Sendable, CaseIterable {
    /// The user name (empty when there is none).
    case username
    /// The URL (empty when there is none).
    case url
    /// The URL's host (empty when there is none).
    case host
    /// The scopes, comma-separated.
    case scopes
    /// The expiry date, `YYYY-MM-DD` (empty when there is none).
    case expires
    /// The kind of token (`gitlab`, `github`, ...).
    case kind

    /// This field's value in `entry`, as `vault get --field` prints it.
    public func value(in entry: Entry) -> String {
        switch self {
        case .username: entry.username ?? ""
        case .url: entry.url?.description ?? ""
        case .host: entry.host ?? ""
        case .scopes: entry.scopes.joined(separator: ",")
        case .expires: entry.expires?.dateString ?? ""
        case .kind: entry.kind.rawValue
        }
    }
}

/// What `vault exec` and `vault inject` put in place of a reference: an entry's token, or one
/// of its fields.
public struct SecretReference: Sendable, Hashable {
    /// The entry's name.
    public var entry: String
    /// The field asked for; nil for the token.
    public var field: EntryField?

    /// A reference to `entry`'s token, or to its `field`.
    public init(entry: String, field: EntryField? = nil) {
        self.entry = entry
        self.field = field
    }
}

/// A reference's value, with the entry it was read from (for the warnings `get` gives).
public struct ResolvedReference: Sendable {
    /// The entry, as it was when it was read.
    public let entry: Entry
    /// The token, or the field's value.
    public let value: Secret

    /// A reference resolved elsewhere (a remote entry read from OpenBao).
    public init(entry: Entry, value: Secret) {
        self.entry = entry
        self.value = value
    }
}

extension Vault {
    /// The values of `references`, in their order, read under the rules of
    /// ``get(_:allowingExpired:)`` (a field under those of `vault get --field`: refused only in
    /// the trash). Every reference is checked before any token is read, so one that is refused
    /// leaves no read recorded; then each entry's token is read once, and recorded, under this
    /// vault's ``actor``.
    public func values(of references: [SecretReference], allowingExpired: Bool = false) throws(VaultError) -> [ResolvedReference] {
        var entries: [String: Entry] = [:]
        for reference in references {
            let entry: Entry
            if let known = entries[reference.entry] { entry = known } else { entry = try self.entry(named: reference.entry) }
            entries[reference.entry] = entry
            if reference.field == nil {
                if let refusal = entry.readRefusal(allowingExpired: allowingExpired) { throw refusal }
            } else if entry.deleted != nil {
                throw .inTrash(name: entry.name)
            }
        }
        // One value for each distinct reference, shared by its repeats: a template may repeat
        // one tens of thousands of times, and each value is an allocation with guard pages.
        var resolved: [SecretReference: ResolvedReference] = [:]
        var values: [ResolvedReference] = []
        for reference in references {
            if let known = resolved[reference] {
                values.append(known)
                continue
            }
            let value: ResolvedReference
            if let field = reference.field, let entry = entries[reference.entry] {
                value = ResolvedReference(entry: entry, value: Secret(field.value(in: entry)))
            } else {
                let token = try get(reference.entry, allowingExpired: allowingExpired)
                value = ResolvedReference(entry: token.entry, value: token.secret)
            }
            resolved[reference] = value
            values.append(value)
        }
        return values
    }
}
