import TokenVault
import TokenVaultGitLab

/// An entry in OpenBao: one KV version 2 secret at `MOUNT/PREFIX/ENTRY`, whose data is a flat
/// JSON object of strings that `bao kv get` shows as it is:
///
/// | key            | value                                                     |
/// |----------------|-----------------------------------------------------------|
/// | `token`        | the token                                                 |
/// | `format`       | `tokenvault-entry-1`                                      |
/// | `kind`         | `gitlab`, `github` or `generic`                           |
/// | `url`          | where it is used (`https://gitlab.com/group`), optional   |
/// | `username`     | the user name git sends with it, optional                 |
/// | `scopes`       | its scopes, separated by spaces, optional                 |
/// | `expires`      | `YYYY-MM-DD`, optional                                    |
/// | `notes`        | a note, optional                                          |
/// | `created`      | when the entry was first written (RFC 3339)              |
/// | `token_since`  | when its token was last replaced (RFC 3339), optional    |
/// | `rotate_every` | how often to replace it, in days (`90d`), optional        |
/// | `revoked`      | when it was revoked (RFC 3339), optional                  |
///
/// Everything read is checked as a local entry's input is: a field that breaks a rule is
/// dropped (the entry's `notes` say which), an entry without a token is refused.
enum RemoteEntryRecord {
    static let format = "tokenvault-entry-1"

    /// The KV write's body, `{"options":{"cas":N},"data":{"token":"…",…}}`, in wiped memory.
    static func encode(_ entry: Entry, secret: Secret, cas: Int) -> Secret {
        var fields: [(String, String)] = [("format", GitLab.json(format)), ("kind", GitLab.json(entry.kind.rawValue))]
        func add(_ key: String, _ value: String?) { if let value { fields.append((key, GitLab.json(value))) } }
        add("url", entry.url?.description)
        add("username", entry.username)
        add("scopes", entry.scopes.isEmpty ? nil : entry.scopes.joined(separator: " "))
        add("expires", entry.expires?.dateString)
        add("notes", entry.notes)
        add("created", entry.created.iso8601)
        add("token_since", entry.tokenSince?.iso8601)
        add("rotate_every", entry.rotateEvery.map { "\(max(1, $0.components.seconds / 86_400))d" })
        add("revoked", entry.revoked?.iso8601)
        return GitLab.body(value: secret, fields, head: "{\"options\":{\"cas\":\(cas)},\"data\":{\"token\":\"", close: "}}")
    }

    /// The entry and token in a KV read's `data` object.
    static func decode(_ data: JSONValue, _ bytes: UnsafeRawBufferPointer, name: String, created versionTime: Timestamp?,
                       remote: String, entryName: String) throws(OpenBaoError) -> (Entry, Secret) {
        guard case .object = data else { throw .notAnEntry(remote: remote, name: entryName) }
        guard case .string(let range, let escaped)? = data["token"],
              let secret = GitLab.unescaped(UnsafeRawBufferPointer(rebasing: bytes[range]), escaped: escaped), !secret.isEmpty,
              secret.count <= 16 * 1024 else {
            throw .notAnEntry(remote: remote, name: entryName)
        }
        func text(_ key: String, max: Int = 1024) -> String? {
            guard let value = data[key]?.string(in: bytes), !value.isEmpty, value.utf8.count <= max else { return nil }
            return value
        }
        var entry = Entry(name: name)
        var dropped: [String] = []
        if let kind = text("kind") { if let known = TokenKind(rawValue: kind) { entry.kind = known } else { dropped.append("kind") } }
        if let url = text("url") {
            // The URL parser keeps a path's characters as they are: OpenBao's are checked here.
            if !TerminalText.containsUnprintable(url), let parsed = try? CredentialURL.parse(url) {
                entry.url = parsed.url
                if entry.username == nil { entry.username = parsed.username }
            } else {
                dropped.append("url")
            }
        }
        if let username = text("username", max: 256) {
            if (try? Entry.validate(username: username)) != nil { entry.username = username } else { dropped.append("username") }
        }
        if let scopes = text("scopes") {
            let list = scopes.split(separator: " ").map(String.init)
            if list.count <= 64, list.allSatisfy({ !TerminalText.containsUnprintable($0) && $0.utf8.count <= 64 }) {
                entry.scopes = list
            } else {
                dropped.append("scopes")
            }
        }
        if let expires = text("expires", max: 10) {
            if let date = Timestamp(date: expires) { entry.expires = date } else { dropped.append("expires") }
        }
        if let notes = text("notes", max: 4096) {
            if !TerminalText.containsUnprintable(notes.replacingNewlines()) { entry.notes = notes } else { dropped.append("notes") }
        }
        if let revoked = text("revoked", max: 40) { entry.revoked = OpenBaoClient.time(revoked) ?? Timestamp(date: revoked) }
        if let every = text("rotate_every", max: 12), every.hasSuffix("d"), let days = Int64(every.dropLast()), days >= 1, days <= 36_500 {
            entry.rotateEvery = .seconds(days * 86_400)
        }
        let created = text("created", max: 40).flatMap(OpenBaoClient.time) ?? versionTime ?? .now()
        let since = text("token_since", max: 40).flatMap(OpenBaoClient.time)
        entry.setRemoteTimes(created: created, updated: versionTime ?? created, tokenSince: since)
        if !dropped.isEmpty {
            entry.notes = (entry.notes.map { $0 + "\n" } ?? "") + "(unreadable in OpenBao, ignored: \(dropped.joined(separator: ", ")))"
        }
        return (entry, secret)
    }
}

private extension String {
    /// Line breaks of a note are its own; other control characters are not.
    func replacingNewlines() -> String { String(unicodeScalars.filter { $0 != "\n" }.map(Character.init)) }
}
