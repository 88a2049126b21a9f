/// Which entry answers a git credential request.
///
/// - Protocol and host (with port) must match exactly (a default port, `:443` for https or
///   `:80` for http, is the same as none).
/// - A user name, when git sends one, must match the entry's; an entry without one answers only
///   the user name `get` gives for its kind (`oauth2` for GitLab, `x-access-token` for GitHub),
///   which is the one git sends back when it stores what it got.
/// - A path, when git sends one (`credential.useHttpPath`), must match the entry's path; an
///   entry without a path serves every path of its host, after the entries with that path.
/// - Rejected entries, revoked ones and those in the trash never answer.
/// - An entry stored with an `authtype` (a Bearer credential) answers only a git that announces
///   `capability[]=authtype`.
/// - Among the rest, the choice is deterministic: the exact path first (or, when git sends no
///   path, an entry for the whole host before one for a single repository), then the entry marked
///   as the host's git default, then the most recently used, then the most recently updated,
///   then the name.
package enum GitMatching {
    /// What answers git's `get`: the entry chosen, the candidates it was chosen among (chosen
    /// first), and the entries that would have matched but have expired (never given to git).
    package struct Selection: Sendable {
        /// The entry that answers, or nil when none does.
        package var chosen: Entry? { candidates.first }
        /// Every unexpired entry that matches, in the order of preference (the chosen one first).
        package var candidates: [Entry]
        /// The entries that match but have expired: never given to git, named in a warning.
        package var expired: [Entry]
    }

    /// The selection for `request` among `entries` (those in the trash take no part).
    package static func select(for request: GitCredential, in entries: [Entry], now: Timestamp) -> Selection {
        let matching = candidates(for: request, in: entries)
        return Selection(candidates: matching.filter { !$0.isExpired(at: now) },
                         expired: matching.filter { $0.isExpired(at: now) })
    }

    /// The entries that may answer `request`, best first (never one in the trash or rejected).
    package static func candidates(for request: GitCredential, in entries: [Entry]) -> [Entry] {
        let path = requestPath(request)
        let matching = sameHost(as: request, in: entries).compactMap { entry -> (entry: Entry, path: String?)? in
            guard entry.deleted == nil, entry.rejected == nil, entry.revoked == nil, answers(entry, request) else { return nil }
            return (entry, entry.url?.path.map(normalise(path:)))
        }
        return matching.sorted { a, b in
            if let path {
                let aExact = a.path == path
                let bExact = b.path == path
                if aExact != bExact { return aExact }
            } else if (a.path == nil) != (b.path == nil) {
                // No path from git: an entry for the whole host before one for a repository.
                return a.path == nil
            }
            if a.entry.isGitDefault != b.entry.isGitDefault { return a.entry.isGitDefault }
            let aUsed = a.entry.lastUsed?.secondsSince1970 ?? .min, bUsed = b.entry.lastUsed?.secondsSince1970 ?? .min
            if aUsed != bUsed { return aUsed > bUsed }
            if a.entry.updated != b.entry.updated { return a.entry.updated > b.entry.updated }
            return a.entry.name < b.entry.name
        }.map(\.entry)
    }

    /// Whether `entry` (of the request's protocol and host) is one `get` may answer `request`
    /// with, whatever its state: the same form (an `authtype` credential only for a git that
    /// announces the capability), a user name that matches (or none, where git sends the one
    /// `get` answers for the entry's kind), and a path that matches (an entry without a path
    /// serves every path of its host; a request without one, every entry). `store` uses the
    /// same rule to recognise a credential git got from `get` and stores back.
    static func answers(_ entry: Entry, _ request: GitCredential) -> Bool {
        if entry.authType != nil && !request.announces("authtype") { return false }
        if let username = request.username, !username.isEmpty, entry.username != username {
            guard entry.username == nil, username == defaultUsername(for: entry.kind) else { return false }
        }
        if let path = requestPath(request), let entryPath = entry.url?.path.map(normalise(path:)), entryPath != path { return false }
        return true
    }

    /// The request's path, normalised; nil when git sent none (or an empty one).
    static func requestPath(_ request: GitCredential) -> String? {
        request.path.map(normalise(path:)).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The entries that store what git sends: same protocol, host, user name and path (all
    /// exact; no user name and no path are values of their own), and a credential of the same
    /// form (an `authtype` one, or a user name and password), whether or not rejected. The
    /// password only decides what a store does to such an entry.
    package static func sameIdentity(as request: GitCredential, in entries: [Entry]) -> [Entry] {
        let path = requestPath(request)
        let authType = request.storedAuthType
        return sameHost(as: request, in: entries).filter { entry in
            entry.username == request.username && entry.url?.path.map(normalise(path:)) == path
                && (entry.authType == nil) == (authType == nil)
        }.sorted { $0.name < $1.name }
    }

    /// The user name git should send with a token when the entry names none: any name works
    /// with a GitLab or GitHub token; these are the ones their documentation uses.
    package static func defaultUsername(for kind: TokenKind) -> String? {
        switch kind {
        case .gitlab: "oauth2"
        case .github: "x-access-token"
        case .generic: nil
        }
    }

    /// A readable name for a credential git stores: `host`, or `user@host`, with the path
    /// when there is one, made unique against `taken` with `-2`, `-3`, ...
    package static func generatedName(for request: GitCredential, taken: Set<String>) -> String {
        var suffixes: [String: Int] = [:]
        return generatedName(for: request, taken: taken, suffixes: &suffixes)
    }

    /// ``generatedName(for:taken:)`` for many names in a row, each added to `taken` before the
    /// next: `suffixes` remembers, for each name, the suffix to try next, so that the thousandth
    /// credential for one host does not try `-2` to `-1000` again.
    package static func generatedName(for request: GitCredential, taken: Set<String>, suffixes: inout [String: Int]) -> String {
        var base = request.host.map { normalise(host: $0, scheme: request.protocolName?.lowercased() ?? "") } ?? "git"
        if let username = request.username, !username.isEmpty { base = username + "@" + base }
        if let path = request.path.map(normalise(path:)), !path.isEmpty { base += "/" + path }
        let allowed = base.unicodeScalars.map { s -> Character in
            switch s {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-", "@", ":", "+", "/": Character(s)
            default: "_"
            }
        }
        var name = String(String(allowed).prefix(120))
        while name.hasPrefix("-") { name.removeFirst() }
        if name.isEmpty || (try? Entry.validate(name: name)) == nil { name = "git-credential" }
        if !taken.contains(name) { return name }
        var n = suffixes[name] ?? 2
        while taken.contains("\(name)-\(n)") { n += 1 }
        suffixes[name] = n + 1
        return "\(name)-\(n)"
    }

    static func normalise(host: String, scheme: String) -> String {
        let lower = host.lowercased()
        let defaultPort = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nil
        if let defaultPort, lower.hasSuffix(defaultPort) { return String(lower.dropLast(defaultPort.count)) }
        return lower
    }

    /// Entries for the request's protocol and host, whatever their user name, path or state.
    package static func sameHost(as request: GitCredential, in entries: [Entry]) -> [Entry] {
        guard let scheme = request.protocolName?.lowercased(), let host = request.host else { return [] }
        let wanted = normalise(host: host, scheme: scheme)
        let defaultPort = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nil
        return entries.filter { entry in
            guard let url = entry.url, url.scheme == scheme else { return false }
            // Entries keep their host in lower case: only a default port may differ.
            if url.host == wanted { return true }
            guard let defaultPort, url.host.utf8.count == wanted.utf8.count + defaultPort.utf8.count else { return false }
            return url.host.hasPrefix(wanted) && url.host.hasSuffix(defaultPort)
        }
    }

    /// A repository path as matching compares it: without leading or trailing slashes, nor a
    /// trailing `.git`.
    package static func normalise(path: String) -> String {
        var p = Substring(path)
        while p.hasPrefix("/") { p = p.dropFirst() }
        while p.hasSuffix("/") { p = p.dropLast() }
        if p.hasSuffix(".git") { p = p.dropLast(4) }
        return String(p)
    }
}
