import Testing
@testable import TokenVault

/// The indexes that make whole-vault passes (`vault check`, `vault import`) one pass: they give
/// what the pairwise comparisons they replace gave.
@Suite struct WholeVaultPassTests {
    func entry(_ name: String, _ url: String) throws -> Entry {
        Entry(name: name, url: try CredentialURL.parse(url).url)
    }

    func request(_ proto: String, _ host: String) -> GitCredential {
        var r = GitCredential()
        r.protocolName = proto
        r.host = host
        return r
    }

    @Test func aSecretIndexFindsEqualSecretsInTheOrderTheyWereFiled() {
        var index = SecretIndex<String>()
        index.insert("a", holding: Secret("same"))
        index.insert("b", holding: Secret("other"))
        index.insert("c", holding: Secret("same"))
        #expect(index.values(holding: Secret("same")) == ["a", "c"])
        #expect(index.values(holding: Secret("other")) == ["b"])
        #expect(index.values(holding: Secret("sam")).isEmpty)
        #expect(index.values(holding: Secret("")).isEmpty)
    }

    @Test func theHostIndexAnswersAsSameHostDoes() throws {
        let entries = [
            try entry("a", "https://gitlab.com"), try entry("b", "https://gitlab.com:443/group/repo"),
            try entry("c", "http://gitlab.com"), try entry("d", "https://gitlab.com:8443"),
            try entry("e", "https://other.example"), Entry(name: "f"), try entry("g", "https://gitlab.com"),
            try entry("h", "http://gitlab.com:80"),
        ]
        var grown = GitMatching.HostIndex()
        for entry in entries { grown.append(entry) }
        for index in [GitMatching.HostIndex(entries), grown] {
            for r in [request("https", "gitlab.com"), request("HTTPS", "GitLab.com:443"), request("http", "gitlab.com"),
                      request("https", "gitlab.com:8443"), request("https", "nowhere"), request("ssh", "gitlab.com"),
                      request("http", "gitlab.com:80")] {
                #expect(index.sameHost(as: r).map(\.name) == GitMatching.sameHost(as: r, in: entries).map(\.name))
            }
            #expect(index.sameHost(as: request("https", "gitlab.com")).map(\.name) == ["a", "b", "g"])
            #expect(index.sameHost(as: GitCredential()).isEmpty)
        }
    }

    @Test func namesForManyCredentialsOfOneHostCountOnFromTheLastSuffix() {
        let r = request("https", "gitlab.com")
        var taken: Set<String> = ["gitlab.com-3"]
        var suffixes: [String: Int] = [:]
        var names: [String] = []
        for _ in 0..<5 {
            let name = GitMatching.generatedName(for: r, taken: taken, suffixes: &suffixes)
            #expect(name == GitMatching.generatedName(for: r, taken: taken))
            taken.insert(name)
            names.append(name)
        }
        #expect(names == ["gitlab.com", "gitlab.com-2", "gitlab.com-4", "gitlab.com-5", "gitlab.com-6"])
        #expect(suffixes["gitlab.com"] == 7)
    }

    /// The review reads every row the header lists: a row deleted from the file is tampering,
    /// as it is for `entries()`, not a vault with one token fewer.
    @Test(arguments: Backend.allCases)
    func reviewRefusesAVaultWithARowDeleted(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, through: backend)
        try vault.add([Token(entry: Entry(name: "a"), secret: Secret("one")), Token(entry: Entry(name: "b"), secret: Secret("two"))])
        _ = try vault.reviewTokens()
        try withDatabase(folder.vaultPath) { db in try db.execute("DELETE FROM entries WHERE rowid = (SELECT MIN(rowid) FROM entries)") }
        #expect(throws: VaultError.self) { try vault.reviewTokens() }
        #expect(throws: VaultError.self) { try vault.entries() }
    }

    /// Through the agent, the agent reviews the tokens itself (none crosses the socket) and
    /// records the review as its client's.
    @Test(arguments: Backend.allCases)
    func reviewFindsEveryHolderOfATokenButNotTheTrash(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, through: backend)
        vault.actor = "the reviewer"
        try vault.add([Token(entry: Entry(name: "c"), secret: Secret("shared")), Token(entry: Entry(name: "a"), secret: Secret("shared")),
                       Token(entry: Entry(name: "b"), secret: Secret("shared")), Token(entry: Entry(name: "lone"), secret: Secret("other")),
                       Token(entry: Entry(name: "trashed"), secret: Secret("other")), Token(entry: Entry(name: "classic"), secret: Secret("ghp_Classic0000"))])
        try vault.update("trashed") { $0.deleted = .now() }
        let review = try vault.reviewTokens()
        // Each holder names the first one by name; the first names the second.
        #expect(review.duplicates == ["a": "b", "b": "a", "c": "a"])
        #expect(review.classicGitHub == ["classic"])
        let last = try #require(try vault.activityLog().events.last)
        #expect(last.action == .review && last.actor == "the reviewer", "\(last.action) by \(last.actor)")
    }

    @Test func holdersAreFoundAmongTheNamesGivenInOneReadThatIsNotRecorded() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        try vault.add([Token(entry: Entry(name: "a"), secret: Secret("one")), Token(entry: Entry(name: "b"), secret: Secret("one")),
                       Token(entry: Entry(name: "c"), secret: Secret("two"))])
        let before = try vault.activityLog().events.count
        let holders = try vault.holders(of: [Secret("one"), Secret("two"), Secret("three")], among: ["a", "c"])
        #expect(holders == [["a"], ["c"], []])
        #expect(try vault.holders(of: [Secret("one")], among: []) == [[]])
        #expect(try vault.activityLog().events.count == before)
        #expect(try vault.entries().allSatisfy { $0.lastUsed == nil })
        #expect(throws: VaultError.self) { try vault.holders(of: [Secret("one")], among: ["missing"]) }
    }

    @Test func aBatchIsListedInTheHeaderAmongTheEntriesAlreadyThere() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        try vault.add([Token(entry: Entry(name: "first"), secret: Secret("t-first")), Token(entry: Entry(name: "last"), secret: Secret("t-last"))])
        try vault.add((0..<200).map { Token(entry: Entry(name: "entry-\($0)"), secret: Secret("t-entry-\($0)")) })
        let names = try vault.names()
        #expect(names.count == 202)
        for name in names { #expect(try vault.holds(name, secret: Secret("t-" + name))) }
        // A name twice in one batch is taken by the first: nothing of the batch is added.
        #expect(throws: VaultError.alreadyExists(name: "twice")) {
            try vault.add([Token(entry: Entry(name: "twice"), secret: Secret("a")), Token(entry: Entry(name: "other"), secret: Secret("b")), Token(entry: Entry(name: "twice"), secret: Secret("c"))])
        }
        #expect(try vault.names().count == 202)
    }
}

/// The activity log reads the same through the agent (which verifies it on its side, in one
/// request) as here, and a broken chain is reported through it alike.
@Suite struct LogThroughTheBackendTests {
    @Test(arguments: Backend.allCases)
    func theLogAndItsBreakReadTheSameThroughEitherBackend(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, through: backend)
        vault.actor = "the logger"
        try vault.add(Entry(name: "a"), secret: Secret("token-a"))
        _ = try vault.get("a")
        try vault.update("a", action: "a custom action", detail: "with a detail") { $0.notes = "n" }
        let report = try vault.activityLog()
        #expect(report.verified, "\(report.problem ?? "")")
        let mine = report.events.filter { $0.actor == "the logger" }
        #expect(mine.map(\.action.text) == ["add", "read", "a custom action"])
        #expect(mine.last?.detail == "with a detail" && mine.last?.entry == "a")
        #expect(mine.allSatisfy { $0.parentPID != nil })
        try withDatabase(folder.vaultPath) { db in try db.execute("DELETE FROM events WHERE seq = (SELECT MIN(seq) FROM events) + 1") }
        let broken = try vault.activityLog()
        #expect(!broken.verified)
    }
}
