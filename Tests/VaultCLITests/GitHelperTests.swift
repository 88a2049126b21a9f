import Foundation
import Testing
@testable import TokenVault

/// A bare-repository server behind HTTP Basic auth on 127.0.0.1, and a HOME whose git uses the
/// built helper with GIT_TERMINAL_PROMPT=0.
final class GitWorld: @unchecked Sendable {
    let cli: CLI
    let root: String
    let config: String
    let server: BackgroundProcess
    let port: String

    init(repos: [String], access: [String: [[String]]]) throws {
        let cli = CLI()
        self.cli = cli
        // The server's files live beside HOME, not in it: HOME is searched for tokens.
        root = cli.home + "-srv"
        config = cli.home + "-srv/access.json"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        cli.environment["GIT_TERMINAL_PROMPT"] = "0"
        cli.environment["GIT_CONFIG_NOSYSTEM"] = "1"
        cli.environment["PATH"] = Binary.folder + ":/usr/bin:/bin"
        let seed = cli.home + "/seed"
        try FileManager.default.createDirectory(atPath: seed, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: cli.home + "/work", withIntermediateDirectories: true)
        func git(_ arguments: [String]) {
            let r = run(["/usr/bin/git"] + arguments, environment: cli.environment, timeout: 60)
            precondition(r.status == 0, "git \(arguments): \(r.err)")
        }
        git(["config", "--global", "user.name", "Test"])
        git(["config", "--global", "user.email", "test@example.com"])
        git(["config", "--global", "init.defaultBranch", "main"])
        git(["config", "--global", "credential.helper", Binary.path("git-credential-vault")])
        git(["init", "-q", seed])
        try "hello\n".write(toFile: seed + "/README", atomically: true, encoding: .utf8)
        git(["-C", seed, "add", "README"])
        git(["-C", seed, "commit", "-qm", "first"])
        for repo in repos {
            git(["clone", "-q", "--bare", seed, root + "/" + repo])
            git(["-C", root + "/" + repo, "config", "http.receivepack", "true"])
        }
        let data = try JSONSerialization.data(withJSONObject: access)
        try data.write(to: URL(fileURLWithPath: config))
        let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
        server = BackgroundProcess([python, ReadmeTests.root + "/Tests/GitServer/git_http_server.py", root, config],
                                   environment: ["PATH": "/usr/bin:/bin", "HOME": cli.home])
        port = server.firstLine
        precondition(Int(port) != nil, "the git test server did not start")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    func setAccess(_ access: [String: [[String]]]) throws {
        let data = try JSONSerialization.data(withJSONObject: access)
        try data.write(to: URL(fileURLWithPath: config + ".new"))
        _ = rename(config + ".new", config)
    }

    var base: String { "http://127.0.0.1:\(port)" }

    @discardableResult
    func git(_ arguments: [String], in folder: String? = nil, env: [String: String?] = [:]) -> RunResult {
        var environment = cli.environment
        for (key, value) in env { environment[key] = value }
        let prefix = folder.map { ["-C", $0] } ?? []
        return run(["/usr/bin/git"] + prefix + arguments, environment: environment, timeout: 120)
    }

    func fill(_ description: String) -> RunResult {
        run(["/usr/bin/git", "credential", "fill"], environment: cli.environment, stdin: .data(description), timeout: 60)
    }
}

@Suite(.serialized) struct GitHelperTests {
    static let token = "glpat-GitServerToken0123456"

    @Test func cloneFetchPushThenATokenChangeIsMarkedNotLost() throws {
        let world = try GitWorld(repos: ["project.git"], access: ["*": [["*", Self.token]]])
        world.cli.add("local-git", token: Self.token, ["--url", world.base, "--username", "oauth2"])
        let work = world.cli.home + "/work/project"
        let clone = world.git(["clone", "-q", world.base + "/project.git", work])
        #expect(clone.status == 0, "clone: \(clone.err)")
        try "more\n".write(toFile: work + "/file", atomically: true, encoding: .utf8)
        world.git(["add", "file"], in: work)
        world.git(["commit", "-qm", "second"], in: work)
        let push = world.git(["push", "-q", "origin", "main"], in: work)
        #expect(push.status == 0, "push: \(push.err)")
        let fetch = world.git(["fetch", "-q"], in: work)
        #expect(fetch.status == 0, "fetch: \(fetch.err)")
        #expect(try world.cli.library().entry(named: "local-git").lastUsed != nil)
        // No file under HOME holds the token in plain text (the vault, git's config, the clone).
        for (path, data) in world.cli.files() {
            #expect(!data.contains(bytes: Self.token), "token in plain text in \(path)")
        }
        #expect(!FileManager.default.fileExists(atPath: world.cli.home + "/.git-credentials"))

        // The server's token changes: the fetch fails, the entry is marked rejected, not lost.
        try world.setAccess(["*": [["*", "glpat-TheNewServerToken000"]]])
        let failed = world.git(["fetch", "-q"], in: work)
        #expect(failed.status != 0)
        let entry = try world.cli.library().entry(named: "local-git")
        #expect(entry.rejected != nil)
        #expect(try world.cli.library().secret(named: "local-git").revealString() == Self.token)
        #expect(world.cli.vault(["list"]).out.contains("local-git (rejected)"))
        // A rejected token is not given to git.
        let fill = world.fill("protocol=http\nhost=127.0.0.1:\(world.port)\n\n")
        #expect(!fill.out.contains(Self.token))

        // Server back to the old token; vault restore gives it to git again.
        try world.setAccess(["*": [["*", Self.token]]])
        #expect(world.cli.vault(["restore", "local-git"]).status == 0)
        #expect(try world.cli.library().entry(named: "local-git").rejected == nil)
        #expect(world.git(["fetch", "-q"], in: work).status == 0)
    }

    @Test func aNewTokenTypedAtGitsPromptIsStoredAndAChangedOneKeepsHistory() throws {
        let world = try GitWorld(repos: ["p.git"], access: ["*": [["dev", "first-password-0001"]]])
        // git's own askpass supplies what a person would type at the prompt.
        let askpass = world.cli.script("askpass.sh", "#!/bin/sh\ncase \"$1\" in Username*) echo dev;; *) cat \"$HOME/typed\";; esac\n")
        try "first-password-0001\n".write(toFile: world.cli.home + "/typed", atomically: true, encoding: .utf8)
        let env: [String: String?] = ["GIT_ASKPASS": askpass]
        #expect(world.git(["clone", "-q", world.base + "/p.git", world.cli.home + "/work/p"], env: env).status == 0)
        let vault = try world.cli.library()
        let name = "dev@127.0.0.1:\(world.port)"
        #expect(try vault.secret(named: name).revealString() == "first-password-0001")
        // Storing the same again changes nothing. (The test never reads the vault file itself
        // while a connection is open: closing any descriptor of it would drop SQLite's locks.)
        #expect(world.git(["fetch", "-q"], in: world.cli.home + "/work/p").status == 0)
        #expect(try vault.names() == [name])

        // The password changes at the server and at the prompt: the vault keeps the old one.
        try world.setAccess(["*": [["dev", "second-password-0002"]]])
        try "second-password-0002\n".write(toFile: world.cli.home + "/typed", atomically: true, encoding: .utf8)
        #expect(world.git(["fetch", "-q"], in: world.cli.home + "/work/p").status != 0)  // rejected first
        #expect(world.git(["fetch", "-q"], in: world.cli.home + "/work/p", env: env).status == 0)
        #expect(try vault.secret(named: name).revealString() == "second-password-0002")
        #expect(try vault.history(of: name).map { $0.secret.revealString() } == ["first-password-0001"])
        #expect(try vault.entry(named: name).rejected == nil)
        let history = world.cli.vault(["history", name])
        #expect(history.out.hasPrefix("1  replaced "))
        #expect(!history.out.contains("first-password"))
    }

    @Test func twoAccountsOnOneHostChosenByTheUserNameInTheURL() throws {
        let world = try GitWorld(repos: ["alice.git", "bob.git"],
                                 access: ["alice.git": [["alice", "token-of-alice-0001"]], "bob.git": [["bob", "token-of-bob-00002"]]])
        world.cli.add("alice", token: "token-of-alice-0001", ["--url", world.base, "--username", "alice"])
        world.cli.add("bob", token: "token-of-bob-00002", ["--url", world.base, "--username", "bob"])
        let host = "127.0.0.1:\(world.port)"
        #expect(world.git(["clone", "-q", "http://alice@\(host)/alice.git", world.cli.home + "/work/a"]).status == 0)
        #expect(world.git(["clone", "-q", "http://bob@\(host)/bob.git", world.cli.home + "/work/b"]).status == 0)
        #expect(world.git(["clone", "-q", "http://alice@\(host)/bob.git", world.cli.home + "/work/c"]).status != 0)
        // That 401 made git report alice's token as failing: kept, marked, and restorable.
        #expect(try world.cli.library().entry(named: "alice").rejected != nil)
        #expect(try world.cli.library().entry(named: "bob").rejected == nil)
        #expect(world.cli.vault(["restore", "alice"]).status == 0)
        // Without a user name the choice is deterministic: the git default, else the most recent.
        #expect(world.cli.vault(["edit", "bob", "--git-default"]).status == 0)
        let filled = world.fill("protocol=http\nhost=\(host)\n\n")
        #expect(filled.out.contains("username=bob\n"))
        #expect(filled.out.contains("password=token-of-bob-00002\n"))
        let verbose = run([Binary.path("git-credential-vault"), "--verbose", "get"], environment: world.cli.environment,
                          stdin: .data("protocol=http\nhost=\(host)\n\n"))
        #expect(verbose.err.contains("'bob' chosen among"), "\(verbose.err)")
    }

    @Test func useHttpPathPicksTheTokenOfEachRepository() throws {
        let world = try GitWorld(repos: ["repo-a.git", "repo-b.git"],
                                 access: ["repo-a.git": [["*", "token-for-a-000001"]], "repo-b.git": [["*", "token-for-b-000002"]]])
        world.git(["config", "--global", "credential.useHttpPath", "true"])
        world.cli.add("repo-a", token: "token-for-a-000001", ["--url", world.base + "/repo-a.git", "--username", "ci"])
        world.cli.add("repo-b", token: "token-for-b-000002", ["--url", world.base + "/repo-b.git", "--username", "ci"])
        #expect(world.git(["clone", "-q", world.base + "/repo-a.git", world.cli.home + "/work/a"]).status == 0)
        #expect(world.git(["clone", "-q", world.base + "/repo-b.git", world.cli.home + "/work/b"]).status == 0)
    }

    @Test func severalFetchesAtOnce() async throws {
        let world = try GitWorld(repos: ["p.git"], access: ["*": [["*", Self.token]]])
        world.cli.add("local", token: Self.token, ["--url", world.base])
        let work = world.cli.home + "/work/p"
        #expect(world.git(["clone", "-q", world.base + "/p.git", work]).status == 0)
        let results = await withTaskGroup(of: RunResult.self) { group in
            for _ in 0..<6 { group.addTask { world.git(["fetch", "-q"], in: work) } }
            var all: [RunResult] = []
            for await r in group { all.append(r) }
            return all
        }
        for r in results { #expect(r.status == 0, "\(r.err)") }
        #expect(try world.cli.library().entry(named: "local").rejected == nil)
    }

    @Test func importFromPlainTextFilesThenGitWorksFromTheVaultAlone() throws {
        let world = try GitWorld(repos: ["team/app.git"],
                                 access: ["*": [["ci bot", "p@ss+w/rd:0001"]]])
        let host = "127.0.0.1:\(world.port)"
        let file = world.cli.home + "/.git-credentials"
        try """
            # a comment
            http://ci%20bot:p%40ss%2Bw%2Frd%3A0001@\(host)
            https://someone:ghp_OtherToken000000000000000000000000@github.com/org/repo

            this line is malformed and secret-ish: hunter2
            """.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        let dry = world.cli.vault(["import", "git-credentials", "--dry-run"])
        #expect(dry.status == 0, "\(dry.err)")
        #expect(dry.out.contains("would become 'ci_bot@\(host)'"))
        #expect(dry.out.contains(":5: skipped: not a URL"))
        #expect(!dry.out.contains("hunter2") && !dry.err.contains("hunter2") && !dry.out.contains("p@ss"))
        #expect(try world.cli.library().names().isEmpty)

        // A malformed line: the import happens, but the file is not removed.
        let partial = world.cli.vault(["import", "git-credentials", "--remove"])
        #expect(partial.status == 1)
        #expect(partial.err.contains("was not removed"))
        #expect(FileManager.default.fileExists(atPath: file))
        #expect(try world.cli.library().names().sorted() == ["ci_bot@\(host)", "someone@github.com/org/repo"])
        // Importing again doubles nothing.
        let again = world.cli.vault(["import", "git-credentials"])
        #expect(again.err.contains("already in the vault"))
        #expect(try world.cli.library().names().count == 2)

        // Without the malformed line, --remove overwrites and removes the file.
        try "http://ci%20bot:p%40ss%2Bw%2Frd%3A0001@\(host)\n".write(toFile: file, atomically: true, encoding: .utf8)
        let removed = world.cli.vault(["import", "git-credentials", "--remove"])
        #expect(removed.status == 0, "\(removed.err)")
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(removed.err.contains("credential.helper \"$(command -v git-credential-vault)\""))

        // git works from the vault alone.
        #expect(world.git(["clone", "-q", "http://ci%20bot@\(host)/team/app.git", world.cli.home + "/work/app"]).status == 0)

        // netrc: comments, a macro, quoted values, a default entry, a machine without password.
        let netrc = world.cli.home + "/.netrc"
        try """
            # work machines
            machine gitlab.example.com login deploy password "quoted pass 01"
            machine api.example.org
                login robot
                password glpat-NetrcToken0000000000
            macdef init
            cd /pub
            this macro is skipped

            machine broken.example login nobody
            default login anonymous password guest
            """.write(toFile: netrc, atomically: true, encoding: .utf8)
        chmod(netrc, 0o600)
        let imported = world.cli.vault(["import", "netrc"])
        #expect(imported.status == 0, "\(imported.err)")
        #expect(imported.err.contains("skipped: machine without a password"))
        #expect(imported.err.contains("'default' entry"))
        let filled = world.fill("protocol=https\nhost=api.example.org\n\n")
        #expect(filled.out.contains("username=robot\n"))
        #expect(filled.out.contains("password=glpat-NetrcToken0000000000\n"))
        #expect(world.fill("protocol=https\nhost=gitlab.example.com\nusername=deploy\n\n").out.contains("password=quoted pass 01\n"))
    }
}
