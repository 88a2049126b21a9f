import TokenVault
import TokenVaultGitLab

/// OpenBao's HTTP API as TokenVault uses it, over an ``HTTPTransport`` (libcurl's, in
/// `TokenVaultHTTP`): logging in, the token's own lookup and renewal, the server's health, and
/// the KV version 2 secrets engine (OpenBaoClient+KV.swift).
///
/// Each request is sent once. A request that never left (the connection was refused) goes to the
/// remote's next URL, if it has several; nothing else is retried, so a write is never made
/// twice. Every answer is read as hostile input: at most the transport's 64 KiB, parsed by a
/// bounded JSON reader, each field checked, any failure a typed ``OpenBaoError``.
public struct OpenBaoClient: Sendable {
    /// The remote's settings (its URLs, mount, prefix, namespace, CA file, credential).
    public let remote: RemoteSettings
    let transport: any HTTPTransport
    /// Seconds for one exchange; connecting takes at most `connectTimeout` of them.
    public var timeout: Int
    /// Seconds to wait for a connection to each URL.
    public var connectTimeout: Int
    /// The token requests carry: the remote's own, or the one an AppRole login gave.
    var token: Secret?
    /// When set, no request starts after it, and none waits past it: a caller that must
    /// answer in bounded time (git's helper) sets it, whatever the number of requests.
    public var deadline: ContinuousClock.Instant?

    /// A client for `remote`. Nothing is sent until a method is called; an AppRole remote logs
    /// in at the first request that needs a token.
    public init(remote: RemoteSettings, transport: any HTTPTransport, timeout: Int = 5, connectTimeout: Int = 3) {
        self.remote = remote
        self.transport = transport
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        if case .token(let token) = remote.credential { self.token = token }
    }

    // MARK: Health and the token

    /// What `sys/health` says of the server.
    public struct Health: Sendable, Equatable {
        /// Whether the server has been initialised.
        public var initialized: Bool
        /// Whether it is sealed.
        public var sealed: Bool
        /// Whether the node that answered is a standby.
        public var standby: Bool
        /// OpenBao's version, as it says it.
        public var version: String
    }

    /// The server's health, asked without a token (any status is an answer here).
    public func health() throws(OpenBaoError) -> Health {
        let answer = try send(.get, "sys/health?standbyok=true&sealedcode=200&uninitcode=200&perfstandbyok=true", token: nil)
        return try answer.json { json, bytes throws(OpenBaoError) -> Health in
            guard case .bool(let initialized)? = json["initialized"], case .bool(let sealed)? = json["sealed"] else {
                throw .unreadableAnswer(remote: remote.name, what: "sys/health")
            }
            var standby = false
            if case .bool(let value)? = json["standby"] { standby = value }
            return Health(initialized: initialized, sealed: sealed, standby: standby,
                          version: TerminalText.escape(String((json["version"]?.string(in: bytes) ?? "?").prefix(40))))
        }
    }

    /// The token's own facts, as `auth/token/lookup-self` gives them.
    public struct TokenInfo: Sendable, Equatable {
        /// Its policies, sorted.
        public var policies: [String]
        /// Seconds it has left; 0 for a token that never expires.
        public var ttl: Int
        /// Whether it can be renewed.
        public var renewable: Bool
    }

    /// The token's policies and time to live.
    public mutating func lookupSelf() throws(OpenBaoError) -> TokenInfo {
        let answer = try send(.get, "auth/token/lookup-self", token: try currentToken())
        // Every token may look itself up (the default policy): a refusal is the token's.
        if answer.status == 403 || answer.status == 401 { throw .tokenRejected(remote: remote.name) }
        try answer.refuse(remote: remote.name, path: "auth/token/lookup-self", operation: "read", tokenCheck: nil)
        return try Self.tokenInfo(answer, remote: remote.name, key: "data")
    }

    /// Renews the token (`auth/token/renew-self`) when it is renewable; returns its new facts,
    /// or nil for a token that cannot be renewed (a root token, a non-renewable one).
    public mutating func renewIfRenewable() throws(OpenBaoError) -> TokenInfo? {
        let info = try lookupSelf()
        guard info.renewable, info.ttl > 0 else { return nil }
        let answer = try send(.post, "auth/token/renew-self", token: try currentToken(), body: Array("{}".utf8))
        // A policy without renew-self: the token lives out its time.
        if answer.status == 403 { return nil }
        try answer.refuse(remote: remote.name, path: "auth/token/renew-self", operation: "update", tokenCheck: nil)
        var renewed = info
        renewed.ttl = try answer.json { json, _ throws(OpenBaoError) -> Int in
            guard case .number(let ttl)? = json["auth"]?["lease_duration"], ttl >= 0, ttl < 1e12 else {
                throw .unreadableAnswer(remote: remote.name, what: "renew-self")
            }
            return Int(ttl)
        }
        return renewed
    }

    /// The token requests carry: for AppRole, one login (`auth/approle/login`) per client.
    mutating func currentToken() throws(OpenBaoError) -> Secret {
        if let token { return token }
        guard case .appRole(let roleID, let secretID) = remote.credential else { throw .tokenRejected(remote: remote.name) }
        let body = GitLab.body(value: secretID, [], head: "{\"role_id\":\(GitLab.json(roleID)),\"secret_id\":\"")
        let answer = try send(.post, "auth/approle/login", token: nil, secretBody: body)
        if answer.status == 400 || answer.status == 403 { throw .tokenRejected(remote: remote.name) }
        try answer.refuse(remote: remote.name, path: "auth/approle/login", operation: "update", tokenCheck: nil)
        let login = try answer.json { json, bytes throws(OpenBaoError) -> Secret in
            guard case .string(let range, let escaped)? = json["auth"]?["client_token"],
                  let token = GitLab.unescaped(UnsafeRawBufferPointer(rebasing: bytes[range]), escaped: escaped), !token.isEmpty,
                  token.count <= 4096, token.withUnsafeBytes({ $0.allSatisfy { $0 > 0x20 && $0 < 0x7F } }) else {
                throw .unreadableAnswer(remote: remote.name, what: "approle login")
            }
            return token
        }
        token = login
        return login
    }

    static func tokenInfo(_ answer: Answer, remote: String, key: String) throws(OpenBaoError) -> TokenInfo {
        try answer.json { json, bytes throws(OpenBaoError) -> TokenInfo in
            guard let data = json[key], case .array(let list)? = data["policies"], list.count <= 256,
                  case .number(let ttl)? = data["ttl"], ttl >= 0, ttl < 1e12 else {
                throw .unreadableAnswer(remote: remote, what: "lookup-self")
            }
            var renewable = false
            if case .bool(let value)? = data["renewable"] { renewable = value }
            let policies = list.compactMap { $0.string(in: bytes).map { TerminalText.escape(String($0.prefix(128))) } }.sorted()
            return TokenInfo(policies: policies, ttl: Int(ttl), renewable: renewable)
        }
    }

    // MARK: The exchange

    /// One answer of OpenBao: its status and body (in wiped memory: a read holds a token).
    struct Answer {
        var status: Int
        var body: Secret
        var remote: String
        /// What was sent that OpenBao (or a proxy) might echo: a message holding one is not shown.
        var secrets: [Secret] = []

        /// The body parsed as a JSON object, handed to `read` with its bytes.
        func json<R>(_ read: (JSONValue, UnsafeRawBufferPointer) throws(OpenBaoError) -> R) throws(OpenBaoError) -> R {
            try body.withUnsafeBytes { bytes throws(OpenBaoError) -> R in
                guard let json = try? JSONValue.parse(bytes), case .object = json else {
                    throw .unreadableAnswer(remote: remote, what: "not JSON, status \(status)")
                }
                return try read(json, bytes)
            }
        }

        /// OpenBao's `errors`, joined and escaped (at most 300 characters); a placeholder when
        /// they hold a secret sent (the token, a secret id, a token written).
        var message: String {
            let text = errors
            let decoded = Array(text.utf8)
            let held = body.withUnsafeBytes { bytes in
                secrets.contains { secret in GitLab.holds(bytes, secret) || decoded.withUnsafeBytes { GitLab.holds($0, secret) } }
            }
            if held { return "(its message holds a secret that was sent: not shown)" }
            return TerminalText.escape(String(text.prefix(300)))
        }

        /// OpenBao's `errors` as it sent them, for matching only (never shown: see ``message``).
        var errors: String {
            body.withUnsafeBytes { bytes -> String in
                guard let json = try? JSONValue.parse(bytes), case .array(let errors)? = json["errors"] else { return "" }
                return errors.prefix(4).compactMap { $0.string(in: bytes) }.joined(separator: "; ")
            }
        }

        /// Throws the error a failure status means; 2xx passes. A 403 is the policy's (naming
        /// `path` and `operation`) unless `tokenCheck` finds the token itself refused.
        func refuse(remote: String, path: String, operation: String, tokenCheck: (() -> Bool)?) throws(OpenBaoError) {
            switch status {
            case 200...299: return
            case 403:
                if let tokenCheck, !tokenCheck() { throw .tokenRejected(remote: remote) }
                throw .denied(remote: remote, path: path, operation: operation)
            case 503 where errors.lowercased().contains("sealed"): throw .sealed(remote: remote)
            case 500...599 where Self.isStandby(errors): throw .standby(remote: remote)
            default: throw .server(remote: remote, status: status, message: message.isEmpty ? "no message" : message)
            }
        }

        static func isStandby(_ message: String) -> Bool {
            let lower = message.lowercased()
            return lower.contains("standby") || lower.contains("not active") || lower.contains("no active") || lower.contains("leader")
        }
    }

    /// Sends one request to each of the remote's URLs in turn while the request could not leave
    /// (nothing sent: no connection) or a node answered that it is sealed or a standby without
    /// a leader (nothing done); the first other answer or failure is the result.
    func send(_ method: HTTPRequest.Method, _ path: String, token: Secret?, body: [UInt8]? = nil,
              secretBody: Secret? = nil, hiding: [Secret] = []) throws(OpenBaoError) -> Answer {
        var secrets = hiding + (token.map { [$0] } ?? [])
        switch remote.credential {
        case .token(let token): secrets.append(token)
        case .appRole(_, let secretID): secrets.append(secretID)
        }
        var last: OpenBaoError = .unreachable(remote: remote.name, detail: "no URL", sent: false)
        for base in remote.urls {
            var timeout = timeout
            if let deadline {
                let left = ContinuousClock.now.duration(to: deadline).components.seconds
                guard left >= 1 else { throw .unreachable(remote: remote.name, detail: "no answer in time", sent: false) }
                timeout = min(timeout, Int(left))
            }
            var request = HTTPRequest(method: method, url: Self.trimmed(base) + "/v1/" + path, token: token ?? Secret(""),
                                      body: body, caFile: remote.caFile, timeout: timeout)
            request.secretBody = secretBody
            request.tokenHeader = "X-Vault-Token"
            request.allowsLoopbackHTTP = true
            request.connectTimeout = min(connectTimeout, timeout)
            request.headers = remote.namespace.map { ["X-Vault-Namespace: " + $0] } ?? []
            let response: HTTPResponse
            do {
                response = try transport.send(request)
            } catch {
                switch error {
                case .cannotConnect(let detail): last = .unreachable(remote: remote.name, detail: Self.short(detail), sent: false); continue
                case .tls(let detail): throw .tls(remote: remote.name, detail: Self.short(detail))
                case .timeout(let sent):
                    // A request that may have arrived is never sent again, anywhere.
                    if sent { throw .unreachable(remote: remote.name, detail: "no answer in \(timeout) s", sent: true) }
                    last = .unreachable(remote: remote.name, detail: "no connection in \(connectTimeout) s", sent: false)
                    continue
                case .failed(let detail, let sent):
                    // An answer past the transport's limit came whole from the server: unreadable.
                    if detail.contains("larger than") { throw .unreadableAnswer(remote: remote.name, what: "larger than 64 KiB") }
                    if sent { throw .unreachable(remote: remote.name, detail: Self.short(detail), sent: true) }
                    last = .unreachable(remote: remote.name, detail: Self.short(detail), sent: false)
                    continue
                }
            }
            let answer = Answer(status: response.status, body: response.body, remote: remote.name, secrets: secrets)
            // A sealed node, or a standby with no leader, did nothing: the next node may.
            if answer.status == 503 && answer.errors.lowercased().contains("sealed") { last = .sealed(remote: remote.name); continue }
            if (500...599).contains(answer.status) && Answer.isStandby(answer.errors) { last = .standby(remote: remote.name); continue }
            return answer
        }
        throw last
    }

    private static func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }

    private static func short(_ detail: String) -> String { TerminalText.escape(String(detail.prefix(200))) }
}
