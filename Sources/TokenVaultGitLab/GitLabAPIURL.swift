import TokenVault

/// Where a GitLab instance serves its REST API: `https://host[:port][/path]/api/v4`. GitLab
/// installed under a path (`https://host/gitlab`, its `relative_url_root`) serves it under that
/// path. Parsed from a person's text (`--api-url`, `vault config`) or from an entry's URL, so
/// everything is checked: https only, a host, a path of plain URL characters, no user, query
/// or fragment.
public struct GitLabAPIURL: Sendable, Hashable, CustomStringConvertible {
    /// The host in lower case, with `:port` when the URL names one: the host the token goes to.
    public let host: String
    /// The path GitLab is installed under, without slashes at either end; empty at the root.
    public let prefix: String

    /// The API's URL as text, `https://host[:port][/prefix]/api/v4`.
    public var description: String { root + "/api/v4" }

    /// `https://host[:port][/prefix]`: the instance's root, without a slash at the end.
    public var root: String { "https://" + host + (prefix.isEmpty ? "" : "/" + prefix) }

    /// Parses an API URL, which ends in `/api/v4` (`https://git.example.com/gitlab/api/v4`).
    public init(parsing text: String) throws(GitLabAPIURLError) {
        guard text.utf8.count <= 2048 else { throw .malformed }
        guard text.lowercased().hasPrefix("https://") else {
            throw text.contains("://") ? .notHTTPS : .malformed
        }
        var rest = Substring(text.dropFirst(8))
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let host = String(rest[..<slash]).lowercased()
        var path = String(rest[slash...].drop { $0 == "/" })
        guard path == "api/v4" || path.hasSuffix("/api/v4") else { throw .noAPIPath }
        path.removeLast(path == "api/v4" ? 6 : 7)
        try self.init(host: host, prefix: path)
    }

    /// The API of the instance at `host` (`host:port`), installed under `prefix` (a path
    /// without slashes at either end, or empty).
    public init(host: String, prefix: String) throws(GitLabAPIURLError) {
        let hostBytes = Array(host.utf8)
        guard !hostBytes.isEmpty, hostBytes.count <= 255, hostBytes.allSatisfy(Self.isHostByte) else { throw .malformed }
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") {
            guard let port = Int(host[host.index(after: colon)...]), (1...65_535).contains(port) else { throw .malformed }
        }
        // Empty segments are slashes at an end or doubled; "." and ".." would leave the path.
        let segments = prefix.split(separator: "/", omittingEmptySubsequences: false)
        guard prefix.utf8.count <= 1024, prefix.utf8.allSatisfy(Self.isPathByte),
              prefix.isEmpty || !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { throw .malformed }
        self.host = host.lowercased()
        self.prefix = prefix
    }

    /// The API of the GitLab at an entry's URL: its host, and its path as the path GitLab is
    /// installed under (`https://host/gitlab` → `https://host/gitlab/api/v4`). A path that
    /// names a repository (ending in `.git`, as git stores it) says nothing of where GitLab is
    /// installed: then the root of the host.
    public init(entryURL url: CredentialURL) throws(GitLabError) {
        guard url.scheme == "https" else { throw .notHTTPS(url.description) }
        var prefix = url.path ?? ""
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if prefix.hasSuffix(".git") { prefix = "" }
        do { try self.init(host: url.host, prefix: prefix) } catch {
            // A host or path that no API URL could hold (spaces, quotes): the root of the host,
            // or, when even the host is unusable, the same refusal as for any unusable URL.
            do { try self.init(host: url.host, prefix: "") } catch { throw .notHTTPS(url.description) }
        }
    }

    /// Letters, digits and `.-:[]` (a name, an IPv4 or bracketed IPv6 address, a port).
    private static func isHostByte(_ b: UInt8) -> Bool {
        (0x61...0x7A).contains(b) || (0x41...0x5A).contains(b) || (0x30...0x39).contains(b) || ".-:[]".utf8.contains(b)
    }

    /// RFC 3986's unreserved characters and `/`: nothing that would need escaping, or could
    /// carry a query, a fragment or a user.
    private static func isPathByte(_ b: UInt8) -> Bool {
        (0x61...0x7A).contains(b) || (0x41...0x5A).contains(b) || (0x30...0x39).contains(b) || "-._~/".utf8.contains(b)
    }
}

/// Why text is not a GitLab API URL.
public enum GitLabAPIURLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not `https`: the token is sent only over HTTPS.
    case notHTTPS
    /// It does not end in `/api/v4`.
    case noAPIPath
    /// No host, a bad port, or characters a URL path does not hold plainly (a query, a user).
    case malformed

    /// One line for a person.
    public var description: String {
        switch self {
        case .notHTTPS: "a GitLab API URL is https: the token is sent to GitLab only over HTTPS"
        case .noAPIPath: "a GitLab API URL ends in /api/v4 (https://host/api/v4, or https://host/gitlab/api/v4 for a GitLab installed under /gitlab)"
        case .malformed: "not a GitLab API URL: https://host[:port][/path]/api/v4, with no user, query or fragment"
        }
    }
}
