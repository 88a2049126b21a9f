/// Reads: entries, tokens (each read of a token recorded in the activity log), the settings
/// and the log itself.
extension Vault {
    /// The metadata of one entry (its secret stays sealed).
    public func entry(named name: String) throws(VaultError) -> Entry {
        try read { db, keys, manifest throws(VaultError) in
            try Self.loadRow(db, name: name, keys: keys, manifest: manifest).entry
        }
    }

    /// The secret of one entry, under the rules of ``get(_:allowingExpired:)``.
    public func secret(named name: String) throws(VaultError) -> Secret {
        try get(name).secret
    }

    /// An entry with its secret.
    /// Every read of a token is recorded in the activity log, with the last-used time. A token
    /// in the trash is refused (`.inTrash`), and so are a revoked and an expired one (`.revoked`,
    /// `.expired`) unless `allowingExpired`: checked in the transaction that reads the token, so
    /// a refused read is neither recorded nor a use. A read that cannot be recorded (the vault is
    /// read-only, or its disk full) hands out the token all the same: ``Token/recording`` says so.
    public func get(_ name: String, allowingExpired: Bool = false) throws(VaultError) -> Token {
        let (keys, origin) = state.withLock { ($0.keys, $0.origin) }
        guard let keys else { throw .locked }
        let answer = try keys.backend.get(name, allowingExpired: allowingExpired, origin: origin, in: self)
        return Token(entry: answer.entry, secret: answer.secret, recording: note(answer.recording))
    }

    /// `get` done here, recorded as asked for by `origin` (the agent's, for a client).
    func readToken(_ name: String, allowingExpired: Bool, for origin: ActivityLog.Origin) throws(VaultError) -> TokenRead {
        let (entry, secret, lookup) = try read { db, keys, manifest throws(VaultError) in
            let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
            if let refusal = row.entry.readRefusal(allowingExpired: allowingExpired) { throw refusal }
            return (row.entry, try Self.openSecret(row, keys: keys).current, row.lookup)
        }
        let recording = try recordRead(name, lookup: lookup, action: "read", origin: origin)
        return (entry, secret, recording)
    }

    /// A token read, and whether the read was recorded.
    typealias TokenRead = (entry: Entry, secret: Secret, recording: ReadRecording)

    /// The entry that answers git's `get` for `request`, with its token (read as by `get`),
    /// and the expired entries that would have answered.
    package func gitCredential(for request: GitCredential, now: Timestamp = .now()) throws(VaultError) -> (GitMatching.Selection, GitSecrets?) {
        let (selection, secret, _) = try gitCredential(for: request, now: now, origin: state.withLock { $0.origin })
        return (selection, secret)
    }

    /// The git helper's whole `get`: git's `description` (as git wrote it) answered with the
    /// lines for git and the messages for the user, as ``GitReply`` renders them. Through the
    /// agent, one request. A description that does not parse is `.invalidInput`.
    package func gitReply(toDescription description: Secret, now: Timestamp = .now()) throws(VaultError) -> GitReply {
        let (keys, origin) = state.withLock { ($0.keys, $0.origin) }
        guard let keys else { throw .locked }
        return try keys.backend.gitReply(toDescription: description, now: now, origin: origin, in: self)
    }

    /// `gitReply` done here, recorded as asked for by `origin`. A read not recorded is said in
    /// the reply: a full disk as a warning (something to fix, which git shows the user), a
    /// read-only vault as a note for `--verbose` (a setup chosen once, which git would otherwise
    /// show amid its own output at every fetch).
    func composeGitReply(toDescription description: Secret, now: Timestamp, origin: ActivityLog.Origin) throws(VaultError) -> GitReply {
        let request: GitCredential
        do {
            request = try description.withUnsafeBytes { bytes throws(GitCredential.ParseError) in try GitCredential.parse(bytes) }
        } catch {
            throw .invalidInput(error.description)
        }
        guard request.protocolName != nil, request.host != nil else {
            return GitReply(request: request, selection: GitMatching.Selection(candidates: [], expired: []), secret: nil, now: now)
        }
        let (selection, secret, recording) = try gitCredential(for: request, now: now, origin: origin)
        var reply = GitReply(request: request, selection: selection, secret: secret, now: now)
        reply.askRemotes = reply.stdout.isEmpty && !((try? remotes()) ?? []).isEmpty
        switch recording.reason {
        case .diskFull?: reply.messages.append(.warning(ReadRecording.Reason.diskFull.warning))
        case .readOnly?: reply.messages.append(.note(ReadRecording.Reason.readOnly.warning))
        case nil: break
        }
        return reply
    }

    /// `gitCredential(for:now:)`, recorded as asked for by `origin`. The entry is chosen and its
    /// token read in one transaction: what git gets is the entry that matched.
    func gitCredential(for request: GitCredential, now: Timestamp,
                       origin: ActivityLog.Origin) throws(VaultError) -> (GitMatching.Selection, GitSecrets?, ReadRecording) {
        let (selection, secret, lookup) = try readEntries { db, keys, manifest, entries, hosts throws(VaultError) -> (GitMatching.Selection, GitSecrets?, [UInt8]?) in
            // Among the entries of the request's host only (filed once, with the cached entries).
            let ofHost = hosts.positions(sameHostAs: request).map { entries[$0] }
            let selection = GitMatching.select(for: request, in: ofHost, now: now)
            guard let chosen = selection.chosen else {
                // Nothing valid: an expired OAuth token's refresh token (never the token), for
                // git to hand to the helper that renews it.
                guard let expired = selection.expired.first(where: { $0.authType == nil }) else { return (selection, nil, nil) }
                let row = try Self.loadRow(db, name: expired.name, keys: keys, manifest: manifest)
                guard let refresh = try Self.openSecret(row, keys: keys).refreshToken else { return (selection, nil, nil) }
                return (selection, GitSecrets(token: Secret(""), refreshToken: refresh), row.lookup)
            }
            let row = try Self.loadRow(db, name: chosen.name, keys: keys, manifest: manifest)
            // The row as read now must still be the entry chosen (from the cache): never a
            // token from the trash, a rejected or revoked one, or one for another URL.
            let fresh = row.entry
            guard fresh.deleted == nil, fresh.rejected == nil, fresh.revoked == nil, fresh.url == chosen.url,
                  fresh.username == chosen.username, !fresh.isExpired(at: now) else {
                throw VaultError.corrupt("the entry chosen for git changed while it was read: try again")
            }
            let record = try Self.openSecret(row, keys: keys)
            return (selection, GitSecrets(token: record.current, refreshToken: record.refreshToken), row.lookup)
        }
        var recording = ReadRecording.recorded
        if let lookup, let chosen = selection.chosen {
            recording = try recordRead(chosen.name, lookup: lookup, action: "read", origin: origin)
        } else if let lookup, let expired = selection.expired.first(where: { $0.authType == nil }) {
            recording = try recordRead(expired.name, lookup: lookup, action: "read refresh token", origin: origin)
        }
        return (selection, secret, recording)
    }

    /// The token, read for `purpose` (for example "read for gitlab verify"): recorded in the
    /// activity log under that name, but not as a use (the last-used time, which `vault check`
    /// reads to find unused tokens, stays as it was).
    public func secret(named name: String, for purpose: String) throws(VaultError) -> Secret {
        let (secret, lookup) = try read { db, keys, manifest throws(VaultError) in
            let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
            return (try Self.openSecret(row, keys: keys).current, row.lookup)
        }
        // Recorded as a read whatever the purpose says (only reads may follow the log's head).
        let action = ActivityLog.isRead(purpose) ? purpose : "read for \(purpose)"
        try recordRead(name, lookup: lookup, action: action, origin: state.withLock { $0.origin }, isUse: false)
        return secret
    }

    /// The tokens an entry held before its current one, newest first, with when each was
    /// replaced.
    public func history(of name: String) throws(VaultError) -> [SecretVersion] {
        let (keys, origin) = state.withLock { ($0.keys, $0.origin) }
        guard let keys else { throw .locked }
        let (versions, recording) = try keys.backend.history(of: name, origin: origin, in: self)
        note(recording)
        return versions
    }

    /// `history` done here, recorded as asked for by `origin` (the agent's, for a client).
    func historyHere(of name: String, for origin: ActivityLog.Origin) throws(VaultError) -> ([SecretVersion], ReadRecording) {
        let (versions, lookup) = try read { db, keys, manifest throws(VaultError) in
            let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
            return (try Self.openSecret(row, keys: keys).previous, row.lookup)
        }
        return (versions, try recordRead(name, lookup: lookup, action: "read history", origin: origin))
    }

    /// Whether the entry holds exactly `secret` (compared in constant time). The token does not
    /// leave the library, so this is not a read: no event, no last-used time.
    public func holds(_ name: String, secret: Secret) throws(VaultError) -> Bool {
        try read { db, keys, manifest throws(VaultError) in
            try Self.openSecret(Self.loadRow(db, name: name, keys: keys, manifest: manifest), keys: keys).current.isEqual(to: secret)
        }
    }

    /// Whether the entry holds exactly `secret`, and `refreshToken` when one is given (a nil one
    /// counts as held). Compared in constant time; not a read.
    func holding(_ name: String, secret: Secret, refreshToken: Secret?) throws(VaultError) -> (token: Bool, refreshToken: Bool) {
        try read { db, keys, manifest throws(VaultError) in
            let record = try Self.openSecret(Self.loadRow(db, name: name, keys: keys, manifest: manifest), keys: keys)
            let refreshHeld = refreshToken.map { wanted in record.refreshToken.map { $0.isEqual(to: wanted) } ?? false } ?? true
            return (record.current.isEqual(to: secret), refreshHeld)
        }
    }

    /// What `vault check` needs to know of the tokens themselves, without handing any out: which
    /// entries hold the same token as another, and which hold a GitHub classic token. Recorded
    /// as one `review` event.
    public func reviewTokens() throws(VaultError) -> Review.Tokens {
        let (keys, origin) = state.withLock { ($0.keys, $0.origin) }
        guard let keys else { throw .locked }
        let (tokens, recording) = try keys.backend.reviewTokens(origin: origin, in: self)
        note(recording)
        return tokens
    }

    /// `reviewTokens` done here (the agent's, for a client: no token leaves the agent),
    /// recorded as asked for by `origin`.
    func reviewTokensHere(origin: ActivityLog.Origin) throws(VaultError) -> (Review.Tokens, ReadRecording) {
        let result = try read { db, keys, manifest throws(VaultError) -> Review.Tokens in
            var duplicates: [String: String] = [:]
            var classic: Set<String> = []
            // Each token is filed under a keyed digest, not compared with every other one; the
            // tokens are opened a chunk at a time (through the agent, a request a chunk).
            var seen = SecretIndex<String>()
            let classicPrefix = Array("ghp_".utf8)
            try Self.forEverySecret(db, keys: keys, manifest: manifest) { name, record throws(VaultError) in
                let secret = record.current
                seen.insert(name, holding: secret)
                if secret.withUnsafeBytes({ $0.starts(with: classicPrefix) }) { classic.insert(name) }
            }
            // Each holder names the first by name; the first names the second.
            for holders in seen.repeated {
                let sorted = holders.sorted()
                for name in sorted.dropFirst() { duplicates[name] = sorted[0] }
                duplicates[sorted[0]] = sorted[1]
            }
            return Review.Tokens(duplicates: duplicates, classicGitHub: classic)
        }
        return (result, try recordEvents([PendingEvent(action: "review", entry: nil)], origin: origin))
    }

    /// The activity log, verified: every event, and whether the chain holds.
    /// Through the agent, one request: the agent verifies the log on its own open vault.
    public func activityLog() throws(VaultError) -> LogReport {
        guard let keys = state.withLock({ $0.keys }) else { throw .locked }
        return try keys.backend.activityLog(in: self)
    }

    /// `activityLog` read and verified here.
    func activityLogHere() throws(VaultError) -> LogReport {
        try readLog { db, keys, manifest throws(VaultError) in try ActivityLog.verify(db, keys: keys, manifest: manifest) }
    }

    /// Every entry's metadata, sorted by name. Verifies every row against the manifest, so a
    /// deleted, added or rolled-back row is reported.
    /// Through the agent, one request: the agent answers from the entries it keeps opened.
    public func entries() throws(VaultError) -> [Entry] {
        guard let keys = state.withLock({ $0.keys }) else { throw .locked }
        return try keys.backend.entries(in: self)
    }

    /// `entries` read here.
    func entriesHere() throws(VaultError) -> [Entry] {
        try readEntries { _, _, _, entries, _ throws(VaultError) in entries }
    }

    /// The vault-wide settings.
    public func settings() throws(VaultError) -> VaultSettings {
        try read { _, _, manifest throws(VaultError) in manifest.settings }
    }

    /// The names of all entries, sorted.
    public func names() throws(VaultError) -> [String] {
        try entries().map(\.name)
    }
}
