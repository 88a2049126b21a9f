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

/// A new passphrase typed at the terminal that is short enough to guess gets a warning (one
/// from a file, a descriptor or the environment is a script's choice, and stays quiet).
enum ShortPassphrase {
    static func warn(_ passphrase: Secret, typed: Bool) {
        guard typed, AddDefaults.isShort(passphrase) else { return }
        Output.warning("the passphrase is shorter than \(AddDefaults.shortPassphrase) characters: anyone who gets the vault file can guess it offline")
    }
}
