import Glibc
import Synchronization
import Testing
import TokenVault
import TokenVaultGitLab
import TokenVaultHTTP

/// `verifyAtGitLab` and `revokeAtGitLab` while another process changes the entry's token:
/// GitLab's answer about the token it was asked about is never written onto another token.
@Suite struct GitLabVerifyRaceTests {
    func openVault(_ world: GitLabWorld) throws -> Vault {
        let vault = try Vault.open(at: world.cli.vaultPath)
        try vault.unlock(passphrase: Secret(CLI.passphrase))
        return vault
    }

    /// Another process rotates the token while GitLab is asked about it: GitLab refuses the old
    /// token (401), but the entry holds the new one by then, which must not be marked revoked.
    @Test func aRotationDuringVerifyLeavesTheNewTokenUsable() throws {
        let world = try GitLabWorld()
        world.addEntry()
        let verifying = try openVault(world)
        let rotating = try openVault(world)
        let direct = GitLabAccess(transport: CurlTransport(), caFile: world.caFile, timeout: 10)
        let transport = BeforeFirstRequest(CurlTransport()) {
            _ = try? rotating.rotateAtGitLab("ci", using: direct)
        }
        let verification = try verifying.verifyAtGitLab("ci", using: GitLabAccess(transport: transport, caFile: world.caFile, timeout: 10))

        let new = try #require(try world.tokens().first { $0.key != GitLabWorld.token }?.key)
        #expect(try verifying.secret(named: "ci").revealString() == new)
        let entry = try verifying.entry(named: "ci")
        #expect(entry.revoked == nil)
        #expect(verification.state == .active)
        #expect(throws: Never.self) { try verifying.get("ci") }
    }

    /// The token is replaced (`vault edit --secret`) while GitLab is asked about the old one,
    /// which GitLab says has other scopes: those are not written onto the new token.
    @Test func aReplacedTokenDoesNotTakeTheOldOnesFacts() throws {
        let other = "glpat-OtherStandInToken00"
        let world = try GitLabWorld(tokens: [GitLabWorld.token: ["scopes": ["api"], "expires_at": "2099-01-31"],
                                             other: ["scopes": ["read_api"], "expires_at": "2098-06-30"]])
        world.addEntry()
        let verifying = try openVault(world)
        let editing = try openVault(world)
        let transport = BeforeFirstRequest(CurlTransport(), after: true) {
            _ = try? editing.update("ci", secret: Secret(other))
        }
        _ = try verifying.verifyAtGitLab("ci", using: GitLabAccess(transport: transport, caFile: world.caFile, timeout: 10))

        let entry = try verifying.entry(named: "ci")
        #expect(try verifying.secret(named: "ci").revealString() == other)
        #expect(entry.scopes == ["read_api"])
        #expect(entry.expires == Timestamp(date: "2098-06-30"))
    }

    /// The token is replaced while GitLab revokes the old one: the entry, holding a live token,
    /// is neither marked revoked nor trashed, and the caller is told.
    @Test func aTokenReplacedDuringRevokeIsNotMarkedRevoked() throws {
        let other = "glpat-OtherStandInToken00"
        let world = try GitLabWorld(tokens: [GitLabWorld.token: ["scopes": ["api"], "expires_at": "2099-01-31"],
                                             other: ["scopes": ["api"], "expires_at": "2099-01-31"]])
        world.addEntry()
        let revoking = try openVault(world)
        let editing = try openVault(world)
        let transport = BeforeFirstRequest(CurlTransport(), after: true) {
            _ = try? editing.update("ci", secret: Secret(other))
        }
        #expect(throws: GitLabRevocationError.replaced(name: "ci")) {
            try revoking.revokeAtGitLab("ci", using: GitLabAccess(transport: transport, caFile: world.caFile, timeout: 10))
        }

        #expect(try world.tokens()[GitLabWorld.token]?["revoked"] as? Bool == true)
        #expect(try world.tokens()[other]?["revoked"] as? Bool == false)
        let entry = try revoking.entry(named: "ci")
        #expect(entry.revoked == nil)
        #expect(entry.deleted == nil)
        #expect(try revoking.get("ci").secret.revealString() == other)
        let events = try revoking.activityLog().events.filter { $0.entry == "ci" }
        #expect(events.contains { $0.detail?.contains("had been replaced meanwhile") == true })
    }
}

/// A transport over another that runs `action` (another process's change to the vault) once,
/// before the first request is sent, or after its answer came.
final class BeforeFirstRequest: HTTPTransport {
    let inner: any HTTPTransport
    let after: Bool
    let action: @Sendable () -> Void
    private let done = Mutex(false)

    init(_ inner: any HTTPTransport, after: Bool = false, _ action: @escaping @Sendable () -> Void) {
        self.inner = inner
        self.after = after
        self.action = action
    }

    func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        if first && !after { action() }
        let response = try inner.send(request)
        if first && after { action() }
        return response
    }
}
