import FuzzSupport
@testable import TokenVault

// git's credential protocol (Sources/TokenVault/GitCredential): the input is what git writes
// on the helper's stdin. Properties: no trap; the request is matched against entries (the host index finds what
// the list finds) and named when none matches; an answer rendered from what was parsed parses back to the same user name,
// password, expiry and refresh token; no error's text holds the marker secret (planted as
// passwords in the seeds).

@_cdecl("fuzz_git_credential_main")
public func main(_ argc: CInt, _ argv: Fuzz.Arguments) -> CInt { Fuzz.main(argc, argv, fuzz, seeds: seeds) }

private let entries: [Entry] = {
    var expired = Entry(name: "old", url: try? CredentialURL.parse("https://gitlab.example.com").url, username: "oauth2")
    expired.expires = Timestamp(secondsSince1970: 1_000)
    return [
        Entry(name: "github", url: try? CredentialURL.parse("https://github.com").url, username: "octocat", kind: .github),
        Entry(name: "gitlab-project", url: try? CredentialURL.parse("https://gitlab.example.com:8443/group/project").url),
        Entry(name: "any-host", url: try? CredentialURL.parse("https://*.example.org").url),
        expired,
    ]
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Fuzz.input(data, size)
    do {
        let request = try GitCredential.parse(input)
        let selection = GitMatching.select(for: request, in: entries, now: Timestamp(secondsSince1970: 1_750_000_000))
        _ = selection.chosen
        _ = GitMatching.sameIdentity(as: request, in: entries)
        Fuzz.check(GitMatching.HostIndex(entries).sameHost(as: request).map(\.name)
                   == GitMatching.sameHost(as: request, in: entries).map(\.name),
                   "the host index finds other entries than the list")
        let name = GitMatching.generatedName(for: request, taken: ["github", "git-credential"])
        Fuzz.check((try? Entry.validate(name: name)) != nil, "a generated name is not a valid name: \(name)")
        _ = request.storedAuthType
        roundTrip(request)
    } catch {
        Fuzz.checkQuiet(error)
    }
    return 0
}

/// The answer to `get` made of what was parsed, parsed again.
private func roundTrip(_ request: GitCredential) {
    guard let password = request.password,
          let parts = GitCredential.answer(username: request.username, password: password, expiry: request.passwordExpiry,
                                           refreshToken: request.oauthRefreshToken) else { return }
    var reply = GitReply()
    reply.answer = parts
    let stdout = reply.stdout
    do {
        let back = try stdout.withUnsafeBytes { bytes throws(GitCredential.ParseError) in try GitCredential.parse(bytes) }
        Fuzz.check(back.username == request.username, "an answer's user name does not parse back")
        Fuzz.check(back.password?.isEqual(to: password) == true, "an answer's password does not parse back")
        Fuzz.check(back.passwordExpiry == request.passwordExpiry, "an answer's expiry does not parse back")
        let refresh = request.oauthRefreshToken.flatMap { $0.isEmpty ? nil : $0 }
        Fuzz.check((back.oauthRefreshToken == nil) == (refresh == nil)
                   && (refresh.map { back.oauthRefreshToken?.isEqual(to: $0) == true } ?? true),
                   "an answer's refresh token does not parse back")
    } catch {
        Fuzz.check(false, "an answer made by the helper does not parse: \(error)")
    }
}

/// Descriptions as git writes them (git 2.39 to 2.47): get, store with an expiry and refresh
/// token, an authtype store, a url= line, erase.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    let m = Fuzz.marker
    return [
        ("get", "protocol=https\nhost=github.com\n\n"),
        ("get-path-capability", "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=gitlab.example.com:8443\npath=group/project.git\nwwwauth[]=Bearer realm=\"GitLab\"\nwwwauth[]=Basic realm=\"GitLab\"\n\n"),
        ("store", "protocol=https\nhost=github.com\nusername=octocat\npassword=ghp_\(m)\npassword_expiry_utc=1893456000\noauth_refresh_token=r-\(m)\n\n"),
        ("store-authtype", "capability[]=authtype\nprotocol=https\nhost=example.com\nauthtype=Bearer\ncredential=\(m)\nephemeral=1\nstate[]=helper:1\n\n"),
        ("url", "url=https://user%40corp:p%41ss-\(m)@git.example.com:8443/a/b.git/\n\n"),
        ("erase-crlf", "protocol=https\r\nhost=github.com\r\nusername=octocat\r\npassword=\(m)\r\n\r\n"),
    ].map { ($0.0, Array($0.1.utf8)) }
}
