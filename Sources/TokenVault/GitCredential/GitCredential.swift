/// A credential description in git's credential helper protocol (`git help credential`,
/// "INPUT/OUTPUT FORMAT"): `key=value` lines up to a blank line or the end of input. Pure
/// parsing and formatting; the helper does the I/O.
///
/// Secrets (`password`, `oauth_refresh_token`) are copied straight from the input buffer into
/// `Secret`s; every other value is a `String`.
package struct GitCredential: Sendable {
    /// git's `protocol` (`https`, ...).
    package var protocolName: String?
    /// The host, with `:port` when git gives one.
    package var host: String?
    /// git's `path`: the repository path, sent when `credential.useHttpPath` is set.
    package var path: String?
    /// git's `username`.
    package var username: String?
    /// git's `password`: the token, in a `store` or `erase`.
    package var password: Secret?
    /// git's `password_expiry_utc`; nil when absent or out of the years 1 to 9999.
    package var passwordExpiry: Timestamp?
    /// git's `oauth_refresh_token`, stored with the password it came with.
    package var oauthRefreshToken: Secret?
    /// git's `wwwauth[]`: the server's `WWW-Authenticate` headers, kept in order.
    package var wwwauth: [String] = []
    /// git's `capability[]`: what this git understands (`authtype`, `state`).
    package var capabilities: [String] = []
    /// git 2.46 and later, with `capability[]=authtype`: a scheme (`Bearer`) and the whole
    /// credential for its `Authorization` header, instead of a user name and password.
    package var authtype: String?
    /// git's `credential`: with `authtype`, the whole value for the `Authorization` header.
    package var credential: Secret?
    /// A credential git will not want again (a one-time token): never stored.
    package var ephemeral = false
    /// Opaque values for multistage schemes (`state[]`): kept for the record, never acted on.
    package var state: [String] = []

    /// Whether git announced `capability[]=NAME` (for example `authtype`).
    package func announces(_ capability: String) -> Bool { capabilities.contains(capability) }

    /// The scheme of an `authtype` credential git asks to store (only from a git that announced
    /// the capability, with a credential).
    package var storedAuthType: String? {
        guard announces("authtype"), let authtype, !authtype.isEmpty, credential != nil else { return nil }
        return authtype
    }

    /// An empty description, every key absent.
    package init() {}

    /// The longest line accepted (git itself has no smaller limit for credential lines).
    package static let maximumLineLength = 65_536

    /// Why a description is refused, by line number: never with the line itself, which may hold a
    /// secret.
    package enum ParseError: Error, Equatable, CustomStringConvertible {
        /// A line has no `=`.
        case missingEquals(line: Int)
        /// A line starts with `=`.
        case emptyKey(line: Int)
        /// A line is longer than ``GitCredential/maximumLineLength``.
        case tooLong(line: Int)
        /// A line holds a NUL byte.
        case nul(line: Int)
        /// A `url` line's value is not a URL.
        case badURL(line: Int)

        /// A one-line message naming the line, never its content.
        package var description: String {
            switch self {
            case .missingEquals(let line): "invalid credential line \(line): no '=' (the line is not shown, it may hold a secret)"
            case .emptyKey(let line): "invalid credential line \(line): empty key"
            case .tooLong(let line): "invalid credential line \(line): longer than \(GitCredential.maximumLineLength) bytes"
            case .nul(let line): "invalid credential line \(line): contains a NUL byte"
            case .badURL(let line): "invalid credential line \(line): 'url' is not a URL"
            }
        }
    }

    /// Parses a description. Unknown keys are ignored; `key[]=` with an empty value clears a
    /// multi-valued key, as git does.
    package static func parse(_ input: UnsafeRawBufferPointer) throws(ParseError) -> GitCredential {
        var credential = GitCredential()
        var start = 0
        var lineNumber = 0
        while start < input.count {
            lineNumber += 1
            var end = start
            while end < input.count && input[end] != UInt8(ascii: "\n") { end += 1 }
            var line = UnsafeRawBufferPointer(rebasing: input[start..<end])
            start = end + 1
            if line.last == UInt8(ascii: "\r") { line = UnsafeRawBufferPointer(rebasing: line[0..<line.count - 1]) }
            if line.isEmpty { break }
            guard line.count <= maximumLineLength else { throw .tooLong(line: lineNumber) }
            guard !line.contains(0) else { throw .nul(line: lineNumber) }
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { throw .missingEquals(line: lineNumber) }
            guard equals > 0 else { throw .emptyKey(line: lineNumber) }
            let key = String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<equals]), as: UTF8.self)
            let raw = UnsafeRawBufferPointer(rebasing: line[(equals + 1)...])
            switch key {
            case "password": credential.password = Secret(copying: raw)
            case "oauth_refresh_token": credential.oauthRefreshToken = Secret(copying: raw)
            case "credential": credential.credential = Secret(copying: raw)
            case "url":
                guard credential.apply(url: raw) else { throw .badURL(line: lineNumber) }
            default:
                credential.set(key, String(decoding: raw, as: UTF8.self))
            }
        }
        return credential
    }

    private mutating func set(_ key: String, _ value: String) {
        switch key {
        case "protocol": protocolName = value
        case "host": host = value
        case "path": path = value
        case "username": username = value
        case "password_expiry_utc":
            // Only instants a date can be written for; anything else is ignored, as git does with
            // a value it cannot parse.
            passwordExpiry = Int64(value).flatMap { (Timestamp.earliest...Timestamp.latest).contains($0) ? Timestamp(secondsSince1970: $0) : nil }
        case "wwwauth[]": if value.isEmpty { wwwauth = [] } else { wwwauth.append(value) }
        case "capability[]": if value.isEmpty { capabilities = [] } else { capabilities.append(value) }
        case "authtype": authtype = value
        case "ephemeral": ephemeral = ["1", "true", "yes", "on"].contains(value.lowercased())
        case "state[]": if value.isEmpty { state = [] } else { state.append(value) }
        default: break  // Unknown attributes are ignored, as the protocol asks.
        }
    }

    /// `url=` stands for its parts: protocol, user name (and password), host with port, path.
    /// As in git, it replaces everything read before it, the user information ends at the first
    /// `@`, and every part is percent-decoded.
    private mutating func apply(url raw: UnsafeRawBufferPointer) -> Bool {
        let text = String(decoding: raw, as: UTF8.self)
        guard let schemeEnd = text.firstRange(of: "://") else { return false }
        let kept = self
        self = GitCredential()
        (wwwauth, capabilities, authtype, credential, ephemeral, state) =
            (kept.wwwauth, kept.capabilities, kept.authtype, kept.credential, kept.ephemeral, kept.state)
        protocolName = String(text[..<schemeEnd.lowerBound])
        var rest = text[schemeEnd.upperBound...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<slash]
        rest = rest[slash...]
        if let at = authority.firstIndex(of: "@") {
            let userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                username = userinfo[..<colon].removingPercentEncoding()
                // The password part of a URL: decoded into secure memory.
                var bytes = Array(userinfo[userinfo.index(after: colon)...].removingPercentEncoding().utf8)
                password = Secret(consuming: &bytes)
            } else {
                username = userinfo.removingPercentEncoding()
            }
        }
        host = authority.removingPercentEncoding()
        var trimmed = rest.drop(while: { $0 == "/" })
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        path = trimmed.isEmpty ? nil : trimmed.removingPercentEncoding()
        return !authority.isEmpty
    }

    /// The answer to `get`: `username=`, `password=` and, when known, `password_expiry_utc=` and
    /// `oauth_refresh_token=` lines. Values holding a newline or NUL cannot be sent (they would
    /// corrupt the protocol), so nil is returned for them.
    package static func answer(username: String?, password: Secret, expiry: Timestamp?,
                              refreshToken: Secret? = nil) -> [AnswerPart]? {
        var parts: [AnswerPart] = []
        if let username {
            guard fits(username) else { return nil }
            parts.append(.text("username=\(username)\n"))
        }
        guard fits(password) else { return nil }
        parts += [.text("password="), .secret(password), .text("\n")]
        if let expiry { parts.append(.text("password_expiry_utc=\(expiry.secondsSince1970)\n")) }
        if let refreshToken, !refreshToken.isEmpty {
            guard fits(refreshToken) else { return nil }
            parts += [.text("oauth_refresh_token="), .secret(refreshToken), .text("\n")]
        }
        return parts
    }

    /// The answer to `get` for an expired OAuth token: the user name and the refresh token only.
    /// git (2.41 and later) passes the refresh token to the helper that renews it.
    package static func answer(username: String?, refreshToken: Secret) -> [AnswerPart]? {
        var parts: [AnswerPart] = []
        if let username {
            guard fits(username) else { return nil }
            parts.append(.text("username=\(username)\n"))
        }
        guard fits(refreshToken) else { return nil }
        return parts + [.text("oauth_refresh_token="), .secret(refreshToken), .text("\n")]
    }

    /// The answer to `get` for a git that announced `capability[]=authtype`: the capability
    /// announced back, the scheme and the credential.
    package static func answer(authtype: String, credential: Secret) -> [AnswerPart]? {
        guard fits(authtype), !authtype.isEmpty, fits(credential) else { return nil }
        return [.text("capability[]=authtype\nauthtype=\(authtype)\ncredential="), .secret(credential), .text("\n")]
    }

    /// Whether a value can stand on one line of the protocol (bytes, not Characters: "\r\n" is
    /// one Character and would slip through).
    private static func fits(_ text: String) -> Bool {
        !text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 })
    }

    private static func fits(_ secret: Secret) -> Bool {
        !secret.contains(byte: 0x0A) && !secret.contains(byte: 0x0D) && !secret.contains(byte: 0)
    }

    /// A piece of output: text, or a secret to be written straight from secure memory.
    package enum AnswerPart: Sendable {
        /// Text to write as it is (keys, `=`, line ends, values that are not secret).
        case text(String)
        /// A secret value, to write from its secure memory without a `String` copy.
        case secret(Secret)
    }
}
