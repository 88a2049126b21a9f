/// An OpenBao remote as a row of the key ring (kind 3), beside the vault's identity and the
/// identities it trusts, sealed and bound to the manifest like them. Lookup: the blind index of
/// NUL `remote` NUL NAME (no entry can have that name).
///
/// Body, tag-length-value after the key ring's tag 1 (kind 3), tag 6 (added) and tag 7 (name):
/// tag 10 the URLs (joined by a line feed), 11 the mount, 12 the prefix, 13 the namespace,
/// 14 the CA file's path, then either tag 15 the OpenBao token, or tag 16 the AppRole role id
/// and tag 17 its secret id.
enum RemoteRecord {
    static let kind: UInt8 = 3

    static func lookupName(_ name: String) -> String { "\u{0}remote\u{0}" + name }

    private enum Tag: UInt8 {
        case urls = 10, mount = 11, prefix = 12, namespace = 13, caFile = 14, token = 15, roleID = 16, secretID = 17
    }

    static func write(_ remote: RemoteSettings, into writer: inout SecureWriter) {
        writer.field(Tag.urls.rawValue, Array(remote.urls.joined(separator: "\n").utf8))
        writer.field(Tag.mount.rawValue, Array(remote.mount.utf8))
        writer.field(Tag.prefix.rawValue, Array(remote.prefix.utf8))
        if let namespace = remote.namespace { writer.field(Tag.namespace.rawValue, Array(namespace.utf8)) }
        if let caFile = remote.caFile { writer.field(Tag.caFile.rawValue, Array(caFile.utf8)) }
        switch remote.credential {
        case .token(let token):
            writer.field(Tag.token.rawValue, token)
        case .appRole(let roleID, let secretID):
            writer.field(Tag.roleID.rawValue, Array(roleID.utf8))
            writer.field(Tag.secretID.rawValue, secretID)
        }
    }

    /// The remote in `fields`, or nil when they do not make one (the caller says corrupt).
    static func read(name: String, added: Timestamp, _ fields: [UInt8: UnsafeRawBufferPointer]) -> RemoteSettings? {
        func text(_ tag: Tag) -> String? { fields[tag.rawValue].map { $0.utf8String } }
        guard let urls = text(.urls), let mount = text(.mount), let prefix = text(.prefix) else { return nil }
        let credential: RemoteSettings.Credential
        if let token = fields[Tag.token.rawValue] {
            credential = .token(Secret(copying: token))
        } else if let roleID = text(.roleID), let secretID = fields[Tag.secretID.rawValue] {
            credential = .appRole(roleID: roleID, secretID: Secret(copying: secretID))
        } else {
            return nil
        }
        var remote = RemoteSettings(name: name, urls: urls.split(separator: "\n").map(String.init), mount: mount, prefix: prefix,
                                    namespace: text(.namespace), caFile: text(.caFile), credential: credential)
        remote.added = added
        // What a vault holds was checked when it was added: anything else is not this version's.
        guard (try? remote.validate()) != nil, remote.prefix == prefix else { return nil }
        return remote
    }
}
