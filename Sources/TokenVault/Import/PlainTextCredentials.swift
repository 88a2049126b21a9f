/// A credential found in a plain-text file, with the line it came from.
package struct ImportedCredential: Sendable {
    /// Where the credential is used.
    package var url: CredentialURL
    /// The user name, if the line had one.
    package var username: String?
    /// The password or token.
    package var secret: Secret
    /// The line it was read from, counting from 1.
    package var line: Int
}

/// Reads the plain-text credential files that TokenVault replaces. Pure parsing: a malformed
/// line is reported by its number only, never with its content (it may hold a secret).
package enum PlainTextCredentials {
    /// What a file held: the credentials read, and the lines that could not be.
    package struct Result: Sendable {
        /// The credentials read, in the file's order.
        package var credentials: [ImportedCredential] = []
        /// Line numbers that could not be read, with why.
        package var problems: [(line: Int, reason: String)] = []
    }

    /// `~/.git-credentials` as `git credential-store` writes it: one
    /// `scheme://user:password@host[:port][/path]` per line, user and password percent-encoded.
    package static func parseGitCredentials(_ bytes: UnsafeRawBufferPointer) -> Result {
        var result = Result()
        // Every token is held until the import commits: in a few guarded regions, not a mapping each.
        let arena = SecretArena()
        var lineNumber = 0
        forEachLine(bytes) { line in
            lineNumber += 1
            let text = Substring(String(decoding: line, as: UTF8.self))
            var trimmed = text.drop(while: { $0 == " " || $0 == "\t" })
            while trimmed.last == " " || trimmed.last == "\t" { trimmed = trimmed.dropLast() }
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
            // Decoded to bytes, not through a String, so that no byte of the password changes.
            var password = Array(userinfo[userinfo.index(after: colon)...].utf8).percentDecoded()
            guard !password.isEmpty else {
                result.problems.append((lineNumber, "an empty password")); return
            }
            let username = userinfo[..<colon].removingPercentEncoding()
            if let problem = fieldProblem(username: username, host: String(host)) {
                Sodium.wipe(&password)
                result.problems.append((lineNumber, problem)); return
            }
            let path = rest.drop(while: { $0 == "/" }).removingPercentEncoding()
            result.credentials.append(ImportedCredential(
                url: CredentialURL(scheme: scheme, host: String(host), path: path.isEmpty ? nil : path),
                username: username.isEmpty ? nil : username, secret: Secret(consuming: &password, in: arena), line: lineNumber))
        }
        return result
    }

    /// `~/.netrc`: `machine HOST login USER password SECRET` (any layout over lines), `default`,
    /// `account`, `macdef NAME` (its body, up to the next blank line, is skipped), `#` comment
    /// lines and quoted values. Each machine becomes an https credential for that host. A word
    /// out of place drops the machine it is in and is reported, so nothing is imported wrong.
    package static func parseNetrc(_ bytes: UnsafeRawBufferPointer) -> Result {
        var result = Result()
        // Every token is held until the import commits: in a few guarded regions, not a mapping each.
        let arena = SecretArena()
        var tokens: [(text: String, line: Int)] = []
        var lineNumber = 0
        var inMacro = false
        forEachLine(bytes) { line in
            lineNumber += 1
            let text = String(decoding: line, as: UTF8.self)
            let blank = text.allSatisfy { $0 == " " || $0 == "\t" }
            if inMacro {
                if blank { inMacro = false }
                return
            }
            // A comment is a line whose first word starts with '#' (as curl reads it).
            if blank || text.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("#") { return }
            var lineTokens: [String] = []
            var current = ""
            var quoted = false, escaped = false, inToken = false
            for c in text {
                if quoted {
                    if escaped { current.append(c); escaped = false }
                    else if c == "\\" { escaped = true }
                    else if c == "\"" { quoted = false }
                    else { current.append(c) }
                } else if c == " " || c == "\t" {
                    if inToken { lineTokens.append(current); current = ""; inToken = false }
                } else if c == "\"" && !inToken {
                    quoted = true; inToken = true
                } else {
                    current.append(c); inToken = true
                }
            }
            if quoted { result.problems.append((lineNumber, "an unterminated quote")); return }
            if inToken { lineTokens.append(current) }
            tokens += lineTokens.map { ($0, lineNumber) }
            // The macro's body starts on the next line.
            if lineTokens.contains("macdef") { inMacro = true }
        }

        let keywords: Set<String> = ["machine", "default", "login", "password", "account", "macdef"]
        var index = 0
        var machine: (host: String, line: Int)?
        var inDefault = false
        var login: String?
        var password: [UInt8]?
        func drop(_ line: Int, _ reason: String) {
            result.problems.append((line, reason))
            if machine != nil { result.problems.append((machine!.line, "this machine was not imported")) }
            machine = nil; login = nil; password = nil
        }
        func finish() {
            defer { machine = nil; login = nil; password = nil; inDefault = false }
            guard let m = machine else { return }
            guard var secret = password, !secret.isEmpty else {
                result.problems.append((m.line, "machine without a password")); return
            }
            if let problem = fieldProblem(username: login, host: m.host) {
                Sodium.wipe(&secret)
                result.problems.append((m.line, problem)); return
            }
            result.credentials.append(ImportedCredential(
                url: CredentialURL(scheme: "https", host: m.host), username: login,
                secret: Secret(consuming: &secret, in: arena), line: m.line))
        }
        func value() -> String? {
            guard index + 1 < tokens.count, !keywords.contains(tokens[index + 1].text) else { return nil }
            index += 1
            return tokens[index].text
        }
        while index < tokens.count {
            let token = tokens[index]
            switch token.text {
            case "machine":
                finish()
                guard let host = value(), !host.isEmpty else { drop(token.line, "machine without a name"); break }
                machine = (host, token.line)
            case "default":
                finish()
                inDefault = true
                result.problems.append((token.line, "a 'default' entry names no host, so it is not imported"))
            case "login", "password", "account":
                guard let v = value() else { drop(token.line, "'\(token.text)' without a value"); break }
                if inDefault { break }
                guard machine != nil else { result.problems.append((token.line, "'\(token.text)' outside a machine")); break }
                // A second login or password in one machine is ambiguous: import neither.
                if (token.text == "login" && login != nil) || (token.text == "password" && password != nil) {
                    drop(token.line, "a second '\(token.text)' in one machine"); break
                }
                if token.text == "login" { login = v } else if token.text == "password" { password = Array(v.utf8) }
            case "macdef":
                _ = value()
            default:
                drop(token.line, "an unknown word (not shown)")
            }
            index += 1
        }
        finish()
        return result
    }

    /// Why a credential's user name or host cannot be stored (the vault's rules), or nil.
    private static func fieldProblem(username: String?, host: String) -> String? {
        if let username, (try? Entry.validate(username: username)) == nil { return "a control character in the user name" }
        if (try? Entry.validate(host: host)) == nil { return "a control character in the host" }
        return nil
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
