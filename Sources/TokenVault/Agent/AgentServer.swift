import CAgentProtocol
import CHardening
import Glibc

/// The agent: holds one vault's keys in secure memory for a while and seals and opens for the
/// user's own processes. It wipes the keys and exits on `lock`, on its idle timeout, at its
/// maximum lifetime, and on SIGTERM, SIGINT or SIGHUP.
package final class AgentServer {
    /// The vault file whose keys this agent holds.
    package let vaultPath: String
    /// Where the agent listens: derived from ``vaultPath`` in the user's private agent folder.
    package let socketPath: String
    private var ring: LocalBackend?
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
    /// Remote (OpenBao) entries read by clients, by name: kept in this process's locked memory
    /// (the token in guarded memory) until `until` (monotonic milliseconds), never written.
    private var remoteCache: [String: (until: Int64, entry: Entry, secret: Secret)] = [:]
    /// Seconds a remote entry stays in the cache; 0: none is kept.
    private var remoteCacheTTL: Int64 = AgentProtocol.defaultRemoteCacheTTL
    /// The requests answered since the agent started (`status` says, so that a test can count
    /// a command's round trips).
    private var requests: UInt64 = 0
    /// Set by `lock`: the agent wipes the key and exits once the answer is sent.
    private var stopRequested = false
    private var lockTime: Int64 = 0
    private var hardLimit: Int64 = 0
    private let startedAt = Timestamp.now().secondsSince1970
    /// An agent that nobody unlocks goes away.
    package static let unusedLifetime: Int64 = 60

    /// An agent for `vaultPath`, listening where ``AgentClient/connect(vaultPath:environment:)``
    /// looks for it (the folder follows `environment`). Nothing is done until ``run(log:)``.
    package init(vaultPath: String, environment: [String: String]) {
        self.vaultPath = vaultPath
        self.socketPath = AgentProtocol.socketPath(forVault: vaultPath, environment: environment)
    }

    /// Listens until locked, timed out or stopped. Throws when the socket cannot be set up (or
    /// another agent already serves this vault).
    package func run(log: (String) -> Void = { _ in }) throws(VaultError) {
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
            for (client, body) in clients.service(fds.dropFirst(), now: served, log: log) {
                var out = AgentProtocol.Builder()
                answer(body).encode(into: &out)
                clients.answer(client, out.frame(), now: AgentProtocol.monotonicMilliseconds(), log: log)
                if stopRequested { stop = true; log("locked: wiping the key"); break }
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
            guard (try? fresh.unlock(backend: ring)) != nil else { return false }
            if FileState(vaultPath) == before {
                vault = fresh
                file = before
                return true
            }
        }
        return false
    }

    /// The answer to a frame: a request of another version, or malformed, is refused typed.
    private func answer(_ body: SecureBytes) -> AgentResponse {
        requests &+= 1
        do {
            return respond(to: try body.withUnsafeBytes { bytes throws(AgentCodecError) in try AgentRequest.decode(bytes) })
        } catch .otherVersion {
            return .failure(.unsupportedVersion(Int(TV_AGENT_PROTOCOL_VERSION)))
        } catch {
            return .failure(.badRequest("\(error)"))
        }
    }

    /// What the agent does for each request; every `VaultError` becomes the client's failure
    /// here (`AgentFailure.init`), in one place.
    func respond(to request: AgentRequest) -> AgentResponse {
        let now = AgentProtocol.monotonicMilliseconds()
        remoteCache = remoteCache.filter { $0.value.until > now }
        do throws(VaultError) {
            switch request {
            case .status: return status()
            case .lock:
                stopRequested = true
                return .done
            case .unlock(let passphrase, let idle, let lifetime, let costly, let cacheTTL):
                remoteCacheTTL = Int64(clamping: min(cacheTTL.wholeSeconds, 86_400))
                remoteCache = [:]
                return try unlock(passphrase: passphrase, allowingCostlyKDF: costly, idle: idle, lifetime: lifetime)
            case .unlockKey(let key, let idle, let lifetime, let cacheTTL):
                remoteCacheTTL = Int64(clamping: min(cacheTTL.wholeSeconds, 86_400))
                remoteCache = [:]
                return try unlock(key: key, idle: idle, lifetime: lifetime)
            case .lookup(let names): return .lookups(try keys().lookup(names))
            case .mac(let data): return .macs(try keys().chainMACs(data))
            case .open(let boxes): return .opened(try keys().open(boxes, guarding: false))
            case .seal(let purpose, let plaintext):
                return .sealed(try plaintext.withUnsafeBytes { bytes throws(VaultError) in try keys().seal(purpose, bytes) })
            case .attach(let file):
                _ = try openVault(for: file)
                return .done
            case .read(let file, let origin, let name, let allowingExpired):
                let vault = try openVault(for: file)
                defer { self.file = FileState(vaultPath) }  // After its own write.
                let read = try vault.readToken(name, allowingExpired: allowingExpired, for: origin)
                return .entry(read.entry, read.secret, read.recording)
            case .token(let file, let origin, let name, let allowingExpired):
                let vault = try openVault(for: file)
                defer { self.file = FileState(vaultPath) }
                let read = try vault.readToken(name, allowingExpired: allowingExpired, for: origin)
                // The front end prints them as they come: a read not recorded is said last, as
                // the Swift command says it when it closes the vault. With the canonical name
                // whoever started the agent: the front end renames.
                return .token(warnings: read.entry.readWarnings(program: ProgramName.canonical) + (read.recording.reason.map { [$0.warning] } ?? []), read.secret)
            case .git(let file, let origin, let now, let description):
                let vault = try openVault(for: file)
                defer { self.file = FileState(vaultPath) }
                return .git(try vault.composeGitReply(toDescription: Secret(storage: description), now: now, origin: origin))
            case .history(let file, let origin, let name):
                let vault = try openVault(for: file)
                defer { self.file = FileState(vaultPath) }  // After its own write (the read's event).
                let (versions, recording) = try vault.historyHere(of: name, for: origin)
                return .history(versions, recording)
            case .entries(let file):
                return .entries(try openVault(for: file).entriesHere())
            case .remotePut(let file, let entry, let secret):
                // Only for a client of this vault, and only a remote entry's name.
                _ = try openVault(for: file)
                // No token for `REMOTE/`: the remote was removed or added; all of its go.
                if secret.isEmpty, entry.name.hasSuffix("/"), RemoteSettings.split(entry.name) != nil {
                    remoteCache = remoteCache.filter { !$0.key.hasPrefix(entry.name) }
                    return .done
                }
                guard remoteCacheTTL > 0, RemoteSettings.split(entry.name) != nil else { return .done }
                // No token: the client changed the entry in OpenBao; the cache forgets it.
                remoteCache[entry.name] = secret.isEmpty ? nil : (now + remoteCacheTTL * 1000, entry, secret)
                return .done
            case .remoteGet(let file, let name):
                _ = try openVault(for: file)
                guard let cached = remoteCache[name] else { throw .notFound(name: name, suggestion: nil) }
                return .entry(cached.entry, cached.secret, .recorded)
            case .log(let file):
                return .log(try openVault(for: file).activityLogHere())
            case .review(let file, let origin):
                let vault = try openVault(for: file)
                defer { self.file = FileState(vaultPath) }
                let (tokens, recording) = try vault.reviewTokensHere(origin: origin)
                return .review(tokens, recording)
            }
        } catch {
            return .failure(AgentFailure(error))
        }
    }

    private func status() -> AgentResponse {
        .status(AgentClient.Status(unlocked: ring != nil,
                                   locksAt: ring == nil ? nil : Timestamp(secondsSince1970: min(lockTime, hardLimit)),
                                   idleTimeout: .seconds(idleTimeout), requests: requests))
    }

    /// The keys, for a request that uses them (which resets the idle timer).
    private func keys() throws(VaultError) -> LocalBackend {
        guard let ring else { throw .locked }
        lockTime = Timestamp.now().secondsSince1970 + idleTimeout
        return ring
    }

    /// The open vault, for a client whose vault file is `client`: only the file the agent
    /// unlocked, while it is the one at the agent's path and the key still opens it.
    private func openVault(for client: FileIdentity) throws(VaultError) -> Vault {
        _ = try keys()
        guard let current = FileState(vaultPath), client.device == current.device, client.inode == current.inode else {
            throw .locked
        }
        if current != file || vault == nil {
            guard reopen() else { throw .locked }
        }
        guard let vault else { throw .locked }
        return vault
    }

    private func unlock(passphrase: Secret, allowingCostlyKDF: Bool, idle: Duration, lifetime: Duration) throws(VaultError) -> AgentResponse {
        let vault = try Vault.open(at: vaultPath)
        try vault.unlock(passphrase: passphrase, allowingCostlyKDF: allowingCostlyKDF)
        guard let local = vault.localBackend else { throw .locked }
        ring = local
        // The file, opened again and checked against the key, unchanged from before to after
        // (it may have been replaced while the key was derived).
        guard reopen() else {
            ring = nil
            throw .io("the vault file changed while it was being unlocked: try again")
        }
        return holding(idle: idle, lifetime: lifetime)
    }

    private func unlock(key: SymmetricKey, idle: Duration, lifetime: Duration) throws(VaultError) -> AgentResponse {
        ring = LocalBackend(vaultKey: key)
        // Kept only if it opens the file at the agent's path (reopen checks the manifest).
        guard reopen() else {
            ring = nil
            throw .wrongPassphrase
        }
        return holding(idle: idle, lifetime: lifetime)
    }

    /// After an unlock: the timers set.
    private func holding(idle: Duration, lifetime: Duration) -> AgentResponse {
        idleTimeout = Int64(clamping: max(1, min(idle.wholeSeconds, 7 * 86_400)))
        let now = Timestamp.now().secondsSince1970
        lockTime = now + idleTimeout
        hardLimit = now + Int64(clamping: max(1, min(lifetime.wholeSeconds, 30 * 86_400)))
        return .done
    }
}
