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
}
