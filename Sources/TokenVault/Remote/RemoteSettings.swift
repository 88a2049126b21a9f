/// An OpenBao server that holds a team's entries, as `vault remote add` saved it: where it is,
/// where the entries live in it (a KV version 2 mount and a prefix), and how to log in. Kept
/// sealed in the local vault, a row of its key ring (``Vault/addRemote(_:)``); what the server
/// holds is never written to the local disk.
public struct RemoteSettings: Sendable {
    /// How TokenVault logs in to OpenBao.
    public enum Credential: Sendable {
        /// A token, sent as it is (renewed while it is renewable).
        case token(Secret)
        /// AppRole: a role id (not a secret) and a secret id, exchanged for a token at each use.
        case appRole(roleID: String, secretID: Secret)
    }

    /// The remote's name: the `REMOTE` in `REMOTE/ENTRY`.
    public var name: String
    /// The server's addresses, tried in order while none could be reached (a cluster's nodes):
    /// `https://host[:port]`, or `http://` to a loopback address only.
    public var urls: [String]
    /// The KV version 2 secrets engine's mount (`secret`).
    public var mount: String
    /// The folder of the mount that holds the entries (`tokenvault/`), empty or ending in `/`.
    public var prefix: String
    /// An OpenBao namespace, or nil.
    public var namespace: String?
    /// Trust only the certificate authorities of this PEM file, or nil for the system's.
    public var caFile: String?
    /// How to log in.
    public var credential: Credential
    /// When the remote was added.
    public internal(set) var added: Timestamp

    /// Settings for ``Vault/addRemote(_:)``, checked by ``validate()``.
    public init(name: String, urls: [String], mount: String = "secret", prefix: String = "tokenvault/", namespace: String? = nil,
                caFile: String? = nil, credential: Credential) {
        self.name = name
        self.urls = urls
        self.mount = mount
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
        self.namespace = namespace
        self.caFile = caFile
        self.credential = credential
        self.added = .now()
    }

    /// Refuses a name that could not be the start of `REMOTE/ENTRY` (letters, digits, `.`, `_`,
    /// `-`; at most 64), an address that is neither HTTPS nor plain HTTP to this machine, and a
    /// mount, prefix or namespace with characters a path of OpenBao's API cannot carry as they
    /// are.
    public func validate() throws(VaultError) {
        guard !name.isEmpty, name.utf8.count <= 64, !name.hasPrefix("-"),
              name.unicodeScalars.allSatisfy({ Self.isPlain($0) && $0 != "/" }) else {
            throw .invalidInput("'\(Redaction.redact(name))' is not a valid remote name: use 1 to 64 letters, digits and . _ -")
        }
        guard !urls.isEmpty, urls.count <= 8 else { throw .invalidInput("a remote has 1 to 8 URLs") }
        for url in urls { try Self.validate(url: url) }
        try Self.validate(path: mount, what: "the mount", allowEmpty: false)
        try Self.validate(path: prefix, what: "the prefix", allowEmpty: true)
        if let namespace { try Self.validate(path: namespace, what: "the namespace", allowEmpty: false) }
        if let caFile, caFile.isEmpty || caFile.utf8.contains(0) || caFile.utf8.count > 4096 {
            throw .invalidInput("the CA file's path is not usable")
        }
        switch credential {
        case .token(let token): try Self.validate(credential: token, what: "the OpenBao token")
        case .appRole(let roleID, let secretID):
            guard !roleID.isEmpty, roleID.utf8.count <= 256, roleID.unicodeScalars.allSatisfy(Self.isPlain) else {
                throw .invalidInput("the AppRole role id is not valid")
            }
            try Self.validate(credential: secretID, what: "the AppRole secret id")
        }
    }

    /// `https://host[:port]`, or `http://` to 127.0.0.0/8, `[::1]` or `localhost`; no user,
    /// query or fragment; a path is allowed (a proxy's prefix) and a trailing `/` dropped.
    public static func validate(url: String) throws(VaultError) {
        let lower = url.lowercased()
        let scheme = lower.hasPrefix("https://") ? "https://" : lower.hasPrefix("http://") ? "http://" : nil
        guard let scheme, url.utf8.count <= 512,
              url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && !"@?#\\\"<>{}|^`".unicodeScalars.contains($0) }) else {
            throw .invalidInput("'\(TerminalText.escape(url))' is not an OpenBao address: use https://HOST[:PORT]")
        }
        let host = url.dropFirst(scheme.count).prefix { $0 != "/" }
        guard !host.isEmpty else { throw .invalidInput("'\(TerminalText.escape(url))' names no host") }
        if scheme == "http://" {
            let name = host.hasPrefix("[") ? String(host.prefix { $0 != "]" }) + "]" : String(host.prefix { $0 != ":" })
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            let loopback = name == "localhost" || name == "[::1]"
                || (parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil })
            guard loopback else {
                throw .invalidInput("plain http:// is for an OpenBao on this machine only: use https:// (with --ca-file for a private CA)")
            }
        }
    }

    /// A mount, prefix or namespace: letters, digits, `.`, `_`, `-`, `/`; no empty, `.` or `..`
    /// segment.
    static func validate(path: String, what: String, allowEmpty: Bool) throws(VaultError) {
        if path.isEmpty && allowEmpty { return }
        let segments = (path.hasSuffix("/") ? String(path.dropLast()) : path).split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, path.utf8.count <= 256, path.unicodeScalars.allSatisfy(isPlain),
              segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw .invalidInput("\(what) '\(TerminalText.escape(path))' is not valid: letters, digits and . _ - separated by /")
        }
    }

    private static func validate(credential: Secret, what: String) throws(VaultError) {
        guard !credential.isEmpty, credential.count <= 4096,
              credential.withUnsafeBytes({ $0.allSatisfy { $0 > 0x20 && $0 < 0x7F } }) else {
            throw .invalidInput("\(what) is empty, too long or holds a character a header cannot carry")
        }
    }

    static func isPlain(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-", "/": true
        default: false
        }
    }
}

extension RemoteSettings {
    /// `REMOTE/ENTRY` split at its first `/`, when the part before it could be a remote's name
    /// (whether such a remote exists is the vault's to say).
    public static func split(_ name: String) -> (remote: String, entry: String)? {
        guard let slash = name.firstIndex(of: "/"), slash != name.startIndex else { return nil }
        return (String(name[..<slash]), String(name[name.index(after: slash)...]))
    }

    /// An entry's name within a remote: the rules of a local name, and no empty, `.` or `..`
    /// segment (it is a path in OpenBao). An empty name is a folder (`team/`) for `list` only.
    public static func validate(entry: String) throws(VaultError) {
        try Entry.validate(name: entry)
        guard entry.split(separator: "/", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw .invalidInput("'\(Redaction.redact(entry))' is not a valid name for a remote entry: no empty, . or .. part between slashes")
        }
    }
}
