import TokenVault
import TokenVaultGitLab

/// A remote's entries, with the rules a local vault applies to its own: `get` refuses a token in
/// the trash, and a revoked or expired one unless allowed (``Entry/readRefusal(allowingExpired:at:)``);
/// `add` never overwrites; `update` writes a new version only over the version it read
/// (check-and-set), so a change made meanwhile by a teammate is never lost; `remove` is OpenBao's
/// soft delete and `restore` its undelete.
///
/// Entries are named `REMOTE/ENTRY` in what they return and in every message.
public final class RemoteEntries {
    /// The client, logged in at the first request.
    public var client: OpenBaoClient
    private var checked = false

    /// The entries of `remote`, reached through `transport`; `timeout` seconds per exchange.
    public init(remote: RemoteSettings, transport: any HTTPTransport, timeout: Int = 5) {
        client = OpenBaoClient(remote: remote, transport: transport, timeout: timeout, connectTimeout: min(3, timeout))
    }

    /// The remote's name.
    public var name: String { client.remote.name }

    /// Before the first request: the token is looked up (an expired or revoked one is refused by
    /// name, ``OpenBaoError/tokenRejected(remote:)``) and renewed while it is renewable.
    func ready() throws(OpenBaoError) {
        guard !checked else { return }
        _ = try client.renewIfRenewable()
        checked = true
    }

    /// The token of `entry` and its metadata, by the read rules of a local entry.
    public func get(_ entry: String, allowingExpired: Bool = false) throws -> (entry: Entry, secret: Secret) {
        try RemoteSettings.validate(entry: entry)
        try ready()
        let read = try client.read(entry)
        if let refusal = read.entry.readRefusal(allowingExpired: allowingExpired) { throw refusal }
        return (read.entry, read.secret)
    }

    /// The metadata of `entry` (in the trash too) and its version.
    public func entry(_ entry: String) throws -> OpenBaoClient.Read {
        try RemoteSettings.validate(entry: entry)
        try ready()
        return try client.read(entry)
    }

    /// Writes a new entry (`entry.name` is `REMOTE/ENTRY`); one that exists, in the trash too,
    /// is refused and left as it was.
    public func add(_ entry: Entry, secret: Secret) throws {
        let local = try localName(entry.name)
        try RemoteSettings.validate(entry: local)
        try Entry.validate(name: entry.name)
        try ready()
        var entry = entry
        entry.setRemoteTimes(created: .now(), updated: .now(), tokenSince: .now())
        do {
            try client.write(local, entry: entry, secret: secret, cas: 0)
        } catch .exists {
            let inTrash = (try? client.read(local))?.entry.deleted != nil
            throw OpenBaoError.exists(remote: name, name: local, inTrash: inTrash)
        }
    }

    /// Changes `entry`'s metadata with `change`, and its token to `secret` when given: one new
    /// KV version, written only if the version read is still the latest. An entry in the trash
    /// is refused (restore it first). Returns the new version.
    @discardableResult
    public func update(_ entry: String, secret: Secret? = nil, _ change: (inout Entry) -> Void) throws -> Int {
        try RemoteSettings.validate(entry: entry)
        try ready()
        let read = try client.read(entry)
        if read.entry.deleted != nil { throw VaultError.inTrash(name: read.entry.name) }
        var changed = read.entry
        change(&changed)
        changed.name = read.entry.name
        if let secret, !secret.isEqual(to: read.secret) {
            changed.setRemoteTimes(created: read.entry.created, updated: .now(), tokenSince: .now())
            // A new token is no longer the revoked one.
            changed.revoked = nil
        }
        return try client.write(entry, entry: changed, secret: secret ?? read.secret, cas: read.version)
    }

    /// Moves `entry` to the trash (OpenBao's soft delete of its latest version).
    public func remove(_ entry: String) throws {
        try RemoteSettings.validate(entry: entry)
        try ready()
        let read = try client.read(entry)
        if read.entry.deleted != nil { throw VaultError.inTrash(name: read.entry.name) }
        try client.delete(entry)
    }

    /// Takes `entry` out of the trash (undeletes its latest version); `.notFound` when it is
    /// not in the trash.
    public func restore(_ entry: String) throws {
        try RemoteSettings.validate(entry: entry)
        try ready()
        let (current, versions) = try client.versions(entry)
        guard let latest = versions.last(where: { $0.number == current }) ?? versions.last, latest.deleted != nil, !latest.destroyed else {
            throw VaultError.invalidInput("'\(name)/\(entry)' is not in the trash")
        }
        try client.undelete(entry, version: latest.number)
    }

    /// The versions of `entry`, oldest first.
    public func history(_ entry: String) throws -> [OpenBaoClient.Version] {
        try RemoteSettings.validate(entry: entry)
        try ready()
        return try client.versions(entry).versions
    }

    /// The entries in `folder` (within the remote, empty for all of its top level), read one by
    /// one (at most `limit`); sub-folders are listed by name (ending in `/`) in `folders`. An
    /// entry that cannot be read (not TokenVault's, or denied) is named in `unreadable`.
    public func list(_ folder: String, limit: Int = 1000) throws -> (entries: [Entry], folders: [String], unreadable: [String]) {
        if !folder.isEmpty { try RemoteSettings.validate(entry: folder.hasSuffix("/") ? String(folder.dropLast()) : folder) }
        try ready()
        let base = folder.isEmpty || folder.hasSuffix("/") ? folder : folder + "/"
        var entries: [Entry] = [], folders: [String] = [], unreadable: [String] = []
        for key in try client.list(base).prefix(limit) {
            if key.hasSuffix("/") { folders.append(name + "/" + base + key); continue }
            do {
                entries.append(try client.read(base + key).entry)
            } catch {
                switch error {
                case .unreachable, .sealed, .standby, .tls, .tokenRejected: throw error
                default: unreadable.append(name + "/" + base + key)
                }
            }
        }
        return (entries, folders, unreadable)
    }

    /// `ENTRY` of `REMOTE/ENTRY`, for this remote.
    func localName(_ full: String) throws(VaultError) -> String {
        guard let (remote, entry) = RemoteSettings.split(full), remote == name else {
            throw .invalidInput("'\(Redaction.redact(full))' is not an entry of remote '\(name)'")
        }
        return entry
    }
}
