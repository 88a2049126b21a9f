import Testing
@testable import TokenVault

/// What a later version stores and this one does not know survives this one's writes: a setting
/// in the manifest's tail, a field of an entry's metadata.
@Suite struct UnknownFieldTests {
    @Test func anUnknownFieldOfTheManifestSurvivesAChangeOfSettings() throws {
        let backend = LocalBackend(vaultKey: SymmetricKey.random())
        let key = SealingKey(backend: backend, purpose: .manifest)
        var manifest = Manifest(binding: Manifest.Binding(vaultID: Sodium.randomBytes(16), format: 1, kdf: .minimum,
                                                          salt: Sodium.randomBytes(KeyDerivation.saltBytes)))
        var later = ByteWriter()
        later.field(42, [1, 2, 3])
        manifest.unknownFields = later.bytes
        manifest.settings.agentAutostart = false
        var opened = try Manifest.open(manifest.seal(using: key), using: key)
        #expect(opened.unknownFields == later.bytes)
        #expect(opened.settings.agentAutostart == false)
        opened.settings.trashRetention = .seconds(7 * 86_400)
        let again = try Manifest.open(opened.seal(using: key), using: key)
        #expect(again.unknownFields == later.bytes)
        #expect(again.settings.trashRetention == .seconds(7 * 86_400))
    }

    @Test func anUnknownFieldOfAnEntrySurvivesAnEdit() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        var entry = Entry(name: "later", url: try CredentialURL.parse("https://git.example.com").url)
        entry.unknownFields = [Entry.UnknownField(tag: 77, value: Array("a restriction".utf8))]
        try vault.add(entry, secret: Secret("token-with-a-later-field"))
        try vault.update("later") { $0.notes = "edited by an older version" }
        let read = try vault.entry(named: "later")
        #expect(read.unknownFields == entry.unknownFields)
        #expect(read.notes == "edited by an older version")
    }
}

/// An entry's CI/CD variable links (tag 20) are stored with it, and what a later version adds
/// to a link, or a link this version cannot read, is written back as it was.
@Suite struct GitLabLinkFieldTests {
    @Test func linksRoundTripWithTheirUnknownFieldsAndAnUnreadableLinkIsKept() throws {
        var link = GitLabVariableLink(owner: .group("team/sub"), key: "CI_TOKEN", environmentScope: "review/*",
                                      protected: true, visibility: .hidden)
        link.pushed = Timestamp(secondsSince1970: 1_800_000_000)
        link.pending = Timestamp(secondsSince1970: 1_800_000_100)
        link.pendingReason = "GitLab failed (500)"
        link.unknownFields = [Entry.UnknownField(tag: 99, value: [7, 7])]
        var entry = Entry(name: "linked", kind: .gitlab)
        entry.gitlabLinks = [link, GitLabVariableLink(owner: .project("42"), key: "OTHER")]
        // A link without a key: this version cannot read it, and keeps it.
        var broken = ByteWriter()
        broken.field(1, "team/app")
        entry.unknownFields = [Entry.UnknownField(tag: 20, value: broken.bytes)]
        let encoded = Records.encode(entry)
        let decoded = try encoded.withUnsafeBytes { try Records.decode($0) }
        #expect(decoded.gitlabLinks == entry.gitlabLinks)
        #expect(decoded.gitlabLinks.first?.unknownFields == link.unknownFields)
        #expect(decoded.unknownFields == entry.unknownFields)
        #expect(Records.encode(decoded) == encoded)
    }

    @Test func aLinkSurvivesAnEditThroughTheVault() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        var entry = Entry(name: "ci", url: try CredentialURL.parse("https://gitlab.example.com").url, kind: .gitlab)
        entry.gitlabLinks = [GitLabVariableLink(owner: .project("team/app"), key: "DEPLOY_TOKEN")]
        try vault.add(entry, secret: Secret("glpat-LinkedToken0000000"))
        try vault.update("ci") { $0.notes = "edited" }
        #expect(try vault.entry(named: "ci").gitlabLinks == entry.gitlabLinks)
    }

    @Test func aLinkIsCheckedBeforeItIsStored() {
        let bad = [GitLabVariableLink(owner: .project("../etc"), key: "K"), GitLabVariableLink(owner: .project("team/app"), key: "BAD-KEY"),
                   GitLabVariableLink(owner: .group(""), key: "K"), GitLabVariableLink(owner: .project("a"), key: "K", environmentScope: "a b"),
                   GitLabVariableLink(owner: .project("a\u{1B}[2J"), key: "K")]
        for link in bad { #expect(throws: VaultError.self) { try link.validate() } }
        #expect(throws: Never.self) { try GitLabVariableLink(owner: .project("team/sub.group/app-1"), key: "CI_TOKEN_2").validate() }
    }
}
