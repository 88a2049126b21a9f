import TokenVault

/// GitLab's REST API for a personal access token acting on itself
/// (https://docs.gitlab.com/api/personal_access_tokens/):
///
/// - `GET /api/v4/personal_access_tokens/self`: what the token is (scopes, expiry, state).
/// - `POST /api/v4/personal_access_tokens/self/rotate` (GitLab 16.10 and later; the `api` or
///   `self_rotate` scope): a new token in `token`; the old one is revoked at once. Rotating a
///   token that was already revoked revokes its whole family, so a rotation is never retried.
/// - `DELETE /api/v4/personal_access_tokens/self`: revokes the token (204).
///
/// The token travels in the `PRIVATE-TOKEN` header only, over HTTPS only. The API is at
/// ``api`` (`https://host/api/v4`, or `https://host/gitlab/api/v4` for a GitLab installed under
/// `/gitlab`).
public struct GitLab: Sendable {
    /// What carries the requests (`TokenVaultHTTP`'s `CurlTransport`, or a test's own).
    public let transport: any HTTPTransport
    /// `https://host[:port][/path]`: the instance's root, which the API's paths (`/api/v4/...`)
    /// follow.
    public let base: String
    /// Where the API is (the host the token goes to, and the path GitLab is installed under).
    public let api: GitLabAPIURL
    /// Trust only the certificate authorities in this PEM file; nil: the system's.
    public var caFile: String?
    /// Seconds GitLab is given to answer each request.
    public var timeout: Int

    /// The GitLab instance at `url`: its host, installed under its path
    /// (``GitLabAPIURL/init(entryURL:)``: a repository's path means the root of the host).
    public init(url: CredentialURL, transport: any HTTPTransport, caFile: String? = nil, timeout: Int = 30) throws(GitLabError) {
        self.init(api: try GitLabAPIURL(entryURL: url), transport: transport, caFile: caFile, timeout: timeout)
    }

    /// The GitLab instance whose API is at `api`.
    public init(api: GitLabAPIURL, transport: any HTTPTransport, caFile: String? = nil, timeout: Int = 30) {
        self.api = api
        self.base = api.root
        self.transport = transport
        self.caFile = caFile
        self.timeout = timeout
    }

    /// What GitLab says of a token.
    public struct TokenInfo: Sendable, Equatable {
        /// GitLab's id of the token.
        public var id: Int64?
        /// The token's name at GitLab, fit to print.
        public var name: String?
        /// Its scopes (GitLab's words only: anything else is dropped).
        public var scopes: [String]
        /// The day it expires; nil: never.
        public var expires: Timestamp?
        /// Whether GitLab accepts it now (neither revoked nor expired).
        public var active: Bool
        /// Whether it was revoked.
        public var revoked: Bool
        /// When GitLab last saw it used, as GitLab wrote it, fit to print.
        public var lastUsed: String?
        /// ``lastUsed`` as an instant; nil when GitLab never saw it used, or wrote no time
        /// this reads (`2026-12-01T10:00:00.000Z`).
        public var lastUsedAt: Timestamp?
        /// The addresses GitLab last saw it used from (`last_used_ips`, GitLab 17.9 and later):
        /// only text shaped like an IPv4 or IPv6 address is kept, at most ten.
        public var lastUsedIPs: [String] = []
        /// When GitLab created it.
        public var created: Timestamp?
    }

    /// A rotation's answer: the successor token, and what GitLab says of it.
    public struct Rotated: Sendable {
        /// What GitLab says of the new token.
        public var info: TokenInfo
        /// The new token, in wiped memory.
        public var token: Secret
    }

    /// Asks GitLab what `token` is (`GET /api/v4/personal_access_tokens/self`): 401
    /// (``GitLabError/unauthorized``) when it is revoked, expired or unknown.
    public func verify(_ token: Secret) throws(GitLabError) -> TokenInfo {
        let response = try send(.get, "/api/v4/personal_access_tokens/self", token: token, operation: .verify)
        return try response.body.withUnsafeBytes { bytes throws(GitLabError) in try Self.info(bytes, status: response.status) }
    }

    /// Reads the record of the token GitLab knows as `id` (`GET /api/v4/personal_access_tokens/:id`),
    /// authenticated by `reader`, another token: GitLab shows a user's own tokens to any of
    /// that user's tokens, and every token to an instance administrator's; to anyone else it
    /// answers 404 (as for no such token). The token read is not sent, so this request is not
    /// counted as its use. An answer about another id is not taken.
    public func record(id: Int64, reader: Secret) throws(GitLabError) -> TokenInfo {
        let response = try send(.get, "/api/v4/personal_access_tokens/\(id)", token: reader, operation: .verify)
        let info = try response.body.withUnsafeBytes { bytes throws(GitLabError) in try Self.info(bytes, status: response.status) }
        guard info.id == id else { throw .unreadableAnswer(status: response.status, acted: false) }
        return info
    }

    /// Rotates the token: GitLab revokes it and answers with its successor, which has the same
    /// name and scopes and expires at `expires` (GitLab's default, a week, when nil).
    ///
    /// One call sends one request, never retried. A failure after which GitLab may have
    /// rotated anyway says so in ``GitLabError/mayHaveActed``. To rotate a vault's entry safely
    /// (marked first, stored on arrival, settled later), use `Vault.rotateAtGitLab(_:using:expiry:)`.
    public func rotate(_ token: Secret, expires: Timestamp?) throws(GitLabError) -> Rotated {
        var body: [UInt8]?
        if let expires { body = Array("{\"expires_at\":\"\(expires.dateString)\"}".utf8) }
        let response = try send(.post, "/api/v4/personal_access_tokens/self/rotate", token: token, body: body, operation: .rotate)
        return try response.body.withUnsafeBytes { bytes throws(GitLabError) in
            // GitLab rotated the token: from here on, a failure loses the new token. Only a
            // token shaped like one is stored (printable ASCII, no spaces).
            guard let json = try? JSONValue.parse(bytes), case .string(let range, let escaped)? = json["token"], !escaped,
                  (8...1024).contains(range.count), bytes[range].allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw GitLabError.unreadableAnswer(status: response.status, acted: true)
            }
            // The token is what matters: an answer without the rest of the token's description
            // still keeps it (the scopes stay as they were, the expiry as asked), rather than
            // losing a token GitLab already made and revoking its predecessor for nothing.
            let info = (try? Self.info(bytes, status: response.status))
                ?? TokenInfo(id: nil, name: nil, scopes: [], expires: json["expires_at"]?.string(in: bytes)
                                .flatMap { Timestamp(date: String($0.prefix(10))) } ?? expires,
                             active: true, revoked: false, lastUsed: nil)
            return Rotated(info: info, token: Secret(copying: UnsafeRawBufferPointer(rebasing: bytes[range])))
        }
    }

    /// Revokes the token.
    public func revoke(_ token: Secret) throws(GitLabError) {
        _ = try send(.delete, "/api/v4/personal_access_tokens/self", token: token, operation: .revoke)
    }

    // MARK: The exchange

    enum Operation { case verify, rotate, revoke }

    private func send(_ method: HTTPRequest.Method, _ path: String, token: Secret, body: [UInt8]? = nil,
                      operation: Operation) throws(GitLabError) -> HTTPResponse {
        // A header value cannot hold a line break (or a NUL): such a token is refused unsent.
        guard !token.isEmpty, token.withUnsafeBytes({ !$0.contains { $0 == 0x0A || $0 == 0x0D || $0 == 0 } }) else {
            throw .unusableToken
        }
        let request = HTTPRequest(method: method, url: base + path, token: token, body: body, caFile: caFile, timeout: timeout)
        let response: HTTPResponse
        do {
            response = try transport.send(request)
        } catch {
            throw GitLabError(error, host: api.host)
        }
        switch response.status {
        case 200...299:
            return response
        case 401 where !response.body.withUnsafeBytes(Self.isGitLabsRefusal):
            // Not GitLab's words: a proxy or gateway in front of it asked for its own sign-in.
            // The token was not judged, so nothing is concluded of it.
            throw GitLabError.proxyUnauthorized(host: api.host)
        default:
            let message = response.body.withUnsafeBytes { Self.message(in: $0, hiding: [token]) }
            throw GitLabError(status: response.status, message: message, retryAfter: response.retryAfter, operation: operation)
        }
    }

    static func info(_ bytes: UnsafeRawBufferPointer, status: Int) throws(GitLabError) -> TokenInfo {
        // A token's description, or not GitLab's answer at all (a proxy's or a sign-in page's
        // 200): then nothing is concluded from it.
        guard let json = try? JSONValue.parse(bytes), case .object = json, case .array(let items)? = json["scopes"],
              case .bool(let active)? = json["active"], case .number(let n)? = json["id"], let id = Int64(exactly: n) else {
            throw GitLabError.unreadableAnswer(status: status, acted: false)
        }
        // Scopes are words of GitLab's: anything else (a terminal's escape sequences) is dropped.
        let scopes = items.compactMap { $0.string(in: bytes) }.filter { scope in
            !scope.isEmpty && scope.utf8.count <= 64 && scope.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
        }
        var revoked = false
        if case .bool(let b)? = json["revoked"] { revoked = b }
        let lastUsed = json["last_used_at"]?.string(in: bytes)
        var ips: [String] = []
        if case .array(let items)? = json["last_used_ips"] {
            ips = Array(items.compactMap { $0.string(in: bytes) }.filter(GitLabActivity.isAddress).prefix(10))
        }
        return TokenInfo(id: id, name: json["name"]?.string(in: bytes).map(Self.printable), scopes: scopes,
                         expires: json["expires_at"]?.string(in: bytes).flatMap { Timestamp(date: String($0.prefix(10))) },
                         active: active, revoked: revoked,
                         lastUsed: lastUsed.map { Self.printable(String($0.prefix(64))) },
                         lastUsedAt: lastUsed.flatMap(GitLabActivity.instant), lastUsedIPs: ips,
                         created: json["created_at"]?.string(in: bytes).flatMap(GitLabActivity.instant))
    }

    /// Whether a 401's body is GitLab's: a JSON object with a `message` (`{"message":"401
    /// Unauthorized"}`) or an `error` (`{"error":"invalid_token",...}`, for a revoked or
    /// expired token) that is a string.
    static func isGitLabsRefusal(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let json = try? JSONValue.parse(bytes), case .object = json else { return false }
        return json["message"]?.string(in: bytes) != nil || json["error"]?.string(in: bytes) != nil
    }

    /// GitLab's own words from an error answer (`message` or `error`), cut short and with
    /// anything shaped like a token masked; none when the answer repeats one of `secrets` (the
    /// request's token, or a variable's value), which then reaches no message.
    static func message(in bytes: UnsafeRawBufferPointer, hiding secrets: [Secret] = []) -> String? {
        guard let json = try? JSONValue.parse(bytes) else { return nil }
        func words(_ value: JSONValue) -> String {
            if case .array(let items) = value { return items.compactMap { $0.string(in: bytes) }.joined(separator: ", ") }
            return value.string(in: bytes) ?? ""
        }
        var text: String?
        for key in ["message", "error_description", "error"] where text == nil {
            text = json[key]?.string(in: bytes)
            if text == nil, case .object(let members)? = json[key] {
                // {"message":{"value":["is invalid"]}}: "value is invalid".
                text = members.map { "\($0.key) \(words($0.value))" }.joined(separator: "; ")
            }
        }
        guard let text, !text.isEmpty else { return nil }
        let decoded = Array(text.utf8)
        if secrets.contains(where: { secret in holds(bytes, secret) || decoded.withUnsafeBytes { holds($0, secret) } }) { return nil }
        return Redaction.redact(printable(String(text.prefix(200))))
    }

    /// Whether `secret`'s bytes occur in `bytes`.
    public static func holds(_ bytes: UnsafeRawBufferPointer, _ secret: Secret) -> Bool {
        secret.withUnsafeBytes { needle in
            guard let first = needle.first, needle.count <= bytes.count else { return false }
            return (0...(bytes.count - needle.count)).contains { start in
                bytes[start] == first && UnsafeRawBufferPointer(rebasing: bytes[start..<(start + needle.count)]).elementsEqual(needle)
            }
        }
    }

    /// Text from GitLab, fit to print: every control or format character (escape sequences,
    /// C1 controls, bidirectional overrides) becomes a space.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator: " "
            default: scalar
            }
        }))
    }
}

/// Why GitLab did not do what was asked. `acted` says whether GitLab may have done it anyway
/// (the request may have reached it): for a rotation, whether the old token may be revoked.
public enum GitLabError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is not https: nothing is sent.
    case notHTTPS(String)
    /// The host or a proxy could not be reached: nothing was sent.
    case cannotConnect(host: String, detail: String)
    /// The TLS handshake failed: nothing was sent.
    case tls(host: String, detail: String)
    /// No answer in time; `sent`: the request may have reached GitLab.
    case timeout(host: String, sent: Bool)
    /// The connection broke; `sent`: the request may have reached GitLab.
    case broken(host: String, detail: String, sent: Bool)
    /// 401 in GitLab's words: the token is invalid, expired or revoked.
    case unauthorized
    /// 401 without GitLab's JSON error body: a proxy or gateway in front of GitLab refused the
    /// request (its own sign-in), so nothing is known of the token and nothing is marked.
    case proxyUnauthorized(host: String)
    /// 403: the token lacks a scope (rotation needs `api` or `self_rotate`).
    case forbidden(String?, rotation: Bool)
    /// 404 or 405: not a personal access token, or a GitLab older than the endpoint.
    case notAvailable(status: Int, rotation: Bool)
    /// 429, with the seconds GitLab asks to wait when it says.
    case rateLimited(retryAfter: String?)
    /// 400 or 422, with GitLab's message.
    case badRequest(String?)
    /// Any other failure status; `acted`: GitLab may have done it anyway.
    case server(status: Int, String?, acted: Bool)
    /// An answer that is not GitLab's (a proxy's, a sign-in page); `acted`: GitLab may have
    /// done it anyway (a rotation whose answer is unreadable lost its new token).
    case unreadableAnswer(status: Int, acted: Bool)
    /// The stored token holds a line break or a NUL: it cannot go in a header.
    case unusableToken
    /// GitLab answered about another CI/CD variable than the one asked for (another key, or
    /// another environment scope: a GitLab that ignores `filter[environment_scope]`); `written`:
    /// in answer to a write (which then went to that variable), else nothing was written.
    case otherVariable(written: Bool)

    init(_ error: TransportError, host: String) {
        switch error {
        case .cannotConnect(let detail): self = .cannotConnect(host: host, detail: detail)
        case .tls(let detail): self = .tls(host: host, detail: detail)
        case .timeout(let sent): self = .timeout(host: host, sent: sent)
        case .failed(let detail, let sent): self = .broken(host: host, detail: detail, sent: sent)
        }
    }

    init(status: Int, message: String?, retryAfter: String?, operation: GitLab.Operation) {
        switch status {
        case 401: self = .unauthorized
        case 403: self = .forbidden(message, rotation: operation == .rotate)
        case 404, 405: self = .notAvailable(status: status, rotation: operation == .rotate)
        case 429: self = .rateLimited(retryAfter: retryAfter)
        case 400, 422: self = .badRequest(message)
        // A rotation that failed inside GitLab may have revoked the old token first.
        case 500...: self = .server(status: status, message, acted: operation != .verify)
        default: self = .server(status: status, message, acted: operation != .verify)
        }
    }

    /// Whether GitLab may have acted on the request although no usable answer came back.
    public var mayHaveActed: Bool {
        switch self {
        case .timeout(_, let sent), .broken(_, _, let sent): sent
        case .server(_, _, let acted), .unreadableAnswer(_, let acted): acted
        default: false
        }
    }

    /// One line for a person, without the token.
    public var description: String {
        switch self {
        case .notHTTPS(let url):
            "'\(url)' is not an https URL: the token is sent to GitLab only over HTTPS"
        case .cannotConnect(let host, let detail):
            "cannot reach \(host) (\(detail)): check the network, the host name, or the proxy (https_proxy)"
        case .tls(let host, let detail):
            "the TLS connection to \(host) failed (\(detail)): for a GitLab behind a private certificate authority, pass --ca-file with its certificate"
        case .timeout(let host, let sent):
            sent ? "\(host) did not answer in time after the request was sent" : "\(host) could not be reached in time (nothing was sent)"
        case .broken(let host, let detail, let sent):
            "the connection to \(host) broke (\(detail))" + (sent ? " after the request was sent" : " before the request was sent")
        case .unauthorized:
            "GitLab refused the token (401): it is invalid, expired or revoked"
        case .proxyUnauthorized(let host):
            "authentication failed at a proxy: a 401 for \(host) came without GitLab's answer (a proxy or sign-in gateway in front of GitLab refused the request); nothing is known of the token, and nothing was marked"
        case .forbidden(let message, let rotation):
            "GitLab refused the request (403" + (message.map { ": \($0)" } ?? "") + ")"
                + (rotation ? ": a token rotates itself only with the api or self_rotate scope" : ": the token lacks a scope this needs")
        case .notAvailable(let status, let rotation):
            "GitLab has no such endpoint (\(status)): the token is not a personal access token (group, project and deploy tokens cannot do this), or GitLab is too old"
                + (rotation ? " (rotating a token by itself needs GitLab 16.10 or later)" : " (GitLab 15.5 or later)")
        case .rateLimited(let retryAfter):
            "GitLab is rate-limiting requests (429)" + (retryAfter.map { ": try again in \($0) s" } ?? ": try again later")
        case .badRequest(let message):
            "GitLab refused the request (400)" + (message.map { ": \($0)" } ?? "")
        case .server(let status, let message, _):
            "GitLab failed (\(status))" + (message.map { ": \($0)" } ?? "")
        case .unreadableAnswer(let status, _):
            "GitLab's answer (\(status)) could not be read (is a proxy or a sign-in page answering for GitLab?)"
        case .unusableToken:
            "the stored token holds a line break or a NUL, so it cannot be sent: nothing was sent"
        case .otherVariable(let written):
            "GitLab answered with another variable than the one asked for (another key or environment scope: group variables before GitLab 16.9 ignore the scope asked for)"
                + (written ? ", after writing the token into it: check the variable's scopes at GitLab" : ", so nothing was written")
        }
    }
}
