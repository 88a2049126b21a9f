import TokenVault

/// How a vault's entries reach GitLab: the transport, the trust and the patience. Which GitLab
/// an entry's token goes to is the library's rule (``gitlab(for:)``): only a GitLab token, only
/// to the host of its entry's URL, only over HTTPS.
public struct GitLabAccess: Sendable {
    /// What carries the requests (`TokenVaultHTTP`'s `CurlTransport`, or a test's own).
    public var transport: any HTTPTransport
    /// Trust only the certificate authorities in this PEM file (a self-hosted GitLab behind a
    /// private CA); nil: the system's.
    public var caFile: String?
    /// Seconds GitLab is given to answer each request.
    public var timeout: Int
    /// The API to use for every entry (`--api-url`), which must be on the entry's host.
    public var apiURL: GitLabAPIURL?
    /// The API to use for the entries of a host (`vault config gitlab-api-url.HOST`), by host;
    /// one on another host than its key is refused when used.
    public var apiURLDefaults: [String: GitLabAPIURL] = [:]

    /// Access over `transport`, trusting `caFile` (nil: the system's authorities).
    public init(transport: any HTTPTransport, caFile: String? = nil, timeout: Int = 30) {
        self.transport = transport
        self.caFile = caFile
        self.timeout = timeout
    }

    /// The GitLab instance that issued the entry's token, on the host of its URL: at
    /// ``apiURL`` when given (on another host, the token is not sent), else at the host's
    /// default in ``apiURLDefaults``, else at the entry's URL (its path kept, as the path
    /// GitLab is installed under: ``GitLabAPIURL/init(entryURL:)``). A token of another kind is
    /// never sent (a GitHub token would reach a host that does not expect it).
    public func gitlab(for entry: Entry) throws(GitLabAccessError) -> GitLab {
        guard entry.kind == .gitlab else { throw .notGitLab(name: entry.name, kind: entry.kind) }
        guard let url = entry.url else { throw .noURL(name: entry.name) }
        guard url.scheme == "https" else { throw .gitlab(.notHTTPS(url.description)) }
        if let apiURL {
            guard apiURL.host == url.host else { throw .apiURLOnOtherHost(name: entry.name, apiHost: apiURL.host, entryHost: url.host) }
            return GitLab(api: apiURL, transport: transport, caFile: caFile, timeout: timeout)
        }
        if let api = apiURLDefaults[url.host] {
            // Checked here too, whoever filled the table: a token goes only to its own host.
            guard api.host == url.host else { throw .apiURLOnOtherHost(name: entry.name, apiHost: api.host, entryHost: url.host) }
            return GitLab(api: api, transport: transport, caFile: caFile, timeout: timeout)
        }
        do {
            return try GitLab(url: url, transport: transport, caFile: caFile, timeout: timeout)
        } catch {
            throw .gitlab(error)
        }
    }
}

/// Why an entry's token is not sent to GitLab. Nothing was sent.
public enum GitLabAccessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The entry's kind is not `gitlab`.
    case notGitLab(name: String, kind: TokenKind)
    /// The entry has no URL, so its GitLab is unknown.
    case noURL(name: String)
    /// The entry's URL is unusable (not https).
    case gitlab(GitLabError)
    /// The API URL given is on another host than the entry's: its token goes only to its own.
    case apiURLOnOtherHost(name: String, apiHost: String, entryHost: String)

    /// One line for a person; a name shaped like a token is redacted.
    public var description: String {
        switch self {
        case .notGitLab(let name, let kind): "'\(Redaction.redact(name))' is not a GitLab token (its kind is \(kind.rawValue))"
        case .noURL(let name): "'\(Redaction.redact(name))' has no URL, so its GitLab is unknown"
        case .gitlab(let error): error.description
        case .apiURLOnOtherHost(let name, let apiHost, let entryHost):
            "the API URL is on \(apiHost), but the token of '\(Redaction.redact(name))' is for \(entryHost): a token is sent only to its own host"
        }
    }
}

extension Vault {
    /// The entries that `verifyAtGitLab` for every token looks at: GitLab tokens with a URL,
    /// not in the trash.
    public func gitLabEntries() throws(VaultError) -> [Entry] {
        try entries().filter { $0.kind == .gitlab && $0.deleted == nil && $0.url != nil }
    }

    /// `update`, with its failure typed as `wrap(error)`. Every write the GitLab operations
    /// make goes through here or ``recordChecked(_:action:detail:wrap:_:)``.
    @discardableResult
    func record<Failure: Error>(_ name: String, secret: Secret? = nil, action: EventAction, detail: String? = nil,
                                wrap: (VaultError) -> Failure, _ change: (inout Entry) -> Void = { _ in }) throws(Failure) -> Entry {
        try recordChecked(name, secret: secret, action: action, detail: detail, wrap: wrap) { (entry: inout Entry) throws(Failure) in
            change(&entry)
        }
    }

    /// `update` with a change that may refuse (and so write nothing): its error as itself, the
    /// vault's as `wrap(error)`.
    @discardableResult
    func recordChecked<Failure: Error>(_ name: String, secret: Secret? = nil, action: EventAction, detail: String? = nil,
                                       wrap: (VaultError) -> Failure,
                                       _ change: (inout Entry) throws(Failure) -> Void) throws(Failure) -> Entry {
        // `update`'s change may throw only the vault's error: a refusal is kept aside, the
        // transaction rolled back by a stand-in error, and the refusal thrown as itself.
        var refusal: Failure?
        do throws(VaultError) {
            return try update(name, secret: secret, action: action, detail: detail) { (entry: inout Entry) throws(VaultError) in
                do throws(Failure) { try change(&entry) } catch {
                    refusal = error
                    throw VaultError.invalidInput("the change was refused")
                }
            }
        } catch {
            if let refusal { throw refusal }
            throw wrap(error)
        }
    }
    /// `record`, only while the entry still holds `token` (what GitLab was asked about): the
    /// stored entry, or nil, writing nothing, when another process replaced the token meanwhile.
    /// (`update` writes only if the entry is unchanged since it was read before `change`, so the
    /// token compared in `change` is the one the write replaces.)
    func recordIfHolding<Failure: Error>(_ name: String, token: Secret, action: EventAction, detail: String?,
                                         wrap: (VaultError) -> Failure,
                                         _ change: (inout Entry) -> Void) throws(Failure) -> Entry? {
        var replaced = false
        do throws(Failure) {
            return try recordChecked(name, action: action, detail: detail, wrap: wrap) { (e: inout Entry) throws(Failure) in
                let holding: Bool
                do throws(VaultError) { holding = try holds(name, secret: token) } catch { throw wrap(error) }
                guard holding else {
                    replaced = true
                    throw wrap(.database("the token was replaced"))
                }
                change(&e)
            }
        } catch {
            if replaced { return nil }
            throw error
        }
    }
}
