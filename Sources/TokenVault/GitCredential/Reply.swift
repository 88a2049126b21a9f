/// What the git helper answers to `get`: the lines for git, and the messages for the user, made
/// the same way whether the helper reads the vault itself or the agent reads it for the helper.
public struct GitReply: Sendable {
    /// The lines for git's stdout (none when nothing answers).
    public var answer: [GitCredential.AnswerPart] = []
    /// Warnings for stderr (expired, expiring soon, not usable).
    public var warnings: [String] = []
    /// What `--verbose` says.
    public var notes: [String] = []

    public init(request: GitCredential, selection: GitMatching.Selection, secret: Secret?, now: Timestamp = .now()) {
        if let first = selection.expired.first, let expired = first.expires {
            // One line, however many.
            let others = selection.expired.count > 1 ? " (and \(selection.expired.count - 1) more)" : ""
            warnings.append("'\(Redaction.displayName(first.name))'\(others) expired on \(expired.dateString): not given to git")
        }
        guard let chosen = selection.chosen, let secret else {
            notes.append("git get: no entry for \(request.protocolName ?? "")://\(request.host ?? "")")
            return
        }
        if selection.candidates.count > 1 {
            notes.append("git get: '\(chosen.name)' chosen among \(selection.candidates.map { "'\($0.name)'" }.joined(separator: ", "))")
        } else {
            notes.append("git get: '\(chosen.name)'")
        }
        if let expires = chosen.expires, expires <= now.adding(days: 7) {
            warnings.append("the token '\(Redaction.displayName(chosen.name))' expires on \(expires.dateString)")
        }
        let username = chosen.username ?? request.username ?? GitMatching.defaultUsername(for: chosen.kind)
        guard let answer = GitCredential.answer(username: username, password: secret, expiry: chosen.expires) else {
            warnings.append("'\(Redaction.displayName(chosen.name))' holds a line break and cannot be given to git")
            return
        }
        self.answer = answer
    }
}
