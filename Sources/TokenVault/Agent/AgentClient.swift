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
        /// How long the agent stays unlocked without a request.
        public var idleTimeout: Duration
        /// How many requests the agent has answered since it started (this one included).
        public var requests: UInt64
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

    /// Sends one request and decodes its answer; throws `.locked` when the agent does not
    /// answer in time or answers what is not a message (the connection is then not used again:
    /// a later answer could belong to this request).
    func send(_ request: AgentRequest, timeout seconds: Int = 1) throws(VaultError) -> AgentResponse {
        try mutex.withLock { usable throws(VaultError) in
            guard usable else { throw VaultError.locked }
            var builder = AgentProtocol.Builder()
            request.encode(into: &builder)
            guard builder.send(fd), let body = AgentProtocol.receive(fd, within: seconds),
                  let response = try? body.withUnsafeBytes({ bytes throws(AgentCodecError) in try AgentResponse.decode(bytes) }) else {
                usable = false
                shutdown(fd, Int32(SHUT_RDWR))
                throw VaultError.locked
            }
            return response
        }
    }

    /// Sends `request`; an answer other than `done` is the failure it reports (or `.locked`).
    func perform(_ request: AgentRequest, timeout seconds: Int = 1) throws(VaultError) {
        switch try send(request, timeout: seconds) {
        case .done: return
        case .failure(let failure): throw failure.vaultError(name: nil)
        default: throw .locked
        }
    }

    /// Asks the agent whether it is unlocked and until when. Throws when it does not answer, and
    /// `.otherAgentVersion` when it is of another version of TokenVault.
    public func status() throws(VaultError) -> Status {
        switch try send(.status) {
        case .status(let status): return status
        case .failure(let failure): throw failure.vaultError(name: nil)
        default: throw .locked
        }
    }

    /// Asks the agent to derive the key from `passphrase` (it reads the vault's header itself).
    /// Waits for the key derivation, which is slow on purpose. A header costlier than
    /// `sensitive` is refused unless `allowingCostlyKDF`.
    /// `remoteCacheTTL`: how long it keeps a remote (OpenBao) entry a client read (0: none).
    public func unlock(passphrase: Secret, idleTimeout: Duration, maximumLifetime: Duration,
                       allowingCostlyKDF: Bool = false, remoteCacheTTL: Duration = Vault.remoteCacheTTL) throws(VaultError) {
        try perform(.unlock(passphrase: passphrase, idle: idleTimeout, lifetime: maximumLifetime,
                            allowingCostlyKDF: allowingCostlyKDF, cacheTTL: remoteCacheTTL), timeout: 120)
    }

    /// Gives the agent the vault key itself (derived here already), so that it need not derive
    /// it again; it keeps it only if it opens its vault file.
    func unlock(vaultKey: SymmetricKey, idleTimeout: Duration, maximumLifetime: Duration,
                remoteCacheTTL: Duration = Vault.remoteCacheTTL) throws(VaultError) {
        try perform(.unlockKey(vaultKey, idle: idleTimeout, lifetime: maximumLifetime, cacheTTL: remoteCacheTTL))
    }

    /// Checks that the agent reads for this client: it holds the key, its vault is the file at
    /// `path`, and its key opens it. Throws `.locked` otherwise.
    func attach(path: String) throws(VaultError) {
        try perform(.attach(FileIdentity(path: path)))
    }

    /// The agent wipes the key and exits. Understood by an agent of any version.
    public func lock() throws(VaultError) {
        // Any answer will do: an agent of an older version answers in its own format, and wipes
        // its key and exits all the same. The connection is done with.
        try mutex.withLock { usable throws(VaultError) in
            guard usable else { throw VaultError.locked }
            usable = false
            var builder = AgentProtocol.Builder()
            AgentRequest.lock.encode(into: &builder)
            guard builder.send(fd), AgentProtocol.receive(fd, within: 1) != nil else { throw VaultError.locked }
        }
    }
}
