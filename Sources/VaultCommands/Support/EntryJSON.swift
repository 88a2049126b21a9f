import TokenVault
import VaultCLICommon

enum EntryJSON {
    static func metadata(_ entry: Entry, secret: Secret? = nil) -> JSON.Value {
        var fields: [(String, JSON.Value)] = [
            ("name", .string(entry.name)),
            ("kind", .string(entry.kind.rawValue)),
            ("url", entry.url.map { .string($0.description) } ?? .null),
            ("host", entry.host.map { .string($0) } ?? .null),
            ("username", entry.username.map { .string($0) } ?? .null),
            ("scopes", .array(entry.scopes.map { .string($0) })),
            ("expires", entry.expires.map { .string($0.dateString) } ?? .null),
            ("expired", .bool(entry.isExpired())),
            ("notes", entry.notes.map { .string($0) } ?? .null),
            ("created", .string(entry.created.iso8601)),
            ("updated", .string(entry.updated.iso8601)),
            ("last_used", entry.lastUsed.map { .string($0.iso8601) } ?? .null),
            ("rejected", entry.rejected.map { .string($0.iso8601) } ?? .null),
            ("revoked", entry.revoked.map { .string($0.iso8601) } ?? .null),
            ("rotation_started", entry.rotationStarted.map { .string($0.iso8601) } ?? .null),
            ("git_default", .bool(entry.isGitDefault)),
            ("stored_by_git", .bool(entry.storedByGit)),
            ("rotate_every_days", entry.rotateEvery.map { .number($0.wholeDays) } ?? .null),
            ("deleted", entry.deleted.map { .string($0.iso8601) } ?? .null),
            ("gitlab_links", .array(entry.gitlabLinks.map(link))),
            ("gitlab_token_id", entry.gitlabToken.map { .number($0.id) } ?? .null),
        ]
        if let secret { fields.append(("secret", .string(secret.revealString()))) }
        return .object(fields)
    }

    /// A CI/CD variable link: `project` or `group`, `variable`, `environment_scope`,
    /// `protected`, `hidden`, `pushed`, `pending`, `pending_reason`.
    static func link(_ link: GitLabVariableLink) -> JSON.Value {
        .object([
            (link.owner.kind, .string(link.owner.path)),
            ("variable", .string(link.key)),
            ("environment_scope", .string(link.environmentScope)),
            ("protected", .bool(link.protected)),
            ("hidden", .bool(link.visibility == .hidden)),
            ("pushed", link.pushed.map { .string($0.iso8601) } ?? .null),
            ("pending", link.pending.map { .string($0.iso8601) } ?? .null),
            ("pending_reason", link.pendingReason.map { .string($0) } ?? .null),
        ])
    }
}
