import CAgentProtocol
import Foundation
import Testing
@testable import TokenVault

/// The agent's protocol decodes hostile bytes, in both directions, into a typed error: never a
/// trap, never an allocation a count asks for that the frame cannot hold.
@Suite struct AgentCodecTests {
    static let file = FileIdentity(device: 7, inode: 42)
    static let origin = ActivityLog.Origin(actor: "test", parentPID: 1, parentName: "sh")

    static var requests: [AgentRequest] {
        [
            .status, .lock, .attach(file),
            .unlock(passphrase: Secret("a passphrase"), idle: .seconds(60), lifetime: .seconds(3600), allowingCostlyKDF: true),
            .unlockKey(SymmetricKey.random(), idle: .seconds(1), lifetime: .seconds(2)),
            .lookup(["a", "bb", ""]), .mac([[1, 2, 3], []]), .seal(.manifest, Secret("plaintext").storage),
            .open([SealedBox(purpose: .entrySecret, bytes: [1, 2, 3]), SealedBox(purpose: .events, bytes: [])]),
            .read(file, origin, name: "gitlab-ci", allowingExpired: true),
            .git(file, origin, now: Timestamp(secondsSince1970: 1_800_000_000), description: Secret("protocol=https\nhost=h\n\n").storage),
            .entries(file), .review(file, origin), .log(file),
            .token(file, origin, name: "gitlab-ci", allowingExpired: true), .token(file, origin, name: "x", allowingExpired: false),
            .history(file, origin, name: "gitlab-ci"),
            .unlock(passphrase: Secret("p"), idle: .seconds(1), lifetime: .seconds(2), allowingCostlyKDF: false, cacheTTL: .seconds(0)),
            .remotePut(file, Entry(name: "team/deploy", scopes: ["api"]), Secret("a token")), .remotePut(file, Entry(name: "team/x"), Secret("")),
            .remoteGet(file, name: "team/deploy"),
        ]
    }

    static var responses: [AgentResponse] {
        var reply = GitReply()
        reply.messages = [.warning("expired"), .note("chosen")]
        reply.answer = [.text("username=u\npassword="), .secret(Secret("tok")), .text("\n")]
        var askingRemotes = GitReply()
        askingRemotes.messages = [.note("nothing matched")]
        askingRemotes.askRemotes = true
        return [
            .done, .status(AgentClient.Status(unlocked: true, locksAt: .now(), idleTimeout: .seconds(60), requests: 3)),
            .lookups([[UInt8](repeating: 1, count: KeyedHash.bytes)]), .sealed([9, 9]),
            .opened([Secret("x").storage, nil]), .macs([[UInt8](repeating: 2, count: KeyedHash.bytes)]),
            .entry(Entry(name: "e"), Secret("token"), .recorded), .entry(Entry(name: "e"), Secret("t"), .notRecorded(.diskFull)),
            .git(reply), .git(askingRemotes),
            .entries([Entry(name: "a"), Entry(name: "b", notes: "n")]), .entries([]),
            .review(Review.Tokens(duplicates: ["a": "b", "b": "a"], classicGitHub: ["c"]), .notRecorded(.readOnly)),
            .log(LogReport(events: [Event(sequence: 1, time: .now(), action: .read, entry: "e", actor: "vault get",
                                          parentPID: 7, parentName: "sh", detail: nil),
                                    Event(sequence: 2, time: .now(), action: .other("new"), entry: nil, actor: "x",
                                          parentPID: nil, parentName: nil, detail: "d")], problem: nil)),
            .log(LogReport(events: [], problem: "event 3 is missing")),
            .token(warnings: ["the token 'e' expired on 2020-01-01", "refused"], Secret("token")), .token(warnings: [], Secret("t")),
            .history([SecretVersion(replaced: Timestamp(secondsSince1970: 1_800_000_000), secret: Secret("older")),
                      SecretVersion(replaced: Timestamp(secondsSince1970: -5), secret: Secret(""))], .recorded),
            .history([], .notRecorded(.diskFull)),
            .failure(.expired(Timestamp(secondsSince1970: 5))), .failure(.unsupportedVersion(2)),
        ]
    }

    static func body(_ encode: (inout AgentProtocol.Builder) -> Void) -> [UInt8] {
        var out = AgentProtocol.Builder()
        encode(&out)
        return Array(out.frame().withUnsafeBytes { Array($0) }.dropFirst(4))
    }

    func decodeRequest(_ bytes: [UInt8]) -> Result<AgentRequest, AgentCodecError> {
        bytes.withUnsafeBytes { raw in Result { () throws(AgentCodecError) in try AgentRequest.decode(raw) } }
    }

    func decodeResponse(_ bytes: [UInt8]) -> Result<AgentResponse, AgentCodecError> {
        bytes.withUnsafeBytes { raw in Result { () throws(AgentCodecError) in try AgentResponse.decode(raw) } }
    }

    @Test func everyMessageDecodesAsItWasEncoded() throws {
        for request in Self.requests {
            let bytes = Self.body { request.encode(into: &$0) }
            let decoded = try decodeRequest(bytes).get()
            #expect(Self.body { decoded.encode(into: &$0) } == bytes, "\(request)")
        }
        for response in Self.responses {
            let bytes = Self.body { response.encode(into: &$0) }
            let decoded = try decodeResponse(bytes).get()
            #expect(Self.body { decoded.encode(into: &$0) } == bytes, "\(response)")
        }
    }

    @Test func everyTruncationAndEveryTrailingByteIsATypedError() {
        for request in Self.requests {
            let bytes = Self.body { request.encode(into: &$0) }
            for length in 0..<bytes.count where !(length == 1 && bytes == [UInt8(TV_AGENT_LOCK_ANY_VERSION)]) {
                guard case .failure = decodeRequest(Array(bytes.prefix(length))) else {
                    Issue.record("\(request) cut to \(length) bytes decoded"); continue
                }
            }
            if case .lock = request { continue }
            #expect(throws: AgentCodecError.trailingBytes) { try decodeRequest(bytes + [0]).get() }
        }
        for response in Self.responses {
            let bytes = Self.body { response.encode(into: &$0) }
            for length in 0..<bytes.count {
                guard case .failure = decodeResponse(Array(bytes.prefix(length))) else {
                    Issue.record("\(response) cut to \(length) bytes decoded"); continue
                }
            }
            #expect(throws: AgentCodecError.trailingBytes) { try decodeResponse(bytes + [0]).get() }
        }
    }

    @Test func randomBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        let version = UInt8(TV_AGENT_VERSION_BYTE)
        for round in 0..<20_000 {
            var bytes = (0..<Int.random(in: 0...48, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Most with this version's byte and a known opcode or answer kind, to reach the fields.
            if round % 4 != 0, !bytes.isEmpty { bytes[0] = round % 2 == 0 ? version : UInt8(round % 12) }
            if round % 4 != 0, bytes.count > 1, bytes[0] == version { bytes[1] = UInt8(1 + round % 14) }
            _ = decodeRequest(bytes)
            _ = decodeResponse(bytes)
        }
    }

    @Test func aCountTheFrameCannotHoldIsRefusedBeforeAnythingIsReserved() {
        let version = UInt8(TV_AGENT_VERSION_BYTE)
        #expect(throws: AgentCodecError.truncated) { try decodeRequest([version, UInt8(TV_AGENT_OP_OPEN), 0xFF, 0xFF, 0xFF, 0xFF]).get() }
        #expect(throws: AgentCodecError.truncated) { try decodeResponse([UInt8(TV_AGENT_ANSWER_OPENED), 0xFF, 0xFF, 0xFF, 0x7F, 1]).get() }
        #expect(throws: AgentCodecError.truncated) { try decodeRequest([version, UInt8(TV_AGENT_OP_LOOKUP), 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]).get() }
        #expect(throws: AgentCodecError.truncated) { try decodeResponse([UInt8(TV_AGENT_ANSWER_ENTRIES), 0xFF, 0xFF, 0xFF, 0xFF]).get() }
        // A review that names an entry twice is no review.
        let twice: [UInt8] = [UInt8(TV_AGENT_ANSWER_REVIEW), 2, 0, 0, 0] + [1, 0, 0, 0, 97, 1, 0, 0, 0, 98] + [1, 0, 0, 0, 97, 1, 0, 0, 0, 99] + [0, 0, 0, 0]
        #expect(throws: AgentCodecError.invalid("a name twice")) { try decodeResponse(twice).get() }
        // Git's reply carries at most a few messages.
        var many = [UInt8(TV_AGENT_ANSWER_GIT), 100, 0, 0, 0]
        for _ in 0..<100 { many += [1, 0, 0, 0, 0] }
        #expect(throws: AgentCodecError.invalid("a list of 100 items")) { try decodeResponse(many + [0, 0, 0, 0]).get() }
    }

    @Test func whetherAReadWasRecordedIsOneOfTheOutcomesTheProtocolKnows() throws {
        let responses: [AgentResponse] = [.history([], .recorded), .entry(Entry(name: "e"), Secret("t"), .recorded),
                                          .review(Review.Tokens(duplicates: [:], classicGitHub: []), .recorded)]
        for response in responses {
            let bytes = Self.body { response.encode(into: &$0) }
            #expect(bytes.last == 0, "\(response)")
            for outcome: UInt8 in [3, 0xFF] {
                #expect(throws: AgentCodecError.invalid("whether a read was recorded")) {
                    try decodeResponse(Array(bytes.dropLast()) + [outcome]).get()
                }
            }
        }
        let history = Self.body { AgentResponse.history([], .recorded).encode(into: &$0) }
        guard case .history(_, .notRecorded(.readOnly)) = try decodeResponse(Array(history.dropLast()) + [1]).get() else {
            Issue.record("1 is not read-only")
            return
        }
    }

    @Test func aRequestOfAnotherVersionIsToldApartAndReportedAsSuch() {
        // The first version's status request: no version byte.
        #expect(throws: AgentCodecError.otherVersion(1)) { try decodeRequest([1]).get() }
        #expect(throws: AgentCodecError.otherVersion(0x84)) { try decodeRequest([0x84, 1]).get() }
        // `lock` as every version sends it.
        guard case .success(.lock) = decodeRequest([UInt8(TV_AGENT_LOCK_ANY_VERSION)]) else { Issue.record("lock"); return }
        // What a client makes of an agent of another version: newer, or older (badRequest).
        #expect(AgentFailure.unsupportedVersion(3).vaultError(name: nil) == .otherAgentVersion)
        #expect(AgentFailure.badRequest("unknown request").vaultError(name: nil) == .otherAgentVersion)
    }

    @Test func anOversizedFrameIsRefusedFromItsLength() throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let header: [UInt8] = [0x01, 0x00, 0x40, 0x00]  // 4 MiB + 1
        #expect(header.withUnsafeBytes { send(fds[0], $0.baseAddress, 4, 0) } == 4)
        var reader = AgentProtocol.FrameReader(maximum: AgentProtocol.maximumRequest)
        #expect(throws: AgentProtocol.FrameError.self) { _ = try reader.read(fds[1]) }
    }
}
