import Foundation
import Testing
@testable import TokenVault

/// What `vault add` fills in or says when the command line leaves something out, and the
/// short-passphrase warning of `init` and `passwd`.
@Suite struct AddDefaultsTests {
    @Test func aGitHubTokenWithoutAURLGetsGitHubs() throws {
        let cli = CLI()
        for (name, token) in [("classic", "ghp_" + String(repeating: "a", count: 36)),
                              ("fine", "github_pat_" + String(repeating: "b", count: 40)),
                              ("app", "ghs_" + String(repeating: "c", count: 36))] {
            let r = cli.add(name, token: token)
            #expect(r.status == 0, "\(r.err)")
            #expect(r.err.contains("added '\(name)' for https://github.com"), "\(r.err)")
            #expect(try cli.library().entry(named: name).url?.description == "https://github.com")
        }
        #expect(cli.gitHelperGet(host: "github.com").out.contains("password=gh"), "git uses it for github.com")
    }

    @Test func aURLOnTheCommandLineWinsOverGitHubs() throws {
        let cli = CLI()
        let r = cli.add("enterprise", token: "ghp_" + String(repeating: "d", count: 36), ["--url", "https://github.example.com"])
        #expect(r.status == 0)
        #expect(try cli.library().entry(named: "enterprise").url?.description == "https://github.example.com")
        #expect(!r.err.contains("github.com ("))
    }

    @Test func aGenericTokenGetsNoURL() throws {
        let cli = CLI()
        #expect(cli.add("other", token: "plain-token-value-123").status == 0)
        #expect(try cli.library().entry(named: "other").url == nil)
    }

    @Test func aGitLabTokenWithoutAURLGetsAHintAndNoGuess() throws {
        let cli = CLI()
        let r = cli.add("gl", token: "glpat-" + String(repeating: "e", count: 20))
        #expect(r.status == 0)
        #expect(r.err.contains("vault: hint: git will not use 'gl' until it has a URL: vault edit gl --url https://gitlab.example.com\n"), "\(r.err)")
        #expect(try cli.library().entry(named: "gl").url == nil)
        let withURL = cli.add("gl2", token: "glpat-" + String(repeating: "f", count: 20), ["--url", "https://gitlab.com"])
        #expect(!withURL.err.contains("hint"), "\(withURL.err)")
    }

    @Test func anExpiryDateInThePastIsWarnedAbout() throws {
        let cli = CLI()
        let r = cli.add("old", token: "plain-token-value-456", ["--expires", "2020-01-31"])
        #expect(r.status == 0)
        #expect(r.err.contains("vault: warning: 'old' expired on 2020-01-31: it is never handed out"), "\(r.err)")
        #expect(cli.vault(["get", "old"]).status == 4)
        let future = cli.add("new", token: "plain-token-value-789", ["--expires", "2099-01-31"])
        #expect(!future.err.contains("warning"), "\(future.err)")
    }

    @Test func checkWithinTakesASpanLikeListExpiring() throws {
        let cli = CLI()
        let now = Timestamp.now()
        let in20Days = Timestamp(secondsSince1970: now.secondsSince1970 + 20 * 86_400).dateString
        #expect(cli.add("soon", token: "plain-token-value-abc", ["--expires", in20Days]).status == 0)
        for within in ["30d", "30", "4w"] {
            let r = cli.vault(["check", "--within", within, "--json"])
            #expect(r.status == 8, "\(within): \(r.err)")
            #expect(r.out.contains("\"name\":\"soon\",\"finding\":\"expires-soon\""), "\(within): \(r.out)")
        }
        let narrow = cli.vault(["check", "--within", "2w", "--json"])
        #expect(!narrow.out.contains("expires-soon"), "\(narrow.out)")
        #expect(cli.vault(["check", "--within", "30x"]).status == 64)
        #expect(cli.vault(["check", "--help"]).out.contains("(default: 14d)"))
    }

    @Test func aShortPassphraseTypedAtInitIsWarnedAbout() throws {
        for (passphrase, warned) in [("short-pass", true), ("a long enough passphrase", false)] {
            let cli = CLI(initialise: false)
            var env = cli.environment
            env["TOKENVAULT_PASSPHRASE"] = nil
            let p = PTYProcess([Binary.path("vault"), "init", "--kdf", "minimum"], environment: env)
            #expect(p.expect("New passphrase for"))
            p.send(passphrase + "\n")
            #expect(p.expect("Repeat to confirm: "))
            p.send(passphrase + "\n")
            #expect(p.wait() == 0)
            #expect(p.text.contains("vault: warning: the passphrase is shorter than 12 characters") == warned, "\(p.text)")
        }
    }

    @Test func aShortPassphraseTypedAtPasswdIsWarnedAbout() throws {
        let cli = CLI()
        let p = PTYProcess([Binary.path("vault"), "passwd"], environment: cli.environment)
        #expect(p.expect("New passphrase for"))
        p.send("tiny\n")
        #expect(p.expect("Repeat to confirm: "))
        p.send("tiny\n")
        #expect(p.wait() == 0)
        #expect(p.text.contains("vault: warning: the passphrase is shorter than 12 characters"), "\(p.text)")
    }

    @Test func aShortPassphraseFromAScriptIsNotWarnedAbout() {
        let cli = CLI(initialise: false)
        let r = cli.vault(["init", "--kdf", "minimum"], env: ["TOKENVAULT_PASSPHRASE": "short"])
        #expect(r.status == 0)
        #expect(!r.err.contains("shorter"), "\(r.err)")
    }

    @Test func passphraseLengthCountsCharactersNotBytes() {
        #expect(AddDefaults.isShort(Secret("ééééééééééé")))
        #expect(!AddDefaults.isShort(Secret("éééééééééééé")))
    }
}
