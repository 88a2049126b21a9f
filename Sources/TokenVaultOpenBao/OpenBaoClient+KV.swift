import TokenVault
import TokenVaultGitLab

/// The KV version 2 secrets engine at the remote's mount, under its prefix: one secret per entry
/// (``RemoteEntryRecord`` says what it holds), with OpenBao's versions and soft delete.
extension OpenBaoClient {
    /// One version of an entry, as the engine's metadata lists it.
    public struct Version: Sendable, Equatable {
        /// Its number (1 and up).
        public var number: Int
        /// When it was written.
        public var created: Timestamp?
        /// When it was soft-deleted, or nil.
        public var deleted: Timestamp?
        /// Whether it is destroyed (gone for good).
        public var destroyed: Bool
    }

    /// An entry as read: its metadata (named `REMOTE/ENTRY`), its token (empty for an entry in
    /// the trash) and the version read.
    public struct Read: Sendable {
        /// The metadata; `deleted` is set for an entry whose latest version is soft-deleted.
        public var entry: Entry
        /// The token.
        public var secret: Secret
        /// The version read.
        public var version: Int
    }

    func dataPath(_ name: String) -> String { remote.mount + "/data/" + remote.prefix + name }
    func metadataPath(_ name: String) -> String { remote.mount + "/metadata/" + remote.prefix + name }

    /// Sends a KV request and refuses a failure status, a 403 naming the path and operation
    /// unless the token itself turns out refused.
    mutating func kv(_ method: HTTPRequest.Method, _ path: String, operation: String, body: [UInt8]? = nil, secretBody: Secret? = nil,
                     hiding: [Secret] = [], accepting extra: Set<Int> = []) throws(OpenBaoError) -> Answer {
        let token = try currentToken()
        let answer = try send(method, path, token: token, body: body, secretBody: secretBody, hiding: hiding)
        if extra.contains(answer.status) { return answer }
        let client = self
        try answer.refuse(remote: remote.name, path: path.split(separator: "?").first.map(String.init) ?? path, operation: operation,
                          tokenCheck: { client.tokenAccepted(token) })
        return answer
    }

    /// Whether OpenBao still accepts `token` (its lookup-self, which every token may call).
    func tokenAccepted(_ token: Secret) -> Bool {
        guard let answer = try? send(.get, "auth/token/lookup-self", token: token) else { return true }
        return answer.status != 403 && answer.status != 401
    }

    /// The entry `name` (within the remote), its latest version or `version`.
    public mutating func read(_ name: String, version: Int? = nil) throws(OpenBaoError) -> Read {
        let answer = try kv(.get, dataPath(name) + (version.map { "?version=\($0)" } ?? ""), operation: "read", accepting: [404])
        let remoteName = remote.name
        return try answer.json { json, bytes throws(OpenBaoError) -> Read in
            guard let data = json["data"], let metadata = data["metadata"], case .number(let number)? = metadata["version"],
                  number >= 1, number < 1e9 else {
                if answer.status == 404 { throw .notFound(remote: remoteName, name: name) }
                throw .unreadableAnswer(remote: remoteName, what: "a KV read")
            }
            let created = metadata["created_time"]?.string(in: bytes).flatMap(Self.time)
            let deleted = metadata["deletion_time"]?.string(in: bytes).flatMap(Self.time)
            if answer.status == 404 || deleted != nil {
                if case .bool(true)? = metadata["destroyed"] { throw .notFound(remote: remoteName, name: name) }
                var entry = Entry(name: remoteName + "/" + name)
                entry.deleted = deleted ?? .now()
                return Read(entry: entry, secret: Secret(""), version: Int(number))
            }
            guard let fields = data["data"] else { throw .unreadableAnswer(remote: remoteName, what: "a KV read without data") }
            let (entry, secret) = try RemoteEntryRecord.decode(fields, bytes, name: remoteName + "/" + name, created: created,
                                                               remote: remoteName, entryName: name)
            return Read(entry: entry, secret: secret, version: Int(number))
        }
    }

    /// Writes `entry` and `secret` as a new version of `name`. `cas`: the version this write
    /// replaces (0: the entry must not exist), so that a change made meanwhile is never lost.
    /// Returns the new version.
    @discardableResult
    public mutating func write(_ name: String, entry: Entry, secret: Secret, cas: Int) throws(OpenBaoError) -> Int {
        let body = RemoteEntryRecord.encode(entry, secret: secret, cas: cas)
        let answer = try kv(.post, dataPath(name), operation: cas == 0 ? "create" : "update", secretBody: body, hiding: [secret],
                            accepting: [400])
        let remoteName = remote.name
        if answer.status == 400 {
            if answer.errors.contains("check-and-set") {
                throw cas == 0 ? .exists(remote: remoteName, name: name, inTrash: false) : .changedMeanwhile(remote: remoteName, name: name)
            }
            throw .server(remote: remoteName, status: 400, message: answer.message)
        }
        return try answer.json { json, _ throws(OpenBaoError) -> Int in
            guard case .number(let version)? = json["data"]?["version"], version >= 1, version < 1e9 else {
                throw .unreadableAnswer(remote: remoteName, what: "a KV write")
            }
            return Int(version)
        }
    }

    /// The names in `folder` (within the remote; empty for its top), folders ending in `/`.
    public mutating func list(_ folder: String) throws(OpenBaoError) -> [String] {
        let answer = try kv(.get, metadataPath(folder) + "?list=true", operation: "list", accepting: [404])
        if answer.status == 404 { return [] }
        let remoteName = remote.name
        return try answer.json { json, bytes throws(OpenBaoError) -> [String] in
            guard case .array(let keys)? = json["data"]?["keys"], keys.count <= 10_000 else {
                throw .unreadableAnswer(remote: remoteName, what: "a KV list")
            }
            return keys.compactMap { key -> String? in
                guard let name = key.string(in: bytes) else { return nil }
                let plain = name.hasSuffix("/") ? String(name.dropLast()) : name
                return (try? RemoteSettings.validate(entry: plain)) != nil ? name : nil
            }.sorted()
        }
    }

    /// The versions of `name`, oldest first, and the current one.
    public mutating func versions(_ name: String) throws(OpenBaoError) -> (current: Int, versions: [Version]) {
        let answer = try kv(.get, metadataPath(name), operation: "read metadata", accepting: [404])
        let remoteName = remote.name
        if answer.status == 404 { throw .notFound(remote: remoteName, name: name) }
        return try answer.json { json, bytes throws(OpenBaoError) -> (current: Int, versions: [Version]) in
            guard let data = json["data"], case .number(let current)? = data["current_version"], current >= 0, current < 1e9,
                  case .object(let members)? = data["versions"], members.count <= 10_000 else {
                throw .unreadableAnswer(remote: remoteName, what: "KV metadata")
            }
            var versions: [Version] = []
            for (key, value) in members {
                guard let number = Int(key), number >= 1 else { continue }
                var destroyed = false
                if case .bool(let value)? = value["destroyed"] { destroyed = value }
                versions.append(Version(number: number, created: value["created_time"]?.string(in: bytes).flatMap(Self.time),
                                        deleted: value["deletion_time"]?.string(in: bytes).flatMap(Self.time), destroyed: destroyed))
            }
            return (Int(current), versions.sorted { $0.number < $1.number })
        }
    }

    /// Soft-deletes the latest version of `name` (OpenBao keeps it: ``undelete(_:version:)``).
    public mutating func delete(_ name: String) throws(OpenBaoError) {
        _ = try kv(.delete, dataPath(name), operation: "delete")
    }

    /// Undeletes `version` of `name`.
    public mutating func undelete(_ name: String, version: Int) throws(OpenBaoError) {
        _ = try kv(.post, remote.mount + "/undelete/" + remote.prefix + name, operation: "update (undelete)",
                   body: Array("{\"versions\":[\(version)]}".utf8))
    }

    /// OpenBao's RFC 3339 time (`2026-12-02T08:30:12.123456789Z`), to the second; nil for an
    /// empty or unreadable one.
    static func time(_ text: String) -> Timestamp? {
        let chars = Array(text.utf8)
        guard chars.count >= 20, chars[10] == UInt8(ascii: "T"), let day = Timestamp(date: String(decoding: chars[0..<10], as: UTF8.self)),
              chars[13] == UInt8(ascii: ":"), chars[16] == UInt8(ascii: ":"),
              let h = Int(String(decoding: chars[11..<13], as: UTF8.self)), let m = Int(String(decoding: chars[14..<16], as: UTF8.self)),
              let s = Int(String(decoding: chars[17..<19], as: UTF8.self)), h < 24, m < 60, s < 61,
              day.secondsSince1970 > 0 else { return nil }
        // The dev server's times are UTC (`Z`); an offset is not applied (a few hours at most).
        return Timestamp(secondsSince1970: day.secondsSince1970 + Int64(h * 3600 + m * 60 + s))
    }
}
