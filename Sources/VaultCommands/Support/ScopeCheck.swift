import TokenVault
import VaultCLICommon

/// Scopes that GitLab or GitHub does not know get a warning (never a refusal: scopes change).
enum ScopeCheck {
    static func warn(_ entry: Entry) {
        for scope in Review.unknownScopes(entry.scopes, kind: entry.kind) {
            Output.warning("'\(scope)' is not a \(entry.kind == .gitlab ? "GitLab" : "GitHub") scope that TokenVault knows")
        }
    }
}
