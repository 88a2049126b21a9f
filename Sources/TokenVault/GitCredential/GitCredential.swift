/// A credential description in git's credential helper protocol (`git help credential`,
/// "INPUT/OUTPUT FORMAT"): `key=value` lines up to a blank line or the end of input. Pure
/// parsing and formatting; the helper does the I/O.
///
/// Secrets (`password`, `oauth_refresh_token`) are copied straight from the input buffer into
/// `Secret`s; every other value is a `String`.
public struct GitCredential: Sendable {
    public var protocolName: String?
    /// The host, with `:port` when git gives one.
    public var host: String?
    public var path: String?
    public var username: String?
    public var password: Secret?
    public var passwordExpiry: Timestamp?
    public var oauthRefreshToken: Secret?
    public var wwwauth: [String] = []
    public var capabilities: [String] = []

    public init() {}

    /// The longest line accepted (git itself has no smaller limit for credential lines).
    public static let maximumLineLength = 65_536

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case missingEquals(line: Int)
        case emptyKey(line: Int)
        case tooLong(line: Int)
        case nul(line: Int)
        case badURL(line: Int)

        public var description: String {
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
    public static func parse(_ input: UnsafeRawBufferPointer) throws(ParseError) -> GitCredential {
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
        default: break  // Unknown attributes are ignored, as the protocol asks.
        }
    }

    /// `url=` stands for its parts: protocol, user name (and password), host with port, path.
    /// As in git, it replaces everything read before it, the user information ends at the first
    /// `@`, and every part is percent-decoded.
    private mutating func apply(url raw: UnsafeRawBufferPointer) -> Bool {
        let text = String(decoding: raw, as: UTF8.self)
        guard let schemeEnd = text.firstRange(of: "://") else { return false }
        let kept = (wwwauth, capabilities)
        self = GitCredential()
        (wwwauth, capabilities) = kept
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

    /// The answer to `get`: `username=`, `password=` and, with an expiry, `password_expiry_utc=`
    /// lines. Values holding a newline or NUL cannot be sent (they would corrupt the protocol),
    /// so nil is returned for them.
    public static func answer(username: String?, password: Secret, expiry: Timestamp?) -> [AnswerPart]? {
        var parts: [AnswerPart] = []
        if let username {
            // Bytes, not Characters: "\r\n" is one Character and would slip through.
            guard !username.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }) else { return nil }
            parts.append(.text("username=\(username)\n"))
        }
        guard !password.contains(byte: 0x0A), !password.contains(byte: 0x0D), !password.contains(byte: 0) else { return nil }
        parts.append(.text("password="))
        parts.append(.secret(password))
        parts.append(.text("\n"))
        if let expiry { parts.append(.text("password_expiry_utc=\(expiry.secondsSince1970)\n")) }
        return parts
    }

    /// A piece of output: text, or a secret to be written straight from secure memory.
    public enum AnswerPart: Sendable {
        case text(String)
        case secret(Secret)
    }
}
