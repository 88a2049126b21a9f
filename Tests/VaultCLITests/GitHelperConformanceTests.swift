import Foundation
import Testing
@testable import TokenVault

/// git's own suite for external credential helpers (`t/lib-credential.sh`, run by
/// `t0303-credential-external.sh`), case by case and in its order, on one vault: real
/// `git credential fill|approve|reject` with `GIT_ASKPASS` answering `askpass-username` and
/// `askpass-password`, stdout and stderr compared exactly. Both front ends, with and without the
/// agent.
///
/// git 2.39 (Debian 12) does not pass `wwwauth[]`, `password_expiry_utc` or
/// `oauth_refresh_token` between helpers and its caller, nor `capability[]`: those cases are
/// fed to the helper directly, as newer gits send them (`theNewerProtocolAsNewerGitsSpeakIt`).
@Suite struct GitHelperConformanceTests {
    /// One `git credential` call: its input, and the exact stdout and stderr expected.
    struct Step: Sendable {
        var command: String
        var input: [String]
        var stdout: [String] = []
        var stderr: [String] = []
        var useHTTPPath = false
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var steps: [Step]
        var description: String { name }
    }

    static func fill(_ input: [String], _ stdout: [String], _ stderr: [String] = [], useHTTPPath: Bool = false) -> Step {
        Step(command: "fill", input: input, stdout: stdout, stderr: stderr, useHTTPPath: useHTTPPath)
    }
    static func approve(_ input: [String], useHTTPPath: Bool = false) -> Step {
        Step(command: "approve", input: input, useHTTPPath: useHTTPPath)
    }
    static func reject(_ input: [String]) -> Step { Step(command: "reject", input: input) }

    static func asked(_ url: String, user: String = "askpass-username") -> [String] {
        let withUser = url.replacingOccurrences(of: "://", with: "://\(user)@")
        return ["askpass: Username for '\(url)':", "askpass: Password for '\(withUser)':"]
    }
    static func askedPassword(_ url: String) -> [String] { ["askpass: Password for '\(url)':"] }

    static let ex = ["protocol=https", "host=example.com"]
    static func user(_ name: String) -> [String] { ex + ["username=\(name)"] }

    /// t/lib-credential.sh's `helper_test`, in order.
    static let cases: [Case] = [
        Case(name: "has no existing data", steps: [
            fill(ex, ex + ["username=askpass-username", "password=askpass-password"], asked("https://example.com")),
        ]),
        Case(name: "stores password", steps: [approve(user("store-user") + ["password=store-pass"])]),
        Case(name: "can retrieve password", steps: [fill(ex, user("store-user") + ["password=store-pass"])]),
        Case(name: "requires matching protocol", steps: [
            fill(["protocol=http", "host=example.com"],
                 ["protocol=http", "host=example.com", "username=askpass-username", "password=askpass-password"],
                 asked("http://example.com")),
        ]),
        Case(name: "requires matching host", steps: [
            fill(["protocol=https", "host=other.tld"],
                 ["protocol=https", "host=other.tld", "username=askpass-username", "password=askpass-password"],
                 asked("https://other.tld")),
        ]),
        Case(name: "requires matching username", steps: [
            fill(user("other"), user("other") + ["password=askpass-password"], askedPassword("https://other@example.com")),
        ]),
        Case(name: "requires matching path", steps: [
            approve(["protocol=http", "host=path.tld", "path=foo.git", "username=user", "password=pass"], useHTTPPath: true),
            fill(["protocol=http", "host=path.tld", "path=bar.git"],
                 ["protocol=http", "host=path.tld", "path=bar.git", "username=askpass-username", "password=askpass-password"],
                 asked("http://path.tld/bar.git"), useHTTPPath: true),
        ]),
        Case(name: "overwrites on store", steps: [
            approve(user("user-overwrite") + ["password=pass1"]),
            approve(user("user-overwrite") + ["password=pass2"]),
            fill(user("user-overwrite"), user("user-overwrite") + ["password=pass2"]),
            reject(user("user-overwrite") + ["password=pass2"]),
            fill(user("user-overwrite"), user("user-overwrite") + ["password=askpass-password"],
                 askedPassword("https://user-overwrite@example.com")),
        ]),
        Case(name: "can forget host", steps: [
            reject(ex),
            fill(ex, ex + ["username=askpass-username", "password=askpass-password"], asked("https://example.com")),
        ]),
        Case(name: "can store multiple users", steps: [
            approve(user("user1") + ["password=pass1"]),
            approve(user("user2") + ["password=pass2"]),
            fill(user("user1"), user("user1") + ["password=pass1"]),
            fill(user("user2"), user("user2") + ["password=pass2"]),
        ]),
        Case(name: "does not erase a password distinct from input", steps: [
            approve(user("user-distinct-pass") + ["password=pass1"]),
            reject(user("user-distinct-pass") + ["password=pass2"]),
            fill(user("user-distinct-pass"), user("user-distinct-pass") + ["password=pass1"]),
        ]),
        Case(name: "can forget user", steps: [
            reject(user("user1")),
            fill(user("user1"), user("user1") + ["password=askpass-password"], askedPassword("https://user1@example.com")),
        ]),
        Case(name: "remembers other user", steps: [fill(user("user2"), user("user2") + ["password=pass2"])]),
        Case(name: "can store empty username", steps: [
            approve(["protocol=https", "host=sso.tld", "username=", "password="]),
            fill(["protocol=https", "host=sso.tld"], ["protocol=https", "host=sso.tld", "username=", "password="]),
        ]),
        Case(name: "erases all matching credentials", steps: [
            approve(user("user-erase1") + ["password=pass1"]),
            approve(user("user-erase2") + ["password=pass1"]),
            reject(ex),
            fill(ex, ex + ["username=askpass-username", "password=askpass-password"], asked("https://example.com")),
        ]),
        Case(name: "not confused by long header", steps: [
            approve(["protocol=https", "host=victim.example.com", "username=user", "password=to-be-stolen"]),
            // git 2.41 and later echo the wwwauth[] line after the password; 2.39 drops it.
            fill(["protocol=https", "host=badguy.example.com",
                  "wwwauth[]=basic realm=\(String(repeating: "a", count: 1001))host=victim.example.com"],
                 ["protocol=https", "host=badguy.example.com", "username=askpass-username", "password=askpass-password"],
                 asked("https://badguy.example.com")),
        ]),
    ]

    enum FrontEnd: String, CaseIterable, Sendable { case c = "git-credential-vault", swift = "vault git-credential" }

    /// The askpass program of git's suite.
    static let askpass = """
        #!/bin/sh
        echo >&2 askpass: $*
        what=$(echo $1 | cut -d" " -f1 | tr A-Z a-z | tr -cd a-z)
        echo "askpass-$what"
        """

    static func helper(_ frontEnd: FrontEnd) -> String {
        switch frontEnd {
        case .c: Binary.path("git-credential-vault")
        case .swift: "!'\(Binary.path("vault"))' git-credential"
        }
    }

    static var arguments: [(FrontEnd, Bool)] { FrontEnd.allCases.flatMap { f in [(f, false), (f, true)] } }

    @Test(arguments: arguments)
    func gitsExternalHelperSuitePassesInOrderOnOneVault(frontEnd: FrontEnd, agent: Bool) throws {
        let cli = CLI()
        var environment = cli.environment
        environment["GIT_ASKPASS"] = cli.script("askpass", Self.askpass)
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_TERMINAL_PROMPT"] = "0"
        if agent {
            #expect(cli.vault(["unlock", "--timeout", "10m"]).status == 0)
            environment["TOKENVAULT_PASSPHRASE"] = nil
        }
        for testCase in Self.cases {
            for (index, step) in testCase.steps.enumerated() {
                var arguments = ["/usr/bin/git", "-c", "credential.helper=\(Self.helper(frontEnd))"]
                if step.useHTTPPath { arguments += ["-c", "credential.usehttppath=true"] }
                arguments += ["credential", step.command]
                let r = run(arguments, environment: environment, stdin: .data(step.input.joined(separator: "\n") + "\n"), timeout: 30)
                let context = "\(frontEnd.rawValue)\(agent ? " + agent" : ""): \(testCase.name), step \(index + 1) (\(step.command))"
                #expect(r.status == 0, "\(context): git exited \(r.status): \(r.err)")
                #expect(r.out == Self.lines(step.stdout), "\(context): stdout\n\(r.out)")
                #expect(r.err == Self.lines(step.stderr), "\(context): stderr\n\(r.err)")
            }
        }
    }

    static func lines(_ lines: [String]) -> String { lines.map { $0 + "\n" }.joined() }

    /// One call of the helper itself: what git 2.41+ (expiry, refresh token, `wwwauth[]`) and
    /// 2.46+ (`capability[]=authtype`) send it, and the exact answer.
    struct Direct: Sendable {
        var action: String
        var input: [String]
        var stdout: [String] = []
    }

    static let git2 = ["capability[]=authtype", "protocol=https", "host=git2.example.com"]
    static let bearer = ["capability[]=authtype", "protocol=https", "host=git.example.com"]

    /// The rest of t/lib-credential.sh (`helper_test_password_expiry_utc`,
    /// `helper_test_oauth_refresh_token`, `helper_test_authtype`, and the long header), as the
    /// helper sees them.
    static let newer: [(String, [Direct])] = [
        ("stores and gets password_expiry_utc", [
            Direct(action: "store", input: user("user-expiry") + ["password=pass", "password_expiry_utc=9999999999"]),
            Direct(action: "get", input: user("user-expiry"),
                   stdout: ["username=user-expiry", "password=pass", "password_expiry_utc=9999999999"]),
        ]),
        ("overwrites when password_expiry_utc changes", [
            Direct(action: "store", input: user("user-expiry-overwrite") + ["password=pass1", "password_expiry_utc=9999999998"]),
            Direct(action: "store", input: user("user-expiry-overwrite") + ["password=pass2", "password_expiry_utc=9999999999"]),
            Direct(action: "get", input: user("user-expiry-overwrite"),
                   stdout: ["username=user-expiry-overwrite", "password=pass2", "password_expiry_utc=9999999999"]),
            Direct(action: "erase", input: user("user-expiry-overwrite") + ["password=pass2"]),
            Direct(action: "get", input: user("user-expiry-overwrite")),
        ]),
        ("stores and gets oauth_refresh_token", [
            Direct(action: "store", input: user("user4") + ["password=pass", "oauth_refresh_token=xyzzy"]),
            Direct(action: "get", input: user("user4"), stdout: ["username=user4", "password=pass", "oauth_refresh_token=xyzzy"]),
        ]),
        ("a new refresh token with the same password replaces the old one", [
            Direct(action: "store", input: user("user4") + ["password=pass", "oauth_refresh_token=plugh"]),
            Direct(action: "get", input: user("user4"), stdout: ["username=user4", "password=pass", "oauth_refresh_token=plugh"]),
        ]),
        ("stores and gets authtype and credential", [
            Direct(action: "store", input: ["capability[]=authtype", "authtype=Bearer", "credential=random-token",
                                            "protocol=https", "host=git.example.com"]),
            Direct(action: "get", input: bearer, stdout: ["capability[]=authtype", "authtype=Bearer", "credential=random-token"]),
        ]),
        ("answers nothing of it to a git that did not announce the capability", [
            Direct(action: "get", input: ["protocol=https", "host=git.example.com"]),
        ]),
        ("stores and gets authtype and credential with username", [
            Direct(action: "store", input: ["capability[]=authtype", "authtype=Bearer", "credential=other-token",
                                            "protocol=https", "host=git.example.com", "username=foobar"]),
            Direct(action: "get", input: bearer + ["username=foobar"],
                   stdout: ["capability[]=authtype", "authtype=Bearer", "credential=other-token"]),
        ]),
        ("does not get authtype and credential with different username", [
            Direct(action: "get", input: bearer + ["username=barbaz"]),
        ]),
        ("does not store ephemeral authtype and credential", [
            Direct(action: "store", input: ["capability[]=authtype", "authtype=Bearer", "credential=git2-token",
                                            "protocol=https", "host=git2.example.com", "ephemeral=1"]),
            Direct(action: "get", input: git2),
        ]),
        ("does not store ephemeral username and password", [
            Direct(action: "store", input: git2 + ["user=barbaz", "password=secret", "ephemeral=1"]),
            Direct(action: "get", input: git2),
        ]),
        ("not confused by long header", [
            Direct(action: "store", input: ["protocol=https", "host=victim.example.com", "username=user", "password=to-be-stolen"]),
            Direct(action: "get", input: ["protocol=https", "host=badguy.example.com",
                                          "wwwauth[]=basic realm=\(String(repeating: "a", count: 1001))host=victim.example.com"]),
        ]),
    ]

    @Test(arguments: arguments)
    func theNewerProtocolAsNewerGitsSpeakIt(frontEnd: FrontEnd, agent: Bool) throws {
        let cli = CLI()
        var environment = cli.environment
        if agent {
            #expect(cli.vault(["unlock", "--timeout", "10m"]).status == 0)
            environment["TOKENVAULT_PASSPHRASE"] = nil
        }
        let program = frontEnd == .c ? [Binary.path("git-credential-vault")] : [Binary.path("vault"), "git-credential"]
        for (name, steps) in Self.newer {
            for (index, step) in steps.enumerated() {
                let r = run(program + [step.action], environment: environment,
                            stdin: .data(step.input.joined(separator: "\n") + "\n\n"), timeout: 30)
                let context = "\(frontEnd.rawValue)\(agent ? " + agent" : ""): \(name), step \(index + 1) (\(step.action))"
                #expect(r.status == 0, "\(context): exit \(r.status): \(r.err)")
                #expect(r.out == Self.lines(step.stdout), "\(context): stdout\n\(r.out)")
                #expect(r.err.isEmpty, "\(context): stderr\n\(r.err)")
            }
        }
        // Nothing of the ephemeral credentials was kept.
        let list = cli.vault(["list", "--json"])
        #expect(!list.out.contains("git2.example.com"), "\(list.out)")
    }
}
