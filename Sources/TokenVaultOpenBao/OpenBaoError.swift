import TokenVault

/// Why OpenBao did not do what was asked. Every message names the remote, and never holds a
/// token: what OpenBao sends back is shown only as its own short error text, escaped.
public enum OpenBaoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer: the connection was refused, the host unknown, or no answer came in time.
    /// `sent`: the request may have reached the server (a write may have happened).
    case unreachable(remote: String, detail: String, sent: Bool)
    /// The server is sealed: it can answer nothing until its operators unseal it.
    case sealed(remote: String)
    /// The node is a standby that could not reach an active node (a cluster electing a leader).
    case standby(remote: String)
    /// The TLS handshake failed: an untrusted certificate (see `--ca-file`) or a wrong host name.
    case tls(remote: String, detail: String)
    /// OpenBao's policy denies `operation` on `path` to the remote's token.
    case denied(remote: String, path: String, operation: String)
    /// The remote's token has expired or was revoked (or the AppRole login was refused).
    case tokenRejected(remote: String)
    /// No entry at that path (or every version of it is destroyed).
    case notFound(remote: String, name: String)
    /// The entry exists already (`add`), perhaps in the trash.
    case exists(remote: String, name: String, inTrash: Bool)
    /// Someone else wrote the entry since it was read: nothing was written.
    case changedMeanwhile(remote: String, name: String)
    /// Another failure status, with OpenBao's message.
    case server(remote: String, status: Int, message: String)
    /// An answer that is not what OpenBao sends (too large, not JSON, fields missing).
    case unreadableAnswer(remote: String, what: String)
    /// The entry at this path was not written by TokenVault (no `token` field).
    case notAnEntry(remote: String, name: String)

    public var description: String {
        switch self {
        case .unreachable(let remote, let detail, let sent):
            "cannot reach OpenBao for remote '\(remote)': \(detail)" + (sent ? " (the request may have been received)" : "")
        case .sealed(let remote): "OpenBao for remote '\(remote)' is sealed: it answers nothing until its operators unseal it"
        case .standby(let remote): "OpenBao for remote '\(remote)' is a standby node with no active node to forward to (a cluster electing its leader?)"
        case .tls(let remote, let detail): "TLS failed with OpenBao for remote '\(remote)': \(detail)"
        case .denied(let remote, let path, let operation):
            "OpenBao's policy denies \(operation) on '\(path)' to the token of remote '\(remote)'"
        case .tokenRejected(let remote): "OpenBao refused the token of remote '\(remote)': it has expired or was revoked"
        case .notFound(let remote, let name): "no entry '\(remote)/\(name)' in OpenBao"
        case .exists(let remote, let name, let inTrash):
            "'\(remote)/\(name)' exists already in OpenBao" + (inTrash ? " (in the trash)" : "")
        case .changedMeanwhile(let remote, let name): "'\(remote)/\(name)' was changed in OpenBao meanwhile: nothing was written"
        case .server(let remote, let status, let message): "OpenBao for remote '\(remote)' answered \(status): \(message)"
        case .unreadableAnswer(let remote, let what): "OpenBao for remote '\(remote)' sent an answer that cannot be read (\(what))"
        case .notAnEntry(let remote, let name): "'\(remote)/\(name)' in OpenBao was not written by TokenVault (it has no token field)"
        }
    }

    /// What to do next, when there is something to say.
    public var hint: String? {
        switch self {
        case .unreachable: "check the remote's URL and that OpenBao runs (\(ProgramName.current) remote status NAME)"
        case .tls: "a private certificate authority: \(ProgramName.current) remote rm NAME, then add it again with --ca-file FILE"
        case .tokenRejected(let remote):
            "get a new token from your OpenBao operators, then: \(ProgramName.current) remote rm \(remote) && \(ProgramName.current) remote add \(remote) --url URL"
        case .denied: "ask your OpenBao operators for a policy that allows it"
        case .exists(_, _, true): "\(ProgramName.current) restore it, or choose another name"
        case .changedMeanwhile: "read it again and repeat the change"
        default: nil
        }
    }
}
