import Foundation
import Testing
@testable import TokenVault

/// A stand-in GitLab (Tests/GitServer/gitlab_stand_in.py) over HTTPS on 127.0.0.1, with a
/// certificate authority of the test's own, and a vault whose entry `ci` points at it.
final class GitLabWorld: @unchecked Sendable {
    let cli: CLI
    let folder: String
    let state: String
    let log: String
    let server: BackgroundProcess
    let port: String
    var caFile: String { folder + "/ca.pem" }
    var url: String { "https://127.0.0.1:\(port)" }
    static let token = "glpat-StandInToken0000000"

    init(tokens: [String: [String: Any]] = [token: ["scopes": ["api", "read_repository"], "expires_at": "2099-01-31"]],
         mode: [String: String] = [:], delay: Int = 0, repos: Bool = false) throws {
        cli = CLI()
        // Beside HOME, not in it: HOME is searched for tokens.
        folder = cli.home + "-gitlab"
        state = folder + "/state.json"
        log = folder + "/requests.jsonl"
        try FileManager.default.createDirectory(atPath: folder + "/repos", withIntermediateDirectories: true)
        let openssl = """
            set -e; cd "$1"
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=TokenVault Test CA"
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext
            """
        let made = run(["/bin/sh", "-c", openssl, "sh", folder], environment: ["PATH": "/usr/bin:/bin"])
        precondition(made.status == 0, "openssl: \(made.err)")
        var all: [String: Any] = [:]
        for (offset, (value, info)) in tokens.sorted(by: { $0.key < $1.key }).enumerated() {
            all[value] = ["id": offset + 1, "name": "ci", "revoked": false, "family": offset + 1].merging(info) { $1 }
        }
        let data = try JSONSerialization.data(withJSONObject: ["tokens": all, "mode": mode, "delay": delay])
        try data.write(to: URL(fileURLWithPath: state))
        var arguments = ["/usr/bin/python3", ReadmeTests.root + "/Tests/GitServer/gitlab_stand_in.py",
                         folder + "/server.pem", folder + "/server.key", state, log]
        if repos { arguments.append(folder + "/repos") }
        server = BackgroundProcess(arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": folder])
        port = server.firstLine
        precondition(Int(port) != nil, "the GitLab stand-in did not start")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Adds the entry `ci` for the stand-in, holding `token`.
    @discardableResult
    func addEntry(_ token: String = token, _ options: [String] = ["--scopes", "read_api", "--expires", "2098-12-31"]) -> RunResult {
        let r = cli.add("ci", token: token, ["--url", url, "--kind", "gitlab"] + options)
        precondition(r.status == 0, "add: \(r.err)")
        return r
    }

    func gitlab(_ arguments: [String], env: [String: String?] = [:], timeout: Double = 60) -> RunResult {
        cli.vault(["gitlab"] + arguments + ["--ca-file", caFile], env: env, timeout: timeout)
    }

    /// The stand-in's tokens, as it holds them now.
    func tokens() throws -> [String: [String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state))) as? [String: Any]
        return object?["tokens"] as? [String: [String: Any]] ?? [:]
    }

    func requests() throws -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    func entry() throws -> [String: Any] {
        let shown = cli.vault(["show", "ci", "--json"])
        return try #require(try JSONSerialization.jsonObject(with: Data(shown.out.utf8)) as? [String: Any])
    }
}

@Suite struct GitLabTests {
    @Test func verifyUpdatesScopesAndExpiry() throws {
        let world = try GitLabWorld()
        world.addEntry()
        let r = world.gitlab(["verify", "ci"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.hasPrefix("ci: active; scopes api,read_repository, expires 2099-01-31 (updated: scopes were read_api; expiry was 2098-12-31)\n"))
        let entry = try world.entry()
        #expect(entry["scopes"] as? [String] == ["api", "read_repository"])
        #expect((entry["expires"] as? String)?.hasPrefix("2099-01-31") == true)
        #expect(world.cli.vault(["log", "ci"]).out.contains("verify at GitLab"))
        // Nothing differs now: nothing is written.
        let again = world.gitlab(["verify", "ci"])
        #expect(again.out.hasPrefix("ci: active; scopes api,read_repository, expires 2099-01-31\n"))
    }

    @Test func revokedAndExpiredTokensAreReported() throws {
        let world = try GitLabWorld(tokens: [
            GitLabWorld.token: ["scopes": ["api"], "expires_at": "2099-01-31", "revoked": true],
            "glpat-ExpiredAtGitLab0000": ["scopes": ["read_api"], "expires_at": "2020-01-01"],
        ])
        world.addEntry()
        #expect(world.cli.add("old", token: "glpat-ExpiredAtGitLab0000", ["--url", world.url, "--kind", "gitlab", "--expires", "2020-01-01"]).status == 0)
        let r = world.gitlab(["verify", "--all"])
        #expect(r.status == 4, "\(r.err)")
        #expect(r.out.contains("ci: REVOKED: GitLab refuses the token"))
        #expect(r.out.contains("old: GitLab refuses the token, which expired on 2020-01-01"))
        #expect(world.try_entry_revoked())
        // A revoked token is given to nobody.
        let got = world.cli.vault(["get", "ci"])
        #expect(got.status == 4)
        #expect(got.err.contains("revoked at GitLab"))
        let git = run([Binary.path("git-credential-vault"), "get"], environment: world.cli.environment,
                      stdin: .data("protocol=https\nhost=127.0.0.1:\(world.port)\n\n"))
        #expect(!git.out.contains(GitLabWorld.token))
        let check = world.cli.vault(["check"])
        #expect(check.status == 4)
        #expect(check.out.contains("error   ci: revoked at GitLab"))
    }

    @Test func rotateStoresTheNewTokenAndGitUsesIt() throws {
        let world = try GitLabWorld(repos: true)
        world.addEntry()
        let cli = world.cli
        // A repository on the stand-in, which accepts any active token over HTTPS.
        let seed = """
            set -e; git init -q --bare "$1/repos/project.git"
            git -C "$1/repos/project.git" config http.receivepack true
            """
        #expect(run(["/bin/sh", "-c", seed, "sh", world.folder], environment: ["PATH": "/usr/bin:/bin"]).status == 0)
        cli.environment["PATH"] = Binary.folder + ":/usr/bin:/bin"
        cli.environment["GIT_SSL_CAINFO"] = world.caFile
        cli.environment["GIT_TERMINAL_PROMPT"] = "0"
        cli.environment["GIT_CONFIG_NOSYSTEM"] = "1"
        #expect(run(["/usr/bin/git", "config", "--global", "credential.helper", Binary.path("git-credential-vault")], environment: cli.environment).status == 0)

        let r = world.gitlab(["rotate", "ci", "--expires-in", "30d"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("rotated 'ci' at GitLab"))
        let tokens = try world.tokens()
        #expect(tokens[GitLabWorld.token]?["revoked"] as? Bool == true)
        let new = try #require(tokens.first { $0.key != GitLabWorld.token }?.key)
        #expect(tokens[new]?["expires_at"] as? String == Timestamp.now().adding(days: 30).dateString)
        #expect(cli.vault(["get", "ci"]).out == new + "\n")
        #expect(cli.vault(["history", "ci", "--reveal"]).out.contains(GitLabWorld.token))
        #expect(cli.vault(["log", "ci"]).out.contains("rotate at GitLab"))
        #expect((try world.entry()["rotation_started"]) is NSNull)

        // Git authenticates with the new token, through the helper.
        let cloned = run(["/usr/bin/git", "clone", "-q", world.url + "/project.git", cli.home + "/clone"], environment: cli.environment)
        #expect(cloned.status == 0, "\(cloned.err)")
        // Neither token is anywhere under HOME in plain text.
        for (path, data) in cli.files() {
            #expect(!data.contains(bytes: new), "the new token is in \(path)")
            #expect(!data.contains(bytes: GitLabWorld.token), "the old token is in \(path)")
        }
    }

    @Test func aRotationThatFailsInsideGitLabIsNotRetriedAndTheTruthIsTold() throws {
        let world = try GitLabWorld(mode: ["rotate": "500"])
        world.addEntry()
        let r = world.gitlab(["rotate", "ci"])
        #expect(r.status == 1)
        #expect(r.err.contains("GitLab failed (500"))
        #expect(r.err.contains("the old one may already be revoked"))
        #expect(r.err.contains("vault gitlab verify ci"))
        // Nothing lost: the vault keeps the old token, marked.
        #expect(world.cli.vault(["get", "ci"]).out == GitLabWorld.token + "\n")
        #expect(try world.entry()["rotation_started"] is String)
        #expect(world.cli.vault(["check"]).out.contains("ci: a rotation started on"))
        // Asked once, never again, even by a second rotate.
        let again = world.gitlab(["rotate", "ci"])
        #expect(again.status == 1)
        #expect(again.err.contains("did not finish"))
        #expect(try world.requests().filter { $0["path"] as? String == "/api/v4/personal_access_tokens/self/rotate" }.count == 1)
        // Verify finds out: GitLab revoked the old token.
        let verified = world.gitlab(["verify", "ci"])
        #expect(verified.status == 4)
        #expect(verified.out.contains("did happen: its new token never reached the vault"))
        #expect(try world.entry()["revoked"] is String)
    }

    @Test func aRotationWithoutAnswerAfterTheRequestWasSent() throws {
        let world = try GitLabWorld(mode: ["rotate": "delay"], delay: 4)
        world.addEntry()
        let r = world.gitlab(["rotate", "ci", "--timeout", "2"], timeout: 30)
        #expect(r.status == 1)
        #expect(r.err.contains("did not answer in time after the request was sent"), "\(r.err)")
        #expect(r.err.contains("may already be revoked"))
        #expect(world.cli.vault(["get", "ci"]).out == GitLabWorld.token + "\n")
        #expect(try world.entry()["rotation_started"] is String)
        #expect(try world.requests().filter { $0["path"] as? String == "/api/v4/personal_access_tokens/self/rotate" }.count == 1)
    }

    /// The answer arrived whole but its end never came (the connection stalled): the new
    /// token in it is stored, not lost.
    @Test func aWholeAnswerIsKeptWhenTheConnectionStalls() throws {
        let world = try GitLabWorld(mode: ["rotate": "stall"])
        world.addEntry()
        let r = world.gitlab(["rotate", "ci", "--timeout", "2"], timeout: 30)
        #expect(r.status == 0, "\(r.err)")
        let new = try #require(try world.tokens().first { $0.key != GitLabWorld.token }?.key)
        #expect(world.cli.vault(["get", "ci"]).out == new + "\n")
    }

    @Test func killedRightAfterGitLabAnswered() throws {
        let world = try GitLabWorld(mode: ["rotate": "hold"])
        world.addEntry()
        let rotate = BackgroundProcess(["/bin/sh", "-c", "echo started; exec \"$0\" gitlab rotate ci --ca-file \"$1\"",
                                        Binary.path("vault"), world.caFile], environment: world.cli.environment)
        #expect(rotate.firstLine == "started")
        for _ in 0..<1000 where !FileManager.default.fileExists(atPath: world.state + ".answered") { usleep(10_000) }
        kill(rotate.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(rotate.pid, &status, 0)
        let new = try #require(try world.tokens().first { $0.key != GitLabWorld.token }?.key)
        // The vault opens, its log verifies, and it holds the new token (the old one in its
        // history), or the old one marked as an unfinished rotation, which verify resolves.
        #expect(world.cli.vault(["log"]).status == 0)
        let held = world.cli.vault(["get", "ci", "--allow-expired"]).out
        if held == new + "\n" {
            #expect(world.cli.vault(["history", "ci", "--reveal"]).out.contains(GitLabWorld.token))
            #expect(try world.entry()["rotation_started"] is NSNull)
        } else {
            #expect(held == GitLabWorld.token + "\n")
            #expect(world.cli.vault(["check"]).out.contains("did not finish"))
            #expect(world.gitlab(["verify", "ci"]).out.contains("never reached the vault"))
        }
    }

    @Test func revokeThenVerifyShowsRevoked() throws {
        let world = try GitLabWorld()
        world.addEntry()
        let refused = world.gitlab(["revoke", "ci"])
        #expect(refused.status == 64)
        #expect(try world.tokens()[GitLabWorld.token]?["revoked"] as? Bool == false)
        let r = world.gitlab(["revoke", "ci", "--yes"])
        #expect(r.status == 0, "\(r.err)")
        #expect(try world.tokens()[GitLabWorld.token]?["revoked"] as? Bool == true)
        #expect(world.cli.vault(["list", "--trash"]).out.contains("ci"))
        let verified = world.gitlab(["verify", "ci"])
        #expect(verified.status == 4)
        #expect(verified.out.contains("ci: REVOKED"))
        #expect(world.cli.vault(["log", "ci"]).out.contains("revoke at GitLab"))
    }

    @Test func gitLabsRefusalsAndFailuresAreExplained() throws {
        let world = try GitLabWorld(tokens: [
            GitLabWorld.token: ["scopes": ["api"], "expires_at": "2099-01-31"],
            "glpat-ReadOnlyToken000000": ["scopes": ["read_api"], "expires_at": "2099-01-31"],
        ], mode: ["rotate": "404"])
        world.addEntry()
        #expect(world.cli.add("reader", token: "glpat-ReadOnlyToken000000", ["--url", world.url, "--kind", "gitlab"]).status == 0)
        // 404: a GitLab too old for the endpoint; nothing changed.
        let old = world.gitlab(["rotate", "ci"])
        #expect(old.status == 1)
        #expect(old.err.contains("GitLab 16.10"))
        #expect(old.err.contains("the old one still works"))
        #expect(try world.entry()["rotation_started"] is NSNull)
        // A token without the scope rotation needs is not sent to rotate at all.
        let scope = world.gitlab(["rotate", "reader"])
        #expect(scope.status == 1)
        #expect(scope.err.contains("neither the api nor the self_rotate scope"))
        // No TLS trust without the stand-in's authority.
        let tls = world.cli.vault(["gitlab", "verify", "ci"])
        #expect(tls.status == 1)
        #expect(tls.err.contains("TLS") && tls.err.contains("--ca-file"))
        // Nothing listening.
        #expect(world.cli.add("nowhere", token: "glpat-Nowhere000000000000", ["--url", "https://127.0.0.1:1", "--kind", "gitlab"]).status == 0)
        let down = world.gitlab(["verify", "nowhere"])
        #expect(down.status == 1)
        #expect(down.err.contains("cannot reach 127.0.0.1:1"))
        // An unknown token: 401.
        #expect(world.cli.add("unknown", token: "glpat-UnknownToken0000000", ["--url", world.url, "--kind", "gitlab"]).status == 0)
        #expect(world.gitlab(["verify", "unknown"]).out.contains("401"))
        // Plain HTTP is refused before anything is sent.
        #expect(world.cli.add("plain", token: "glpat-PlainHTTP0000000000", ["--url", "http://127.0.0.1:\(world.port)", "--kind", "gitlab"]).status == 0)
        #expect(world.gitlab(["verify", "plain"]).err.contains("not an https URL"))
    }

    @Test func rateLimitedRotationSaysWhenToTryAgain() throws {
        let world = try GitLabWorld(mode: ["rotate": "429"])
        world.addEntry()
        let r = world.gitlab(["rotate", "ci"])
        #expect(r.status == 1)
        #expect(r.err.contains("rate-limiting requests (429): try again in 30 s"), "\(r.err)")
        #expect(r.err.contains("the old one still works"))
    }

    @Test func checkOnlineVerifiesFirst() throws {
        let world = try GitLabWorld(tokens: [GitLabWorld.token: ["scopes": ["api"], "expires_at": "2099-01-31", "revoked": true]])
        world.addEntry()
        #expect(world.cli.vault(["check"]).out.contains("revoked") == false)
        let r = world.cli.vault(["check", "--online", "--ca-file", world.caFile])
        #expect(r.status == 4, "\(r.out) \(r.err)")
        #expect(r.out.contains("error   ci: revoked at GitLab"))
    }

    /// Two rotations at once: the second finds the first's mark and stops, so GitLab never
    /// sees a rotation with an already revoked token (which would revoke the new one too).
    @Test func concurrentRotationsSendOneRequest() throws {
        let world = try GitLabWorld(mode: ["rotate": "delay"], delay: 2)
        world.addEntry()
        let first = BackgroundProcess(["/bin/sh", "-c", "echo started; exec \"$0\" gitlab rotate ci --ca-file \"$1\" --timeout 20 2>/dev/null",
                                       Binary.path("vault"), world.caFile], environment: world.cli.environment)
        #expect(first.firstLine == "started")
        let rotations = { try world.requests().filter { $0["path"] as? String == "/api/v4/personal_access_tokens/self/rotate" }.count }
        for _ in 0..<1000 where (try? rotations()) == 0 { usleep(10_000) }
        let second = world.gitlab(["rotate", "ci"])
        #expect(second.status == 1)
        #expect(second.err.contains("did not finish") || second.err.contains("under way"), "\(second.err)")
        var status: Int32 = 0
        waitpid(first.pid, &status, 0)
        #expect(try rotations() == 1)
        let new = try #require(try world.tokens().first { $0.key != GitLabWorld.token }?.key)
        #expect(try world.tokens()[new]?["revoked"] as? Bool == false)
        #expect(world.cli.vault(["get", "ci"]).out == new + "\n")
    }

    @Test func aRotationGitLabRefusesMarksTheTokenRevoked() throws {
        let world = try GitLabWorld(mode: ["rotate": "401"])
        world.addEntry()
        let r = world.gitlab(["rotate", "ci"])
        #expect(r.status == 1)
        #expect(r.err.contains("the token is revoked (marked so)"), "\(r.err)")
        #expect(try world.entry()["revoked"] is String)
        #expect(try world.entry()["rotation_started"] is NSNull)
    }

    @Test func aMalformedAnswerIsNeitherStoredNorTrusted() throws {
        let world = try GitLabWorld(mode: ["rotate": "badtoken"])
        world.addEntry()
        let r = world.gitlab(["rotate", "ci"])
        #expect(r.status == 1)
        #expect(r.err.contains("could not be read"))
        #expect(r.err.contains("may already be revoked"))
        #expect(world.cli.vault(["get", "ci"]).out == GitLabWorld.token + "\n")
        #expect(try world.entry()["rotation_started"] is String)

        let empty = try GitLabWorld(mode: ["self": "empty"])
        empty.addEntry()
        let verified = empty.gitlab(["verify", "ci"])
        #expect(verified.status == 1)
        #expect(verified.err.contains("could not be read"))
        #expect(try empty.entry()["revoked"] is NSNull)
    }

    /// GitLab made a new token and revoked the old one: an answer that carries the token but
    /// not the rest of its description still stores it (losing it would leave only a revoked
    /// token), with the scopes as they were and the expiry asked for.
    @Test func anAnswerWithTheTokenAloneStillStoresIt() throws {
        let world = try GitLabWorld(mode: ["rotate": "sparse"])
        world.addEntry()
        let r = world.gitlab(["rotate", "ci", "--expires", "2099-03-01"])
        #expect(r.status == 0, "\(r.err)")
        let stored = world.cli.vault(["get", "ci"]).out
        #expect(stored.hasPrefix("glpat-") && stored != GitLabWorld.token + "\n")
        #expect(world.gitlab(["verify", "ci"]).status == 0)
        let entry = try world.entry()
        #expect(entry["rotation_started"] is NSNull)
        #expect(entry["expires"] as? String == "2099-03-01")
        #expect((entry["scopes"] as? [String])?.isEmpty == false)
    }

    /// What GitLab sends is data: scopes that are not GitLab words, and control characters in
    /// its messages, never reach the terminal or the vault.
    @Test func gitLabsTextCannotDriveTheTerminal() throws {
        let world = try GitLabWorld(tokens: [GitLabWorld.token: ["scopes": ["api", "read\u{1B}]0;pwned\u{07}\u{1B}[2J"], "expires_at": "2099-01-31"]])
        world.addEntry()
        let r = world.gitlab(["verify", "ci"])
        #expect(r.status == 0)
        #expect(!r.out.contains("\u{1B}"))
        #expect(try world.entry()["scopes"] as? [String] == ["api"])
        #expect(!world.cli.vault(["list"]).out.contains("\u{1B}"))
    }

    /// Talking to GitLab is not a use of the token: `vault check` can still find it unused.
    @Test func gitLabsCommandsDoNotCountAsUses() throws {
        let world = try GitLabWorld()
        world.addEntry()
        #expect(world.gitlab(["verify", "ci"]).status == 0)
        #expect(try world.entry()["last_used"] is NSNull)
        #expect(world.cli.vault(["log", "ci"]).out.contains("read for gitlab verify"))
    }

    /// SIGTERM while GitLab's answer is awaited waits until the outcome is stored and said.
    @Test func aStopSignalWaitsForTheOutcome() throws {
        let world = try GitLabWorld(mode: ["rotate": "delay"], delay: 3)
        world.addEntry()
        let err = world.folder + "/err.txt"
        // The signal is sent once the rotation request has reached the stand-in.
        let script = """
            "$0" gitlab rotate ci --ca-file "$1" --timeout 2 2>"$2" &
            pid=$!
            for i in $(seq 200); do grep -q self/rotate "$3" 2>/dev/null && break; sleep 0.05; done
            kill -TERM $pid
            wait $pid
            echo $?
            """
        let r = run(["/bin/sh", "-c", script, Binary.path("vault"), world.caFile, err, world.log], environment: world.cli.environment, timeout: 30)
        #expect(r.status == 0)
        let said = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        #expect(said.contains("may already be revoked"), "\(said)")
        #expect(try world.entry()["rotation_started"] is String)
    }

    /// `https_proxy` is honoured: the request goes through the proxy (a CONNECT tunnel, so TLS
    /// still ends at GitLab).
    @Test func theProxyFromTheEnvironmentIsUsed() throws {
        let world = try GitLabWorld()
        world.addEntry()
        let connects = world.folder + "/connects.txt"
        let proxy = BackgroundProcess(["/usr/bin/python3", "-c", """
            import socket, sys, threading
            listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(8)
            print(listener.getsockname()[1], flush=True)
            def pipe(a, b):
                try:
                    while True:
                        data = a.recv(65536)
                        if not data: break
                        b.sendall(data)
                except OSError: pass
                for s in (a, b):
                    try: s.shutdown(socket.SHUT_RDWR)
                    except OSError: pass
            while True:
                client, _ = listener.accept()
                head = b""
                while b"\\r\\n\\r\\n" not in head:
                    chunk = client.recv(4096)
                    if not chunk: break
                    head += chunk
                line = head.split(b"\\r\\n")[0].decode()
                open(sys.argv[1], "a").write(line + "\\n")
                host, port = line.split()[1].rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                client.sendall(b"HTTP/1.1 200 Connection established\\r\\n\\r\\n")
                threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
                threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
            """, connects], environment: ["PATH": "/usr/bin:/bin"])
        #expect(Int(proxy.firstLine) != nil)
        let proxied: [String: String?] = ["https_proxy": "http://127.0.0.1:\(proxy.firstLine)"]
        let r = world.gitlab(["verify", "ci"], env: proxied)
        #expect(r.status == 0, "\(r.err)")
        // Through the proxy too, a TLS failure is one, before anything was sent.
        let tls = world.cli.vault(["gitlab", "verify", "ci"], env: proxied)
        #expect(tls.err.contains("the TLS connection"), "\(tls.err)")
        let seen = (try? String(contentsOfFile: connects, encoding: .utf8)) ?? ""
        #expect(seen == "CONNECT 127.0.0.1:\(world.port) HTTP/1.1\n" + "CONNECT 127.0.0.1:\(world.port) HTTP/1.1\n", "\(seen)")
    }

    /// Every request the stand-in received carried the token in the PRIVATE-TOKEN header, and
    /// nowhere else: not in the path, the query, the body or another header.
    @Test func theTokenTravelsOnlyInThePrivateTokenHeader() throws {
        let world = try GitLabWorld()
        world.addEntry()
        #expect(world.gitlab(["verify", "ci"]).status == 0)
        #expect(world.gitlab(["rotate", "ci"]).status == 0)
        #expect(world.gitlab(["verify", "ci"]).status == 0)
        #expect(world.gitlab(["revoke", "ci", "--yes"]).status == 0)
        let secrets = Array(try world.tokens().keys)
        #expect(secrets.count == 2)
        let requests = try world.requests()
        #expect(requests.count == 5)  // verify; verify and rotate; verify; revoke
        for request in requests {
            let headers = request["headers"] as? [[String]] ?? []
            #expect(headers.filter { $0[0].lowercased() == "private-token" }.count == 1)
            #expect(secrets.contains(headers.first { $0[0].lowercased() == "private-token" }?[1] ?? ""))
            for secret in secrets {
                for field in ["path", "query", "body"] { #expect(!((request[field] as? String) ?? "").contains(secret)) }
                #expect(!headers.contains { $0[0].lowercased() != "private-token" && $0[1].contains(secret) })
            }
        }
        // Nor in what the vault printed, or its files.
        for (path, data) in world.cli.files() {
            for secret in secrets { #expect(!data.contains(bytes: secret), "\(path)") }
        }
    }
}

extension GitLabWorld {
    func try_entry_revoked() -> Bool {
        ((try? entry())?["revoked"] as? String) != nil
    }
}
