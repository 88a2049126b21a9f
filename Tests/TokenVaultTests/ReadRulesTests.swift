import Testing
@testable import TokenVault

/// `Vault.get`'s rules, in the library itself: what another tool gets is what `vault get` gives.
@Suite struct ReadRulesTests {
    static let expires = Timestamp(date: "2020-01-01")!
    static let revokedOn = Timestamp(date: "2024-05-06")!

    /// A vault holding one token of each kind `get` refuses, and one it hands out.
    func vault(in folder: TempFolder, through backend: Backend) throws -> Vault {
        let vault = try makeVault(in: folder, through: backend)
        try vault.add(Entry(name: "fine"), secret: Secret("token-fine-0001"))
        try vault.add(Entry(name: "expired", expires: Self.expires), secret: Secret("token-expired-0002"))
        try vault.add(Entry(name: "revoked"), secret: Secret("token-revoked-0003"))
        try vault.update("revoked") { $0.revoked = Self.revokedOn }
        try vault.add(Entry(name: "trashed"), secret: Secret("token-trashed-0004"))
        try vault.update("trashed") { $0.deleted = .now() }
        return vault
    }

    @Test(arguments: Backend.allCases)
    func getRefusesTrashedRevokedAndExpiredTokensAndRecordsNothing(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try vault(in: folder, through: backend)
        let before = try vault.activityLog().events
        let refusals: [(String, VaultError)] = [
            ("trashed", .inTrash(name: "trashed")),
            ("revoked", .revoked(name: "revoked", on: Self.revokedOn)),
            ("expired", .expired(name: "expired", on: Self.expires)),
        ]
        for (name, refusal) in refusals {
            #expect(throws: refusal) { _ = try vault.get(name) }
            #expect(throws: refusal) { _ = try vault.secret(named: name) }
        }
        // Nothing recorded: no event, no last-used time (read from the file afresh).
        #expect(try vault.activityLog().events == before)
        let reopened = try Vault.open(at: folder.vaultPath)
        try reopened.unlock(passphrase: Secret("correct horse"))
        for (name, _) in refusals { #expect(try reopened.entry(named: name).lastUsed == nil, "\(name)") }
        #expect(try reopened.activityLog().events == before)
    }

    @Test(arguments: Backend.allCases)
    func anExpiredOrRevokedTokenIsHandedOutWhenAllowedButNeverOneInTheTrash(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try vault(in: folder, through: backend)
        #expect(try vault.get("expired", allowingExpired: true).secret.revealString() == "token-expired-0002")
        #expect(try vault.get("revoked", allowingExpired: true).secret.revealString() == "token-revoked-0003")
        #expect(throws: VaultError.inTrash(name: "trashed")) { _ = try vault.get("trashed", allowingExpired: true) }
        #expect(try vault.get("fine").secret.revealString() == "token-fine-0001")
        // The reads handed out are recorded, with their last-used times; the refused one is not.
        let reads = try vault.activityLog().events.filter { $0.action == "read" }.map(\.entry)
        #expect(reads == ["expired", "revoked", "fine"])
        #expect(try vault.entry(named: "expired").lastUsed != nil)
        #expect(try vault.entry(named: "trashed").lastUsed == nil)
    }

    @Test func theRefusalsReadAsVaultGetWroteThem() {
        #expect(VaultError.inTrash(name: "ci").description == "'ci' is in the trash")
        #expect(VaultError.inTrash(name: "ci").hint == "vault restore ci")
        #expect(VaultError.expired(name: "ci", on: Self.expires).description == "the token 'ci' expired on 2020-01-01")
        #expect(VaultError.revoked(name: "ci", on: Self.revokedOn).description == "the token 'ci' is revoked at GitLab (found on 2024-05-06)")
        // A token pasted as a name never reaches the message.
        #expect(!VaultError.inTrash(name: "glpat-AbCdEf0123456789xyz").description.contains("glpat-"))
    }
}
