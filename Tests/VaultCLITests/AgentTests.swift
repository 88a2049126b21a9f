import Foundation
import Testing
@testable import TokenVault

/// The agent, run for real: `vault unlock` starts it, other processes use it.
@Suite(.serialized) struct AgentTests {
    static let token = "glpat-AgentToken000000000"

    /// A vault with one entry and a private runtime folder.
    func fixture() throws -> CLI {
        let cli = CLI()
        cli.add("gl", token: Self.token, ["--url", "https://h.example"])
        return cli
    }

    let noPassphrase: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]

    func agentPID(_ cli: CLI) -> pid_t? {
        let r = run(["/usr/bin/pgrep", "-f", "tokenvault-cli agent --vault \(cli.vaultPath)"], environment: [:])
        return r.out.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    @Test func unlockUseFromAnotherProcessThenLock() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["status"]).status == 3)
        let unlocked = cli.vault(["unlock", "--timeout", "5m"])
        #expect(unlocked.status == 0, "\(unlocked.err)")
        #expect(cli.vault(["status"]).status == 0)
        // Another process, with no passphrase source at all.
        let got = cli.vault(["get", "gl"], stdin: .closed, env: noPassphrase)
        #expect(got.status == 0, "\(got.err)")
        #expect(got.out == Self.token + "\n")
        let helper = run([Binary.path("git-credential-vault"), "get"], environment: cli.environment.filter { $0.key != "TOKENVAULT_PASSPHRASE" },
                         stdin: .data("protocol=https\nhost=h.example\n\n"))
        #expect(helper.out.contains("password=\(Self.token)\n"))
        // Writes go through the agent too.
        #expect(cli.add("second", token: "glpat-Second0000000000").status == 0)
        #expect(cli.vault(["list", "--json"], env: noPassphrase).out.contains("second"))
        // The socket and its folder are private.
        let folder = cli.home + "/run/tokenvault"
        #expect(mode(of: folder) == 0o700)
        let socket = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".sock") })
        #expect(mode(of: folder + "/" + socket) == 0o600)

        #expect(cli.vault(["lock"]).status == 0)
        let after = cli.vault(["get", "gl"], stdin: .closed, env: noPassphrase)
        #expect(after.status == 3)
        #expect(after.out.isEmpty)
        #expect(cli.vault(["status"]).status == 3)
    }

    @Test func theIdleTimeoutLocksAndTheAgentExits() throws {
        let cli = try fixture()
        #expect(cli.vault(["unlock", "--timeout", "1s"]).status == 0)
        let pid = agentPID(cli)
        #expect(pid != nil)
        var locked = false
        for _ in 0..<100 {
            if cli.vault(["status"]).status == 3 { locked = true; break }
            usleep(100_000)
        }
        #expect(locked)
        usleep(500_000)
        if let pid {
            // Gone, or a zombie waiting for a subreaper to collect it.
            let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?
                .split(separator: ")").last?.split(separator: " ").first
            #expect(state == nil || state == "Z", "the agent still runs after its timeout")
        }
        #expect(cli.vault(["get", "gl"], stdin: .closed, env: noPassphrase).status == 3)
    }

    @Test func aKilledAgentIsReplacedWithoutHelp() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        let pid = try #require(agentPID(cli))
        kill(pid, SIGKILL)
        usleep(200_000)
        // The stale socket: commands fall back to the passphrase, and say nothing about it.
        let fallback = cli.vault(["get", "gl"])
        #expect(fallback.status == 0)
        #expect(fallback.out == Self.token + "\n")
        #expect(cli.vault(["status"]).status == 3)
        // A new unlock replaces the stale socket.
        #expect(cli.vault(["unlock"]).status == 0)
        #expect(cli.vault(["get", "gl"], stdin: .closed, env: noPassphrase).out == Self.token + "\n")
    }

    @Test func aHungAgentIsGivenUpWithinASecond() throws {
        let cli = try fixture()
        let hung = try HungAgent(cli)
        #expect(hung.process.firstLine == "ready")
        let r = cli.vault(["get", "gl"], timeout: 20)
        #expect(!r.timedOut)
        #expect(r.status == 0)
        #expect(r.out == Self.token + "\n")
        #expect(r.seconds < 5)
    }

    @Test func aSlowClientCannotHoldTheAgent() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        let socket = AgentProtocol.socketPath(forVault: cli.vaultPath, environment: cli.environment)
        // Announces a large frame, then sends a byte now and then.
        let slow = BackgroundProcess(["/usr/bin/python3", "-c", """
            import socket, time, sys
            s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"\\xa0\\x86\\x01\\x00")
            print("ready", flush=True)
            for _ in range(60):
                time.sleep(0.5)
                try: s.sendall(b"x")
                except Exception: break
            """, socket], environment: ["PATH": "/usr/bin:/bin"])
        #expect(slow.firstLine == "ready")
        for _ in 0..<3 {
            let r = cli.vault(["get", "gl"], stdin: .closed, env: noPassphrase, timeout: 20)
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out == Self.token + "\n")
            #expect(r.seconds < 5)
        }
        #expect(cli.vault(["status"]).status == 0)
    }

    @Test func agentsStartedAtOnceLeaveOne() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        let starters = (0..<6).map { _ in
            BackgroundProcess(["/bin/sh", "-c", "echo started; exec \"$0\" agent", Binary.path("vault")], environment: cli.environment)
        }
        #expect(starters.allSatisfy { $0.firstLine == "started" })
        usleep(1_500_000)
        #expect(cli.vault(["unlock"]).status == 0)
        #expect(cli.vault(["get", "gl"], stdin: .closed, env: noPassphrase).out == Self.token + "\n")
        let alive = starters.filter { kill($0.pid, 0) == 0 && (try? String(contentsOfFile: "/proc/\($0.pid)/stat", encoding: .utf8))?
            .split(separator: ")").last?.split(separator: " ").first != "Z" }
        #expect(alive.count == 1, "\(alive.count) agents serve one vault")
    }

    @Test func anotherUserIsRefused() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        let socket = AgentProtocol.socketPath(forVault: cli.vaultPath, environment: cli.environment)
        // Open the way to the socket for the test, so that the agent's own check is what refuses.
        chmod(cli.home, 0o755)
        chmod(cli.home + "/run", 0o755)
        chmod(cli.home + "/run/tokenvault", 0o755)
        chmod(socket, 0o666)
        defer { chmod(cli.home, 0o700); chmod(cli.home + "/run", 0o700); chmod(cli.home + "/run/tokenvault", 0o700) }
        let probe = """
            import socket, sys
            try:
                s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
                s.sendall(b"\\x01\\x00\\x00\\x00\\x01")
                print(len(s.recv(64)))
            except Exception as e:
                print("error", type(e).__name__)
            """
        let asNobody = run(["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            "/usr/bin/python3", "-c", probe, socket], environment: ["PATH": "/usr/bin:/bin"])
        #expect(asNobody.status == 0, "\(asNobody.err) \(asNobody.out)")
        #expect(asNobody.out == "0\n" || asNobody.out.hasPrefix("error"), "another user got an answer: \(asNobody.out)")
        let asOwner = run(["/usr/bin/python3", "-c", probe, socket], environment: ["PATH": "/usr/bin:/bin"])
        #expect(asOwner.out != "0\n" && !asOwner.out.hasPrefix("error"), "the owner got no answer: \(asOwner.out)")
    }

    /// `get` and the git helper are answered by the agent in one request each, and the activity
    /// log names the client that asked, with its parent process, not the agent.
    @Test func theAgentReadsForItsClientsAndTheLogNamesThem() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        cli.add("other", token: "glpat-OtherToken00000000", ["--url", "https://h.example/group/repo"])
        #expect(cli.vault(["unlock"]).status == 0)
        let script = cli.script("reads-twice", """
            #!/bin/sh
            "$1" get gl
            printf 'protocol=https\nhost=h.example\n\n' | "$2" get
            "$1" get missing
            """)
        let environment = cli.environment.filter { $0.key != "TOKENVAULT_PASSPHRASE" }
        let r = run([script, Binary.path("vault"), Binary.path("git-credential-vault")], environment: environment)
        // The whole-host entry answers git before the one for a single repository.
        #expect(r.out == "\(Self.token)\nusername=oauth2\npassword=\(Self.token)\n")
        #expect(r.status == 2)
        #expect(r.err.contains("no entry named 'missing'"), "\(r.err)")
        let log = cli.vault(["log", "--json"])
        #expect(log.status == 0, "\(log.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(log.out.utf8)) as? [String: Any])
        #expect(report["verified"] as? Bool == true)
        let events = try #require(report["events"] as? [[String: Any]])
        let reads = events.filter { $0["action"] as? String == "read" }
        #expect(reads.count == 2)
        #expect(reads.map { $0["entry"] as? String } == ["gl", "gl"])
        #expect(reads.map { $0["actor"] as? String } == ["vault get", "git-credential-vault get"])
        #expect(reads.allSatisfy { $0["parent"] as? String == "reads-twice" }, "\(reads)")
        // The read's last-used time was written too.
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(cli.vault(["show", "gl", "--json"]).out.utf8)) as? [String: Any])
        #expect(shown["last_used"] is String)
    }

    /// A vault file replaced under a running agent (renamed over, as editors and backup tools do)
    /// is never read through the old file's agent: the client falls back to the passphrase.
    @Test func aVaultReplacedUnderItsAgentIsNotReadThroughIt() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        let other = CLI()
        #expect(other.add("gl", token: "glpat-TheNewVaultsToken000", ["--url", "https://h.example"]).status == 0)
        let moved = run(["/bin/sh", "-c", "cp \"$1\" \"$2.new\" && mv \"$2.new\" \"$2\"", "sh", other.vaultPath, cli.vaultPath],
                        environment: ["PATH": "/usr/bin:/bin"])
        #expect(moved.status == 0, "\(moved.err)")
        let locked = cli.vault(["get", "gl"], stdin: .closed, env: noPassphrase)
        #expect(locked.status == 3, "\(locked.out) \(locked.err)")
        #expect(!locked.out.contains(Self.token))
        let helper = run([Binary.path("git-credential-vault"), "get"], environment: cli.environment.filter { $0.key != "TOKENVAULT_PASSPHRASE" },
                         stdin: .data("protocol=https\nhost=h.example\n\n"))
        #expect(!helper.out.contains(Self.token))
        let fresh = cli.vault(["get", "gl"])
        #expect(fresh.out == "glpat-TheNewVaultsToken000\n", "\(fresh.err)")
    }

    /// Renamed over the path while the agent derives the key (a vault at the default cost, so
    /// the rename may land during the derivation or after it): either way, the old file's agent
    /// never answers for the new file.
    @Test func aVaultRenamedOverDuringTheUnlockIsNotReadThroughIt() throws {
        let cli = CLI(initialise: false)
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["init", "--kdf", "moderate"]).status == 0)
        #expect(cli.add("gl", token: Self.token, ["--url", "https://h.example"]).status == 0)
        let other = CLI()
        #expect(other.add("gl", token: "glpat-TheNewVaultsToken000", ["--url", "https://h.example"]).status == 0)
        let unlock = BackgroundProcess(["/bin/sh", "-c", "echo started; exec \"$0\" unlock", Binary.path("vault")], environment: cli.environment)
        #expect(unlock.firstLine == "started")
        usleep(150_000)
        let moved = run(["/bin/sh", "-c", "cp \"$1\" \"$2.new\" && mv \"$2.new\" \"$2\"", "sh", other.vaultPath, cli.vaultPath],
                        environment: ["PATH": "/usr/bin:/bin"])
        #expect(moved.status == 0)
        for _ in 0..<50 where cli.vault(["status"]).status != 0 { usleep(50_000) }
        let r = cli.vault(["get", "gl"], stdin: .closed, env: noPassphrase)
        #expect(!r.out.contains(Self.token), "the old vault's token was read for the new file")
    }

    /// Overwritten in place (not through SQLite) with another vault: the agent notices the file
    /// changed, finds that its key does not open it, and answers for it no more.
    @Test func aVaultOverwrittenInPlaceIsNotReadThroughTheOldAgent() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        let other = CLI()
        #expect(other.add("gl", token: "glpat-TheNewVaultsToken000", ["--url", "https://h.example"]).status == 0)
        let copied = run(["/bin/sh", "-c", "cat \"$1\" > \"$2\"", "sh", other.vaultPath, cli.vaultPath], environment: ["PATH": "/usr/bin:/bin"])
        #expect(copied.status == 0)
        let r = cli.vault(["get", "gl"], stdin: .closed, env: noPassphrase)
        #expect(r.status == 3, "\(r.out) \(r.err)")
        #expect(!r.out.contains(Self.token))
        #expect(cli.vault(["get", "gl"]).out == "glpat-TheNewVaultsToken000\n")
    }

    /// The library: a vault unlocked with another vault's agent does not read through it.
    @Test func anotherVaultsAgentIsRefused() throws {
        let a = try fixture()
        let b = CLI()
        defer { b.vault(["lock"]) }
        #expect(b.add("gl", token: "glpat-VaultBsToken0000000", ["--url", "https://h.example"]).status == 0)
        #expect(b.vault(["unlock"]).status == 0)
        let agent = try #require(AgentClient.connect(vaultPath: b.vaultPath, environment: b.environment))
        let vault = try Vault.open(at: a.vaultPath)
        #expect(throws: VaultError.self) {
            try vault.unlock(with: agent)
            _ = try vault.get("gl")
        }
        // The same vault, unlocked with the passphrase after its agent is gone, reads locally.
        let own = try Vault.open(at: b.vaultPath)
        try own.unlock(with: agent)
        #expect(try own.get("gl").secret.isEqual(to: Secret("glpat-VaultBsToken0000000")))
        try agent.lock()
        #expect(throws: VaultError.self) { _ = try own.get("gl") }
        try own.unlock(passphrase: Secret(CLI.passphrase))
        #expect(try own.get("gl").secret.isEqual(to: Secret("glpat-VaultBsToken0000000")))
    }

    /// A newer version's schema, written while the agent has the file open: refused, as without
    /// the agent.
    @Test func aNewerSchemaIsNotReadThroughTheAgent() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        #expect(cli.vault(["get", "gl"], env: noPassphrase).status == 0)
        let bumped = run(["/usr/bin/python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 99'); c.commit()",
                          cli.vaultPath], environment: ["PATH": "/usr/bin:/bin"])
        #expect(bumped.status == 0, "\(bumped.err)")
        let r = cli.vault(["get", "gl"], stdin: .closed, env: noPassphrase)
        #expect(r.status != 0)
        #expect(r.out.isEmpty)
        #expect(r.err.contains("upgrade TokenVault"), "\(r.err)")
    }

    /// Another process holds the write lock for longer than a client waits for the agent: the
    /// agent answers `busy` at once and the client does the work itself, waiting for the lock as
    /// it would without an agent.
    @Test func aBusyVaultIsWaitedForNotReportedLocked() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        let writer = BackgroundProcess(["/usr/bin/python3", "-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN IMMEDIATE")
            print("locked", flush=True); time.sleep(2.5); c.execute("ROLLBACK")
            time.sleep(60)
            """, cli.vaultPath], environment: ["PATH": "/usr/bin:/bin"])
        #expect(writer.firstLine == "locked")
        let r = cli.vault(["get", "gl"], stdin: .closed, env: noPassphrase, timeout: 40)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == Self.token + "\n")
        #expect(cli.vault(["status"]).status == 0)
    }

    /// git-credential-vault's C front end answers `get` through the agent exactly as the Swift
    /// helper answers it from the vault: the same lines for git and the same warnings, for each
    /// kind of request. (The Swift helper runs here without an agent, from the passphrase.)
    @Test func theFrontEndAnswersAsTheSwiftHelperDoes() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        let soon = Timestamp.now().adding(days: 3).dateString
        cli.add("soon", token: "glpat-ExpiresSoon00000000", ["--url", "https://soon.example", "--expires", soon, "--username", "ci"])
        cli.add("old", token: "glpat-Expired00000000000", ["--url", "https://old.example", "--expires", "2021-01-01"])
        cli.add("repo", token: "glpat-OneRepository00000", ["--url", "https://h.example/group/repo", "--username", "dev"])
        #expect(cli.vault(["unlock"]).status == 0)
        let requests = [
            "protocol=https\nhost=h.example\n\n",
            "protocol=https\r\nhost=h.example\r\n\r\n",
            "url=https://dev@h.example/group/repo.git\n\n",
            "protocol=https\nhost=h.example\npath=group/repo.git\nusername=dev\n\n",
            "protocol=https\nhost=soon.example\n\n",
            "protocol=https\nhost=old.example\n\n",
            "protocol=https\nhost=nowhere.example\n\n",
            "protocol=https\n\n",
            "not a credential line\n\n",
            "",
        ]
        // The front end alone, without the Swift helper beside it: what it prints, the agent
        // answered. Only git's malformed line is the Swift helper's to report.
        let alone = cli.home + "/alone"
        let copied = run(["/bin/sh", "-c", "mkdir -p \"$2\" && cp \"$1\" \"$2/\"", "sh", Binary.path("git-credential-vault"), alone],
                         environment: ["PATH": "/usr/bin:/bin"])
        #expect(copied.status == 0)
        var agentOnly = cli.environment.filter { $0.key != "TOKENVAULT_PASSPHRASE" }
        var noAgent = cli.environment
        noAgent["XDG_RUNTIME_DIR"] = cli.home + "/no-agent-here"
        for request in requests {
            let frontEnd = request.hasPrefix("not") ? Binary.path("git-credential-vault") : alone + "/git-credential-vault"
            let fast = run([frontEnd, "get"], environment: agentOnly, stdin: .data(request))
            let swift = run([Binary.path("tokenvault-git-helper"), "get"], environment: noAgent, stdin: .data(request))
            #expect(fast.status == swift.status, "\(request.debugDescription)")
            #expect(fast.out == swift.out, "\(request.debugDescription)")
            #expect(fast.err == swift.err, "\(request.debugDescription)")
            if request.contains("old.example") { #expect(fast.err.contains("expired on 2021-01-01: not given to git")) }
            if request.contains("soon.example") {
                #expect(fast.err.contains("expires on \(soon)"))
                #expect(fast.out.hasPrefix("username=ci\npassword=glpat-ExpiresSoon00000000\npassword_expiry_utc="))
            }
            if request.hasPrefix("not") { #expect(fast.status == 1 && fast.err.contains("invalid credential line 1")) }
        }
        let answered = run([alone + "/git-credential-vault", "get"], environment: agentOnly, stdin: .data(requests[0]))
        #expect(answered.out == "username=oauth2\npassword=\(Self.token)\n", "\(answered.err)")
        #expect(cli.vault(["lock"]).status == 0)
        agentOnly["TOKENVAULT_PASSPHRASE"] = CLI.passphrase
        let locked = run([alone + "/git-credential-vault", "get"], environment: agentOnly, stdin: .data(requests[0]))
        #expect(locked.status == 0)
        #expect(locked.out.isEmpty)
        #expect(locked.err.contains("cannot find tokenvault-git-helper"), "\(locked.err)")
    }

    /// The agent keeps every entry's metadata between git's requests, and never a stale copy:
    /// a change by another process, and its own record of a read (which makes that entry the
    /// most recently used), both change git's answer.
    @Test func theAgentsEntriesFollowEveryChange() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        cli.add("second", token: "glpat-SecondToken0000000", ["--url", "https://h.example"])
        #expect(cli.vault(["unlock"]).status == 0)
        let agentOnly = cli.environment.filter { $0.key != "TOKENVAULT_PASSPHRASE" }
        func ask() -> String {
            run([Binary.path("git-credential-vault"), "get"], environment: agentOnly, stdin: .data("protocol=https\nhost=h.example\n\n")).out
        }
        _ = cli.vault(["get", "gl"], env: noPassphrase)
        #expect(ask().contains(Self.token))
        // Read through the agent: now the most recently used.
        usleep(1_100_000)
        #expect(cli.vault(["get", "second"], env: noPassphrase).status == 0)
        #expect(ask().contains("glpat-SecondToken0000000"))
        // Changed by another process, with the passphrase: the git default wins.
        let other = cli.environment.merging(["XDG_RUNTIME_DIR": cli.home + "/elsewhere"]) { $1 }
        #expect(run([Binary.path("vault"), "edit", "gl", "--git-default"], environment: other).status == 0)
        #expect(ask().contains(Self.token))
        #expect(run([Binary.path("vault"), "rm", "gl", "--yes"], environment: other).status == 0)
        #expect(ask().contains("glpat-SecondToken0000000"))
    }

    /// The C front end never waits on an agent that does not accept (busy, stopped, or a
    /// stand-in with a full queue): it gives up within a second, and the Swift helper answers.
    @Test func theFrontEndGivesUpOnAnAgentThatDoesNotAccept() throws {
        let cli = try fixture()
        let socket = AgentProtocol.socketPath(forVault: cli.vaultPath, environment: cli.environment)
        try FileManager.default.createDirectory(atPath: (socket as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let stuck = BackgroundProcess(["/usr/bin/python3", "-c", """
            import socket, sys, time
            s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(0)
            waiting = []
            for _ in range(4):
                c = socket.socket(socket.AF_UNIX); c.setblocking(False)
                try: c.connect(sys.argv[1])
                except Exception: pass
                waiting.append(c)
            print("ready", flush=True)
            time.sleep(60)
            """, socket], environment: ["PATH": "/usr/bin:/bin"])
        #expect(stuck.firstLine == "ready")
        let r = run([Binary.path("git-credential-vault"), "get"], environment: cli.environment,
                    stdin: .data("protocol=https\nhost=h.example\n\n"), timeout: 20)
        #expect(!r.timedOut)
        #expect(r.seconds < 8)
        #expect(r.out.contains("password=\(Self.token)"))
    }

    /// The front end answers only where the Swift helper would: side files open to others, or a
    /// path through a symbolic link, go to the Swift helper, which refuses.
    @Test func theFrontEndChecksWhatTheSwiftHelperChecks() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        let agentOnly = cli.environment.filter { $0.key != "TOKENVAULT_PASSPHRASE" }
        let request = "protocol=https\nhost=h.example\n\n"
        #expect(run([Binary.path("git-credential-vault"), "get"], environment: agentOnly, stdin: .data(request)).out.contains(Self.token))
        _ = run(["/bin/sh", "-c", "touch \"$1-wal\" && chmod 644 \"$1-wal\"", "sh", cli.vaultPath], environment: ["PATH": "/usr/bin:/bin"])
        let open = run([Binary.path("git-credential-vault"), "get"], environment: agentOnly, stdin: .data(request))
        #expect(!open.out.contains(Self.token))
        #expect(open.err.contains("too open"), "\(open.err)")
        _ = run(["/bin/chmod", "600", cli.vaultPath + "-wal"], environment: [:])
        let link = cli.home + "/link.db"
        _ = run(["/bin/ln", "-s", cli.vaultPath, link], environment: [:])
        let linked = run([Binary.path("git-credential-vault"), "--vault", link, "get"], environment: agentOnly, stdin: .data(request))
        #expect(!linked.out.contains(Self.token), "\(linked.err)")
    }

    /// A credential git stored with an absurd expiry (any 64-bit number) neither crashes the
    /// agent nor the helper: the expiry is ignored.
    @Test func anAbsurdExpiryFromGitIsIgnored() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        let agentOnly = cli.environment.filter { $0.key != "TOKENVAULT_PASSPHRASE" }
        let stored = run([Binary.path("git-credential-vault"), "store"], environment: agentOnly,
                         stdin: .data("protocol=https\nhost=y.example\nusername=u\npassword=glpat-Absurd000000000000\npassword_expiry_utc=-9223372036854775000\n\n"))
        #expect(stored.status == 0, "\(stored.err)")
        let got = run([Binary.path("git-credential-vault"), "get"], environment: agentOnly, stdin: .data("protocol=https\nhost=y.example\n\n"))
        #expect(got.out == "username=u\npassword=glpat-Absurd000000000000\n", "\(got.err)")
        #expect(cli.vault(["status"]).status == 0)
    }

    @Test func theVaultKeyIsInNoFile() throws {
        let cli = try fixture()
        defer { cli.vault(["lock"]) }
        #expect(cli.vault(["unlock"]).status == 0)
        _ = cli.vault(["get", "gl"], env: noPassphrase)
        // The vault key, recovered here the way the agent recovers it.
        let db = try SQLite(path: cli.vaultPath, mode: .readWrite)
        let s = try db.prepare("SELECT kdf_ops, kdf_mem, kdf_salt, wrapped_key FROM vault")
        _ = try s.step()
        let kek = try KeyDerivation.passphraseKey(Secret(CLI.passphrase), salt: try s.blob(2, "c"),
                                                  parameters: KDFParameters(opsLimit: UInt64(s.int(0)), memLimit: UInt64(s.int(1))))
        let vaultKey = try SecretBox.open(try s.blob(3, "c"), using: kek, what: "key").withUnsafeBytes { Array($0) }
        #expect(vaultKey.count == 32)
        for (path, data) in cli.files() {
            #expect(!data.contains(bytes: vaultKey), "the vault key is in \(path)")
            #expect(!data.contains(bytes: Self.token), "the token is in \(path)")
        }
    }
}

extension Array where Element == UInt8 {
    func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { i in self[i..<i + needle.count].elementsEqual(needle) }
    }
}

func mode(of path: String) -> UInt32 {
    var info = stat()
    guard stat(path, &info) == 0 else { return 0 }
    return UInt32(info.st_mode) & 0o777
}
