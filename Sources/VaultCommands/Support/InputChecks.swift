import ArgumentParser
import TokenVault

/// Checks that the words after a command's own arguments are not a token: a token never
/// belongs in argv, where `ps` and shell history see it.
func refuseExtraArguments(_ extra: [String]) throws {
    guard !extra.isEmpty else { return }
    // A ValidationError: the parser reports it with exit code 64, and its hint for a token.
    if extra.contains(where: Redaction.looksLikeToken) {
        throw ValidationError("a token is never accepted on the command line (ps and shell history would show it)")
    }
    let listed = extra.map { "'\($0)'" }.joined(separator: ", ")
    throw ValidationError("unexpected argument\(extra.count > 1 ? "s" : ""): \(listed)")
}

/// Runs input checks for `validate()`: a library error about input becomes a usage error
/// (exit code 64).
func checkingInput(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as VaultError {
        throw ValidationError(error.description)
    }
}
