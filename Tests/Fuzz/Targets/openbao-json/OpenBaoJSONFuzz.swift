import FuzzSupport
@testable import TokenVault
@testable import TokenVaultGitLab
@testable import TokenVaultOpenBao

// OpenBao's answers (Sources/TokenVaultOpenBao: the client and the KV engine's reading of its
// JSON): the input is an HTTP answer, first byte the operation (low 4 bits) and status (high 4
// bits), the rest its body, given to the library's OpenBao client by a transport that answers
// every request (of a remote with two URLs) with it. Properties: no trap; no error's text holds
// a secret sent (the remote's token, an AppRole secret id, a token written: the marker, which
// the seeds' bodies repeat); what is read of OpenBao's text is printable.

@_cdecl("fuzz_openbao_json_main")
public func main(_ argc: CInt, _ argv: Fuzz.Arguments) -> CInt { Fuzz.main(argc, argv, fuzz, seeds: seeds) }

/// Answers every request with one status and body.
private struct Answer: HTTPTransport {
    let status: Int
    let body: Secret
    func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse { HTTPResponse(status: status, body: body) }
}

private let statuses = [200, 204, 400, 401, 403, 404, 412, 429, 500, 502, 503, 200, 200, 200, 404, 503]

private func remote(appRole: Bool) -> RemoteSettings {
    RemoteSettings(name: "team", urls: ["https://bao-1.example.com:8200", "https://bao-2.example.com:8200"], namespace: "ns1",
                   credential: appRole ? .appRole(roleID: "role-1", secretID: Secret(Fuzz.marker)) : .token(Secret(Fuzz.marker)))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Fuzz.input(data, size)
    guard let first = input.first else { return 0 }
    let body = UnsafeRawBufferPointer(rebasing: input[1...])
    let transport = Answer(status: statuses[Int(first >> 4)], body: Secret(copying: body))
    var client = OpenBaoClient(remote: remote(appRole: first & 0x08 != 0), transport: transport)
    do throws(OpenBaoError) {
        switch first & 0x07 {
        case 0: check(try client.read("deploy"))
        case 1: check(try client.read("deploy", version: 3))
        case 2: for name in try client.list("") { Fuzz.check(!TerminalText.containsUnprintable(name), "a listed name is unprintable") }
        case 3: _ = try client.versions("deploy")
        case 4: check(try client.lookupSelf())
        case 5: if let info = try client.renewIfRenewable() { check(info) }
        case 6:
            let health = try client.health()
            Fuzz.check(!TerminalText.containsUnprintable(health.version), "OpenBao's version is unprintable")
        default:
            var entry = Entry(name: "team/deploy")
            entry.notes = "a note"
            try client.write("deploy", entry: entry, secret: Secret("written-\(Fuzz.marker)"), cas: Int(first >> 4))
            try client.delete("deploy")
            try client.undelete("deploy", version: 2)
        }
    } catch {
        Fuzz.checkQuiet(error)
        if let hint = error.hint { Fuzz.check(!holdsMarker(hint), "a hint holds the marker") }
    }
    return 0
}

private func holdsMarker(_ text: String) -> Bool { Fuzz.contains(Array(text.utf8), Fuzz.markerBytes) }

private func check(_ read: OpenBaoClient.Read) {
    let entry = read.entry
    for text in [entry.notes, entry.username, entry.url?.description].compactMap({ $0 }) + entry.scopes {
        Fuzz.check(!TerminalText.containsUnprintable(text.replacing("\n", with: "")), "an entry's text is unprintable: \(TerminalText.escape(text))")
    }
    Fuzz.check(read.version >= 1, "a version below 1")
}

private func check(_ info: OpenBaoClient.TokenInfo) {
    Fuzz.check(info.ttl >= 0, "a negative time to live")
    for policy in info.policies { Fuzz.check(!TerminalText.containsUnprintable(policy), "a policy is unprintable") }
}

/// OpenBao's answers as its API documents them (KV version 2 read, list, metadata, write;
/// token lookup-self and renew-self; AppRole login; sys/health) and its errors, each naming
/// the secret sent.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    let m = Fuzz.marker
    let read = #"{"request_id":"4f0a","lease_id":"","renewable":false,"lease_duration":0,"data":{"data":{"token":"glpat-\#(m)","format":"tokenvault-entry-1","kind":"gitlab","url":"https://gitlab.com/group","username":"ci\u0007","scopes":"api read_repository","expires":"2027-01-31","notes":"line one\nline \u001b[31mtwo","created":"2026-12-02T08:30:12.123456789Z","token_since":"2026-12-02T08:30:12Z","rotate_every":"90d","revoked":"2026-13-40"},"metadata":{"created_time":"2026-12-02T08:30:12.123456789Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":3}},"wrap_info":null,"warnings":null,"auth":null}"#
    let deleted = #"{"data":{"data":null,"metadata":{"created_time":"2026-12-02T08:30:12Z","deletion_time":"2026-12-02T09:00:00.5Z","destroyed":false,"version":2}}}"#
    let destroyed = #"{"data":{"data":null,"metadata":{"created_time":"2026-12-02T08:30:12Z","deletion_time":"","destroyed":true,"version":1}}}"#
    let list = #"{"data":{"keys":["deploy","folder/","bad name","\u001b[2J","x/y/"]}}"#
    let metadata = #"{"data":{"cas_required":false,"created_time":"2026-12-01T00:00:00Z","current_version":3,"max_versions":0,"oldest_version":0,"versions":{"1":{"created_time":"2026-12-01T00:00:00Z","deletion_time":"","destroyed":true},"2":{"created_time":"2026-12-01T10:00:00Z","deletion_time":"2026-12-01T11:00:00Z","destroyed":false},"3":{"created_time":"2026-12-02T00:00:00Z","deletion_time":"","destroyed":false},"x":{}}}}"#
    let lookup = #"{"data":{"accessor":"abc","policies":["default","team-\u001b]0;x\u0007rw"],"ttl":2764800,"renewable":true,"id":"\#(m)","display_name":"token"},"auth":{"client_token":"s.\#(m)","lease_duration":3600}}"#
    let login = #"{"auth":{"client_token":"s.\#(m)","accessor":"a","policies":["default"],"lease_duration":3600,"renewable":true},"data":{"policies":["default"],"ttl":3600,"renewable":true}}"#
    let written = #"{"data":{"created_time":"2026-12-02T08:30:12Z","deletion_time":"","destroyed":false,"version":4}}"#
    let health = #"{"initialized":true,"sealed":false,"standby":false,"performance_standby":false,"version":"2.7.2\u001b[0m","cluster_name":"c"}"#
    let refusal = #"{"errors":["permission denied: token \#(m) is not valid"]}"#
    let cas = #"{"errors":["check-and-set parameter did not match the current version (\#(m))"]}"#
    let sealed = #"{"errors":["Vault is sealed"]}"#
    let standby = #"{"errors":["local node not active but active cluster node not found"]}"#
    // The status is in the high 4 bits (statuses[first >> 4]), the operation in the low 3, bit 3 AppRole.
    return [
        ("read-200", [0x00] + Array(read.utf8)),
        ("read-version-404-deleted", [0x51] + Array(deleted.utf8)),
        ("read-404-destroyed", [0x50] + Array(destroyed.utf8)),
        ("read-approle", [0x08] + Array((login.dropLast() + "," + read.dropFirst()).utf8)),
        ("list-200", [0x02] + Array(list.utf8)),
        ("metadata-200", [0x03] + Array(metadata.utf8)),
        ("lookup-self-200", [0x04] + Array(lookup.utf8)),
        ("renew-200", [0x05] + Array(lookup.utf8)),
        ("approle-login", [0x0C] + Array(login.utf8)),
        ("health", [0x06] + Array(health.utf8)),
        ("write-200", [0x07] + Array(written.utf8)),
        ("write-400-cas", [0x27] + Array(cas.utf8)),
        ("read-403", [0x40] + Array(refusal.utf8)),
        ("lookup-401", [0x34] + Array(refusal.utf8)),
        ("read-500", [0x80] + Array(refusal.utf8)),
        ("list-429", [0x72] + Array(refusal.utf8)),
        ("read-503-sealed", [0xA0] + Array(sealed.utf8)),
        ("read-502-standby", [0x90] + Array(standby.utf8)),
        ("read-not-json", [0x80] + Array("<html>\(m)</html>".utf8)),
    ]
}
