import Foundation
import Testing
@testable import TokenVault

@Suite struct VaultTests {
    @Test(arguments: Backend.allCases)
    func roundTripThroughTheLibrary(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, through: backend)
        let url = try CredentialURL.parse("https://gitlab.example.com:8443/group/repo").url
        try vault.add(Entry(name: "gitlab-ci", url: url, username: "oauth2", kind: .gitlab,
                            scopes: ["read_api"], expires: Timestamp(date: "2027-03-01"), notes: "CI"),
                      secret: Secret("glpat-0123456789abcdefghij"))
        try vault.add(Entry(name: "github"), secret: Secret("ghp_abcdefghijklmnopqrstuvwxyz0123456789"))

        // A second process's view: open the file anew and unlock.
        let reopened = try Vault.open(at: folder.vaultPath)
        #expect(!reopened.isUnlocked)
        #expect(throws: VaultError.locked) { try reopened.secret(named: "gitlab-ci") }
        try reopened.unlock(passphrase: Secret("correct horse"))
        #expect(try reopened.secret(named: "gitlab-ci").revealString() == "glpat-0123456789abcdefghij")
        let entry = try reopened.entry(named: "gitlab-ci")
        #expect(entry.url?.description == "https://gitlab.example.com:8443/group/repo")
        #expect(entry.host == "gitlab.example.com:8443")
        #expect(entry.username == "oauth2")
        #expect(entry.kind == .gitlab)
        #expect(entry.scopes == ["read_api"])
        #expect(entry.expires?.dateString == "2027-03-01")
        #expect(entry.notes == "CI")
        #expect(try reopened.names() == ["github", "gitlab-ci"])

        try reopened.update("gitlab-ci", secret: Secret("glpat-new-token-value-0000")) { $0.scopes = ["api"] }
        #expect(try vault.secret(named: "gitlab-ci").revealString() == "glpat-new-token-value-0000")
        #expect(try vault.entry(named: "gitlab-ci").scopes == ["api"])
        #expect(try vault.entry(named: "gitlab-ci").created == entry.created)

        try vault.rename("gitlab-ci", to: "gitlab-deploy")
        #expect(throws: VaultError.notFound(name: "gitlab-ci", suggestion: nil)) { try vault.entry(named: "gitlab-ci") }
        #expect(try vault.secret(named: "gitlab-deploy").revealString() == "glpat-new-token-value-0000")
        #expect(throws: VaultError.alreadyExists(name: "github")) { try vault.rename("gitlab-deploy", to: "github") }
        #expect(throws: VaultError.alreadyExists(name: "github")) { try vault.add(Entry(name: "github"), secret: Secret("x")) }

        try vault.remove("github")
        #expect(try vault.names() == ["gitlab-deploy"])
        // A removed name can be added again, and is not confused with the old row.
        try vault.add(Entry(name: "github"), secret: Secret("ghp_second"))
        #expect(try vault.secret(named: "github").revealString() == "ghp_second")

        vault.lock()
        #expect(throws: VaultError.locked) { try vault.entries() }
    }

    @Test func wrongPassphraseIsRefusedAndLeavesTheFileUnchanged() throws {
        let folder = TempFolder()
        do {
            let vault = try makeVault(in: folder)
            try vault.add(Entry(name: "a"), secret: Secret("glpat-aaaaaaaaaaaaaaaaaaaa"))
        }
        // Closed: the write-ahead log has been folded into the file.
        let before = folder.files().sorted().map { ($0, bytes(of: $0)) }
        #expect(before.map(\.0) == [folder.vaultPath])
        do {
            let other = try Vault.open(at: folder.vaultPath)
            #expect(throws: VaultError.wrongPassphrase) { try other.unlock(passphrase: Secret("wrong horse")) }
            #expect(!other.isUnlocked)
        }
        let after = folder.files().sorted().map { ($0, bytes(of: $0)) }
        #expect(before.map(\.0) == after.map(\.0))
        for (b, a) in zip(before, after) {
            let unchanged = b.1 == a.1
            #expect(unchanged, "\(b.0) changed")
        }
    }

    @Test func passphraseChangeRewrapsTheKey() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, passphrase: "old passphrase")
        try vault.add(Entry(name: "a"), secret: Secret("token-a-0123456789abcdef"))
        let rowsBefore = try rawRows(folder.vaultPath)
        try vault.changePassphrase(to: Secret("new passphrase"), kdf: .minimum)
        // Entries are not re-encrypted.
        #expect(try rawRows(folder.vaultPath) == rowsBefore)

        let reopened = try Vault.open(at: folder.vaultPath)
        #expect(throws: VaultError.wrongPassphrase) { try reopened.unlock(passphrase: Secret("old passphrase")) }
        try reopened.unlock(passphrase: Secret("new passphrase"))
        #expect(try reopened.secret(named: "a").revealString() == "token-a-0123456789abcdef")
        // The process that changed it keeps working.
        try vault.add(Entry(name: "b"), secret: Secret("token-b"))
        #expect(try reopened.names() == ["a", "b"])
    }

    @Test func kdfParametersAreStoredInTheHeader() throws {
        let folder = TempFolder()
        let vault = try Vault.create(at: folder.vaultPath, passphrase: Secret("p"), kdf: .interactive)
        #expect(try vault.kdfParameters() == .interactive)
        try vault.changePassphrase(to: Secret("q"), kdf: .minimum)
        let reopened = try Vault.open(at: folder.vaultPath)
        #expect(try reopened.kdfParameters() == .minimum)
        try reopened.unlock(passphrase: Secret("q"))
    }

    @Test func concurrentWritesFromThreadsLoseNothing() async throws {
        let folder = TempFolder()
        let shared = try makeVault(in: folder)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    // Two threads share one Vault; two others each open their own.
                    let vault = worker < 2 ? shared : try! { () throws -> Vault in
                        let v = try Vault.open(at: folder.vaultPath)
                        try v.unlock(passphrase: Secret("correct horse"))
                        return v
                    }()
                    for i in 0..<10 {
                        try! vault.add(Entry(name: "w\(worker)-\(i)"), secret: Secret("secret-\(worker)-\(i)"))
                    }
                }
            }
        }
        let names = try shared.names()
        #expect(names.count == 40)
        for worker in 0..<4 {
            for i in 0..<10 { #expect(try shared.secret(named: "w\(worker)-\(i)").revealString() == "secret-\(worker)-\(i)") }
        }
    }

    @Test(arguments: Backend.allCases)
    func replacingATokenKeepsTheOldOneInHistory(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, through: backend)
        try vault.add(Entry(name: "ci"), secret: Secret("v1"))
        try vault.update("ci", secret: Secret("v2"))
        try vault.update("ci", secret: Secret("v2"))   // the same token: no new version
        try vault.update("ci", secret: Secret("v3"))
        #expect(try vault.secret(named: "ci").revealString() == "v3")
        #expect(try vault.history(of: "ci").map { $0.secret.revealString() } == ["v2", "v1"])
        try vault.rename("ci", to: "ci-renamed")
        #expect(try vault.history(of: "ci-renamed").count == 2)
        try vault.restoreVersion("ci-renamed", index: 1)
        #expect(try vault.secret(named: "ci-renamed").revealString() == "v1")
        #expect(try vault.history(of: "ci-renamed").map { $0.secret.revealString() } == ["v3", "v2"])
        #expect(throws: VaultError.self) { try vault.restoreVersion("ci-renamed", index: 7) }
        // Old tokens are encrypted like the current one.
        for file in folder.files() {
            for needle in ["v1", "v2", "v3"] where needle.count > 2 { #expect(!bytes(of: file).contains(bytes: Array(needle.utf8))) }
        }
    }

    @Test(arguments: Backend.allCases)
    func lastUsedIsKeptApartAndFollowsRenames(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, through: backend)
        try vault.add(Entry(name: "a"), secret: Secret("ta"))
        try vault.add(Entry(name: "b"), secret: Secret("tb"))
        #expect(try vault.entry(named: "a").lastUsed == nil)
        let rowsBefore = try rawRows(folder.vaultPath)
        try vault.markUsed("a", at: Timestamp(secondsSince1970: 1_800_000_000))
        // No entry row changed: marking a use is not a new revision.
        #expect(try rawRows(folder.vaultPath) == rowsBefore)
        #expect(try vault.entry(named: "a").lastUsed?.secondsSince1970 == 1_800_000_000)
        #expect(try vault.entries().first { $0.name == "a" }?.lastUsed?.secondsSince1970 == 1_800_000_000)
        try vault.rename("a", to: "a2")
        #expect(try vault.entry(named: "a2").lastUsed?.secondsSince1970 == 1_800_000_000)
        #expect(throws: VaultError.self) { try vault.markUsed("missing") }
        // A last-used record moved to another entry is detected.
        try vault.markUsed("b")
        try withDatabase(folder.vaultPath) { db in
            let s = try db.prepare("SELECT lookup, sealed FROM usage ORDER BY lookup")
            var rows: [([UInt8], [UInt8])] = []
            while try s.step() { rows.append((try s.blob(0, "column"), try s.blob(1, "column"))) }
            try db.prepare("UPDATE usage SET sealed = ? WHERE lookup = ?").run([.blob(rows[1].1), .blob(rows[0].0)])
        }
        #expect(throws: VaultError.self) { try vault.entries() }
    }

    @Test(arguments: Backend.allCases)
    func batchAddIsAllOrNothing(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, through: backend)
        try vault.add(Entry(name: "taken"), secret: Secret("t0"))
        #expect(throws: VaultError.alreadyExists(name: "taken")) {
            try vault.add([Token(entry: Entry(name: "new-1"), secret: Secret("t1")), Token(entry: Entry(name: "taken"), secret: Secret("t2"))])
        }
        #expect(try vault.names() == ["taken"])
        try vault.add((0..<50).map { Token(entry: Entry(name: "bulk-\($0)"), secret: Secret("token-\($0)")) })
        #expect(try vault.names().count == 51)
        #expect(try vault.secret(named: "bulk-49").revealString() == "token-49")
    }

    @Test func twoConnectionsSeeEachOthersChanges() throws {
        let folder = TempFolder()
        let a = try makeVault(in: folder)
        let b = try Vault.open(at: folder.vaultPath)
        try b.unlock(passphrase: Secret("correct horse"))
        try a.add(Entry(name: "one"), secret: Secret("t1"))
        #expect(try b.names() == ["one"])
        try b.add(Entry(name: "two"), secret: Secret("t2"))
        #expect(try a.names() == ["one", "two"])
        try a.update("two", secret: Secret("t2b"))
        #expect(try b.secret(named: "two").revealString() == "t2b")
        try a.changePassphrase(to: Secret("new horse"), kdf: .minimum)
        try a.add(Entry(name: "three"), secret: Secret("t3"))
        try b.add(Entry(name: "four"), secret: Secret("t4"))
        #expect(try a.names() == ["four", "one", "three", "two"])
        #expect(try a.activityLog().verified)
        #expect(try b.activityLog().verified)
        let c = try Vault.open(at: folder.vaultPath)
        try c.unlock(passphrase: Secret("new horse"))
        #expect(try c.names().count == 4)
    }

    @Test func createRefusesAnExistingFile() throws {
        let folder = TempFolder()
        _ = try makeVault(in: folder)
        #expect(throws: VaultError.vaultExists(path: folder.vaultPath)) { try makeVault(in: folder) }
        #expect(throws: VaultError.noVault(path: folder.path + "/none.db")) { try Vault.open(at: folder.path + "/none.db") }
    }

    @Test(arguments: Backend.allCases)
    func namesAreValidated(_ backend: Backend) throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, through: backend)
        for bad in ["", "has space", "-starts-with-dash", String(repeating: "x", count: 129), "new\nline"] {
            #expect(throws: VaultError.self) { try vault.add(Entry(name: bad), secret: Secret("t")) }
        }
        #expect(throws: VaultError.self) { try vault.add(Entry(name: "empty"), secret: Secret("")) }
        #expect(try vault.names().isEmpty)
    }

    @Test func paddingHidesTheTokenLength() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        try vault.add(Entry(name: "short"), secret: Secret("abc"))
        try vault.add(Entry(name: "longer"), secret: Secret(String(repeating: "z", count: 17)))
        let rows = try rawRows(folder.vaultPath)
        #expect(rows.count == 2)
        #expect(rows[0].secret.count == rows[1].secret.count)
        #expect((rows[0].secret.count - SecretBox.overhead) % Padding.blockSize == 0)
    }
}
