import Foundation
import Testing
@testable import TokenVault

@Suite struct SecretTests {
    struct Holder { let label: String; let token: Secret }

    @Test func aSecretPrintsRedactedInEveryForm() {
        let value = "glpat-visible-if-leaked-123"
        let secret = Secret(value)
        var dumped = ""
        dump(secret, to: &dumped)
        var dumpedHolder = ""
        dump(Holder(label: "l", token: secret), to: &dumpedHolder)
        let forms = [
            secret.description, secret.debugDescription, "\(secret)", String(describing: secret),
            String(reflecting: secret), dumped, dumpedHolder, "\(Holder(label: "l", token: secret))",
            String(reflecting: Holder(label: "l", token: secret)), "\([secret])", "\(Optional(secret) as Any)",
            Mirror(reflecting: secret).children.map { "\($0)" }.joined(),
        ]
        for form in forms {
            #expect(!form.contains(value), "leaked: \(form)")
            #expect(!form.contains("glpat"), "leaked: \(form)")
        }
        #expect(secret.description == "<redacted>")
        #expect(dumped.contains("<redacted>"))
        #expect(Mirror(reflecting: secret).children.isEmpty)
        #expect(secret.revealString() == value)
    }

    @Test func keysAreRedactedToo() {
        let key = SymmetricKey.random()
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains("storage"))
        #expect("\(key)" == "<redacted key>")
    }

    @Test func equalityIsByContent() {
        #expect(Secret("a").isEqual(to: Secret("a")))
        #expect(!Secret("a").isEqual(to: Secret("b")))
        #expect(!Secret("a").isEqual(to: Secret("ab")))
        var bytes: [UInt8] = Array("xyz".utf8)
        let s = Secret(consuming: &bytes)
        #expect(bytes == [0, 0, 0])
        #expect(s.revealString() == "xyz")
    }

    @Test func errorsNeverCarryAToken() {
        let token = "glpat-abcdefghij0123456789"
        let errors: [VaultError] = [.notFound(name: token, suggestion: nil), .alreadyExists(name: token),
                                    .invalidInput("x"), .tampered("entry '\(Redaction.redact(token))'")]
        for error in errors {
            #expect(!error.description.contains(token))
            #expect(!"\(error)".contains(token))
            #expect(!String(reflecting: error).contains(token))
        }
        #expect(Redaction.looksLikeToken("ghp_short"))
        #expect(Redaction.looksLikeToken("a1b2c3d4e5f6a7b8c9d0e1f2"))
        #expect(!Redaction.looksLikeToken("gitlab-ci"))
        #expect(!Redaction.looksLikeToken("project-1-with-a-rather-long-name"))
        #expect(!Redaction.looksLikeToken("550e8400-e29b-41d4-a716-446655440000"))
        #expect(Redaction.looksLikeToken("Xy7Kq2Lm9Np4Rs6Tu8Vw"))
        #expect(!Redaction.looksLikeToken("https://gitlab.com"))
        #expect(Redaction.redact("gitlab.com:glpat-abc/x") == "gitlab.com:<redacted>/x")
        #expect(Redaction.redact("https://gitlab.com/group") == "https://gitlab.com/group")
    }
}

@Suite struct ParsingTests {
    @Test func urls() throws {
        var (url, user) = try CredentialURL.parse("https://alice@GitLab.Example.com:8443/group/repo.git/").tuple
        #expect(url.description == "https://gitlab.example.com:8443/group/repo.git")
        #expect(url.host == "gitlab.example.com:8443")
        #expect(url.path == "group/repo.git")
        #expect(user == "alice")
        (url, user) = try CredentialURL.parse("gitlab.com").tuple
        #expect(url.description == "https://gitlab.com")
        #expect(user == nil)
        url = try CredentialURL.parse("http://127.0.0.1:8080").url
        #expect(url.scheme == "http" && url.host == "127.0.0.1:8080" && url.path == nil)
        (url, user) = try CredentialURL.parse("https://a%40b@host/x").tuple
        #expect(user == "a@b")
        #expect(throws: VaultError.self) { try CredentialURL.parse("https://user:glpat-secret@gitlab.com") }
        #expect(throws: VaultError.self) { try CredentialURL.parse("https://host:99999") }
        #expect(throws: VaultError.self) { try CredentialURL.parse("https://") }
    }

    /// The URLs of stored entries are parsed over their bytes when they are ASCII: that path
    /// gives what the character-by-character one gives, or leaves the URL to it.
    @Test func anASCIIURLParsesOverItsBytesAsItDoesCharacterByCharacter() {
        let pieces = ["https", "HTTP", "git+ssh", "s3", "1a", "-", "", "h t", "a\r\nb", ":", "://", "/", "//", "?", "#",
                      "@", "a@b", "a:b@", "%41", "host", "Host.Example", ":443", ":0", ":65535", ":65536", ":+80", ":x",
                      "[::1]", "[::1]:8443", "path", "/p/", "?q=1", "#f", " ", "\t", "]"]
        var cases: [String] = ["", "gitlab.com", "https://alice@GitLab.Example.com:8443/group/repo.git/"]
        for a in pieces { for b in pieces { for c in ["", "://", "@"] { cases.append(a + c + b) } } }
        for a in pieces { for b in pieces { cases.append("https://" + a + b + "/x/") } }
        var viaBytes = 0
        for text in cases {
            let slow = try? CredentialURL.parseAnyText(text)
            if let fast = CredentialURL.parseASCII(text) {
                viaBytes += 1
                #expect(fast == slow, "\(text.debugDescription)")
            }
            #expect((try? CredentialURL.parse(text)) == slow, "\(text.debugDescription)")
        }
        #expect(viaBytes > cases.count / 4)
    }

    @Test func dates() {
        #expect(Timestamp(date: "1970-01-01")?.secondsSince1970 == 0)
        #expect(Timestamp(date: "2027-03-01")?.dateString == "2027-03-01")
        #expect(Timestamp(date: "2024-02-29")?.dateString == "2024-02-29")
        #expect(Timestamp(date: "2023-02-29") == nil)
        #expect(Timestamp(date: "2027-3-1") == nil)
        #expect(Timestamp(secondsSince1970: 1_764_000_000).iso8601 == "2025-11-24T16:00:00Z")
    }

    @Test func expiringSoon() {
        let now = Timestamp(date: "2030-01-01")!
        var entry = Entry(name: "e")
        #expect(!entry.expiresSoon(at: now))
        entry.expires = Timestamp(date: "2030-01-05")
        #expect(entry.expiresSoon(at: now))
        #expect(!entry.expiresSoon(withinDays: 3, at: now))
        entry.expires = Timestamp(date: "2029-12-31")
        #expect(!entry.expiresSoon(at: now))
        #expect(entry.isExpired(at: now))
    }

    @Test func kinds() {
        #expect(TokenKind.recognise(Secret("glpat-xyz")) == .gitlab)
        #expect(TokenKind.recognise(Secret("ghp_xyz")) == .github)
        #expect(TokenKind.recognise(Secret("github_pat_xyz")) == .github)
        #expect(TokenKind.recognise(Secret("hello")) == nil)
        #expect(TokenKind.guess(host: "github.com") == .github)
        #expect(TokenKind.guess(host: "gitlab.example.com") == .gitlab)
        #expect(TokenKind.guess(host: "example.com") == .generic)
    }
}

extension CredentialURL.Parsed {
    var tuple: (CredentialURL, String?) { (url, username) }
}
