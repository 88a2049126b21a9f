import TokenVault

/// GitLab's REST API for CI/CD variables (https://docs.gitlab.com/api/project_level_variables/
/// and https://docs.gitlab.com/api/group_level_variables/), for `Vault.pushToGitLab`:
///
/// - `GET /projects/:id/variables/:key?filter[environment_scope]=S`: the variable, or 404. A
///   hidden variable's `value` is null (GitLab never shows it again).
/// - `POST /projects/:id/variables`: creates it (201), with `masked`, `protected`,
///   `environment_scope` and, to hide it, `masked_and_hidden` (GitLab 17.4 and later; GitLab
///   hides a variable only when it creates it).
/// - `PUT /projects/:id/variables/:key?filter[environment_scope]=S`: updates it (200); `masked`
///   is not sent for a hidden variable, whose visibility GitLab refuses to change, and
///   `protected` only to protect it (a push never unprotects a variable).
/// - A GitLab that ignores the filter (group variables before GitLab 16.9) answers with another
///   scope's variable: that answer is refused, and nothing is written.
/// - The same under `/groups/:id/variables`.
///
/// The admin token goes in the `PRIVATE-TOKEN` header only; the value only in the JSON body,
/// built in wiped memory, never in the URL.
extension GitLab {
    /// What GitLab says of a variable.
    struct Variable {
        /// What it holds, as far as GitLab shows it.
        enum Content {
            /// Its value, in wiped memory.
            case value(Secret)
            /// GitLab does not show it (a hidden variable).
            case hidden
            /// A value with characters no token of the vault's holds (escapes this does not
            /// decode): none of the entry's tokens.
            case foreign
        }
        var content: Content
        /// GitLab hides its value (masked and hidden).
        var hidden: Bool
    }

    /// The variable, or nil when GitLab has none with its key and scope (404). An answer for
    /// another key or scope (a GitLab that ignores the filter), or without a value although
    /// the variable is not hidden, is refused.
    func variable(_ link: GitLabVariableLink, admin: Secret) throws(GitLabError) -> Variable? {
        let response = try exchange(.get, Self.variablePath(link) + Self.scopeFilter(link), admin: admin, operation: .verify)
        if response.status == 404 { return nil }
        try check(response, operation: .verify, hiding: [admin])
        return try response.body.withUnsafeBytes { bytes throws(GitLabError) in
            guard let json = try? JSONValue.parse(bytes), case .object = json else {
                throw GitLabError.unreadableAnswer(status: response.status, acted: false)
            }
            // GitLab always names the scope; a variable without one is at every scope ("*").
            let scope: String? = if let given = json["environment_scope"] { given.string(in: bytes) } else { "*" }
            guard json["key"]?.string(in: bytes) == link.key, scope == link.environmentScope else {
                throw GitLabError.otherVariable(written: false)
            }
            var hidden = false
            switch json["hidden"] {
            case .bool(let b)?: hidden = b
            case nil, .null?: break
            default: throw GitLabError.unreadableAnswer(status: response.status, acted: false)
            }
            switch json["value"] {
            case .string(let range, let escaped)?:
                let value = Self.unescaped(UnsafeRawBufferPointer(rebasing: bytes[range]), escaped: escaped)
                return Variable(content: value.map(Variable.Content.value) ?? .foreign, hidden: hidden)
            case nil, .null?:
                // No value for a variable GitLab does not hide: not GitLab's answer.
                guard hidden else { throw GitLabError.unreadableAnswer(status: response.status, acted: false) }
                return Variable(content: .hidden, hidden: true)
            default:
                throw GitLabError.unreadableAnswer(status: response.status, acted: false)
            }
        }
    }

    /// Creates the variable holding `value`; whether GitLab hid it (a GitLab older than 17.4
    /// ignores `masked_and_hidden` and only masks it).
    func createVariable(_ link: GitLabVariableLink, value: Secret, admin: Secret) throws(GitLabError) -> Bool {
        var fields = [("key", Self.json(link.key)), ("environment_scope", Self.json(link.environmentScope)),
                      ("protected", "\(link.protected)"), ("masked", "true")]
        if link.visibility == .hidden { fields.append(("masked_and_hidden", "true")) }
        let path = "/api/v4/\(link.owner.kind)s/\(Self.encoded(link.owner.path))/variables"
        let response = try exchange(.post, path, admin: admin, body: Self.body(value: value, fields), operation: .revoke)
        try check(response, operation: .revoke, hiding: [value, admin])
        return try Self.written(response, link)
    }

    /// Writes `value` into the existing variable; `hidden`: GitLab hides it (its masking is
    /// then left alone). A protected variable stays protected: `protected` is sent only to
    /// protect one (a link without `--protected` does not ask to expose the token to every
    /// branch).
    func updateVariable(_ link: GitLabVariableLink, value: Secret, admin: Secret, hidden: Bool) throws(GitLabError) {
        var fields: [(String, String)] = []
        if link.protected { fields.append(("protected", "true")) }
        if !hidden { fields.append(("masked", "true")) }
        let response = try exchange(.put, Self.variablePath(link) + Self.scopeFilter(link), admin: admin,
                                    body: Self.body(value: value, fields), operation: .revoke)
        try check(response, operation: .revoke, hiding: [value, admin])
        _ = try Self.written(response, link)
    }

    /// Whether GitLab hides the variable it says it wrote. Only GitLab's own answer, the
    /// variable with the link's key and scope, counts as written: anything else (a gateway's
    /// page with a 2xx) leaves the link pending, GitLab having perhaps acted.
    private static func written(_ response: HTTPResponse, _ link: GitLabVariableLink) throws(GitLabError) -> Bool {
        try response.body.withUnsafeBytes { bytes throws(GitLabError) in
            guard let json = try? JSONValue.parse(bytes), case .object = json, json["key"]?.string(in: bytes) == link.key else {
                throw GitLabError.unreadableAnswer(status: response.status, acted: true)
            }
            if let scope = json["environment_scope"], scope.string(in: bytes) != link.environmentScope { throw GitLabError.otherVariable(written: true) }
            if case .bool(let hidden)? = json["hidden"] { return hidden }
            return false
        }
    }

    // MARK: The exchange

    /// Sends one request authenticated by `admin`, with `body` (holding the value) if any. Any
    /// status comes back; the transport's failures are GitLab's errors.
    private func exchange(_ method: HTTPRequest.Method, _ path: String, admin: Secret, body: Secret? = nil,
                          operation: Operation) throws(GitLabError) -> HTTPResponse {
        // A header value cannot hold a line break (or a NUL): such a token is refused unsent.
        guard !admin.isEmpty, admin.withUnsafeBytes({ !$0.contains { $0 == 0x0A || $0 == 0x0D || $0 == 0 } }) else {
            throw .unusableToken
        }
        var request = HTTPRequest(method: method, url: base + path, token: admin, caFile: caFile, timeout: timeout)
        request.secretBody = body
        do {
            return try transport.send(request)
        } catch {
            throw GitLabError(error, host: api.host)
        }
    }

    /// A failure status as GitLab's error: a 401 without GitLab's body is a proxy's, and
    /// GitLab's message is dropped when it repeats one of `secrets` (the value or the admin
    /// token).
    private func check(_ response: HTTPResponse, operation: Operation, hiding secrets: [Secret]) throws(GitLabError) {
        guard !(200...299).contains(response.status) else { return }
        if response.status == 401 && !response.body.withUnsafeBytes(Self.isGitLabsRefusal) {
            throw GitLabError.proxyUnauthorized(host: api.host)
        }
        let message = response.body.withUnsafeBytes { Self.message(in: $0, hiding: secrets) }
        throw GitLabError(status: response.status, message: message, retryAfter: response.retryAfter, operation: operation)
    }

    /// `/api/v4/projects/team%2Fapp/variables/KEY`
    private static func variablePath(_ link: GitLabVariableLink) -> String {
        "/api/v4/\(link.owner.kind)s/\(encoded(link.owner.path))/variables/\(encoded(link.key))"
    }

    /// `?filter[environment_scope]=S`, so that a key defined for several environments names one.
    private static func scopeFilter(_ link: GitLabVariableLink) -> String {
        "?filter%5Benvironment_scope%5D=" + encoded(link.environmentScope)
    }

    /// Percent-encodes everything but letters, digits and `-._~` (a project's path becomes one
    /// segment: `team%2Fapp`, as GitLab asks).
    static func encoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    /// A JSON string literal of `text` (never a secret).
    package static func json(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{0}"..."\u{1F}": out += "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `{"value":"…",` then `fields` (already JSON) `}`, in wiped memory: the value is escaped
    /// byte by byte into it and never passes through a `String`. Another `head` (JSON up to the
    /// value's opening quote) and `close` put the value elsewhere (OpenBao's bodies).
    package static func body(value: Secret, _ fields: [(String, String)], head: String = "{\"value\":\"",
                             close: String = "}") -> Secret {
        let head = Array(head.utf8)
        let tail = Array(("\"" + fields.map { ",\(json($0.0)):\($0.1)" }.joined() + close).utf8)
        return Secret.filling(maxCount: head.count + value.count * 6 + tail.count) { buffer in
            var n = 0
            func put(_ byte: UInt8) { buffer[n] = byte; n += 1 }
            head.forEach(put)
            value.withUnsafeBytes { bytes in
                for byte in bytes {
                    switch byte {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"): put(UInt8(ascii: "\\")); put(byte)
                    case 0..<0x20:
                        let hex = Array("0123456789abcdef".utf8)
                        for b in Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]] { put(b) }
                    default: put(byte)
                    }
                }
            }
            tail.forEach(put)
            return n
        }
    }

    /// A JSON string's content as a secret, its escapes decoded (`\"`, `\\`, `\/`, the
    /// one-letter ones, and `\u00XX`); nil for anything else, which no token of the vault's
    /// holds.
    package static func unescaped(_ raw: UnsafeRawBufferPointer, escaped: Bool) -> Secret? {
        guard escaped else { return Secret(copying: raw) }
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            case 0x61...0x66: byte - 0x61 + 10
            default: nil
            }
        }
        var failed = false
        let secret = Secret.filling(maxCount: raw.count) { out in
            var i = 0, n = 0
            while i < raw.count {
                var byte = raw[i]
                i += 1
                if byte == UInt8(ascii: "\\") {
                    guard i < raw.count else { failed = true; break }
                    let next = raw[i]
                    i += 1
                    switch next {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): byte = next
                    case UInt8(ascii: "n"): byte = 0x0A
                    case UInt8(ascii: "t"): byte = 0x09
                    case UInt8(ascii: "r"): byte = 0x0D
                    case UInt8(ascii: "b"): byte = 0x08
                    case UInt8(ascii: "f"): byte = 0x0C
                    case UInt8(ascii: "u"):
                        // Read digit by digit: no character of the value goes into a String.
                        let digits = i + 4 <= raw.count ? (i..<i + 4).map { nibble(raw[$0]) } : []
                        guard digits.count == 4, digits[0] == 0, digits[1] == 0, let high = digits[2], let low = digits[3],
                              high < 8 else { failed = true; break }
                        byte = high << 4 | low
                        i += 4
                    default: failed = true
                    }
                    if failed { break }
                }
                out[n] = byte
                n += 1
            }
            return n
        }
        return failed ? nil : secret
    }
}
