import Testing
@testable import TokenVault

/// What a vault (the agent's, above all) keeps between whole-vault reads: the entries across the
/// review's own event, the verified log while the file is unchanged. Never stale: what any
/// connection wrote since is read afresh.
@Suite struct WholeVaultCacheTests {
    /// Whether the vault's entries cache is the file's as of now.
    func entriesCacheIsCurrent(_ vault: Vault) throws -> Bool {
        try vault.state.withLock { state throws(VaultError) -> Bool in
            let db = try state.db
            guard let cache = state.entriesCache else { return false }
            return try cache.version == db.dataVersion() && cache.commits == db.commits
        }
    }

    @Test func theReviewKeepsTheEntriesOpenedSinceItWritesOnlyItsEvent() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        try vault.add([Token(entry: Entry(name: "a"), secret: Secret("one")), Token(entry: Entry(name: "b"), secret: Secret("one"))])
        _ = try vault.entries()
        #expect(try entriesCacheIsCurrent(vault))
        #expect(try vault.reviewTokens().duplicates == ["a": "b", "b": "a"])
        #expect(try entriesCacheIsCurrent(vault))
        #expect(try vault.activityLog().events.last?.action.text == "review")
        // Any other write still lets the entries go.
        try vault.add(Entry(name: "c"), secret: Secret("two"))
        #expect(try !entriesCacheIsCurrent(vault))
        #expect(try vault.entries().map(\.name) == ["a", "b", "c"])
    }

    @Test(arguments: Backend.allCases)
    func theLogShowsWhatAnyConnectionWroteSinceItWasLastRead(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, through: backend)
        try vault.add(Entry(name: "a"), secret: Secret("one"))
        let first = try vault.activityLog()
        #expect(first.verified)
        #expect(try vault.activityLog().events.map(\.sequence) == first.events.map(\.sequence))
        try vault.add(Entry(name: "b"), secret: Secret("two"))
        #expect(try vault.activityLog().events.last?.entry == "b")
        let other = try unlocked(folder, through: .local)
        try other.add(Entry(name: "c"), secret: Secret("three"))
        #expect(try vault.activityLog().events.last?.entry == "c")
        _ = try vault.reviewTokens()
        #expect(try vault.activityLog().events.last?.action.text == "review")
        // An event removed from the file is found missing, not answered from memory.
        try withDatabase(folder.vaultPath) { db in try db.execute("DELETE FROM events WHERE rowid = (SELECT MAX(rowid) FROM events)") }
        #expect((try? vault.activityLog())?.verified != true)
    }
}
