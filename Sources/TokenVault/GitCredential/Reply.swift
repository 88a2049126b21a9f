/// What git's `get` is answered with from an entry: its token, and the OAuth refresh token git
/// stored with it.
package struct GitSecrets: Sendable {
    /// The entry's current token.
    package var token: Secret
    /// The OAuth refresh token git stored with the token, if any.
    package var refreshToken: Secret?

    /// The secrets of one entry.
    package init(token: Secret, refreshToken: Secret? = nil) {
        self.token = token
        self.refreshToken = refreshToken
    }
}

/// What the git helper answers to `get`: the lines for git, and the messages for the user, made
/// the same way whether the helper reads the vault itself or the agent reads it for the helper.
package struct GitReply: Sendable {
    /// The lines for git's stdout (none when nothing answers).
    package var answer: [GitCredential.AnswerPart] = []
    /// What to say on stderr, in order: warnings (expired, expiring soon, not usable), and
    /// notes for `--verbose`.
    package var messages: [Message] = []

    /// One line for the user on stderr.
    /// No entry matched and the vault has OpenBao remotes: the helper asks them (git's helper
    /// in Swift; the C front end hands the request to it).
    package var askRemotes = false

    package enum Message: Sendable, Equatable {
        /// Always shown (a token expired, expiring soon, or not usable).
        case warning(String)
        /// Shown with `--verbose` only (which entry was chosen, or that none was).
        case note(String)
    }

    /// The warnings among ``messages``, in order.
    package var warnings: [String] {
        messages.compactMap { if case .warning(let text) = $0 { text } else { nil } }
    }

    /// What to write to git's stdout: ``answer`` in one buffer, wiped when released. The one
    /// rendering of git's reply, for the helper and for the agent (which sends it to the C
    /// front end and to the helper as it is).
    public var stdout: Secret {
        let count = answer.reduce(0) { sum, part in
            switch part {
            case .text(let text): sum + text.utf8.count
            case .secret(let secret): sum + secret.count
            }
        }
        return Secret(storage: SecureBytes(count: count) { buffer in
            var offset = 0
            for part in answer {
                let next: Int
                switch part {
                case .text(let text):
                    next = offset + text.utf8.count
                    UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<next]).copyBytes(from: Array(text.utf8))
                case .secret(let secret):
                    next = offset + secret.count
                    secret.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<next]).copyMemory(from: $0) }
                }
                offset = next
            }
        })
    }

    /// A reply of nothing (as decoded from the agent, then filled in).
    init() {}

    /// The reply to `request`: the chosen entry's token (or, for an expired OAuth token, its
    /// refresh token) in the form git asked for, with the warnings and notes. `secret` holds the
    /// chosen entry's secrets (or the expired one's, for its refresh token); nil answers nothing.
    package init(request: GitCredential, selection: GitMatching.Selection, secret: GitSecrets?, now: Timestamp = .now()) {
        if selection.chosen == nil, let expired = selection.expired.first(where: { $0.authType == nil }),
           let refresh = secret?.refreshToken {
            // An expired OAuth token: its refresh token, for git's helper that renews it. Nothing
            // to warn about: renewing it is that helper's job.
            let username = expired.username ?? request.username ?? GitMatching.defaultUsername(for: expired.kind)
            messages.append(.note("git get: '\(expired.name)' expired: its refresh token given to git"))
            answer = GitCredential.answer(username: username, refreshToken: refresh) ?? []
            return
        }
        // Only when it leaves git without a token: one line, however many.
        if selection.chosen == nil || secret == nil, let first = selection.expired.first, let expired = first.expires {
            let others = selection.expired.count > 1 ? " (and \(selection.expired.count - 1) more)" : ""
            messages.append(.warning("'\(Redaction.redact(first.name))'\(others) expired on \(expired.dateString): not given to git"))
        }
        guard let chosen = selection.chosen, let secret else {
            messages.append(.note("git get: no entry for \(request.protocolName ?? "")://\(request.host ?? "")"))
            return
        }
        if selection.candidates.count > 1 {
            messages.append(.note("git get: '\(chosen.name)' chosen among \(selection.candidates.map { "'\($0.name)'" }.joined(separator: ", "))"))
        } else {
            messages.append(.note("git get: '\(chosen.name)'"))
        }
        // Soon to expire: a warning, unless the token renews itself (it came with a refresh
        // token, or lives a day or less, as OAuth tokens git stores do).
        let since = chosen.tokenSince ?? chosen.created
        if let expires = chosen.expires, expires <= now.adding(days: 7), secret.refreshToken == nil,
           expires.secondsSince1970 - since.secondsSince1970 > 86_400 {
            messages.append(.warning("the token '\(Redaction.redact(chosen.name))' expires on \(expires.dateString)"))
        }
        let username = chosen.username ?? request.username ?? GitMatching.defaultUsername(for: chosen.kind)
        let answer = if let authType = chosen.authType {
            GitCredential.answer(authtype: authType, credential: secret.token)
        } else {
            GitCredential.answer(username: username, password: secret.token, expiry: chosen.expires, refreshToken: secret.refreshToken)
        }
        guard let answer else {
            messages.append(.warning("'\(Redaction.redact(chosen.name))' holds a line break and cannot be given to git"))
            return
        }
        self.answer = answer
    }
}
