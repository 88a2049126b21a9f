import Foundation
import Glibc
import Synchronization
import Testing
import TokenVault
import TokenVaultGitLab
import TokenVaultHTTP

/// The rotation protocol as another Swift tool gets it: `Vault.rotateAtGitLab` and
/// `verifyAtGitLab` called directly (no `vault` process), over libcurl, against the stand-in
/// GitLab of `GitLabTests`.
@Suite struct GitLabRotationAPITests {
    static let rotatePath = "/api/v4/personal_access_tokens/self/rotate"

    /// The vault `world`'s CLI made, opened and unlocked by the library in this process.
    func openVault(_ world: GitLabWorld) throws -> Vault {
        let vault = try Vault.open(at: world.cli.vaultPath)
        try vault.unlock(passphrase: Secret(CLI.passphrase))
        return vault
    }

    /// The error a rotation threw; nil when it succeeded.
    static func failure(_ rotation: () throws(GitLabRotationError) -> GitLabRotation) -> GitLabRotationError? {
        do {
            _ = try rotation()
            return nil
        } catch {
            return error
        }
    }

    /// Runs `body` with the stop signals deliverable to this thread (a test runs on a worker
    /// thread, which may block them already, so that a hold would go unnoticed).
    static func withStopsDeliverable<Result>(_ body: () throws -> Result) rethrows -> Result {
        var stops = sigset_t()
        var previous = sigset_t()
        sigemptyset(&stops)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&stops, signal) }
        pthread_sigmask(SIG_UNBLOCK, &stops, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }

    @Test func theNewTokenIsStoredWhenGitLabAnswers() throws {
        let world = try GitLabWorld()
        world.addEntry()
        let vault = try openVault(world)
        let transport = Recording(CurlTransport())
        let access = GitLabAccess(transport: transport, caFile: world.caFile, timeout: 10)

        let rotation = try Self.withStopsDeliverable { try vault.rotateAtGitLab("ci", using: access, expiry: .after(.seconds(30 * 86_400))) }

        let stored = try vault.entry(named: "ci")
        let tokens = try world.tokens()
        #expect(tokens[GitLabWorld.token]?["revoked"] as? Bool == true)
        let new = try #require(tokens.first { $0.key != GitLabWorld.token }?.key)
        #expect(try vault.secret(named: "ci").revealString() == new)
        #expect(try vault.history(of: "ci").map { $0.secret.revealString() } == [GitLabWorld.token])
        #expect(stored.rotationStarted == nil)
        #expect(stored.expires == Timestamp(date: Timestamp.now().adding(days: 30).dateString))
        #expect(rotation.entry == stored)
        #expect(rotation.info.scopes == ["api", "read_repository"])
        // Asked about first, then rotated once; the stop signals were held only while the new
        // token was in flight.
        #expect(transport.sent.map(\.path) == ["/api/v4/personal_access_tokens/self", Self.rotatePath])
        #expect(transport.sent.map(\.stopsHeld) == [false, true])
        #expect(try world.rotationsReceivedCount() == 1)
    }

    /// The answer to the rotation is lost after the request left (the connection broke, or
    /// GitLab never saw it). The vault keeps the old token and the mark, refuses to rotate
    /// again, and `verifyAtGitLab` settles it to the token GitLab accepts.
    @Test(arguments: [true, false])
    func anInterruptedRotationSettlesToTheTokenGitLabAccepts(reachedGitLab: Bool) throws {
        let world = try GitLabWorld()
        world.addEntry()
        let vault = try openVault(world)
        let transport = Recording(CurlTransport(), losingRotationAnswer: true, forwardingRotation: reachedGitLab)
        let access = GitLabAccess(transport: transport, caFile: world.caFile, timeout: 10)

        let failure = Self.failure { () throws(GitLabRotationError) in try vault.rotateAtGitLab("ci", using: access) }
        guard case .outcomeUnknown(.broken(_, _, sent: true))? = failure else {
            Issue.record("not an unknown outcome: \(String(describing: failure))")
            return
        }
        #expect(try vault.secret(named: "ci").revealString() == GitLabWorld.token)
        let marked = try vault.entry(named: "ci")
        let started = try #require(marked.rotationStarted)
        #expect(try world.rotationsReceivedCount() == (reachedGitLab ? 1 : 0))

        // Never a second rotation request while the outcome is unknown.
        let again = Self.failure { () throws(GitLabRotationError) in try vault.rotateAtGitLab("ci", using: access) }
        guard case .unfinished(_, startedOn: started)? = again else {
            Issue.record("not refused as unfinished: \(String(describing: again))")
            return
        }
        #expect(transport.sent.filter { $0.path == Self.rotatePath }.count == 1)

        let verified = try vault.verifyAtGitLab("ci", using: access)
        let settled = try vault.entry(named: "ci")
        #expect(settled.rotationStarted == nil)
        if reachedGitLab {
            // GitLab rotated: it refuses the old token, and its successor never arrived.
            #expect(try world.tokens()[GitLabWorld.token]?["revoked"] as? Bool == true)
            #expect(verified.state == .revoked)
            #expect(verified.settledRotation == .happened(startedOn: started))
            #expect(settled.revoked != nil)
        } else {
            // GitLab did not: the old token still works, and may be rotated now.
            #expect(verified.state == .active)
            #expect(verified.settledRotation == .didNotHappen(startedOn: started))
            #expect(settled.revoked == nil)
            let rotation = try vault.rotateAtGitLab("ci", using: GitLabAccess(transport: CurlTransport(), caFile: world.caFile))
            #expect(try vault.secret(named: "ci").revealString() != GitLabWorld.token)
            #expect(rotation.entry.rotationStarted == nil)
        }
    }

    /// GitLab revoked the old token and then failed (500): the rotation is not retried, by
    /// this call or a later one.
    @Test func aRotateRequestIsNeverSentTwice() throws {
        let world = try GitLabWorld(mode: ["rotate": "500"])
        world.addEntry()
        let vault = try openVault(world)
        let transport = Recording(CurlTransport())
        let access = GitLabAccess(transport: transport, caFile: world.caFile, timeout: 10)
        let first = Self.failure { () throws(GitLabRotationError) in try vault.rotateAtGitLab("ci", using: access) }
        guard case .outcomeUnknown(.server(500, _, acted: true))? = first else {
            Issue.record("not an unknown outcome: \(String(describing: first))")
            return
        }
        for _ in 0..<2 {
            let again = Self.failure { () throws(GitLabRotationError) in try vault.rotateAtGitLab("ci", using: access) }
            guard case .unfinished? = again else { Issue.record("not refused as unfinished: \(String(describing: again))"); return }
        }
        #expect(transport.sent.filter { $0.path == Self.rotatePath }.count == 1)
        #expect(try world.rotationsReceivedCount() == 1)
        #expect(try vault.entry(named: "ci").rotationStarted != nil)
        #expect(try vault.secret(named: "ci").revealString() == GitLabWorld.token)
    }

    /// A stop signal sent to the thread while it is held waits, pending, until the hold ends.
    @Test func stopSignalsAreHeldInsideTheHold() {
        let pending = Self.withStopsDeliverable { StopSignals.held { () -> Bool in
            pthread_kill(pthread_self(), SIGTERM)
            var set = sigset_t()
            sigpending(&set)
            let held = sigismember(&set, SIGTERM) == 1
            // Taken here, so that it never reaches the test process.
            var term = sigset_t()
            sigemptyset(&term)
            sigaddset(&term, SIGTERM)
            var timeout = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&term, nil, &timeout)
            return held
        } }
        #expect(pending)
    }
}

extension GitLabWorld {
    /// How many rotation requests the stand-in received.
    func rotationsReceivedCount() throws -> Int {
        try requests().filter { $0["path"] as? String == GitLabRotationAPITests.rotatePath }.count
    }
}

/// A transport over another that records every request it is given (and whether the stop
/// signals were held meanwhile); optionally it loses the rotation's answer as a broken
/// connection would, after the request reached GitLab or before.
final class Recording: HTTPTransport {
    struct Sent: Sendable {
        var path: String
        var stopsHeld: Bool
    }

    let inner: any HTTPTransport
    let losingRotationAnswer: Bool
    let forwardingRotation: Bool
    private let log = Mutex<[Sent]>([])

    init(_ inner: any HTTPTransport, losingRotationAnswer: Bool = false, forwardingRotation: Bool = true) {
        self.inner = inner
        self.losingRotationAnswer = losingRotationAnswer
        self.forwardingRotation = forwardingRotation
    }

    var sent: [Sent] { log.withLock { $0 } }

    func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        var mask = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &mask)
        let path = String(request.url.drop { $0 != "/" }.dropFirst(2).drop { $0 != "/" })
        log.withLock { $0.append(Sent(path: path, stopsHeld: sigismember(&mask, SIGTERM) == 1)) }
        guard losingRotationAnswer, path == GitLabRotationAPITests.rotatePath else { return try inner.send(request) }
        if forwardingRotation { _ = try? inner.send(request) }
        throw .failed("connection reset by peer", sent: true)
    }
}
