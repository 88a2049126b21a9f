import FuzzSupport
import Glibc
@testable import TokenVault

// The agent's side of its socket (Sources/TokenVault/Agent): what a client sends. The first
// byte of the input chooses a request's body (even) or a stream of frames read from a socket
// with the agent's frame reader and its request limit (odd). Properties: no trap; a request
// that decodes, encoded and decoded again, encodes to the same bytes; no error's text holds
// the marker secret (the passphrase of the seeds' `unlock`).

@_cdecl("fuzz_agent_request_main")
public func main(_ argc: CInt, _ argv: Fuzz.Arguments) -> CInt { Fuzz.main(argc, argv, fuzz, seeds: seeds) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Fuzz.input(data, size)
    guard let kind = input.first else { return 0 }
    let rest = UnsafeRawBufferPointer(rebasing: input[1...])
    if kind % 2 == 0 {
        request(rest)
    } else {
        for frame in AgentFrames.read(rest, maximum: AgentProtocol.maximumRequest) { frame.withUnsafeBytes { request($0) } }
    }
    return 0
}

private func request(_ body: UnsafeRawBufferPointer) {
    do {
        let decoded = try AgentRequest.decode(body)
        let encoded = AgentFrames.body(of: decoded)
        let again = try encoded.withUnsafeBytes { bytes throws(AgentCodecError) in try AgentRequest.decode(bytes) }
        Fuzz.check(AgentFrames.body(of: again) == encoded, "a request decoded and encoded again changes")
    } catch {
        Fuzz.checkQuiet(error)
    }
}

enum AgentFrames {
    /// The frames of `stream`, read from a socket as the agent reads them, until the stream ends
    /// or the reader refuses it.
    static func read(_ stream: UnsafeRawBufferPointer, maximum: Int) -> [[UInt8]] {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { fatalError("socketpair: \(errno)") }
        defer { close(pair[0]) }
        var size = Int32(1 << 20)
        setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        if stream.count > 0 { Fuzz.check(AgentProtocol.writeAll(pair[1], stream), "the stream does not fit the socket") }
        close(pair[1])
        var reader = AgentProtocol.FrameReader(maximum: maximum)
        var frames: [[UInt8]] = []
        while true {
            do {
                guard let body = try reader.read(pair[0]) else { Fuzz.check(false, "a closed socket would block"); break }
                frames.append(body.withUnsafeBytes { Array($0) })
            } catch {
                break
            }
        }
        return frames
    }

    /// The body of the frame that `request` is sent in.
    static func body(of request: AgentRequest) -> [UInt8] {
        var builder = AgentProtocol.Builder()
        request.encode(into: &builder)
        return builder.frame().withUnsafeBytes { Array($0.dropFirst(4)) }
    }
}

private func secure(_ bytes: [UInt8]) -> SecureBytes { bytes.withUnsafeBytes { SecureBytes(copying: $0) } }

/// A remote entry as the client caches it (`REMOTE/ENTRY`, its metadata from OpenBao).
private func remoteEntry() -> Entry {
    var entry = Entry(name: "team/gitlab-ci", url: try? CredentialURL.parse("https://gitlab.example.com/group").url, username: "ci-bot",
                      kind: .gitlab)
    entry.scopes = ["read_api"]
    entry.notes = "shared by the team"
    return entry
}

/// Requests made by the code, one of each kind, and two of them as one stream of frames.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    let file = FileIdentity(device: 2049, inode: 131_077)
    let origin = ActivityLog.Origin(actor: "git-credential-vault get", parentPID: 4242, parentName: "git")
    let box = SealedBox(purpose: .entrySecret, bytes: [UInt8](repeating: 0xAB, count: 80))
    let requests: [(String, AgentRequest)] = [
        ("status", .status),
        ("lock", .lock),
        ("unlock", .unlock(passphrase: Secret(Fuzz.marker), idle: .seconds(900), lifetime: .seconds(3600), allowingCostlyKDF: true,
                           cacheTTL: .seconds(0))),
        ("unlock-key", .unlockKey(SymmetricKey.random(), idle: .seconds(60), lifetime: .seconds(120), cacheTTL: .seconds(300))),
        ("lookup", .lookup(["github", "gitlab-ci"])),
        ("seal", .seal(.entryMetadata, secure([UInt8](repeating: 1, count: 64)))),
        ("open", .open([box, SealedBox(purpose: .manifest, bytes: [1, 2, 3])])),
        ("mac", .mac([[1, 2, 3], []])),
        ("attach", .attach(file)),
        ("read", .read(file, origin, name: "github", allowingExpired: true)),
        ("git", .git(file, origin, now: Timestamp(secondsSince1970: 1_750_000_000),
                     description: secure(Array("protocol=https\nhost=github.com\n\n".utf8)))),
        ("entries", .entries(file)),
        ("review", .review(file, origin)),
        ("log", .log(file)),
        ("token", .token(file, origin, name: "github", allowingExpired: false)),
        ("history", .history(file, origin, name: "github")),
        ("remote-put", .remotePut(file, remoteEntry(), Secret("glpat-\(Fuzz.marker)"))),
        ("remote-get", .remoteGet(file, name: "team/gitlab-ci")),
    ]
    var seeds = requests.map { (name: "body-" + $0.0, bytes: [0] + AgentFrames.body(of: $0.1)) }
    var stream: [UInt8] = [1]
    for request in [requests[2].1, requests[9].1] {
        var builder = AgentProtocol.Builder()
        request.encode(into: &builder)
        stream += builder.frame().withUnsafeBytes { Array($0) }
    }
    seeds.append((name: "stream-unlock-read", bytes: stream))
    return seeds
}
