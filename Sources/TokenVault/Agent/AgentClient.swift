import CHardening
import Glibc

/// A connection to the agent of one vault file. Requests are sent one at a time. A dead or hung
/// agent makes every request fail within a second (the caller then falls back to the other
/// passphrase sources).
public final class AgentClient: @unchecked Sendable {
    private let fd: Int32
    /// Whether the connection is still usable: after any failure (a timeout, a half-sent
    /// frame), a reply could belong to an earlier request, so the connection is never used again.
    private let mutex = Locked(true)

    /// What the agent says of itself.
    public struct Status: Sendable {
        /// True when the agent holds the vault key.
        public var unlocked: Bool
        /// When the agent locks if unused (or reaches its maximum lifetime), whichever is first.
        public var locksAt: Timestamp?
        /// How long the agent stays unlocked without a request, in seconds.
        public var idleTimeout: Int64
    }

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// The agent for `vaultPath`, or nil when none answers (no socket, a stale one, or a socket
    /// in a folder or of an owner that is not the user's own).
    public static func connect(vaultPath: String, environment: [String: String]) -> AgentClient? {
        connect(socketPath: AgentProtocol.socketPath(forVault: vaultPath, environment: environment))
    }

    /// The folder where every agent of the user listens (`AgentProtocol.folder`).
    public static func folder(environment: [String: String]) -> String {
        AgentProtocol.folder(environment: environment)
    }

    /// Why no agent can listen for `vaultPath` (a socket path too long, a folder not private),
    /// with what to do about it; nil when one can.
    public static func placeProblem(forVault vaultPath: String, environment: [String: String]) -> (problem: String, hint: String)? {
        AgentProtocol.placeProblem(AgentProtocol.socketPath(forVault: vaultPath, environment: environment)).map { ($0, AgentProtocol.placeHint) }
    }

    /// The agent listening at `socketPath`, or nil when none answers, the socket's folder is not
    /// private, or the process listening is not the user's own. Requests time out after a second.
    public static func connect(socketPath: String) -> AgentClient? {
        guard AgentProtocol.folderIsPrivate(VaultLocation.folder(of: socketPath)),
              var address = AgentProtocol.makeAddress(socketPath) else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        // The agent must be one of the user's own processes.
        guard connected == 0, tv_peer_uid(fd) == Int64(geteuid()) else {
            close(fd)
            return nil
        }
        return AgentClient(fd: fd)
    }

    /// Sends one request and reads its response body; throws `.locked` when the agent does not
    /// answer in time.
    func request(_ build: (inout AgentProtocol.Builder) -> Void, timeout seconds: Int = 1) throws(VaultError) -> SecureBytes {
        try mutex.withLock { usable throws(VaultError) in
            guard usable else { throw VaultError.locked }
            var builder = AgentProtocol.Builder()
            build(&builder)
            guard builder.send(fd), let body = AgentProtocol.receive(fd, within: seconds) else {
                usable = false
                shutdown(fd, Int32(SHUT_RDWR))
                throw VaultError.locked
            }
            return body
        }
    }

    /// Decodes an `ok` response's chunk, or throws the failure it reports.
    func result(_ body: SecureBytes, guarded: Bool = false) throws(VaultError) -> SecureBytes {
        try body.withUnsafeBytes { bytes throws(VaultError) -> SecureBytes in
            var reader = AgentProtocol.Reader(body: bytes)
            switch reader.u8().flatMap(AgentProtocol.ResponseKind.init(rawValue:)) {
            case .ok:
                guard let chunk = reader.chunk() else { throw VaultError.locked }
                return SecureBytes(count: chunk.count, guarded: guarded) { $0.copyMemory(from: chunk) }
            case .failure:
                let code = reader.u8().flatMap(AgentProtocol.FailureCode.init(rawValue:))
                let message = reader.chunk().map { String(decoding: $0, as: UTF8.self) } ?? ""
                switch code {
                case .wrongPassphrase: throw VaultError.wrongPassphrase
                case .tampered: throw VaultError.tampered("a record (checked by the agent)")
                case .locked: throw VaultError.locked
                default: throw VaultError.io("the agent: \(message)")
                }
            default:
                throw VaultError.locked
            }
        }
    }

    /// Asks the agent whether it is unlocked and until when. Throws when it does not answer.
    public func status() throws(VaultError) -> Status {
        let body = try request { $0.u8(AgentProtocol.Operation.status.rawValue) }
        return try body.withUnsafeBytes { bytes throws(VaultError) -> Status in
            var reader = AgentProtocol.Reader(body: bytes)
            guard reader.u8() == AgentProtocol.ResponseKind.status.rawValue, let unlocked = reader.u8(),
                  let locksAt = reader.u64(), let idle = reader.u64() else { throw VaultError.locked }
            return Status(unlocked: unlocked == 1,
                          locksAt: unlocked == 1 ? Timestamp(secondsSince1970: Int64(clamping: locksAt)) : nil,
                          idleTimeout: Int64(clamping: idle))
        }
    }

    /// Asks the agent to derive the key from `passphrase` (it reads the vault's header itself).
    /// Waits for the key derivation, which is slow on purpose. A header costlier than
    /// `sensitive` is refused unless `allowingCostlyKDF`.
    public func unlock(passphrase: Secret, idleTimeout: Int64, maximumLifetime: Int64,
                       allowingCostlyKDF: Bool = false) throws(VaultError) {
        let body = try request({ builder in
            builder.u8(AgentProtocol.Operation.unlock.rawValue)
            passphrase.withUnsafeBytes { builder.chunk(secure: $0, owner: passphrase.storage) }
            builder.u64(UInt64(idleTimeout))
            builder.u64(UInt64(maximumLifetime))
            builder.u8(allowingCostlyKDF ? AgentProtocol.UnlockFlags.allowCostlyKDF : 0)
        }, timeout: 120)
        _ = try result(body)
    }

    /// Gives the agent the vault key itself (derived here already), so that it need not derive
    /// it again; it keeps it only if it opens its vault file.
    func unlock(vaultKey: SymmetricKey, idleTimeout: Int64, maximumLifetime: Int64) throws(VaultError) {
        let body = try request { builder in
            builder.u8(AgentProtocol.Operation.unlockKey.rawValue)
            vaultKey.withUnsafeBytes { builder.chunk(secure: $0, owner: vaultKey.storage) }
            builder.u64(UInt64(idleTimeout))
            builder.u64(UInt64(maximumLifetime))
        }
        _ = try result(body)
    }

    /// Whether the agent reads for this client (requests 8 to 10 of `AgentProtocol`): it holds
    /// the key, its vault is the file at `path`, and its key opens it. False for an agent of an
    /// older version; throws `.locked` otherwise.
    func attach(path: String) throws(VaultError) -> Bool {
        let body = try request { builder in
            builder.u8(AgentProtocol.Operation.attach.rawValue)
            builder.file(AgentProtocol.fileIdentity(path))
        }
        do {
            _ = try answer(body, name: nil) { _ throws(VaultError) in }
            return true
        } catch {
            switch error {
            case .busy: return false
            case .vault(let error): throw error
            }
        }
    }

    /// `Vault.get`, done by the agent under its rules; nil when the agent is busy or predates
    /// the rules (the caller does it itself).
    func read(_ name: String, allowingExpired: Bool, origin: ActivityLog.Origin, path: String) throws(VaultError) -> (entry: Entry, secret: Secret)? {
        let body = try request { builder in
            builder.u8(AgentProtocol.Operation.read2.rawValue)
            builder.file(AgentProtocol.fileIdentity(path))
            builder.origin(origin)
            builder.u8(allowingExpired ? AgentProtocol.ReadFlags.allowExpired : 0)
            builder.chunk(Array(name.utf8))
        }
        do {
            return try answer(body, name: name) { reader throws(VaultError) in
                // The entry asked for, or nothing.
                guard let entry = reader.entry(), entry.name == name, let token = reader.chunk() else { throw VaultError.locked }
                // The rules again, here: an agent that did not apply them hands out nothing.
                if let refusal = entry.readRefusal(allowingExpired: allowingExpired) { throw refusal }
                return (entry, Secret(copying: token))
            }
        } catch {
            switch error {
            case .busy: return nil
            case .vault(let error): throw error
            }
        }
    }

    /// `Vault.gitCredential(for:)`, done by the agent; nil when the agent is busy.
    func gitCredential(_ request: GitCredential, now: Timestamp, origin: ActivityLog.Origin,
                       path: String) throws(VaultError) -> (GitMatching.Selection, GitSecrets?)? {
        let fields = [request.protocolName, request.host, request.path, request.username]
        // Bit 4: git announced capability[]=authtype (an agent that predates it ignores it).
        let capability: UInt8 = request.announces("authtype") ? 1 << 4 : 0
        let body = try self.request { builder in
            builder.u8(AgentProtocol.Operation.git2.rawValue)
            builder.file(AgentProtocol.fileIdentity(path))
            builder.origin(origin)
            builder.u64(UInt64(bitPattern: now.secondsSince1970))
            builder.u8(fields.enumerated().reduce(capability) { mask, field in field.element == nil ? mask : mask | 1 << field.offset })
            for case let field? in fields { builder.chunk(Array(field.utf8)) }
        }
        do {
            return try answer(body, name: nil) { reader throws(VaultError) in
                func entries() throws(VaultError) -> [Entry] {
                    guard let count = reader.u64(), count <= 1_000_000 else { throw VaultError.locked }
                    var list: [Entry] = []
                    for _ in 0..<count {
                        guard let entry = reader.entry() else { throw VaultError.locked }
                        list.append(entry)
                    }
                    return list
                }
                let selection = GitMatching.Selection(candidates: try entries(), expired: try entries())
                guard let token = reader.chunk() else { throw VaultError.locked }
                // The refresh token follows: the chosen one's, or an expired one's alone.
                let refresh = reader.chunk().flatMap { $0.isEmpty ? nil : Secret(copying: $0) }
                guard selection.chosen != nil || refresh != nil else { return (selection, nil) }
                return (selection, GitSecrets(token: Secret(copying: token), refreshToken: refresh))
            }
        } catch {
            switch error {
            case .busy: return nil
            case .vault(let error): throw error
            }
        }
    }

    private enum AgentError: Error {
        case busy
        case vault(VaultError)
    }

    /// Decodes an `ok` response with `decode`, or throws the failure it reports (as the
    /// `VaultError` the agent met, or `.busy`).
    private func answer<R>(_ body: SecureBytes, name: String?,
                           _ decode: (inout AgentProtocol.Reader) throws(VaultError) -> R) throws(AgentError) -> R {
        do {
            return try body.withUnsafeBytes { bytes throws(VaultError) -> R in
                var reader = AgentProtocol.Reader(body: bytes)
                switch reader.u8().flatMap(AgentProtocol.ResponseKind.init(rawValue:)) {
                case .ok:
                    return try decode(&reader)
                case .failure:
                    let code = reader.u8().flatMap(AgentProtocol.FailureCode.init(rawValue:))
                    let message = reader.string() ?? ""
                    switch code {
                    case .busy: throw VaultError.busy(seconds: 0)
                    case .notFound: throw VaultError.notFound(name: name ?? message, suggestion: nil)
                    case .inTrash: throw VaultError.inTrash(name: name ?? message)
                    case .expired, .revoked:
                        // The date, as the agent read it from the entry.
                        guard let seconds = Int64(message) else { throw VaultError.locked }
                        let date = Timestamp(secondsSince1970: seconds)
                        throw code == .expired ? VaultError.expired(name: name ?? "", on: date) : VaultError.revoked(name: name ?? "", on: date)
                    case .tampered: throw VaultError.tampered(message.isEmpty ? "a record (checked by the agent)" : message)
                    case .corrupt: throw VaultError.corrupt(message)
                    case .unsupported: throw VaultError.unsupportedFormat(Int(message) ?? 0)
                    case .wrongPassphrase: throw VaultError.wrongPassphrase
                    case .badRequest: throw VaultError.busy(seconds: 0)  // an older agent: not for it
                    case .locked, nil: throw VaultError.locked
                    case .other: throw VaultError.io("the agent: \(message)")
                    }
                default:
                    throw VaultError.locked
                }
            }
        } catch {
            if case .busy(seconds: 0) = error { throw AgentError.busy }
            throw AgentError.vault(error)
        }
    }

    /// The agent wipes the key and exits.
    public func lock() throws(VaultError) {
        _ = try result(request { $0.u8(AgentProtocol.Operation.lock.rawValue) })
    }
}

/// The vault's key ring, in the agent.
struct AgentKeyRing: KeyRing {
    let client: AgentClient

    var vaultKey: SymmetricKey? { nil }

    func lookup(_ name: String) throws(VaultError) -> [UInt8] {
        let body = try client.request { builder in
            builder.u8(AgentProtocol.Operation.lookup.rawValue)
            builder.chunk(Array(name.utf8))
        }
        let lookup = try client.result(body).withUnsafeBytes { Array($0) }
        guard lookup.count == KeyedHash.bytes else { throw VaultError.tampered("a blind index from the agent") }
        return lookup
    }

    func chainMAC(_ data: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8] {
        let body = try client.request { builder in
            builder.u8(AgentProtocol.Operation.mac.rawValue)
            builder.chunk(secure: data, owner: nil)
        }
        let mac = try client.result(body).withUnsafeBytes { Array($0) }
        guard mac.count == KeyedHash.bytes else { throw VaultError.tampered("a MAC from the agent") }
        return mac
    }

    func openEvents(_ boxes: [[UInt8]]) throws(VaultError) -> [SecureBytes] {
        let body = try client.request { builder in
            builder.u8(AgentProtocol.Operation.openEvents.rawValue)
            builder.u64(UInt64(boxes.count))
            for box in boxes { builder.chunk(box) }
        }
        let opened = try body.withUnsafeBytes { bytes throws(VaultError) -> [SecureBytes]? in
            var reader = AgentProtocol.Reader(body: bytes)
            switch reader.u8().flatMap(AgentProtocol.ResponseKind.init(rawValue:)) {
            case .ok:
                var opened: [SecureBytes] = []
                for _ in boxes {
                    guard let chunk = reader.chunk() else { throw VaultError.locked }
                    opened.append(SecureBytes(count: chunk.count, guarded: false) { $0.copyMemory(from: chunk) })
                }
                return opened
            case .failure:
                // An agent that predates the request: one at a time.
                if reader.u8() == AgentProtocol.FailureCode.badRequest.rawValue { return nil }
                throw VaultError.tampered("an event of the activity log (checked by the agent)")
            default:
                throw VaultError.locked
            }
        }
        if let opened { return opened }
        var single: [SecureBytes] = []
        for box in boxes { single.append(try open(.events, box, what: "an event of the activity log", guarded: false)) }
        return single
    }

    func seal(_ purpose: KeyDerivation.Purpose, _ plaintext: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8] {
        let body = try client.request { builder in
            builder.u8(AgentProtocol.Operation.seal.rawValue)
            builder.u8(UInt8(purpose.rawValue))
            builder.chunk(secure: plaintext, owner: nil)
        }
        return try client.result(body).withUnsafeBytes { Array($0) }
    }

    func open(_ purpose: KeyDerivation.Purpose, _ box: [UInt8], what: String, guarded: Bool) throws(VaultError) -> SecureBytes {
        let body = try client.request { builder in
            builder.u8(AgentProtocol.Operation.open.rawValue)
            builder.u8(UInt8(purpose.rawValue))
            builder.chunk(box)
        }
        do {
            return try client.result(body, guarded: guarded)
        } catch {
            if case .tampered = error { throw VaultError.tampered(what) }
            throw error
        }
    }
}
