import FuzzSupport
@testable import TokenVault
@testable import TokenVaultGitLab

// GitLab's answers (Sources/TokenVaultGitLab: JSON.swift and what is read from it): the input
// is an HTTP answer, first byte the operation and status, the rest its body, given to the
// library's GitLab client by a transport that answers with it. Properties: no trap; no error's
// text holds the token sent (the marker secret, which the seeds' bodies repeat); a token's name
// and its last use are printable; a rotated token is printable ASCII.

@_cdecl("fuzz_gitlab_json_main")
public func main(_ argc: CInt, _ argv: Fuzz.Arguments) -> CInt { Fuzz.main(argc, argv, fuzz, seeds: seeds) }

/// Answers every request with one status and body.
private struct Answer: HTTPTransport {
    let status: Int
    let body: Secret
    func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse { HTTPResponse(status: status, body: body) }
}

private let statuses = [200, 201, 400, 401, 403, 404, 429, 500]
private let link = GitLabVariableLink(owner: .project("team/app"), key: "DEPLOY_TOKEN", environmentScope: "production")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Fuzz.input(data, size)
    guard let first = input.first else { return 0 }
    let body = UnsafeRawBufferPointer(rebasing: input[1...])
    let token = Secret(Fuzz.marker)
    guard let api = try? GitLabAPIURL(host: "gitlab.example.com", prefix: "") else { fatalError("the API URL") }
    let gitlab = GitLab(api: api, transport: Answer(status: statuses[Int(first / 8) % statuses.count], body: Secret(copying: body)))
    do {
        switch first % 8 {
        case 0: check(try gitlab.verify(token))
        case 1: check(try gitlab.record(id: 42, reader: token))
        case 2:
            let rotated = try gitlab.rotate(token, expires: nil)
            check(rotated.info)
            Fuzz.check(rotated.token.withUnsafeBytes { $0.allSatisfy { (0x21...0x7E).contains($0) } }, "a rotated token is not printable")
        case 3: _ = try gitlab.variable(link, admin: token)
        case 4: _ = try gitlab.createVariable(link, value: Secret("value-\(Fuzz.marker)"), admin: token)
        case 5: try gitlab.updateVariable(link, value: Secret("value-\(Fuzz.marker)"), admin: token, hidden: first & 0x40 != 0)
        case 6:
            _ = GitLab.isGitLabsRefusal(body)
            if let message = GitLab.message(in: body, hiding: [token]) { Fuzz.check(!holdsMarker(message), "a message holds the token") }
        default:
            if let json = try? JSONValue.parse(body) { walk(json, body) }
        }
    } catch {
        Fuzz.checkQuiet(error)
    }
    return 0
}

private func holdsMarker(_ text: String) -> Bool { Fuzz.contains(Array(text.utf8), Fuzz.markerBytes) }

private func check(_ info: GitLab.TokenInfo) {
    for text in [info.name, info.lastUsed].compactMap({ $0 }) {
        Fuzz.check(text.unicodeScalars.allSatisfy { $0.properties.generalCategory != .control && $0.properties.generalCategory != .format },
                   "GitLab's text is kept with a control character")
    }
}

/// Every string of a value, decoded.
private func walk(_ value: JSONValue, _ body: UnsafeRawBufferPointer) {
    switch value {
    case .object(let members): for member in members { walk(member.value, body) }
    case .array(let items): for item in items { walk(item, body) }
    case .string(let range, let escaped):
        _ = value.string(in: body)
        _ = GitLab.unescaped(UnsafeRawBufferPointer(rebasing: body[range]), escaped: escaped)
    default: break
    }
}

/// GitLab's answers as its API documents them (personal_access_tokens, rotate, variables) and
/// its errors, each naming the token sent.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    let m = Fuzz.marker
    let info = #"{"id":42,"name":"ci \u001b[31mred","revoked":false,"created_at":"2025-01-02T03:04:05.000Z","scopes":["api","read_repository"],"user_id":7,"last_used_at":"2025-06-01T10:00:00.123Z","active":true,"expires_at":"2026-01-01","last_used_ips":["203.0.113.7","2001:db8::1"]}"#
    let rotated = #"{"id":43,"name":"ci","revoked":false,"created_at":"2025-06-02T00:00:00.000Z","scopes":["api"],"user_id":7,"active":true,"expires_at":"2025-06-09","token":"glpat-\#(m)"}"#
    let variable = #"{"variable_type":"env_var","key":"DEPLOY_TOKEN","value":"v\/\u0041\n\#(m)","protected":false,"masked":true,"hidden":false,"raw":false,"environment_scope":"production","description":null}"#
    let refusal = #"{"message":"401 Unauthorized: \#(m) is not valid"}"#
    let nested = #"{"message":{"value":["is invalid: \#(m)"],"key":["has already been taken"]},"error_description":"x\ud83d\ude00\udc00"}"#
    return [
        ("verify-200", [0] + Array(info.utf8)),
        ("record-200", [1] + Array(info.utf8)),
        ("rotate-200", [2] + Array(rotated.utf8)),
        ("variable-200", [3] + Array(variable.utf8)),
        ("create-201", [4 + 8] + Array(variable.utf8)),
        ("update-400", [5 + 16] + Array(nested.utf8)),
        ("verify-401", [0 + 24] + Array(refusal.utf8)),
        ("message", [6] + Array(nested.utf8)),
        ("walk", [7] + Array(nested.utf8)),
    ]
}
