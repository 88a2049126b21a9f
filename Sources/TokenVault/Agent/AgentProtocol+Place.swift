import CAgentProtocol
import Glibc

/// Where the agent listens: one rule for the agent, its Swift clients and the C front end of
/// the git helper (`socket_path` in Sources/git-credential-vault/main.c).
extension AgentProtocol {
    /// Where every agent of the user listens: `$XDG_RUNTIME_DIR/tokenvault`, else `agents` in the
    /// default vault's folder (`$XDG_DATA_HOME/tokenvault/agents`, else
    /// `~/.local/share/tokenvault/agents`), whichever vault the agent serves: one folder, so
    /// `vault lock --all` finds every agent. Never a shared folder such as /tmp, where another
    /// user could take the name first.
    static func folder(environment: [String: String]) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") { return runtime + "/" + TV_AGENT_RUNTIME_FOLDER }
        var data = environment
        data["TOKENVAULT_PATH"] = nil
        return VaultLocation.folder(of: VaultLocation.defaultPath(environment: data)) + "/" + TV_AGENT_DATA_FOLDER
    }

    /// One agent per vault file: the socket's name comes from a hash of the file's real path.
    static func socketPath(forVault vaultPath: String, environment: [String: String]) -> String {
        var resolved = vaultPath
        if let real = realpath(vaultPath, nil) {
            resolved = String(cString: real)
            free(real)
        }
        let digest = Array(resolved.utf8).withUnsafeBytes { KeyedHash.unkeyed($0, bytes: Int(TV_AGENT_SOCKET_HASH_BYTES)) }
        return folder(environment: environment) + "/" + TV_AGENT_SOCKET_PREFIX
            + digest.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined() + TV_AGENT_SOCKET_SUFFIX
    }

    /// Why no agent can listen at `socketPath`, or nil: a path longer than a socket's name may
    /// be, or a folder that exists and is not private to the user.
    static func placeProblem(_ socketPath: String) -> String? {
        if makeAddress(socketPath) == nil {
            return "the agent's socket path '\(socketPath)' is too long for a socket (\(socketPath.utf8.count) bytes, at most \(maximumSocketPath))"
        }
        let folder = VaultLocation.folder(of: socketPath)
        if VaultLocation.exists(folder) && !folderIsPrivate(folder) {
            return "the agent's folder '\(folder)' is not private to you (another user's, or open to others)"
        }
        return nil
    }

    /// What to do about a `placeProblem`.
    static let placeHint = "set XDG_RUNTIME_DIR to a private folder with a short path"

    /// The longest path a Unix socket can be bound or reached at (`sun_path`, less its NUL).
    static let maximumSocketPath = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// The folder must be ours and closed to everyone else; otherwise no agent is trusted there.
    static func folderIsPrivate(_ folder: String) -> Bool {
        var info = stat()
        guard lstat(folder, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFDIR && info.st_uid == geteuid() && info.st_mode & 0o077 == 0
    }

    /// The socket's address; nil when the path is too long for one.
    static func makeAddress(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count <= maximumSocketPath else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }
}
