import TokenVault
import TokenVaultGitLab
import TokenVaultOpenBao
import VaultCLICommon

/// Entries addressed `REMOTE/ENTRY`: which remote, reached how, and OpenBao's failures as the
/// CLI reports them (exit codes 11 to 14).
enum RemoteAccess {
    /// The commands that take an entry's name, handed to `tokenvault-gitlab` when an argument
    /// may be `REMOTE/ENTRY`.
    static let commands: Set<String> = ["add", "get", "list", "show", "edit", "rm", "remove", "restore", "history", "exec", "inject"]

    /// Whether an argument may be `REMOTE/ENTRY` (or `REMOTE/` for list): a slash, not an
    /// option, not a URL or a path.
    static func mayName(_ argument: String) -> Bool {
        guard !argument.hasPrefix("-"), !argument.hasPrefix("/"), !argument.hasPrefix("."), !argument.hasPrefix("~"),
              !argument.contains("://") else { return false }
        return RemoteSettings.split(argument) != nil
    }

    /// The remote entries `name` addresses in `vault`, and the entry's name within the remote;
    /// nil for a local name (no remote of that name).
    static func resolve(_ name: String, in vault: Vault) throws -> (entries: RemoteEntries, entry: String)? {
        guard let (remoteName, entry) = RemoteSettings.split(name), let remote = try vault.remote(named: remoteName) else { return nil }
        return (try entries(of: remote), entry)
    }

    /// The token of the remote entry `name` (its `entry` within `entries`), by the read rules:
    /// from the agent's cache while it holds it, else from OpenBao (then handed to the cache).
    static func get(_ entries: RemoteEntries, _ entry: String, name: String, vault: Vault,
                    allowingExpired: Bool) throws -> (entry: Entry, secret: Secret) {
        if let cached = vault.cachedRemoteEntry(name) {
            if let refusal = cached.entry.readRefusal(allowingExpired: allowingExpired) { throw refusal }
            return cached
        }
        let read = try entries.entry(entry)
        if read.entry.deleted == nil { vault.cacheRemoteEntry(read.entry, secret: read.secret) }
        if let refusal = read.entry.readRefusal(allowingExpired: allowingExpired) { throw refusal }
        return (read.entry, read.secret)
    }

    /// `vault.values(of:allowingExpired:)` with remote entries too (`exec`, `inject`): local
    /// references resolved by the vault, remote ones read from OpenBao (or the agent's cache) by
    /// the same rules, every reference checked before a local token is read.
    static func values(of references: [SecretReference], in vault: Vault, allowingExpired: Bool) throws -> [ResolvedReference] {
        var remotes: [String: (entries: RemoteEntries, entry: String)] = [:]
        for reference in references where remotes[reference.entry] == nil {
            if let found = try resolve(reference.entry, in: vault) { remotes[reference.entry] = found }
        }
        guard !remotes.isEmpty else { return try vault.values(of: references, allowingExpired: allowingExpired) }
        var read: [String: (entry: Entry, secret: Secret?)] = [:]
        for reference in references {
            guard let remote = remotes[reference.entry] else { continue }
            if reference.field == nil {
                if read[reference.entry]?.secret == nil {
                    let token = try get(remote.entries, remote.entry, name: reference.entry, vault: vault, allowingExpired: allowingExpired)
                    read[reference.entry] = (token.entry, token.secret)
                }
            } else if read[reference.entry] == nil {
                let entry = try remote.entries.entry(remote.entry).entry
                if entry.deleted != nil { throw VaultError.inTrash(name: entry.name) }
                read[reference.entry] = (entry, nil)
            }
        }
        let local = references.filter { remotes[$0.entry] == nil }
        var localValues = try vault.values(of: local, allowingExpired: allowingExpired).makeIterator()
        return try references.map { reference in
            guard let remote = read[reference.entry] else {
                guard let value = localValues.next() else { throw VaultError.corrupt("a reference's value") }
                return value
            }
            if let field = reference.field { return ResolvedReference(entry: remote.entry, value: Secret(field.value(in: remote.entry))) }
            return ResolvedReference(entry: remote.entry, value: remote.secret ?? Secret(""))
        }
    }

    /// The entries of `remote`, through this program's transport.
    static func entries(of remote: RemoteSettings) throws -> RemoteEntries {
        guard let transport = Online.transport else {
            // Only reached when the hand-off did not see the name (a form it does not parse).
            throw CLIError.failed("remote entries need \(Online.program)", hint: "name the entry as REMOTE/ENTRY on the command line")
        }
        return RemoteEntries(remote: remote, transport: transport, timeout: timeout)
    }

    /// Seconds for one exchange with OpenBao: `TOKENVAULT_OPENBAO_TIMEOUT` (1 to 60), else 5.
    static var timeout: Int {
        guard let text = Environment.current["TOKENVAULT_OPENBAO_TIMEOUT"], let seconds = Int(text), (1...60).contains(seconds) else { return 5 }
        return seconds
    }

    /// Prints `error` the CLI's way; its exit status.
    static func report(_ error: OpenBaoError) -> ExitStatus {
        Output.error(error.description)
        if let hint = error.hint { Output.hint(hint) }
        return status(for: error)
    }

    static func status(for error: OpenBaoError) -> ExitStatus {
        switch error {
        case .unreachable: .unreachable
        case .sealed, .standby: .sealed
        case .tls: .tlsFailure
        case .denied, .tokenRejected: .denied
        case .notFound: .notFound
        case .exists, .changedMeanwhile, .server, .unreadableAnswer, .notAnEntry: .other
        }
    }
}
