extension GitMatching {
    /// Positions in a list of entries filed by their URL's protocol and host, so that a request
    /// costs the entries of its host, not all of them: the agent keeps one beside its cached
    /// entries (git's `get` against 10,000 entries), and ``HostIndex`` is one with its entries.
    package struct HostPositions: Sendable {
        private struct Key: Hashable {
            var scheme: String
            var host: String
        }

        private var positions: [Key: [Int]] = [:]

        /// The positions of `entries` by host.
        package init(_ entries: [Entry] = []) {
            for (position, entry) in entries.enumerated() { add(entry, at: position) }
        }

        /// Files `entry` as the one at `position`.
        package mutating func add(_ entry: Entry, at position: Int) {
            if let url = entry.url { positions[Key(scheme: url.scheme, host: url.host), default: []].append(position) }
        }

        /// The positions, in increasing order, of the entries that
        /// `GitMatching.sameHost(as: request, in: entries)` finds.
        package func positions(sameHostAs request: GitCredential) -> [Int] {
            guard let scheme = request.protocolName?.lowercased(), let host = request.host else { return [] }
            let wanted = normalise(host: host, scheme: scheme)
            // Entries keep their host in lower case: only a default port may differ.
            var found = positions[Key(scheme: scheme, host: wanted)] ?? []
            if let defaultPort = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nil,
               let withPort = positions[Key(scheme: scheme, host: wanted + defaultPort)] {
                found = (found + withPort).sorted()
            }
            return found
        }
    }

    /// ``GitMatching/sameHost(as:in:)`` for many requests against the same entries: the entries
    /// filed by protocol and host once, so that each request costs the entries of its host, not
    /// all of them (`vault import` asks once per line of the file).
    package struct HostIndex {
        private var positions = HostPositions()
        private var entries: [Entry] = []

        /// An index of `entries`, which keep their order.
        package init(_ entries: [Entry] = []) {
            for entry in entries { append(entry) }
        }

        /// Adds `entry` after the others.
        package mutating func append(_ entry: Entry) {
            positions.add(entry, at: entries.count)
            entries.append(entry)
        }

        /// The same entries, in the same order, as `GitMatching.sameHost(as: request, in: entries)`.
        package func sameHost(as request: GitCredential) -> [Entry] {
            positions.positions(sameHostAs: request).map { entries[$0] }
        }
    }
}
