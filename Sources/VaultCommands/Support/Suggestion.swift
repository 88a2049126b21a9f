import TokenVault

/// Turns `not found` into `not found, did you mean ...?` when a name is close.
func withSuggestion<R>(_ vault: Vault, _ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch VaultError.notFound(let name, nil) {
        let names = (try? vault.names()) ?? []
        throw VaultError.notFound(name: name, suggestion: Suggestion.closest(to: name, in: names))
    }
}

enum Suggestion {
    /// The name nearest to `name` by edit distance, if it is close enough to be a typo.
    static func closest(to name: String, in names: [String]) -> String? {
        let target = Array(name)
        var best: (String, Int)?
        for candidate in names {
            let d = distance(target, Array(candidate))
            if d <= Swift.max(1, Swift.min(3, target.count / 3)), d < (best?.1 ?? .max) { best = (candidate, d) }
        }
        return best?.0
    }

    /// Edits (insert, delete, replace, or swap two neighbours) that turn `a` into `b`: `lsit`
    /// is one from `list`.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var earlier = Array(repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = Swift.min(current[j], earlier[j - 2] + 1)
                }
            }
            earlier = previous
            previous = current
        }
        return previous[b.count]
    }
}
