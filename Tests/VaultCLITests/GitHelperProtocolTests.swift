import Foundation
import Testing
@testable import TokenVault

/// The helper's behaviour at the protocol level, without a server.
@Suite struct GitHelperProtocolTests {
    func helper(_ cli: CLI, _ arguments: [String], _ input: String, env: [String: String?] = [:]) -> RunResult {
        var environment = cli.environment
        for (key, value) in env { environment[key] = value }
        return run([Binary.path("git-credential-vault")] + arguments, environment: environment, stdin: .data(input), timeout: 20)
    }

    func isWellFormed(_ output: String) -> Bool {
        output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().allSatisfy { line in
            guard let eq = line.firstIndex(of: "=") else { return false }
            return !line[..<eq].isEmpty
        } && (output.isEmpty || output.hasSuffix("\n"))
    }

    @Test func getAnswersWithUserPasswordAndExpiry() throws {
        let cli = CLI()
        cli.add("gl", token: "glpat-Answer000000000000", ["--url", "https://gitlab.example.com", "--expires", "2099-01-01"])
        let r = helper(cli, ["get"], "protocol=https\nhost=gitlab.example.com\n\n")
        #expect(r.status == 0)
        #expect(r.out == "username=oauth2\npassword=glpat-Answer000000000000\npassword_expiry_utc=\(Timestamp(date: "2099-01-01")!.secondsSince1970)\n")
        #expect(r.err.isEmpty)
        #expect(isWellFormed(r.out))
        // The same through the vault CLI.
        let viaVault = cli.vault(["git-credential", "get"], stdin: .data("protocol=https\nhost=gitlab.example.com\n\n"))
        #expect(viaVault.out == r.out)
        // Nothing for another host: empty output, success, so git moves on.
        let none = helper(cli, ["get"], "protocol=https\nhost=elsewhere.example\n\n")
        #expect(none.status == 0 && none.out.isEmpty)
    }

    @Test func anExpiredTokenIsNeverGivenToGit() throws {
        let cli = CLI()
        cli.add("old", token: "glpat-Expired00000000000", ["--url", "https://h.example", "--expires", "2020-01-01"])
        let r = helper(cli, ["get"], "protocol=https\nhost=h.example\n\n")
        #expect(r.status == 0)
        #expect(r.out.isEmpty)
        #expect(r.err == "vault: warning: 'old' expired on 2020-01-01: not given to git\n")
    }

    @Test func aLockedVaultNeverHangsGit() throws {
        let cli = CLI()
        cli.add("gl", token: "glpat-Locked00000000000", ["--url", "https://h.example"])
        let r = helper(cli, ["get"], "protocol=https\nhost=h.example\n\n",
                       env: ["TOKENVAULT_PASSPHRASE": nil, "GIT_TERMINAL_PROMPT": "0"])
        #expect(!r.timedOut)
        #expect(r.status == 0)
        #expect(r.out.isEmpty)
        #expect(r.err.hasPrefix("vault: hint: the vault is locked"))
        #expect(r.err.split(separator: "\n").count == 1)
        // Even with a terminal allowed, no terminal here means no prompt and no wait.
        let noTTY = helper(cli, ["get"], "protocol=https\nhost=h.example\n\n", env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(!noTTY.timedOut && noTTY.status == 0 && noTTY.out.isEmpty)
        // And the passphrase is never read from stdin: a passphrase line there is just ignored.
        let fromStdin = helper(cli, ["get"], "protocol=https\nhost=h.example\npassphrase=\(CLI.passphrase)\n\n",
                               env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(fromStdin.out.isEmpty)
    }

    @Test func anExpiredEntryIsNotMentionedWhenAValidTokenAnswers() throws {
        let cli = CLI()
        cli.add("old", token: "glpat-OldExpired0000000000", ["--url", "https://h.example", "--expires", "2020-01-01"])
        cli.add("new", token: "glpat-NewValid00000000000000", ["--url", "https://h.example"])
        let r = helper(cli, ["get"], "protocol=https\nhost=h.example\n\n")
        #expect(r.out.contains("password=glpat-NewValid00000000000000\n"))
        #expect(r.err.isEmpty, "\(r.err)")
    }

    @Test func whatGitStoresIsMarkedUntilItsOwnerLooksAtIt() throws {
        let cli = CLI()
        #expect(helper(cli, ["store"], "protocol=https\nhost=h.example\nusername=alice\npassword=typed-at-prompt-1\n\n").err.isEmpty)
        #expect(helper(cli, ["store"], "protocol=https\nhost=h.example\nusername=bob\npassword=typed-at-prompt-2\n\n").err.isEmpty)
        let list = cli.vault(["list"])
        #expect(list.out.contains("alice@h.example (new from git)"), "\(list.out)")
        #expect(list.out.contains("bob@h.example (new from git)"), "\(list.out)")
        #expect(cli.vault(["list", "--json"]).out.contains("\"stored_by_git\":true"))
        let check = cli.vault(["check"])
        #expect(check.status == 8)
        #expect(check.out.contains("stored by git's credential helper"), "\(check.out)")
        // Renamed, or edited (--reviewed alone will do): reviewed.
        #expect(cli.vault(["rename", "alice@h.example", "alice-h"]).status == 0)
        #expect(cli.vault(["edit", "bob@h.example", "--reviewed"]).status == 0)
        #expect(!cli.vault(["list"]).out.contains("(new from git)"))
        #expect(!cli.vault(["check"]).out.contains("stored by git"))
        // Stored again, the same credential is no new entry.
        #expect(helper(cli, ["store"], "protocol=https\nhost=h.example\nusername=alice\npassword=typed-at-prompt-1\n\n").err.isEmpty)
        #expect(try cli.library().names() == ["alice-h", "bob@h.example"])
    }

    @Test func malformedInputFailsAndChangesNothing() throws {
        let cli = CLI()
        cli.add("gl", token: "glpat-Keep000000000000000", ["--url", "https://h.example"])
        let before = try cli.library().entries()
        let r = helper(cli, ["store"], "protocol=https\nhost=h.example\nthis line holds glpat-Leak0000000000\n\n")
        #expect(r.status != 0)
        #expect(r.out.isEmpty)
        #expect(r.err.contains("invalid credential line 3"))
        #expect(!r.err.contains("glpat-Leak"))
        #expect(try cli.library().entries() == before)
    }

    @Test func aCRLFBlankLineEndsTheDescription() throws {
        let cli = CLI()
        cli.add("gl", token: "glpat-Crlf00000000000000", ["--url", "https://h.example"])
        // stdin stays open after the blank line: the helper must answer without waiting for EOF.
        let r = run([Binary.path("git-credential-vault"), "get"], environment: cli.environment,
                    stdin: .dataKeepOpen("protocol=https\r\nhost=h.example\r\n\r\n"), timeout: 10)
        #expect(!r.timedOut)
        #expect(r.out.contains("password=glpat-Crlf00000000000000\n"))
    }

    @Test func aReplacedTokenDoesNotInheritTheOldExpiry() throws {
        let cli = CLI()
        cli.add("gl", token: "old-token-0001", ["--url", "https://h.example", "--username", "dev", "--expires", "2020-01-01"])
        #expect(helper(cli, ["store"], "protocol=https\nhost=h.example\nusername=dev\npassword=new-token-0002\n\n").status == 0)
        #expect(try cli.library().entry(named: "gl").expires == nil)
        #expect(helper(cli, ["get"], "protocol=https\nhost=h.example\n\n").out.contains("password=new-token-0002\n"))
    }

    @Test func eraseReachesAnEntryWithoutAUserName() throws {
        let cli = CLI()
        cli.add("generic", token: "generic-token-01", ["--url", "https://h.example"])
        // git asked the person for a user name, then the server said 401.
        #expect(helper(cli, ["erase"], "protocol=https\nhost=h.example\nusername=bob\npassword=generic-token-01\n\n").status == 0)
        #expect(try cli.library().entry(named: "generic").rejected != nil)
    }

    @Test func unknownActionsAreIgnoredSilently() throws {
        let cli = CLI()
        let r = helper(cli, ["capability"], "protocol=https\nhost=h\n\n")
        #expect(r.status == 0 && r.out.isEmpty && r.err.isEmpty)
        let bogus = helper(cli, ["frobnicate"], "")
        #expect(bogus.status == 0 && bogus.out.isEmpty && bogus.err.isEmpty)
    }

    @Test func storeIsIdempotent() throws {
        let cli = CLI()
        let input = "protocol=https\nhost=h.example\nusername=dev\npassword=first-0001\n\n"
        #expect(helper(cli, ["store"], input).status == 0)
        let afterFirst = try cli.library().entries()
        #expect(afterFirst.map(\.name) == ["dev@h.example"])
        #expect(helper(cli, ["store"], input).status == 0)
        let afterSecond = try cli.library().entries()
        #expect(afterSecond == afterFirst, "storing the same credential again changed the entry")
        #expect(try cli.library().history(of: "dev@h.example").isEmpty)
    }

    @Test func eraseOnlyTouchesTheFailingTokenAndNeverDeletesByDefault() throws {
        let cli = CLI()
        cli.add("one", token: "token-one-0001", ["--url", "https://h.example", "--username", "u1"])
        cli.add("two", token: "token-two-0002", ["--url", "https://h.example", "--username", "u2"])
        // A password that no entry holds: nothing happens.
        #expect(helper(cli, ["erase"], "protocol=https\nhost=h.example\npassword=other\n\n").status == 0)
        #expect(try cli.library().entries().allSatisfy { $0.rejected == nil })
        // The failing token: only that entry is marked, and kept.
        let r = helper(cli, ["erase"], "protocol=https\nhost=h.example\nusername=u1\npassword=token-one-0001\n\n")
        #expect(r.status == 0)
        #expect(try cli.library().entry(named: "one").rejected != nil)
        #expect(try cli.library().entry(named: "two").rejected == nil)
        #expect(try cli.library().secret(named: "one").revealString() == "token-one-0001")
        // Deletion, when the user chose it.
        #expect(helper(cli, ["--on-erase", "delete", "erase"], "protocol=https\nhost=h.example\npassword=token-two-0002\n\n").status == 0)
        #expect(try cli.library().names() == ["one"])
        #expect(helper(cli, ["--on-erase", "maybe", "erase"], "").status == 64)
    }

    /// Git sends `erase` with the password that failed; one without a password comes from a
    /// person or a script, and names no failed token: it marks nothing and deletes nothing, with
    /// or without `--on-erase delete`, and says so in one hint line.
    /// git always sends the failed password; an erase without one comes from a person or a
    /// script, and makes the matching entries forgotten as git's own helpers do (git's suite:
    /// "can forget host", "can forget user"), but only by marking them rejected: it never
    /// deletes, whatever --on-erase says, and never touches the trash.
    @Test(arguments: [[String](), ["--on-erase", "delete"]])
    func anEraseWithoutAPasswordOnlyMarksAndNeverDeletes(options: [String]) throws {
        let cli = CLI()
        cli.add("one", token: "token-one-0001", ["--url", "https://h.example", "--username", "u1"])
        cli.add("two", token: "token-two-0002", ["--url", "https://h.example"])
        cli.add("gone", token: "token-gone-0003", ["--url", "https://h.example"])
        cli.add("elsewhere", token: "token-else-0004", ["--url", "https://other.example"])
        #expect(cli.vault(["rm", "gone", "--yes"]).status == 0)
        let trashed = try cli.library().entry(named: "gone")

        // A user name: only that user's entry.
        let user = helper(cli, options + ["erase"], "protocol=https\nhost=h.example\nusername=u1\n\n")
        #expect(user.status == 0 && user.out.isEmpty && user.err.isEmpty, "\(user.err)")
        #expect(try cli.library().entry(named: "one").rejected != nil)
        #expect(try cli.library().entry(named: "two").rejected == nil)
        // An empty password is a password: no entry holds an empty token here.
        #expect(helper(cli, options + ["erase"], "protocol=https\nhost=h.example\npassword=\n\n").err.isEmpty)
        #expect(try cli.library().entry(named: "two").rejected == nil)
        // The host, through the vault CLI too.
        let host = cli.vault(["git-credential"] + options + ["erase"], stdin: .data("url=https://h.example/\n\n"))
        #expect(host.status == 0 && host.err.isEmpty, "\(host.err)")
        let after = try cli.library().entries()
        #expect(after.map(\.name).sorted() == ["elsewhere", "gone", "one", "two"], "nothing deleted")
        #expect(try cli.library().entry(named: "two").rejected != nil)
        #expect(try cli.library().entry(named: "elsewhere").rejected == nil)
        #expect(try cli.library().entry(named: "gone") == trashed, "the trash is left alone")
        // With the failed password, as git sends it, --on-erase delete deletes.
        cli.vault(["restore", "two"])
        #expect(helper(cli, options + ["erase"], "protocol=https\nhost=h.example\npassword=token-two-0002\n\n").status == 0)
        let two = try? cli.library().entry(named: "two")
        #expect(options.isEmpty ? two?.rejected != nil : two == nil)
    }
}
