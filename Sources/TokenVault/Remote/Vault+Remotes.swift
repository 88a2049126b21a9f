/// The OpenBao remotes saved in this vault: rows of the key ring (``RemoteRecord``), each write
/// one transaction recorded in the activity log (which names the remote, never a credential).
extension Vault {
    /// Saves `remote` (checked by ``RemoteSettings/validate()``); `.alreadyExists` when a remote
    /// has its name. A local entry whose name starts with `NAME/` is refused too
    /// (`.invalidInput`): the remote would hide it.
    public func addRemote(_ remote: RemoteSettings) throws(VaultError) {
        try remote.validate()
        let shadowed = try entries().contains { $0.name.hasPrefix(remote.name + "/") }
        if shadowed {
            throw .invalidInput("local entries are named '\(remote.name)/...': that remote name would hide them (rename them or choose another)")
        }
        try write { db, keys, manifest, events throws(VaultError) in
            guard try !Self.remotes(db, keys: keys, manifest: manifest).contains(where: { $0.name == remote.name }) else {
                throw .alreadyExists(name: remote.name)
            }
            try Self.insertKeyring(.remote(remote), name: RemoteRecord.lookupName(remote.name), db: db, keys: keys, manifest: &manifest)
            events.append(PendingEvent(action: "remote add", entry: nil, detail: "'\(remote.name)' \(remote.urls.joined(separator: " "))"))
        }
        forgetRemoteEntries(of: remote.name)
    }

    /// The remotes saved, sorted by name.
    public func remotes() throws(VaultError) -> [RemoteSettings] {
        try read { db, keys, manifest throws(VaultError) in try Self.remotes(db, keys: keys, manifest: manifest) }
    }

    /// The remote named `name`, or nil.
    public func remote(named name: String) throws(VaultError) -> RemoteSettings? {
        try remotes().first { $0.name == name }
    }

    /// Forgets the remote named `name` (nothing on the server changes); `.notFound` when none is.
    public func removeRemote(_ name: String) throws(VaultError) {
        try write { db, keys, manifest, events throws(VaultError) in
            guard try Self.remotes(db, keys: keys, manifest: manifest).contains(where: { $0.name == name }) else {
                throw .notFound(name: name, suggestion: nil)
            }
            try Self.deleteKeyring(name: RemoteRecord.lookupName(name), what: "a remote", db: db, keys: keys, manifest: &manifest)
            events.append(PendingEvent(action: "remote rm", entry: nil, detail: "'\(name)'"))
        }
        // Nothing of it stays in the agent's memory either.
        forgetRemoteEntries(of: name)
    }

    static func remotes(_ db: SQLite, keys: Keys, manifest: Manifest) throws(VaultError) -> [RemoteSettings] {
        try named(db, keys: keys, manifest: manifest, what: "the remote") { record in
            guard case .remote(let remote) = record else { return nil }
            return (remote, remote.name, RemoteRecord.lookupName(remote.name))
        }
    }
}
