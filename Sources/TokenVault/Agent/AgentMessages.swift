import CAgentProtocol
import Glibc

/// The agent's protocol, as in rbw: every request and every answer a typed value, encoded and
/// decoded here and nowhere else. The numbers the C front end of `git-credential-vault` shares
/// (the version byte, opcodes, answer kinds, limits) are in Sources/CAgentProtocol's header.
///
/// A request: u8(version byte) u8(opcode) fields. An answer: u8(kind) fields. A chunk is a u32
/// length and its bytes, a list a u32 count and its items, every integer little-endian.
///
///   status                                 -> status u8(unlocked) u64(locks at, s since 1970)
///                                             u64(idle timeout, s) u64(requests served)
///   unlock     chunk(passphrase) u64(idle, s) u64(lifetime, s) u8(1: allow a costly KDF)
///              u64(remote cache's time to live, s; 0: no cache) -> done
///   unlockKey  chunk(vault key) u64(idle, s) u64(lifetime, s)
///              u64(remote cache's time to live, s; 0: no cache) -> done (kept only if it opens the file)
///   lock                                   -> done, and the agent wipes the key and exits
///   lookup     list(chunk(name))           -> lookups list(chunk(blind index))
///   seal       u8(purpose) chunk(plaintext) -> sealed chunk(box)
///   open       list(u8(purpose) chunk(box)) -> opened list(u8(1: opened) chunk(plaintext))
///   mac        list(chunk(data))           -> macs list(chunk(the event chain's MAC))
///   attach     file                        -> done
///   read       file origin u8(1: allow expired or revoked) chunk(name) -> entry entry chunk(token)
///                                             u8(recorded)
///   git        file origin u64(now) chunk(git's description, as git wrote it)
///                                          -> git list(u8(1 warning, 2 note) chunk(text)) chunk(stdout)
///   entries    file                        -> entries list(entry), sorted by name
///   review     file origin                 -> review list(chunk(name) chunk(holder of the same
///                                             token)) list(chunk(name of a GitHub classic token))
///                                             u8(recorded)
///   log        file                        -> log list(event) u8(1: broken) [chunk(what broke)]
///   token      file origin u8(1: allow expired or revoked) chunk(name)
///                                          -> token list(chunk(warning)) chunk(token)
///   history    file origin chunk(name)     -> history list(u64(replaced) chunk(token)), newest first
///                                             u8(recorded)
///   remotePut  file entry chunk(token)     -> done (a remote entry read from OpenBao, kept in
///                                             locked memory for the cache's time to live; an
///                                             empty token: forgotten)
///   remoteGet  file chunk(REMOTE/ENTRY)    -> entry entry chunk(token) u8(0), or failure notFound
///   any        ...                         -> failure u8(code) chunk(message: never a secret)
///
/// `file` is u64(device) u64(inode) of the client's vault file: the agent reads (`attach`,
/// `read`, `git`, `entries`, `review`, `log`, `token`, `history`) only for the file it unlocked, still at its path, whose manifest its key
/// still opens; otherwise it fails with `locked`. `origin` is chunk(actor) u64(parent pid)
/// chunk(parent's name), for the activity log. An entry is chunk(its metadata record) u8(has a
/// last-used time) u64(that time). Purposes are the subkey ids of SECURITY.md (1 manifest,
/// 3 metadata, 4 secret, 6 events, 8 usage). `git` is the git helper's whole `get` (the C front
/// end and the Swift helper send it alike), answered with `GitReply`, the library's one renderer.
/// `token` is `vault get NAME` for the C front end of `vault`: `read`, answered with the token
/// and the warnings `Entry.readWarnings` renders (escaped lines, printed as they come), so that
/// the front end parses no entry; a read the agent could not record adds its warning last
/// (`ReadRecording.Reason.warning`), as `git` adds it to the reply's messages.
/// `u8(recorded)` says whether the agent recorded the read: 0 yes, 1 no (the vault is read-only),
/// 2 no (the disk is full); `ReadRecording`.
///
/// Versions: see TV_AGENT_VERSION_BYTE. An agent of another version answers `unsupportedVersion`
/// (or, from before the version byte, `badRequest`); the client then reports
/// `VaultError.otherAgentVersion` (hint: `vault lock`, then unlock again) and does the work
/// itself where it can. `lock` is also accepted as the single byte TV_AGENT_LOCK_ANY_VERSION.
enum AgentRequest {
    case status
    case unlock(passphrase: Secret, idle: Duration, lifetime: Duration, allowingCostlyKDF: Bool,
                cacheTTL: Duration = .seconds(AgentProtocol.defaultRemoteCacheTTL))
    case unlockKey(SymmetricKey, idle: Duration, lifetime: Duration,
                   cacheTTL: Duration = .seconds(AgentProtocol.defaultRemoteCacheTTL))
    case lock
    case lookup([String])
    case seal(KeyDerivation.Purpose, SecureBytes)
    case open([SealedBox])
    case mac([[UInt8]])
    case attach(FileIdentity)
    case read(FileIdentity, ActivityLog.Origin, name: String, allowingExpired: Bool)
    case git(FileIdentity, ActivityLog.Origin, now: Timestamp, description: SecureBytes)
    /// Every entry's metadata, from the agent's own open vault.
    case entries(FileIdentity)
    /// `Vault.reviewTokens` on the agent's own open vault: names, never a token.
    case review(FileIdentity, ActivityLog.Origin)
    /// The activity log, verified by the agent on its own open vault.
    case log(FileIdentity)
    /// `read`, answered with the warnings rendered instead of the entry (`vault get`'s C front end).
    case token(FileIdentity, ActivityLog.Origin, name: String, allowingExpired: Bool)
    /// `Vault.history(of:)` on the agent's own open vault (its manifest already opened).
    case history(FileIdentity, ActivityLog.Origin, name: String)
    /// A remote entry and its token, read from OpenBao by the client, for the agent's cache.
    case remotePut(FileIdentity, Entry, Secret)
    /// A remote entry from the agent's cache, while its time to live lasts.
    case remoteGet(FileIdentity, name: String)
}

/// The agent's answer to an `AgentRequest`.
enum AgentResponse {
    case done
    case status(AgentClient.Status)
    case lookups([[UInt8]])
    case sealed([UInt8])
    /// Each box's plaintext, in order; nil for one that did not authenticate.
    case opened([SecureBytes?])
    case macs([[UInt8]])
    /// A token read, and whether the agent recorded the read.
    case entry(Entry, Secret, ReadRecording)
    case git(GitReply)
    case entries([Entry])
    case review(Review.Tokens, ReadRecording)
    case log(LogReport)
    /// A token handed out, with the lines to print on stderr (`Entry.readWarnings`).
    case token(warnings: [String], Secret)
    case history([SecretVersion], ReadRecording)
    case failure(AgentFailure)
}

/// Why bytes from the socket are not a message: typed, never a trap.
enum AgentCodecError: Error, Equatable {
    case empty
    /// A request without this version's byte (the byte it had instead).
    case otherVersion(UInt8)
    case unknownRequest(UInt8)
    case unknownAnswer(UInt8)
    /// A field runs past the end of the frame.
    case truncated
    /// Bytes after the last field.
    case trailingBytes
    /// A field holds an impossible value.
    case invalid(String)
}

// MARK: Encoding

extension AgentRequest {
    /// The frame's body, built into `out`.
    func encode(into out: inout AgentProtocol.Builder) {
        if case .lock = self {
            out.u8(UInt8(TV_AGENT_LOCK_ANY_VERSION))  // Understood by agents of every version.
            return
        }
        out.u8(UInt8(TV_AGENT_VERSION_BYTE))
        switch self {
        case .status: out.u8(UInt8(TV_AGENT_OP_STATUS))
        case .lock: break
        case .unlock(let passphrase, let idle, let lifetime, let costly, let cacheTTL):
            out.u8(UInt8(TV_AGENT_OP_UNLOCK))
            passphrase.withUnsafeBytes { out.chunk(secure: $0, owner: passphrase.storage) }
            out.u64(idle.wholeSeconds)
            out.u64(lifetime.wholeSeconds)
            out.u8(costly ? 1 : 0)
            out.u64(cacheTTL.wholeSeconds)
        case .unlockKey(let key, let idle, let lifetime, let cacheTTL):
            out.u8(UInt8(TV_AGENT_OP_UNLOCK_KEY))
            key.withUnsafeBytes { out.chunk(secure: $0, owner: key.storage) }
            out.u64(idle.wholeSeconds)
            out.u64(lifetime.wholeSeconds)
            out.u64(cacheTTL.wholeSeconds)
        case .lookup(let names):
            out.u8(UInt8(TV_AGENT_OP_LOOKUP))
            out.list(names) { $0.chunk(Array($1.utf8)) }
        case .seal(let purpose, let plaintext):
            out.u8(UInt8(TV_AGENT_OP_SEAL))
            out.u8(UInt8(purpose.rawValue))
            plaintext.withUnsafeBytes { out.chunk(secure: $0, owner: plaintext) }
        case .open(let boxes):
            out.u8(UInt8(TV_AGENT_OP_OPEN))
            out.list(boxes) { out, box in
                out.u8(UInt8(box.purpose.rawValue))
                out.chunk(box.bytes)
            }
        case .mac(let data):
            out.u8(UInt8(TV_AGENT_OP_MAC))
            out.list(data) { $0.chunk($1) }
        case .attach(let file):
            out.u8(UInt8(TV_AGENT_OP_ATTACH))
            out.file(file)
        case .read(let file, let origin, let name, let allowingExpired):
            out.u8(UInt8(TV_AGENT_OP_READ))
            out.file(file)
            out.origin(origin)
            out.u8(allowingExpired ? 1 : 0)
            out.chunk(Array(name.utf8))
        case .git(let file, let origin, let now, let description):
            out.u8(UInt8(TV_AGENT_OP_GIT))
            out.file(file)
            out.origin(origin)
            out.u64(UInt64(bitPattern: now.secondsSince1970))
            description.withUnsafeBytes { out.chunk(secure: $0, owner: description) }
        case .entries(let file):
            out.u8(UInt8(TV_AGENT_OP_ENTRIES))
            out.file(file)
        case .review(let file, let origin):
            out.u8(UInt8(TV_AGENT_OP_REVIEW))
            out.file(file)
            out.origin(origin)
        case .log(let file):
            out.u8(UInt8(TV_AGENT_OP_LOG))
            out.file(file)
        case .history(let file, let origin, let name):
            out.u8(UInt8(TV_AGENT_OP_HISTORY))
            out.file(file)
            out.origin(origin)
            out.chunk(Array(name.utf8))
        case .remotePut(let file, let entry, let secret):
            out.u8(UInt8(TV_AGENT_OP_REMOTE_PUT))
            out.file(file)
            out.entry(entry)
            secret.withUnsafeBytes { out.chunk(secure: $0, owner: secret.storage) }
        case .remoteGet(let file, let name):
            out.u8(UInt8(TV_AGENT_OP_REMOTE_GET))
            out.file(file)
            out.chunk(Array(name.utf8))
        case .token(let file, let origin, let name, let allowingExpired):
            out.u8(UInt8(TV_AGENT_OP_TOKEN))
            out.file(file)
            out.origin(origin)
            out.u8(allowingExpired ? UInt8(TV_AGENT_TOKEN_ALLOW_EXPIRED) : 0)
            out.chunk(Array(name.utf8))
        }
    }
}

extension AgentResponse {
    func encode(into out: inout AgentProtocol.Builder) {
        switch self {
        case .done: out.u8(UInt8(TV_AGENT_ANSWER_OK))
        case .status(let status):
            out.u8(UInt8(TV_AGENT_ANSWER_STATUS))
            out.u8(status.unlocked ? 1 : 0)
            out.u64(UInt64(clamping: status.locksAt?.secondsSince1970 ?? 0))
            out.u64(status.idleTimeout.wholeSeconds)
            out.u64(status.requests)
        case .failure(let failure):
            out.u8(UInt8(TV_AGENT_ANSWER_FAILURE))
            let (code, message) = failure.wire
            out.u8(code)
            out.chunk(Array(message.utf8))
        case .lookups(let lookups):
            out.u8(UInt8(TV_AGENT_ANSWER_LOOKUPS))
            out.list(lookups) { $0.chunk($1) }
        case .sealed(let box):
            out.u8(UInt8(TV_AGENT_ANSWER_SEALED))
            out.chunk(box)
        case .opened(let plaintexts):
            out.u8(UInt8(TV_AGENT_ANSWER_OPENED))
            out.list(plaintexts) { out, plaintext in
                out.u8(plaintext == nil ? 0 : 1)
                if let plaintext { plaintext.withUnsafeBytes { out.chunk(secure: $0, owner: plaintext) } } else { out.chunk([]) }
            }
        case .macs(let macs):
            out.u8(UInt8(TV_AGENT_ANSWER_MACS))
            out.list(macs) { $0.chunk($1) }
        case .entry(let entry, let secret, let recording):
            out.u8(UInt8(TV_AGENT_ANSWER_ENTRY))
            out.entry(entry)
            secret.withUnsafeBytes { out.chunk(secure: $0, owner: secret.storage) }
            out.u8(recording.wire)
        case .git(let reply):
            out.u8(UInt8(TV_AGENT_ANSWER_GIT))
            out.list(reply.messages.map(Optional.some) + (reply.askRemotes ? [nil] : [])) { out, message in
                switch message {
                case .warning(let text)?: out.u8(UInt8(TV_AGENT_GIT_WARNING)); out.chunk(Array(text.utf8))
                case .note(let text)?: out.u8(UInt8(TV_AGENT_GIT_NOTE)); out.chunk(Array(text.utf8))
                case nil: out.u8(UInt8(TV_AGENT_GIT_ASK_REMOTES)); out.chunk([])
                }
            }
            let stdout = reply.stdout
            stdout.withUnsafeBytes { out.chunk(secure: $0, owner: stdout.storage) }
        case .entries(let entries):
            out.u8(UInt8(TV_AGENT_ANSWER_ENTRIES))
            out.list(entries) { $0.entry($1) }
        case .review(let tokens, let recording):
            out.u8(UInt8(TV_AGENT_ANSWER_REVIEW))
            out.list(tokens.duplicates.sorted { $0.key < $1.key }) { out, pair in
                out.chunk(Array(pair.key.utf8))
                out.chunk(Array(pair.value.utf8))
            }
            out.list(tokens.classicGitHub.sorted()) { $0.chunk(Array($1.utf8)) }
            out.u8(recording.wire)
        case .log(let report):
            out.u8(UInt8(TV_AGENT_ANSWER_LOG))
            out.list(report.events) { $0.event($1) }
            out.optional(report.problem) { $0.chunk(Array($1.utf8)) }
        case .token(let warnings, let secret):
            out.u8(UInt8(TV_AGENT_ANSWER_TOKEN))
            out.list(warnings) { $0.chunk(Array($1.utf8)) }
            secret.withUnsafeBytes { out.chunk(secure: $0, owner: secret.storage) }
        case .history(let versions, let recording):
            out.u8(UInt8(TV_AGENT_ANSWER_HISTORY))
            out.list(versions) { out, version in
                out.u64(UInt64(bitPattern: version.replaced.secondsSince1970))
                version.secret.withUnsafeBytes { out.chunk(secure: $0, owner: version.secret.storage) }
            }
            out.u8(recording.wire)
        }
    }
}

// MARK: Decoding (hostile bytes: every length checked, every failure typed)

extension AgentRequest {
    /// The request in a frame's body.
    static func decode(_ body: UnsafeRawBufferPointer) throws(AgentCodecError) -> AgentRequest {
        var r = FieldReader(body)
        let version = try r.u8()
        if version == UInt8(TV_AGENT_LOCK_ANY_VERSION) && body.count == 1 { return .lock }
        guard version == UInt8(TV_AGENT_VERSION_BYTE) else { throw .otherVersion(version) }
        let op = try r.u8()
        let request: AgentRequest
        switch Int32(op) {
        case TV_AGENT_OP_STATUS: request = .status
        case TV_AGENT_OP_LOCK: request = .lock
        case TV_AGENT_OP_UNLOCK:
            let passphrase = Secret(copying: try r.chunk())
            request = .unlock(passphrase: passphrase, idle: Duration(wireSeconds: try r.u64()),
                              lifetime: Duration(wireSeconds: try r.u64()), allowingCostlyKDF: try r.u8() & 1 != 0,
                              cacheTTL: Duration(wireSeconds: try r.u64()))
        case TV_AGENT_OP_UNLOCK_KEY:
            let key = try r.chunk()
            guard key.count == SymmetricKey.byteCount else { throw .invalid("a vault key") }
            request = .unlockKey(SymmetricKey(storage: SecureBytes(copying: key)),
                                 idle: Duration(wireSeconds: try r.u64()), lifetime: Duration(wireSeconds: try r.u64()),
                                 cacheTTL: Duration(wireSeconds: try r.u64()))
        case TV_AGENT_OP_LOOKUP: request = .lookup(try r.list(itemBytes: 4) { r throws(AgentCodecError) in try r.string() })
        case TV_AGENT_OP_SEAL:
            let purpose = try r.purpose()
            let plaintext = try r.chunk()
            // Every record is padded: an empty plaintext is never a real request.
            guard !plaintext.isEmpty else { throw .invalid("an empty plaintext") }
            request = .seal(purpose, SecureBytes(count: plaintext.count, guarded: false) { $0.copyMemory(from: plaintext) })
        case TV_AGENT_OP_OPEN:
            request = .open(try r.list(itemBytes: 5) { r throws(AgentCodecError) in
                let purpose = try r.purpose()
                return SealedBox(purpose: purpose, bytes: Array(try r.chunk()))
            })
        case TV_AGENT_OP_MAC: request = .mac(try r.list(itemBytes: 4) { r throws(AgentCodecError) in Array(try r.chunk()) })
        case TV_AGENT_OP_ATTACH: request = .attach(try r.file())
        case TV_AGENT_OP_READ:
            let (file, origin, flags) = (try r.file(), try r.origin(), try r.u8())
            request = .read(file, origin, name: try r.string(), allowingExpired: flags & 1 != 0)
        case TV_AGENT_OP_GIT:
            let (file, origin, now) = (try r.file(), try r.origin(), try r.u64())
            let description = try r.chunk()
            request = .git(file, origin, now: Timestamp(secondsSince1970: Int64(bitPattern: now)),
                           description: SecureBytes(count: description.count, guarded: true) { $0.copyMemory(from: description) })
        case TV_AGENT_OP_ENTRIES: request = .entries(try r.file())
        case TV_AGENT_OP_REVIEW: request = .review(try r.file(), try r.origin())
        case TV_AGENT_OP_LOG: request = .log(try r.file())
        case TV_AGENT_OP_TOKEN:
            let (file, origin, flags) = (try r.file(), try r.origin(), try r.u8())
            request = .token(file, origin, name: try r.string(), allowingExpired: flags & UInt8(TV_AGENT_TOKEN_ALLOW_EXPIRED) != 0)
        case TV_AGENT_OP_HISTORY: request = .history(try r.file(), try r.origin(), name: try r.string())
        case TV_AGENT_OP_REMOTE_PUT:
            let (file, entry) = (try r.file(), try r.entry())
            request = .remotePut(file, entry, Secret(copying: try r.chunk()))
        case TV_AGENT_OP_REMOTE_GET: request = .remoteGet(try r.file(), name: try r.string())
        default: throw .unknownRequest(op)
        }
        try r.end()
        return request
    }
}

extension AgentResponse {
    /// The answer in a frame's body.
    static func decode(_ body: UnsafeRawBufferPointer) throws(AgentCodecError) -> AgentResponse {
        var r = FieldReader(body)
        let kind = try r.u8()
        let response: AgentResponse
        switch Int32(kind) {
        case TV_AGENT_ANSWER_OK: response = .done
        case TV_AGENT_ANSWER_STATUS:
            let unlocked = try r.u8() == 1, locksAt = try r.u64(), idle = try r.u64(), requests = try r.u64()
            response = .status(AgentClient.Status(unlocked: unlocked,
                                                  locksAt: unlocked ? Timestamp(secondsSince1970: Int64(clamping: locksAt)) : nil,
                                                  idleTimeout: Duration(wireSeconds: idle), requests: requests))
        case TV_AGENT_ANSWER_FAILURE:
            let code = try r.u8()
            response = .failure(try AgentFailure(code: code, message: try r.string()))
        case TV_AGENT_ANSWER_LOOKUPS:
            response = .lookups(try r.list(itemBytes: 4) { r throws(AgentCodecError) in
                let lookup = try r.chunk()
                guard lookup.count == KeyedHash.bytes else { throw .invalid("a blind index") }
                return Array(lookup)
            })
        case TV_AGENT_ANSWER_SEALED: response = .sealed(Array(try r.chunk()))
        case TV_AGENT_ANSWER_OPENED:
            response = .opened(try r.list(itemBytes: 5) { r throws(AgentCodecError) -> SecureBytes? in
                let opened = try r.u8() == 1
                let plaintext = try r.chunk()
                guard opened else { return nil }
                return SecureBytes(count: plaintext.count, guarded: false) { $0.copyMemory(from: plaintext) }
            })
        case TV_AGENT_ANSWER_MACS:
            response = .macs(try r.list(itemBytes: 4) { r throws(AgentCodecError) in
                let mac = try r.chunk()
                guard mac.count == KeyedHash.bytes else { throw .invalid("a MAC") }
                return Array(mac)
            })
        case TV_AGENT_ANSWER_ENTRY:
            let entry = try r.entry()
            let secret = Secret(copying: try r.chunk())
            response = .entry(entry, secret, try ReadRecording(wire: try r.u8()))
        case TV_AGENT_ANSWER_GIT:
            var reply = GitReply()
            let messages = try r.list(itemBytes: 5, maximum: Int(TV_AGENT_GIT_MAXIMUM_MESSAGES)) { r throws(AgentCodecError) -> GitReply.Message? in
                let kind = try r.u8(), text = try r.string()
                switch Int32(kind) {
                case TV_AGENT_GIT_WARNING: return .warning(text)
                case TV_AGENT_GIT_NOTE: return .note(text)
                case TV_AGENT_GIT_ASK_REMOTES: return nil
                default: throw .invalid("a kind of message")
                }
            }
            reply.messages = messages.compactMap { $0 }
            reply.askRemotes = messages.contains { $0 == nil }
            let stdout = try r.chunk()
            if !stdout.isEmpty { reply.answer = [.secret(Secret(copying: stdout))] }
            response = .git(reply)
        case TV_AGENT_ANSWER_ENTRIES:
            // An entry is at least its chunk's length, a flag and a time.
            response = .entries(try r.list(itemBytes: 13) { r throws(AgentCodecError) in try r.entry() })
        case TV_AGENT_ANSWER_REVIEW:
            var duplicates: [String: String] = [:]
            for (name, other) in try r.list(itemBytes: 8, { r throws(AgentCodecError) in (try r.string(), try r.string()) }) {
                guard duplicates.updateValue(other, forKey: name) == nil else { throw .invalid("a name twice") }
            }
            let classic = try r.list(itemBytes: 4) { r throws(AgentCodecError) in try r.string() }
            response = .review(Review.Tokens(duplicates: duplicates, classicGitHub: Set(classic)), try ReadRecording(wire: try r.u8()))
        case TV_AGENT_ANSWER_LOG:
            // An event is at least its fixed fields: 8 + 8 + 4 + 1 + 4 + 1 + 1 + 1 bytes.
            let events = try r.list(itemBytes: 28) { r throws(AgentCodecError) in try r.event() }
            response = .log(LogReport(events: events, problem: try r.u8() == 1 ? try r.string() : nil))
        case TV_AGENT_ANSWER_TOKEN:
            let warnings = try r.list(itemBytes: 4, maximum: Int(TV_AGENT_TOKEN_MAXIMUM_WARNINGS)) { r throws(AgentCodecError) in
                try r.string()
            }
            response = .token(warnings: warnings, Secret(copying: try r.chunk()))
        case TV_AGENT_ANSWER_HISTORY:
            // The tokens share the guarded regions of one arena (a history may be long).
            let arena = SecretArena()
            let versions = try r.list(itemBytes: 12) { r throws(AgentCodecError) in
                let replaced = Timestamp(secondsSince1970: Int64(bitPattern: try r.u64()))
                return SecretVersion(replaced: replaced, secret: Secret(storage: SecureBytes(copying: try r.chunk(), arena: arena)))
            }
            response = .history(versions, try ReadRecording(wire: try r.u8()))
        default: throw .unknownAnswer(kind)
        }
        try r.end()
        return response
    }
}
