/// The agent's cache of remote (OpenBao) entries: a client that read one from OpenBao hands it
/// to the agent, which keeps it in its locked memory for its cache's time to live (`vault unlock
/// --cache-ttl`, 5 minutes unless told otherwise, 0 for none); a later read within that time is
/// answered from there, OpenBao not asked (nor reachable, perhaps). Nothing of it is written to
/// disk. A vault not unlocked through an agent has no cache.
extension Vault {
    /// How long an agent keeps a remote entry unless `vault unlock --cache-ttl` says otherwise.
    public static let remoteCacheTTL: Duration = .seconds(AgentProtocol.defaultRemoteCacheTTL)

    /// The agent's copy of the remote entry `name` (`REMOTE/ENTRY`), while its time to live
    /// lasts; nil without an agent, or when it holds none. The read rules are applied by the
    /// caller, as to an entry read from OpenBao.
    public func cachedRemoteEntry(_ name: String) -> (entry: Entry, secret: Secret)? {
        guard let backend = state.withLock({ $0.keys })?.backend as? AgentBackend,
              case .entry(let entry, let secret, _)? = try? backend.client.send(.remoteGet(FileIdentity(path: backend.path), name: name)),
              entry.name == name else { return nil }
        return (entry, secret)
    }

    /// Hands a remote entry read from OpenBao to the agent's cache (nothing without an agent);
    /// an empty `secret` makes the agent forget it (after a change made through this client).
    public func cacheRemoteEntry(_ entry: Entry, secret: Secret) {
        guard let backend = state.withLock({ $0.keys })?.backend as? AgentBackend else { return }
        _ = try? backend.client.send(.remotePut(FileIdentity(path: backend.path), entry, secret))
    }

    /// Makes the agent forget the remote entry `name` (it was changed through this client).
    public func forgetRemoteEntry(_ name: String) {
        cacheRemoteEntry(Entry(name: name), secret: Secret(""))
    }

    /// Makes the agent forget every entry of the remote `remote` (it was removed, or a remote of
    /// that name added: what the cache holds may be another server's).
    func forgetRemoteEntries(of remote: String) {
        cacheRemoteEntry(Entry(name: remote + "/"), secret: Secret(""))
    }
}
