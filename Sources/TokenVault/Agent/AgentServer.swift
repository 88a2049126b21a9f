import CHardening
import Glibc

/// The agent: holds one vault's keys in secure memory for a while and seals and opens for the
/// user's own processes. It wipes the keys and exits on `lock`, on its idle timeout, at its
/// maximum lifetime, and on SIGTERM, SIGINT or SIGHUP.
public final class AgentServer {
    /// The vault file whose keys this agent holds.
    public let vaultPath: String
    /// Where the agent listens: derived from ``vaultPath`` in the user's private agent folder.
    public let socketPath: String
    private var ring: LocalKeyRing?
    /// The vault, open while unlocked. The agent never reads through it: an open connection keeps
    /// SQLite's shared index of the write-ahead log alive between clients, so each client process
    /// opens the vault without first reading the whole log back (SQLite's recovery).
    private var vault: Vault?
    /// The vault file as the agent last left it (after its own last write). When the file
    /// changes otherwise than through SQLite (overwritten in place), the agent opens it again
    /// and checks that its key still opens it: SQLite's page cache would not notice.
    private var file: FileState?

    /// What `stat` says of a file: which one it is, and when and how it last changed.
    struct FileState: Equatable {
        var device: UInt64, inode: UInt64, size: Int64
        var modified: timespec, changed: timespec

        init?(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = info.st_mtim
            changed = info.st_ctim
        }

        static func == (a: FileState, b: FileState) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size
                && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
                && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
        }
    }

    /// The agent's clients give up after a second: it waits for another process's write at
    /// most this long, then lets the client do the work itself.
    static let busyMilliseconds: Int32 = 200
    private var idleTimeout: Int64 = 15 * 60
    private var lockTime: Int64 = 0
    private var hardLimit: Int64 = 0
    private let startedAt = Timestamp.now().secondsSince1970
    /// An agent that nobody unlocks goes away.
    public static let unusedLifetime: Int64 = 60

    /// An agent for `vaultPath`, listening where ``AgentClient/connect(vaultPath:environment:)``
    /// looks for it (the folder follows `environment`). Nothing is done until ``run(log:)``.
    public init(vaultPath: String, environment: [String: String]) {
        self.vaultPath = vaultPath
        self.socketPath = AgentProtocol.socketPath(forVault: vaultPath, environment: environment)
    }

    /// Listens until locked, timed out or stopped. Throws when the socket cannot be set up (or
    /// another agent already serves this vault).
    public func run(log: (String) -> Void = { _ in }) throws(VaultError) {
        tv_install_stop_handlers()
        ProcessHardening.apply()
        func checkPlace() throws(VaultError) {
            if let problem = AgentProtocol.placeProblem(socketPath) { throw .io("\(problem): \(AgentProtocol.placeHint)") }
        }
        try checkPlace()
        try VaultLocation.makeFolder(VaultLocation.folder(of: socketPath))
        try checkPlace()  // Now that the folder exists, whoever made it.
        // One agent per vault: the lock is held for the agent's whole life, and taken before the
        // socket is checked, removed or bound, so two agents starting at once cannot both run.
        let lockFD = open(String(socketPath.dropLast(5)) + ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lockFD >= 0 else { throw .io("cannot create the agent's lock file") }
        defer { close(lockFD) }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else { throw .invalidInput("an agent already serves this vault") }
        if AgentClient.connect(socketPath: socketPath) != nil {
            throw .invalidInput("an agent already serves this vault")
        }
        unlink(socketPath)  // A stale socket, left by an agent that was killed.
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0, var address = AgentProtocol.makeAddress(socketPath) else { throw .io("cannot create the agent's socket") }
        defer { close(listener) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw .io("cannot bind '\(socketPath)': \(String(cString: strerror(errno)))") }
        // Ours now (the lock keeps others away): removed when the agent ends.
        defer { unlink(socketPath) }
        guard chmod(socketPath, 0o600) == 0, listen(listener, 64) == 0 else {
            throw .io("cannot listen on '\(socketPath)': \(String(cString: strerror(errno)))")
        }
        log("agent for \(vaultPath) listening on \(socketPath)")
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        var clients = AgentConnections()
        defer { clients.closeAll() }
        var stop = false
        while tv_stop_requested() == 0 && !stop {
            let now = Timestamp.now().secondsSince1970
            if ring == nil && now - startedAt > Self.unusedLifetime { log("never unlocked: exiting"); break }
            if ring != nil && (now >= lockTime || now >= hardLimit) { log("timed out: wiping the key"); break }
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)] + clients.pollEntries
            let ready = poll(&fds, nfds_t(fds.count), clients.timeout(now: AgentProtocol.monotonicMilliseconds(), limit: 500))
            if ready < 0 && errno != EINTR { log("cannot wait for clients: \(String(cString: strerror(errno)))"); break }
            // The connections polled first, then new ones (which may take a closed one's number).
            let served = AgentProtocol.monotonicMilliseconds()
            for (client, request) in clients.service(fds.dropFirst(), now: served, log: log) {
                let (response, lockNow) = handle(request)
                clients.answer(client, response.frame(), now: AgentProtocol.monotonicMilliseconds(), log: log)
                if lockNow { stop = true; log("locked: wiping the key"); break }
            }
            if fds[0].revents != 0 { clients.accept(listener, now: AgentProtocol.monotonicMilliseconds(), log: log) }
        }
        ring = nil  // sodium_free wipes the key's memory.
        vault = nil
        file = nil
    }

    /// Opens the vault file afresh with the key the agent holds and checks that the key opens
    /// it, while the file stays the same from before the open to after the check. False (and
    /// no vault) when it does not.
    private func reopen() -> Bool {
        vault = nil
        file = nil
        guard let ring else { return false }
        for _ in 0..<3 {
            guard let before = FileState(vaultPath) else { return false }
            guard let fresh = try? Vault.open(at: vaultPath) else { return false }
            fresh.setBusyTimeout(milliseconds: Self.busyMilliseconds)
            guard (try? fresh.unlock(ring: ring)) != nil else { return false }
            if FileState(vaultPath) == before {
                vault = fresh
                file = before
                return true
            }
        }
        return false
    }

    /// After an unlock: the timers set, and the answer.
    private func holding(idle: UInt64, maximum: UInt64) -> AgentProtocol.Builder {
        idleTimeout = Int64(max(1, min(idle, 7 * 86_400)))
        let now = Timestamp.now().secondsSince1970
        lockTime = now + idleTimeout
        hardLimit = now + Int64(max(1, min(maximum, 30 * 86_400)))
        var out = AgentProtocol.Builder()
        out.u8(AgentProtocol.ResponseKind.ok.rawValue)
        out.chunk([])
        return out
    }

    private func handle(_ body: SecureBytes) -> (AgentProtocol.Builder, Bool) {
        body.withUnsafeBytes { bytes in
            var reader = AgentProtocol.Reader(body: bytes)
            var out = AgentProtocol.Builder()
            func fail(_ code: AgentProtocol.FailureCode, _ message: String) -> AgentProtocol.Builder {
                var failure = AgentProtocol.Builder()
                failure.u8(AgentProtocol.ResponseKind.failure.rawValue)
                failure.u8(code.rawValue)
                failure.chunk(Array(message.utf8))
                return failure
            }
            guard let op = reader.u8().flatMap(AgentProtocol.Operation.init(rawValue:)) else {
                return (fail(.badRequest, "unknown request"), false)
            }
            switch op {
            case .status:
                out.u8(AgentProtocol.ResponseKind.status.rawValue)
                out.u8(ring == nil ? 0 : 1)
                out.u64(UInt64(ring == nil ? 0 : min(lockTime, hardLimit)))
                out.u64(UInt64(idleTimeout))
                return (out, false)
            case .lock:
                out.u8(AgentProtocol.ResponseKind.ok.rawValue)
                out.chunk([])
                return (out, true)
            case .unlock:
                guard let passphrase = reader.chunk(), let idle = reader.u64(), let maximum = reader.u64() else {
                    return (fail(.badRequest, "malformed unlock"), false)
                }
                // Flags came later: an older client sends none.
                let flags = reader.u8() ?? 0
                do {
                    let vault = try Vault.open(at: vaultPath)
                    try vault.unlock(passphrase: Secret(copying: passphrase),
                                     allowingCostlyKDF: flags & AgentProtocol.UnlockFlags.allowCostlyKDF != 0)
                    guard let local = vault.localKeyRing else { return (fail(.other, "no key"), false) }
                    ring = local
                    // The file, opened again and checked against the key, unchanged from before
                    // to after (it may have been replaced while the key was derived).
                    guard reopen() else {
                        ring = nil
                        return (fail(.other, "the vault file changed while it was being unlocked: try again"), false)
                    }
                    return (holding(idle: idle, maximum: maximum), false)
                } catch VaultError.wrongPassphrase {
                    return (fail(.wrongPassphrase, "wrong passphrase"), false)
                } catch {
                    return (fail(.other, "\(error)"), false)
                }
            case .unlockKey:
                guard let key = reader.chunk(), key.count == SymmetricKey.byteCount, let idle = reader.u64(),
                      let maximum = reader.u64() else {
                    return (fail(.badRequest, "malformed unlock"), false)
                }
                ring = LocalKeyRing(vaultKey: SymmetricKey(storage: SecureBytes(copying: key)))
                // Kept only if it opens the file at the agent's path (reopen checks the manifest).
                guard reopen() else {
                    ring = nil
                    return (fail(.wrongPassphrase, "the key does not open the vault"), false)
                }
                return (holding(idle: idle, maximum: maximum), false)
            case .attach, .read, .read2, .git, .helper, .git2, .helper2:
                // Only for the file the client means, while it is the one at the agent's path.
                guard ring != nil, let client = reader.file(), let current = FileState(vaultPath),
                      client.device == current.device, client.inode == current.inode else {
                    return (fail(.locked, "the agent holds no key for this file"), false)
                }
                if current != file || vault == nil {
                    guard reopen() else { return (fail(.locked, "the agent's key does not open the file now at its path"), false) }
                }
                guard let vault else { return (fail(.locked, "the agent holds no key for this file"), false) }
                lockTime = Timestamp.now().secondsSince1970 + idleTimeout
                defer { file = FileState(vaultPath) }  // After its own writes.
                do throws(VaultError) {
                    out.u8(AgentProtocol.ResponseKind.ok.rawValue)
                    switch op {
                    case .read, .read2:
                        // Request 9 comes from older clients: they check expiry and revocation
                        // themselves, and know no `inTrash`.
                        guard let origin = reader.origin(), let flags = op == .read2 ? reader.u8() : AgentProtocol.ReadFlags.allowExpired,
                              let name = reader.string() else { return (fail(.badRequest, "malformed read"), false) }
                        let (entry, secret): (Entry, Secret)
                        do throws(VaultError) {
                            (entry, secret) = try vault.get(name, allowingExpired: flags & AgentProtocol.ReadFlags.allowExpired != 0, for: origin)
                        } catch .inTrash where op == .read {
                            throw .notFound(name: name, suggestion: nil)
                        }
                        out.entry(entry)
                        secret.withUnsafeBytes { out.chunk(secure: $0, owner: secret.storage) }
                    case .git, .git2:
                        guard let origin = reader.origin(), let now = reader.u64(), let present = reader.u8() else {
                            return (fail(.badRequest, "malformed git request"), false)
                        }
                        var request = GitCredential()
                        for bit in 0..<4 where present & (1 << bit) != 0 {
                            guard let value = reader.string() else { return (fail(.badRequest, "malformed git request"), false) }
                            switch bit {
                            case 0: request.protocolName = value
                            case 1: request.host = value
                            case 2: request.path = value
                            default: request.username = value
                            }
                        }
                        if present & (1 << 4) != 0 { request.capabilities = ["authtype"] }
                        let (selection, secret) = try vault.gitCredential(
                            for: request, now: Timestamp(secondsSince1970: Int64(bitPattern: now)), origin: origin)
                        for list in [selection.candidates, selection.expired] {
                            out.u64(UInt64(list.count))
                            list.forEach { out.entry($0) }
                        }
                        if let secret {
                            secret.token.withUnsafeBytes { out.chunk(secure: $0, owner: secret.token.storage) }
                            let refresh = secret.refreshToken ?? Secret(copying: UnsafeRawBufferPointer(start: nil, count: 0))
                            refresh.withUnsafeBytes { out.chunk(secure: $0, owner: refresh.storage) }
                        } else {
                            out.chunk([])
                        }
                    case .helper, .helper2:
                        guard let origin = reader.origin(), let now = reader.u64(), let input = reader.chunk() else {
                            return (fail(.badRequest, "malformed helper request"), false)
                        }
                        // Anything but a plain, well-formed request goes back to the Swift helper.
                        guard let request = try? GitCredential.parse(input) else { return (fail(.badRequest, "unparsed"), false) }
                        var reply = GitReply(request: request, selection: GitMatching.Selection(candidates: [], expired: []), secret: nil)
                        if request.protocolName != nil, request.host != nil {
                            let time = Timestamp(secondsSince1970: Int64(bitPattern: now))
                            let (selection, secret) = try vault.gitCredential(for: request, now: time, origin: origin)
                            reply = GitReply(request: request, selection: selection, secret: secret, now: time)
                        }
                        out.u64(UInt64(reply.warnings.count))
                        reply.warnings.forEach { out.chunk(Array($0.utf8)) }
                        let text = reply.answer.reduce(0) { sum, part in
                            switch part {
                            case .text(let t): sum + t.utf8.count
                            case .secret(let secret): sum + secret.count
                            }
                        }
                        let stdout = SecureBytes(count: text, guarded: false) { buffer in
                            var offset = 0
                            for part in reply.answer {
                                switch part {
                                case .text(let t):
                                    let bytes = Array(t.utf8)
                                    UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + bytes.count]).copyBytes(from: bytes)
                                    offset += bytes.count
                                case .secret(let secret):
                                    secret.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + $0.count]).copyMemory(from: $0) }
                                    offset += secret.count
                                }
                            }
                        }
                        stdout.withUnsafeBytes { out.chunk(secure: $0, owner: stdout) }
                    default:
                        out.chunk([])
                    }
                    return (out, false)
                } catch {
                    switch error {
                    case .notFound(let name, _): return (fail(.notFound, name), false)
                    case .inTrash(let name): return (fail(.inTrash, name), false)
                    case .expired(_, let date): return (fail(.expired, String(date.secondsSince1970)), false)
                    case .revoked(_, let date): return (fail(.revoked, String(date.secondsSince1970)), false)
                    case .tampered(let what): return (fail(.tampered, what), false)
                    case .corrupt(let what): return (fail(.corrupt, what), false)
                    case .unsupportedFormat(let version): return (fail(.unsupported, "\(version)"), false)
                    case .busy: return (fail(.busy, "busy"), false)
                    case .locked: return (fail(.locked, "locked"), false)
                    default: return (fail(.other, "\(error)"), false)
                    }
                }
            case .lookup, .seal, .open, .mac, .openEvents:
                guard let ring else { return (fail(.locked, "the agent holds no key"), false) }
                // Use resets the idle timer.
                lockTime = Timestamp.now().secondsSince1970 + idleTimeout
                do {
                    switch op {
                    case .lookup:
                        guard let name = reader.chunk() else { return (fail(.badRequest, "malformed lookup"), false) }
                        out.u8(AgentProtocol.ResponseKind.ok.rawValue)
                        out.chunk(try ring.lookup(String(decoding: name, as: UTF8.self)))
                    case .mac:
                        guard let data = reader.chunk() else { return (fail(.badRequest, "malformed mac"), false) }
                        out.u8(AgentProtocol.ResponseKind.ok.rawValue)
                        out.chunk(try ring.chainMAC(data))
                    case .openEvents:
                        guard let count = reader.u64(), count <= 4096 else { return (fail(.badRequest, "malformed open"), false) }
                        var opened: [SecureBytes] = []
                        for _ in 0..<count {
                            guard let box = reader.chunk() else { return (fail(.badRequest, "malformed open"), false) }
                            opened.append(try ring.open(.events, Array(box), what: "an event", guarded: false))
                        }
                        out.u8(AgentProtocol.ResponseKind.ok.rawValue)
                        for plaintext in opened { plaintext.withUnsafeBytes { out.chunk(secure: $0, owner: plaintext) } }
                    case .seal:
                        guard let purpose = reader.u8().flatMap({ KeyDerivation.Purpose(rawValue: UInt64($0)) }),
                              KeyDerivation.Purpose.sealing.contains(purpose), let plaintext = reader.chunk(),
                              !plaintext.isEmpty else {
                            // (Every record is padded: an empty plaintext is never a real request.)
                            return (fail(.badRequest, "malformed seal"), false)
                        }
                        out.u8(AgentProtocol.ResponseKind.ok.rawValue)
                        out.chunk(try ring.seal(purpose, plaintext))
                    default:
                        guard let purpose = reader.u8().flatMap({ KeyDerivation.Purpose(rawValue: UInt64($0)) }),
                              KeyDerivation.Purpose.sealing.contains(purpose), let box = reader.chunk() else {
                            return (fail(.badRequest, "malformed open"), false)
                        }
                        // Tokens in guarded memory; the rest (metadata, the manifest) in wiped buffers.
                        let plaintext = try ring.open(purpose, Array(box), what: "a record", guarded: purpose == .entrySecret)
                        out.u8(AgentProtocol.ResponseKind.ok.rawValue)
                        plaintext.withUnsafeBytes { out.chunk(secure: $0, owner: plaintext) }
                    }
                    return (out, false)
                } catch {
                    return (fail(.tampered, "authentication failed"), false)
                }
            }
        }
    }
}
