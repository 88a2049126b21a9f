import Testing
import TokenVault

/// The library's public surface as another Swift tool sees it: a plain `import TokenVault`
/// (not `@testable`), so that what is tested here is what such a tool can reach.
@Suite struct PublicAPITests {
    static let now = Timestamp(date: "2030-01-01")!

    @Test func reviewFindingsCarryTheFactsAndNoCommandLineWording() throws {
        let expired = Entry(name: "expired", kind: .gitlab, expires: Timestamp(date: "2029-12-01")!)
        let broad = Entry(name: "broad", kind: .gitlab, scopes: ["api", "read_user"], expires: Timestamp(date: "2031-01-01")!)
        let findings = Review.findings([expired, broad], now: Self.now, rotateEvery: Review.defaultRotation)
        let gone = try #require(findings.first { $0.kind == .expired })
        #expect(gone.name == "expired")
        #expect(gone.date == Timestamp(date: "2029-12-01"))
        #expect(gone.age == .seconds(31 * 86_400))
        #expect(gone.severity == .error)
        let scopes = try #require(findings.first { $0.kind == .broadScopes })
        #expect(scopes.name == "broad" && scopes.scopes == ["api"])
    }

    @Test func eventActionsKeepTheLogsTextAndUnknownActionsAsTheyAre() {
        let known: [(String, EventAction)] = [
            ("read", .read), ("read history", .readHistory), ("read refresh token", .readRefreshToken),
            ("read for gitlab verify", .readFor("gitlab verify")), ("add", .add), ("edit", .edit),
            ("replace token", .replaceToken), ("rename", .rename), ("trash", .trash), ("restore", .restore),
            ("restore version 2", .restoreVersion(2)), ("rejected by git", .rejectedByGit), ("purge", .purge),
            ("purge (trash expired)", .purgeTrashExpired), ("passphrase change", .passphraseChange),
            ("config", .config), ("review", .review),
        ]
        for (text, action) in known {
            #expect(EventAction(text) == action)
            #expect(action.text == text)
            if case .other = EventAction(text) { Issue.record("'\(text)' is not known") }
        }
        for text in ["verify at GitLab", "restore version 02", "restore version x", "read for ", "a later version's action"] {
            #expect(EventAction(text) == .other(text))
            #expect(EventAction(text).text == text)
        }
        #expect(EventAction.read.isRead && EventAction.readFor("x").isRead && !EventAction.add.isRead)
        let literal: EventAction = "rename"
        #expect(literal == .rename)
    }

    @Test func theLogRecordsTypedActionsAndACallersOwnNameAsItIs() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        try vault.add(Entry(name: "a"), secret: Secret("token-a-0001"))
        _ = try vault.get("a")
        try vault.update("a", action: "verify at GitLab", detail: "fine") { $0.notes = "checked" }
        #expect(throws: VaultError.self) { try vault.update("a", action: .read) { $0.notes = "x" } }
        let actions = try vault.activityLog().events.map(\.action)
        #expect(actions.suffix(3) == [.add, .read, .other("verify at GitLab")])
    }

    @Test func getAndAddSpeakInTokensAndReviewInTypedFacts() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        try vault.add([Token(entry: Entry(name: "one"), secret: Secret("ghp_Same0000000000000000000000000000000")),
                       Token(entry: Entry(name: "two"), secret: Secret("ghp_Same0000000000000000000000000000000"))])
        let token: Token = try vault.get("one")
        #expect(token.entry.name == "one" && token.secret.revealString().hasPrefix("ghp_"))
        let review: Review.Tokens = try vault.reviewTokens()
        #expect(review == Review.Tokens(duplicates: ["one": "two", "two": "one"], classicGitHub: ["one", "two"]))
        let parsed: CredentialURL.Parsed = try CredentialURL.parse("https://alice@gitlab.com/g")
        #expect(parsed.url.description == "https://gitlab.com/g" && parsed.username == "alice")
    }

    @Test func durationsAreDurationsAndOnlyWhatTheFileHoldsIsWritten() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        let settings = try vault.settings()
        #expect(settings.rotateEvery == .seconds(90 * 86_400) && Review.defaultRotation == settings.rotateEvery)
        #expect(settings.trashRetention == .seconds(30 * 86_400) && settings.logRetention == .seconds(365 * 86_400))
        try vault.updateSettings { $0.trashRetention = .seconds(7 * 86_400); $0.rotateEvery = .seconds(3600) }
        #expect(try vault.settings().trashRetention == .seconds(7 * 86_400))
        #expect(try vault.settings().rotateEvery == .seconds(3600))
        // The file keeps whole days and whole seconds: anything else is refused, nothing changed.
        #expect(throws: VaultError.self) { try vault.updateSettings { $0.trashRetention = .seconds(36 * 3600) } }
        #expect(throws: VaultError.self) { try vault.updateSettings { $0.logRetention = .milliseconds(1) } }
        #expect(throws: VaultError.self) { try vault.updateSettings { $0.rotateEvery = .milliseconds(1500) } }
        #expect(try vault.settings().trashRetention == .seconds(7 * 86_400))
        try vault.add(Entry(name: "e"), secret: Secret("token-e-0001"))
        try vault.update("e") { $0.rotateEvery = .seconds(30 * 86_400) }
        #expect(try vault.entry(named: "e").rotateEvery == .seconds(30 * 86_400))
        #expect(throws: VaultError.self) { try vault.update("e") { $0.rotateEvery = .milliseconds(86_400_500) } }
        #expect(try vault.entry(named: "e").rotateEvery == .seconds(30 * 86_400))
    }

    @Test func theCallsThatDeriveAKeyHaveAsyncFormsWithTypedErrors() async throws {
        let folder = TempFolder()
        let vault = try await Vault.create(at: folder.vaultPath, passphrase: Secret("first"), kdf: .minimum)
        #expect(vault.isUnlocked)
        vault.lock()
        do {
            try await vault.unlock(passphrase: Secret("wrong"))
            Issue.record("a wrong passphrase unlocked the vault")
        } catch {
            #expect(error == .wrongPassphrase)  // `error` is a VaultError: typed throws
        }
        #expect(!vault.isUnlocked)
        try await vault.unlock(passphrase: Secret("first"))
        try await vault.changePassphrase(to: Secret("second"))
        let again = try Vault.open(at: folder.vaultPath)
        try await again.unlock(passphrase: Secret("second"))
        #expect(again.isUnlocked)
    }
}
