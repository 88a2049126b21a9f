import TokenVault

/// One HTTPS request to GitLab, and what carries it. The library defines what it needs of a
/// transport; `TokenVaultHTTP` provides one on libcurl, so that this module links no HTTP stack
/// (and tests can bring their own).
public struct HTTPRequest: Sendable {
    /// The HTTP methods GitLab's token and CI/CD variable endpoints use.
    public enum Method: String, Sendable { case get = "GET", post = "POST", delete = "DELETE", put = "PUT" }

    /// The method.

    public var method: Method
    /// `https://host[:port]/api/v4/...`: never carries the token.
    public var url: String
    /// Sent in the `PRIVATE-TOKEN` header, and nowhere else.
    public var token: Secret
    /// A JSON body (never a secret), sent with `Content-Type: application/json`.
    public var body: [UInt8]?
    /// A JSON body that holds a secret (a CI/CD variable's value), in wiped memory: sent in
    /// place of `body`, read where it lies (never copied by the transport).
    public var secretBody: Secret?
    /// Trust only the certificate authorities in this PEM file (a self-hosted GitLab behind a
    /// private CA); nil: the system's.
    public var caFile: String?
    /// Seconds for the whole exchange.
    public var timeout: Int
    /// The header that carries `token` (`PRIVATE-TOKEN` for GitLab, `X-Vault-Token` for
    /// OpenBao); an empty token sends no such header.
    public var tokenHeader = "PRIVATE-TOKEN"
    /// Further headers, `Name: value`, never a secret (OpenBao's `X-Vault-Namespace`).
    public var headers: [String] = []
    /// Plain `http://` is allowed too, to a loopback address only (an OpenBao dev server or a
    /// cluster on this machine); everything else is HTTPS.
    public var allowsLoopbackHTTP = false
    /// Seconds to wait for the connection (and TLS), at most `timeout`; nil: 10.
    public var connectTimeout: Int?

    /// A request for `url`, carrying `token` in its `PRIVATE-TOKEN` header.
    public init(method: Method, url: String, token: Secret, body: [UInt8]? = nil, caFile: String? = nil, timeout: Int = 30) {
        self.method = method
        self.url = url
        self.token = token
        self.body = body
        self.caFile = caFile
        self.timeout = timeout
    }
}

/// GitLab's answer.
public struct HTTPResponse: Sendable {
    /// The HTTP status.
    public var status: Int
    /// The body, in wiped memory: a rotation's answer holds the new token.
    public var body: Secret
    /// The `Retry-After` header, when there is one (429).
    public var retryAfter: String?

    /// An answer with `status` and `body`.
    public init(status: Int, body: Secret, retryAfter: String? = nil) {
        self.status = status
        self.body = body
        self.retryAfter = retryAfter
    }
}

/// Why no answer came. `sent` says whether the request may have reached GitLab: what a
/// rotation's caller must know about the old token.
public enum TransportError: Error, Sendable, Equatable {
    /// The host or a proxy could not be reached (DNS, refused, unreachable): nothing was sent.
    case cannotConnect(String)
    /// The TLS handshake failed (an untrusted certificate, a wrong host name): nothing was sent.
    case tls(String)
    /// No answer in time.
    case timeout(sent: Bool)
    /// The connection broke, or the answer could not be read.
    case failed(String, sent: Bool)
}

/// What carries a request to GitLab and its answer back. An implementation sends each request
/// once (never retries it: a retried rotation would revoke the token it created) and says in
/// ``TransportError`` whether a failed request may have been sent.
public protocol HTTPTransport: Sendable {
    /// Sends `request` once and returns the whole answer.
    func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse
}
