/// The rules `Vault.get` applies before it hands out a token, wherever the read is done (in this
/// process, in the agent, or checked again here on what an agent sent back).
extension Entry {
    /// Why `get` refuses this entry's token at `now`, or nil when it hands it out. A token in the
    /// trash is refused always (restore it first); a revoked or expired one unless
    /// `allowingExpired`. A token that git's server refused is handed out (the caller warns).
    public func readRefusal(allowingExpired: Bool, at now: Timestamp = .now()) -> VaultError? {
        if deleted != nil { return .inTrash(name: name) }
        guard !allowingExpired else { return nil }
        if let revoked { return .revoked(name: name, on: revoked) }
        if let expires, expires <= now { return .expired(name: name, on: expires) }
        return nil
    }
}
