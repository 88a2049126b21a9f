extension GitMatching {
    /// ``GitMatching/sameHost(as:in:)`` for many requests against the same entries: the entries
    /// filed by protocol and host once, so that each request costs the entries of its host, not
    /// all of them (`vault import` asks once per line of the file).
    package struct HostIndex {
        private struct Key: Hashable {
            var scheme: String
            var host: String
        }

        /// Each entry's position in the list it was made from, filed by its URL's scheme and host.
        private var positions: [Key: [Int]] = [:]
        private var entries: [Entry] = []

        /// An index of `entries`, which keep their order.
        package init(_ entries: [Entry] = []) {
            for entry in entries { append(entry) }
        }

        /// Adds `entry` after the others.
        package mutating func append(_ entry: Entry) {
            if let url = entry.url { positions[Key(scheme: url.scheme, host: url.host), default: []].append(entries.count) }
            entries.append(entry)
        }

        /// The same entries, in the same order, as `GitMatching.sameHost(as: request, in: entries)`.
        package func sameHost(as request: GitCredential) -> [Entry] {
            guard let scheme = request.protocolName?.lowercased(), let host = request.host else { return [] }
            let wanted = normalise(host: host, scheme: scheme)
            // Entries keep their host in lower case: only a default port may differ.
            var found = positions[Key(scheme: scheme, host: wanted)] ?? []
            if let defaultPort = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nil,
               let withPort = positions[Key(scheme: scheme, host: wanted + defaultPort)] {
                found = (found + withPort).sorted()
            }
            return found.map { entries[$0] }
        }
    }
}
