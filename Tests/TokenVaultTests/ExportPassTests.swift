import Testing
@testable import TokenVault

/// What leaves the vault in an export (`vault export`, a bundle): every entry whole, and a
/// bundle of more tokens than one guarded allocation each would allow.
@Suite struct ExportPassTests {
    @Test(arguments: Backend.allCases)
    func anExportOfEveryEntryKeepsTheirURLs(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, through: backend)
        try vault.add(Entry(name: "a", url: try CredentialURL.parse("https://gitlab.example.com/group/a").url, username: "alice"),
                      secret: Secret("one"))
        try vault.add(Entry(name: "b", url: try CredentialURL.parse("http://[::1]:8080").url), secret: Secret("two"))
        let wanted = try vault.entries().map(\.url)
        #expect(wanted.allSatisfy { $0 != nil })
        // Every entry (the pass over all rows) and by name (a row each): the same entries.
        #expect(try vault.exportTokens(named: nil, withHistory: false, detail: "to a test").map(\.entry.url) == wanted)
        #expect(try vault.exportTokens(named: ["a", "b"], withHistory: false, detail: "to a test").map(\.entry.url) == wanted)
    }

    @Test func anExportByNameHoldsItsTokensInAFewMappingsNotOneEach() throws {
        // A bundle may now hold 100,000 tokens; an export by name opened each entry's token into
        // a guarded allocation of its own, and some 21,000 names ran out of memory mappings.
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        let names = (0..<5_000).map { "entry-\($0)" }
        try vault.add(names.map { Token(entry: Entry(name: $0), secret: Secret("glpat-\($0)-abcdefghij")) })
        let before = SecretArenaTests.mappings()
        let tokens = try vault.exportTokens(named: names, withHistory: false, detail: "to a test")
        let during = SecretArenaTests.mappings()
        #expect(during - before < names.count / 5, "\(during - before) mappings for \(names.count) tokens")
        #expect(tokens.last?.secret.revealString() == "glpat-entry-4999-abcdefghij")
    }
}
