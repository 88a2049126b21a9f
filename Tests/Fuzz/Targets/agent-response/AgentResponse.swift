import FuzzSupport
@testable import TokenVault

// The client's side of the agent's socket (Sources/TokenVault/Agent): an answer's body, as the
// CLI, the git helper and the library read it from an agent (which may be another user's
// program if the socket's checks were wrong, or an agent of another version). Properties: no
// trap; an answer that decodes, encoded and decoded again, encodes to the same bytes; no
// error's text holds the marker secret (the tokens of the seeds).

@_cdecl("fuzz_agent_response_main")
public func main(_ argc: CInt, _ argv: Fuzz.Arguments) -> CInt { Fuzz.main(argc, argv, fuzz, seeds: seeds) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = Fuzz.input(data, size)
    do {
        let decoded = try AgentResponse.decode(body)
        let encoded = encode(decoded)
        let again = try encoded.withUnsafeBytes { bytes throws(AgentCodecError) in try AgentResponse.decode(bytes) }
        Fuzz.check(encode(again) == encoded, "an answer decoded and encoded again changes")
        if case .failure(let failure) = decoded { Fuzz.checkQuiet(failure.vaultError(name: nil)) }
    } catch {
        Fuzz.checkQuiet(error)
    }
    return 0
}

/// The body of the frame that `response` is sent in.
private func encode(_ response: AgentResponse) -> [UInt8] {
    var builder = AgentProtocol.Builder()
    response.encode(into: &builder)
    return builder.frame().withUnsafeBytes { Array($0.dropFirst(4)) }
}

/// Answers made by the code, one of each kind.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    let token = Secret(Fuzz.marker)
    var entry = Entry(name: "github", url: try? CredentialURL.parse("https://github.com").url, username: "octocat", kind: .github)
    entry.lastUsed = Timestamp(secondsSince1970: 1_750_000_000)
    let event = Event(sequence: 3, time: Timestamp(secondsSince1970: 1_750_000_000), action: EventAction("get"), entry: "github",
                      actor: "vault get", parentPID: 4242, parentName: "bash", detail: nil)
    // A remote entry from the agent's cache (remoteGet's answer).
    var remote = Entry(name: "team/gitlab-ci", url: try? CredentialURL.parse("https://gitlab.example.com/group").url, username: "ci-bot",
                       kind: .gitlab)
    remote.scopes = ["read_api"]
    var reply = GitReply()
    reply.messages = [.warning("github's token expires in 3 days"), .note("answered with github")]
    reply.answer = GitCredential.answer(username: "octocat", password: token, expiry: nil) ?? []
    let responses: [(String, AgentResponse)] = [
        ("done", .done),
        ("status", .status(AgentClient.Status(unlocked: true, locksAt: Timestamp(secondsSince1970: 1_750_000_900),
                                              idleTimeout: .seconds(900), requests: 12))),
        ("failure-not-found", .failure(.notFound("gitub"))),
        ("failure-expired", .failure(.expired(Timestamp(secondsSince1970: 1_700_000_000)))),
        ("lookups", .lookups([[UInt8](repeating: 3, count: KeyedHash.bytes)])),
        ("sealed", .sealed([UInt8](repeating: 4, count: 72))),
        ("opened", .opened([SecureBytes(count: 3, guarded: false) { $0.copyBytes(from: [1, 2, 3]) }, nil])),
        ("macs", .macs([[UInt8](repeating: 5, count: KeyedHash.bytes)])),
        ("entry", .entry(entry, token, .notRecorded(.readOnly))),
        ("git", .git(reply)),
        ("entries", .entries([entry, Entry(name: "bare")])),
        ("review", .review(Review.Tokens(duplicates: ["a": "b"], classicGitHub: ["github"]), .recorded)),
        ("log", .log(LogReport(events: [event], problem: "event 4 is missing"))),
        ("token", .token(warnings: ["github's token expired on 2026-01-01"], token)),
        ("history", .history([SecretVersion(replaced: Timestamp(secondsSince1970: 1_740_000_000), secret: token)], .recorded)),
        ("entry-remote", .entry(remote, token, .recorded)),
        ("failure-remote-not-cached", .failure(.notFound("team/gitlab-ci"))),
    ]
    return responses.map { (name: $0.0, bytes: encode($0.1)) }
}
