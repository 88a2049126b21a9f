import Testing
@testable import TokenVault

@Suite struct GitCredentialParsingTests {
    func parse(_ text: String) throws -> GitCredential {
        try Array(text.utf8).withUnsafeBytes { bytes throws(GitCredential.ParseError) in try GitCredential.parse(bytes) }
    }

    @Test func everyAttribute() throws {
        let c = try parse("""
            protocol=https
            host=gitlab.example.com:8443
            path=group/repo.git
            username=alice
            password=glpat-secret=with=equals
            password_expiry_utc=1900000000
            oauth_refresh_token=refresh-me
            wwwauth[]=Basic realm="GitLab"
            wwwauth[]=Bearer
            capability[]=authtype
            capability[]=state
            unknown=ignored
            future[]=ignored too

            protocol=ignored-after-the-blank-line
            """)
        #expect(c.protocolName == "https")
        #expect(c.host == "gitlab.example.com:8443")
        #expect(c.path == "group/repo.git")
        #expect(c.username == "alice")
        #expect(c.password?.revealString() == "glpat-secret=with=equals")
        #expect(c.passwordExpiry?.secondsSince1970 == 1_900_000_000)
        #expect(c.oauthRefreshToken?.revealString() == "refresh-me")
        #expect(c.wwwauth == ["Basic realm=\"GitLab\"", "Bearer"])
        #expect(c.capabilities == ["authtype", "state"])
    }

    @Test func anEmptyMultiValueClearsTheList() throws {
        let c = try parse("wwwauth[]=a\nwwwauth[]=\nwwwauth[]=b\n")
        #expect(c.wwwauth == ["b"])
    }

    @Test func urlStandsForItsParts() throws {
        let c = try parse("url=https://bob%40corp:p%3Ass@git.example.com:8443/a/b.git\n")
        #expect(c.protocolName == "https")
        #expect(c.host == "git.example.com:8443")
        #expect(c.path == "a/b.git")
        #expect(c.username == "bob@corp")
        #expect(c.password?.revealString() == "p:ss")
        let later = try parse("url=https://example.com\nhost=other.example\n")
        #expect(later.host == "other.example")
        // As in git, url= replaces what came before it, and the user part ends at the first @.
        let replaced = try parse("username=bob\npath=x\nurl=https://a@b@h%2Eexample/p/\n")
        #expect(replaced.username == "a")
        #expect(replaced.host == "b@h.example")
        #expect(replaced.path == "p")
    }

    @Test func endOfInputAndCRLF() throws {
        let c = try parse("protocol=https\r\nhost=example.com")
        #expect(c.protocolName == "https")
        #expect(c.host == "example.com")
        #expect(try parse("").host == nil)
    }

    @Test func malformedInputNamesTheLineNotItsContent() throws {
        #expect(throws: GitCredential.ParseError.missingEquals(line: 2)) { try parse("protocol=https\nhunter2\n") }
        #expect(throws: GitCredential.ParseError.emptyKey(line: 1)) { try parse("=value\n") }
        #expect(throws: GitCredential.ParseError.nul(line: 1)) { try parse("password=a\u{0}b\n") }
        #expect(throws: GitCredential.ParseError.tooLong(line: 1)) {
            try parse("password=" + String(repeating: "x", count: GitCredential.maximumLineLength) + "\n")
        }
        #expect(throws: GitCredential.ParseError.badURL(line: 1)) { try parse("url=not a url\n") }
        // A value up to git's limit is fine.
        let long = String(repeating: "y", count: GitCredential.maximumLineLength - 9)
        #expect(try parse("password=\(long)\n").password?.count == long.count)
        #expect(!GitCredential.ParseError.missingEquals(line: 2).description.contains("hunter2"))
    }

    @Test func answers() throws {
        let parts = try #require(GitCredential.answer(username: "oauth2", password: Secret("tok"),
                                                      expiry: Timestamp(secondsSince1970: 1_900_000_000)))
        let text = parts.map { part -> String in
            switch part {
            case .text(let t): t
            case .secret(let s): s.revealString()
            }
        }.joined()
        #expect(text == "username=oauth2\npassword=tok\npassword_expiry_utc=1900000000\n")
        #expect(GitCredential.answer(username: nil, password: Secret("a\nb"), expiry: nil) == nil)
        #expect(GitCredential.answer(username: "a\nb", password: Secret("x"), expiry: nil) == nil)
        #expect(GitCredential.answer(username: "bob\r\nhost=attacker.example", password: Secret("x"), expiry: nil) == nil)
        #expect(GitCredential.answer(username: "bob", password: Secret("x\ry"), expiry: nil) == nil)
    }
}

@Suite struct GitMatchingTests {
    func entry(_ name: String, _ url: String, user: String? = nil, used: Int64? = nil, updated: Int64 = 0,
               isDefault: Bool = false, rejected: Bool = false) throws -> Entry {
        var e = Entry(name: name, url: try CredentialURL.parse(url).url, username: user)
        e.lastUsed = used.map(Timestamp.init(secondsSince1970:))
        e.updated = Timestamp(secondsSince1970: updated)
        e.isGitDefault = isDefault
        e.rejected = rejected ? Timestamp(secondsSince1970: 1) : nil
        return e
    }

    func request(_ proto: String, _ host: String, path: String? = nil, user: String? = nil) -> GitCredential {
        var r = GitCredential()
        r.protocolName = proto
        r.host = host
        r.path = path
        r.username = user
        return r
    }

    @Test func protocolAndHostWithPortMustMatch() throws {
        let entries = [try entry("plain", "https://gitlab.com"), try entry("port", "https://gitlab.com:8443"),
                       try entry("http", "http://gitlab.com"), try entry("other", "https://github.com")]
        #expect(GitMatching.candidates(for: request("https", "gitlab.com"), in: entries).map(\.name) == ["plain"])
        #expect(GitMatching.candidates(for: request("https", "GitLab.com:443"), in: entries).map(\.name) == ["plain"])
        #expect(GitMatching.candidates(for: request("https", "gitlab.com:8443"), in: entries).map(\.name) == ["port"])
        #expect(GitMatching.candidates(for: request("http", "gitlab.com"), in: entries).map(\.name) == ["http"])
        #expect(GitMatching.candidates(for: request("https", "gitlab.com:80"), in: entries).isEmpty)
        #expect(GitMatching.candidates(for: GitCredential(), in: entries).isEmpty)
    }

    @Test func aUserNameMustMatchWhenGiven() throws {
        let entries = [try entry("alice", "https://h", user: "alice"), try entry("bob", "https://h", user: "bob"),
                       try entry("none", "https://h")]
        #expect(GitMatching.candidates(for: request("https", "h", user: "bob"), in: entries).map(\.name) == ["bob"])
        #expect(GitMatching.candidates(for: request("https", "h", user: "carol"), in: entries).isEmpty)
        #expect(GitMatching.candidates(for: request("https", "h"), in: entries).count == 3)
    }

    @Test func aPathMatchesWhenGitSendsOne() throws {
        let entries = [try entry("a", "https://h/g/a.git"), try entry("b", "https://h/g/b"), try entry("host", "https://h")]
        #expect(GitMatching.candidates(for: request("https", "h", path: "g/a.git"), in: entries).map(\.name) == ["a", "host"])
        #expect(GitMatching.candidates(for: request("https", "h", path: "g/b.git"), in: entries).map(\.name) == ["b", "host"])
        #expect(GitMatching.candidates(for: request("https", "h", path: "g/c.git"), in: entries).map(\.name) == ["host"])
        #expect(GitMatching.candidates(for: request("https", "h"), in: entries).count == 3)
    }

    @Test func theChoiceIsDeterministic() throws {
        let recent = try entry("recent", "https://h", used: 200)
        let older = try entry("older", "https://h", used: 100)
        let never = try entry("never", "https://h", updated: 50)
        let neverOlder = try entry("never-older", "https://h", updated: 10)
        let preferred = try entry("preferred", "https://h", used: 1, isDefault: true)
        #expect(GitMatching.candidates(for: request("https", "h"), in: [older, never, recent, neverOlder]).map(\.name)
                == ["recent", "older", "never", "never-older"])
        #expect(GitMatching.candidates(for: request("https", "h"), in: [older, recent, preferred]).first?.name == "preferred")
        let twinA = try entry("a", "https://h"), twinB = try entry("b", "https://h")
        #expect(GitMatching.candidates(for: request("https", "h"), in: [twinB, twinA]).map(\.name) == ["a", "b"])
    }

    @Test func rejectedEntriesNeverAnswer() throws {
        let entries = [try entry("bad", "https://h", rejected: true)]
        #expect(GitMatching.candidates(for: request("https", "h"), in: entries).isEmpty)
        #expect(GitMatching.sameHost(as: request("https", "h"), in: entries).count == 1)
    }

    @Test func generatedNames() {
        #expect(GitMatching.generatedName(for: request("https", "gitlab.com"), taken: []) == "gitlab.com")
        #expect(GitMatching.generatedName(for: request("https", "gitlab.com", user: "alice"), taken: []) == "alice@gitlab.com")
        #expect(GitMatching.generatedName(for: request("https", "gitlab.com"), taken: ["gitlab.com", "gitlab.com-2"]) == "gitlab.com-3")
        #expect(GitMatching.generatedName(for: request("https", "h:8443", path: "g/r.git", user: "a b"), taken: []) == "a_b@h:8443/g/r")
    }

    @Test func defaultUserNames() {
        #expect(GitMatching.defaultUsername(for: .gitlab) == "oauth2")
        #expect(GitMatching.defaultUsername(for: .github) == "x-access-token")
        #expect(GitMatching.defaultUsername(for: .generic) == nil)
    }
}

@Suite struct PlainTextImportTests {
    @Test func gitCredentialsLines() {
        let text = """
            https://alice:glpat-abc%2Bdef@gitlab.com
            https://bob%40corp:p%3Aw@git.example.com:8443/team/repo.git
            # comment

            http://nopassword@example.com
            garbage with a secret
            https://:onlypass@h
            """
        let result = Array(text.utf8).withUnsafeBytes { PlainTextCredentials.parseGitCredentials($0) }
        #expect(result.credentials.count == 3)
        #expect(result.credentials[0].url.description == "https://gitlab.com")
        #expect(result.credentials[0].username == "alice")
        #expect(result.credentials[0].secret.revealString() == "glpat-abc+def")
        #expect(result.credentials[1].url.host == "git.example.com:8443")
        #expect(result.credentials[1].url.path == "team/repo.git")
        #expect(result.credentials[1].username == "bob@corp")
        #expect(result.credentials[1].secret.revealString() == "p:w")
        #expect(result.credentials[2].username == nil)
        #expect(result.problems.map(\.line) == [5, 6])
        #expect(!result.problems.map(\.reason).joined().contains("secret"))
    }

    @Test func netrcMacrosCommentsAndKeywordsCannotShiftCredentials() {
        let text = """
            machine a.com login u password tokA
            macdef init
            cd /pub


            machine b.com login v password tokB
            machine c.com login w password #notacomment
            machine d.com login x password
            machine e.com login y password tokE
            login stray password alsostray
            """
        let result = Array(text.utf8).withUnsafeBytes { PlainTextCredentials.parseNetrc($0) }
        #expect(result.credentials.map(\.url.host) == ["a.com", "b.com", "c.com"])
        #expect(result.credentials.map { $0.secret.revealString() } == ["tokA", "tokB", "#notacomment"])
        // "password" followed by a keyword: d.com is dropped and reported, not given e.com's token.
        #expect(result.problems.contains { $0.line == 8 && $0.reason.contains("without a value") })
        // A second login and password in e.com's machine: dropped and reported, not guessed.
        #expect(result.problems.contains { $0.line == 10 && $0.reason.contains("a second") })
    }

    @Test func gitCredentialsBytesAreKeptExactly() {
        let text = "  https://u:%FF%fe%2B%+f@GitHub.com  \nhttps://u%0D%0Ahost%3Dx:t@h\n"
        let result = Array(text.utf8).withUnsafeBytes { PlainTextCredentials.parseGitCredentials($0) }
        #expect(result.credentials.count == 1)
        #expect(result.credentials[0].url.host == "github.com")
        #expect(result.credentials[0].secret.withUnsafeBytes { Array($0) } == [0xFF, 0xFE, 0x2B, 0x25, 0x2B, 0x66])
        #expect(result.problems.map(\.line) == [2])
    }

    @Test func netrcFiles() {
        let text = """
            machine a.example login u1 password p1
            # comment line
            machine b.example
              login "user two"
              password "pass \\"two\\""
            macdef upload
            put file
            this is ignored

            machine c.example login u3
            default login anonymous password guest
            machine d.example password p4 account acct
            """
        let result = Array(text.utf8).withUnsafeBytes { PlainTextCredentials.parseNetrc($0) }
        #expect(result.credentials.map(\.url.host) == ["a.example", "b.example", "d.example"])
        #expect(result.credentials.map(\.username) == ["u1", "user two", nil])
        #expect(result.credentials.map { $0.secret.revealString() } == ["p1", "pass \"two\"", "p4"])
        #expect(result.problems.count == 2)
        #expect(result.problems[0].line == 10)
    }
}
