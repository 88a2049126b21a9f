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
