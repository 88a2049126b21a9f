/// A credential found in a plain-text file, with the line it came from.
public struct ImportedCredential: Sendable {
    public var url: CredentialURL
    public var username: String?
    public var secret: Secret
    public var line: Int
}

/// Reads the plain-text credential files that TokenVault replaces. Pure parsing: a malformed
/// line is reported by its number only, never with its content (it may hold a secret).
public enum PlainTextCredentials {
    public struct Result: Sendable {
        public var credentials: [ImportedCredential] = []
        /// Line numbers that could not be read, with why.
        public var problems: [(line: Int, reason: String)] = []
    }

    /// `~/.git-credentials` as `git credential-store` writes it: one
    /// `scheme://user:password@host[:port][/path]` per line, user and password percent-encoded.
    public static func parseGitCredentials(_ bytes: UnsafeRawBufferPointer) -> Result {
        var result = Result()
        var lineNumber = 0
        forEachLine(bytes) { line in
            lineNumber += 1
            let text = Substring(String(decoding: line, as: UTF8.self))
            let trimmed = text.drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.isEmpty || trimmed.hasPrefix("#") { return }
            guard let schemeEnd = trimmed.firstRange(of: "://") else {
                result.problems.append((lineNumber, "not a URL")); return
            }
            let scheme = String(trimmed[..<schemeEnd.lowerBound]).lowercased()
            var rest = trimmed[schemeEnd.upperBound...]
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let authority = rest[..<slash]
            rest = rest[slash...]
            guard let at = authority.lastIndex(of: "@") else {
                result.problems.append((lineNumber, "no user name and password")); return
            }
            let userinfo = authority[..<at]
            let host = authority[authority.index(after: at)...]
            guard let colon = userinfo.firstIndex(of: ":"), !host.isEmpty, !scheme.isEmpty else {
                result.problems.append((lineNumber, "no password, or no host")); return
            }
            var password = Array(userinfo[userinfo.index(after: colon)...].removingPercentEncoding().utf8)
            guard !password.isEmpty else {
                result.problems.append((lineNumber, "an empty password")); return
            }
            let username = userinfo[..<colon].removingPercentEncoding()
            let path = rest.drop(while: { $0 == "/" }).removingPercentEncoding()
            result.credentials.append(ImportedCredential(
                url: CredentialURL(scheme: scheme, host: String(host), path: path.isEmpty ? nil : path),
                username: username.isEmpty ? nil : username, secret: Secret(consuming: &password), line: lineNumber))
        }
        return result
    }

    /// `~/.netrc`: `machine HOST login USER password SECRET` (any layout over lines), `default`,
    /// `account`, `macdef` (skipped up to the next blank line), `#` comments and quoted values.
    /// Each machine becomes an https credential for that host.
    public static func parseNetrc(_ bytes: UnsafeRawBufferPointer) -> Result {
        var result = Result()
        var tokens: [(text: String, line: Int)] = []
        var lineNumber = 0
        var inMacro = false
        forEachLine(bytes) { line in
            lineNumber += 1
            let text = String(decoding: line, as: UTF8.self)
            if inMacro {
                if text.allSatisfy({ $0 == " " || $0 == "\t" }) { inMacro = false }
                return
            }
            var current = ""
            var quoted = false
            var escaped = false
            var index = text.startIndex
            func flush() {
                if !current.isEmpty || quoted { tokens.append((current, lineNumber)) }
                current = ""
            }
            while index < text.endIndex {
                let c = text[index]
                if escaped { current.append(c); escaped = false }
                else if quoted && c == "\\" { escaped = true }
                else if c == "\"" { if quoted { tokens.append((current, lineNumber)); current = ""; quoted = false } else { quoted = true } }
                else if quoted { current.append(c) }
                else if c == "#" && current.isEmpty { break }
                else if c == " " || c == "\t" { flush() }
                else { current.append(c) }
                index = text.index(after: index)
            }
            if !quoted { flush() } else { result.problems.append((lineNumber, "an unterminated quote")); quoted = false; current = "" }
            if tokens.last?.text == "macdef" || (tokens.count >= 2 && tokens[tokens.count - 2].text == "macdef") {
                inMacro = true
            }
        }
        var index = 0
        func value() -> (text: String, line: Int)? {
            guard index + 1 < tokens.count else { return nil }
            index += 1
            return tokens[index]
        }
        var machine: (host: String, line: Int)?
        var login: String?
        var password: [UInt8]?
        func finish() {
            defer { machine = nil; login = nil; password = nil }
            guard let m = machine else { return }
            guard var secret = password, !secret.isEmpty else {
                result.problems.append((m.line, "machine without a password")); return
            }
            result.credentials.append(ImportedCredential(
                url: CredentialURL(scheme: "https", host: m.host), username: login,
                secret: Secret(consuming: &secret), line: m.line))
        }
        while index < tokens.count {
            let token = tokens[index]
            switch token.text {
            case "machine":
                finish()
                guard let host = value() else { result.problems.append((token.line, "machine without a name")); break }
                machine = (host.text, token.line)
            case "default":
                finish()
                result.problems.append((token.line, "a 'default' entry names no host, so it is not imported"))
                // Skip its login, password and account.
                while index + 1 < tokens.count, ["login", "password", "account"].contains(tokens[index + 1].text) { index += 2 }
            case "login": login = value()?.text
            case "password": password = value().map { Array($0.text.utf8) }
            case "account": _ = value()
            case "macdef": _ = value()
            default:
                result.problems.append((token.line, "an unknown word (not shown)"))
            }
            index += 1
        }
        finish()
        return result
    }

    private static func forEachLine(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            if line.last == UInt8(ascii: "\r") { line = UnsafeRawBufferPointer(rebasing: line[0..<line.count - 1]) }
            body(line)
            start = end + 1
        }
    }
}
