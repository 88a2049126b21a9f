import Testing
@testable import TokenVault

/// GitLab's id of an entry's token (tag 21) belongs to that token: a write that replaces the
/// token drops it, a tag 21 this version could not read and kept aside included; a damaged one
/// is kept aside, never a trap.
@Suite struct GitLabTokenFieldTests {
    /// A tag-21 field without an id: this version cannot read it (a later version's, or damaged).
    private static let unreadable: Entry.UnknownField = {
        var w = ByteWriter()
        w.field(2, int: 1_800_000_000)
        return Entry.UnknownField(tag: 21, value: w.bytes)
    }()

    @Test func aNewTokenDropsTheIdAndATag21KeptAside() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        var entry = Entry(name: "ci", url: try CredentialURL.parse("https://gitlab.example.com").url, kind: .gitlab)
        entry.gitlabToken = GitLabTokenIdentity(id: 7)
        entry.unknownFields = [Self.unreadable, Entry.UnknownField(tag: 77, value: [1])]
        try vault.add(entry, secret: Secret("glpat-FirstToken00000000"))
        try vault.update("ci") { $0.notes = "edited" }
        #expect(try vault.entry(named: "ci").gitlabToken == GitLabTokenIdentity(id: 7))
        #expect(try vault.entry(named: "ci").unknownFields == entry.unknownFields)

        try vault.update("ci", secret: Secret("glpat-SecondToken0000000"))
        let read = try vault.entry(named: "ci")
        #expect(read.gitlabToken == nil)
        #expect(read.unknownFields == [Entry.UnknownField(tag: 77, value: [1])])
    }

    @Test func aNewTokenStoredWithItsOwnIdKeepsIt() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        var entry = Entry(name: "ci", url: try CredentialURL.parse("https://gitlab.example.com").url, kind: .gitlab)
        entry.gitlabToken = GitLabTokenIdentity(id: 7)
        entry.unknownFields = [Self.unreadable]
        try vault.add(entry, secret: Secret("glpat-FirstToken00000000"))
        try vault.update("ci", secret: Secret("glpat-SecondToken0000000")) { $0.gitlabToken = GitLabTokenIdentity(id: 8) }
        let read = try vault.entry(named: "ci")
        #expect(read.gitlabToken == GitLabTokenIdentity(id: 8))
        #expect(read.unknownFields.isEmpty)
    }

    @Test func aDamagedTag21IsKeptAsideAndNeverTraps() throws {
        var tooShort = ByteWriter()
        tooShort.field(1, [1, 2, 3])
        var negative = ByteWriter()
        negative.field(1, int: -5)
        for value in [[UInt8](), [1, 9, 9], tooShort.bytes, negative.bytes] {
            var entry = Entry(name: "ci", kind: .gitlab)
            entry.unknownFields = [Entry.UnknownField(tag: 21, value: value)]
            let decoded = try Records.encode(entry).withUnsafeBytes { try Records.decode($0) }
            #expect(decoded.gitlabToken == nil)
            #expect(decoded.unknownFields == entry.unknownFields)
        }
    }
}
