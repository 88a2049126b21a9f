import Foundation
import Testing
@testable import TokenVault

/// `vault exec`: the real binaries, a program that reports what it got, and the activity log.
@Suite struct ExecTests {
    static let token = "glpat-ExecToken0000000000"

    func fixture() -> CLI {
        let cli = CLI()
        #expect(cli.add("gl", token: Self.token, ["--url", "https://gitlab.example.com", "--username", "ci-bot"]).status == 0)
        return cli
    }

    func hash(_ text: String) -> String {
        let r = run(["/usr/bin/sha256sum"], environment: ["PATH": "/usr/bin:/bin"], stdin: .data(text))
        return String(r.out.prefix(64))
    }

    func reads(_ cli: CLI) throws -> [(entry: String, actor: String)] {
        let log = try #require(try JSONSerialization.jsonObject(with: Data(cli.vault(["log", "--json"]).stdout)) as? [String: Any])
        let events = try #require(log["events"] as? [[String: Any]])
        return events.filter { ($0["action"] as? String) == "read" }.map { ($0["entry"] as? String ?? "", $0["actor"] as? String ?? "") }
    }

    @Test func theProgramGetsTheTokenInTheVariableItsKindSuggests() throws {
        let cli = fixture()
        // An existing variable is overwritten.
        let r = cli.vault(["exec", "gl", "--", "sh", "-c", "printf %s \"$GITLAB_TOKEN\" | sha256sum"], env: ["GITLAB_TOKEN": "old"])
        #expect(r.status == 0, "\(r.err)")
        #expect(String(r.out.prefix(64)) == hash(Self.token))
        #expect(!r.out.contains(Self.token) && r.err.isEmpty)
        let reads = try reads(cli)
        #expect(reads.count == 1)
        #expect(reads.first?.entry == "gl" && reads.first?.actor == "vault exec sh")
    }

    @Test func envSetsEachVariableToATokenOrAField() {
        let cli = fixture()
        #expect(cli.add("other", token: "plain-token-123456", ["--kind", "generic"]).status == 0)
        let r = cli.vault(["exec", "--env", "T=gl", "--env", "U=gl:username", "--env", "H=gl:host", "--env", "K=gl:kind",
                           "other", "--", "sh", "-c", "printf '%s|%s|%s|%s|%s|%s' \"$U\" \"$H\" \"$K\" \"$TOKEN\" \"$HOME\" \"${TOKENVAULT_PASSPHRASE-unset}\"; printf %s \"$T\" | sha256sum"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.hasPrefix("ci-bot|gitlab.example.com|gitlab|plain-token-123456|\(cli.home)|unset"))
        #expect(r.out.contains(hash(Self.token)))
        // Standard input reaches the program.
        let piped = cli.vault(["exec", "gl", "--", "cat"], stdin: .data("through\n"))
        #expect(piped.status == 0 && piped.out == "through\n")
    }

    @Test func theExitStatusIsTheProgramsAndTheVaultsFilesAreNotInherited() {
        let cli = fixture()
        for code in [0, 3, 42] {
            let r = cli.vault(["exec", "gl", "--", "sh", "-c", "exit \(code)"])
            #expect(r.status == Int32(code), "\(r.err)")
        }
        // Through the agent too: neither the vault file nor the agent's socket is open in the child.
        #expect(cli.vault(["unlock"]).status == 0)
        defer { cli.vault(["lock"]) }
        // Started with only 0, 1 and 2 open (the test process may hold others), the program
        // has only those: the vault file and the agent's socket are closed on exec.
        let closing = "import os, sys; os.closerange(3, 65536); os.execv(sys.argv[1], sys.argv[1:])"
        var environment = cli.environment
        environment["TOKENVAULT_PASSPHRASE"] = nil
        for env in [environment, cli.environment] {
            let r = run(["/usr/bin/python3", "-c", closing, Binary.path("vault"), "exec", "gl", "--", "sh", "-c", "ls /proc/$$/fd"],
                        environment: env)
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out == "0\n1\n2\n")
        }
    }

    @Test func noCommandLineHoldsTheTokenAndSignalsReachTheProgram() throws {
        let cli = fixture()
        let marker = cli.home + "/got-term"
        let script = cli.script("child.sh", """
            #!/bin/sh
            sleep 300 &
            trap 'kill $!; echo term > "\(marker)"; exit 42' TERM
            echo $$ $!
            wait
            """)
        let child = BackgroundProcess([Binary.path("vault"), "exec", "gl", "--", script], environment: cli.environment)
        let pids = child.firstLine.split(separator: " ").map(String.init)
        #expect(pids.count == 2, "\(child.firstLine)")
        for pid in ["\(child.pid)"] + pids {
            let cmdline = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")))
            #expect(!cmdline.isEmpty && !cmdline.contains(bytes: Self.token), "\(pid)")
        }
        // What vault (tokenvault-cli, exec'd by the front end) is sent, the program gets.
        let program = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(child.pid)/exe")
        #expect(program.hasSuffix("/tokenvault-cli"), "\(program)")
        kill(child.pid, SIGTERM)
        var status: Int32 = 0
        waitpid(child.pid, &status, 0)
        #expect((status & 0x7f) == 0 && (status >> 8) & 0xff == 42)
        #expect((try? String(contentsOfFile: marker, encoding: .utf8)) == "term\n")
    }

    @Test func aSignalFromTheTerminalReachesTheProgramOnce() throws {
        let cli = fixture()
        let counter = cli.script("count.py", """
            #!/usr/bin/python3
            import signal, time
            count = 0
            def caught(number, frame):
                global count
                count += 1
            signal.signal(signal.SIGINT, caught)
            print("ready", flush=True)
            time.sleep(2)
            print("count", count, flush=True)
            """)
        let terminal = PTYProcess([Binary.path("vault"), "exec", "gl", "--", counter], environment: cli.environment)
        #expect(terminal.expect("ready"))
        usleep(200_000)
        // ^C: the terminal sends SIGINT to vault and the program; vault does not send it again.
        terminal.send("\u{03}")
        #expect(terminal.expect("count "))
        #expect(terminal.wait() == 0)
        #expect(terminal.text.contains("count 1"), "\(terminal.text)")
    }

    @Test func aProgramKilledByASignalGives128PlusItsNumber() {
        let cli = fixture()
        let r = cli.vault(["exec", "gl", "--", "sh", "-c", "kill -USR1 $$"])
        #expect(r.status == 128 + SIGUSR1, "\(r.err)")
        let child = BackgroundProcess([Binary.path("vault"), "exec", "gl", "--", "sh", "-c", "echo ready; exec sleep 300"], environment: cli.environment)
        #expect(child.firstLine == "ready")
        usleep(100_000)
        kill(child.pid, SIGTERM)
        var status: Int32 = 0
        waitpid(child.pid, &status, 0)
        #expect((status & 0x7f) == 0 && (status >> 8) & 0xff == 128 + SIGTERM)
    }

    @Test func theProgramStartsWithNoSignalBlockedAndKeepsOnlyWhatNohupIgnores() throws {
        let cli = fixture()
        // Started with TERM and USR1 blocked, HUP ignored (nohup) and CHLD ignored (which has the
        // kernel reap children): the program (grep, as sh would clear its mask itself) blocks
        // nothing, still ignores HUP, not CHLD, and vault still gets its exit status.
        let starter = """
            import os, signal, sys
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGUSR1})
            os.execv(sys.argv[1], sys.argv[1:])
            """
        let r = run(["/usr/bin/python3", "-c", starter, Binary.path("vault"), "exec", "gl", "--",
                     "grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"], environment: cli.environment)
        #expect(r.status == 0, "\(r.err)")
        var masks: [String: UInt64] = [:]
        for line in r.out.split(separator: "\n") {
            let parts = line.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { masks[parts[0]] = UInt64(parts[1], radix: 16) }
        }
        let bit = { (signal: Int32) -> UInt64 in 1 << UInt64(signal - 1) }
        #expect(masks["SigBlk"] == 0, "\(r.out)")
        let ignored = try #require(masks["SigIgn"], "\(r.out)")
        #expect(ignored & bit(SIGHUP) != 0 && ignored & bit(SIGCHLD) == 0, "\(r.out)")
    }

    @Test func refusedReferencesRunNothingAndRecordNothing() throws {
        let cli = fixture()
        cli.add("old", token: "glpat-Expired00000000000", ["--expires", "2020-01-01"])
        cli.add("binned", token: "glpat-Trashed00000000000")
        #expect(cli.vault(["rm", "binned", "--yes"]).status == 0)
        let marker = cli.home + "/ran"
        let program = ["--", "touch", marker]
        let expired = cli.vault(["exec", "--env", "A=gl", "--env", "B=old"] + program)
        #expect(expired.status == 4)
        #expect(expired.err == "vault: error: the token 'old' expired on 2020-01-01\nvault: hint: renew it, or pass --allow-expired to print it anyway\n")
        let trashed = cli.vault(["exec", "binned"] + program)
        #expect(trashed.status == 2)
        #expect(trashed.err == "vault: error: 'binned' is in the trash\nvault: hint: vault restore binned\n")
        #expect(cli.vault(["exec", "--env", "U=binned:username"] + program).status == 2)
        let unknown = cli.vault(["exec", "--env", "A=gl", "--env", "B=nope"] + program)
        #expect(unknown.status == 2 && unknown.err.hasPrefix("vault: error: no entry named 'nope'"), "\(unknown.err)")
        for bad in ["1A=gl", "A-B=gl", "=gl", "A B=gl", "NOEQUALS"] {
            let r = cli.vault(["exec", "--env", bad] + program)
            #expect(r.status == 64, "\(bad): \(r.err)")
        }
        let twice = cli.vault(["exec", "--env", "GITLAB_TOKEN=gl:username", "gl"] + program)
        #expect(twice.status == 64 && twice.err.contains("GITLAB_TOKEN is set twice"), "\(twice.err)")
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(try reads(cli).isEmpty)
        // Allowed, the expired token is passed.
        let allowed = cli.vault(["exec", "old", "--allow-expired", "--", "sh", "-c", "test \"$GITLAB_TOKEN\" = glpat-Expired00000000000"])
        #expect(allowed.status == 0, "\(allowed.err)")
    }

    @Test func aTokenGitsServerRefusedIsPassedWithGetsWarning() throws {
        let cli = fixture()
        let erase = run([Binary.path("git-credential-vault"), "erase"], environment: cli.environment,
                        stdin: .data("protocol=https\nhost=gitlab.example.com\nusername=ci-bot\npassword=\(Self.token)\n\n"))
        #expect(erase.status == 0)
        let when = try #require(try cli.library().entry(named: "gl").rejected)
        let get = cli.vault(["get", "gl"])
        let r = cli.vault(["exec", "--env", "A=gl", "--env", "B=gl", "--", "sh", "-c", "test \"$A\" = \"$B\" && echo same"])
        #expect(r.status == 0 && r.out == "same\n")
        // The same one line as get's, once for the entry.
        #expect(r.err == get.err && r.err.contains("git's server refused the token 'gl' on \(when.iso8601)"), "\(r.err)")
        let injected = cli.vault(["inject"], stdin: .data("{{ vault \"gl\" }}"))
        #expect(injected.out == Self.token && injected.err == get.err)
    }

    @Test func aProgramThatCannotStartGives127Or126AndReadsNothing() throws {
        let cli = fixture()
        let missing = cli.vault(["exec", "gl", "--", "no-such-program-here"])
        #expect(missing.status == 127)
        #expect(missing.err == "vault: error: no-such-program-here: command not found\n")
        #expect(cli.vault(["exec", "gl", "--", cli.home + "/absent"]).status == 127)
        let script = cli.script("plain.sh", "#!/bin/sh\necho hi\n")
        chmod(script, 0o600)
        let notExecutable = cli.vault(["exec", "gl", "--", script])
        #expect(notExecutable.status == 126, "\(notExecutable.err)")
        #expect(cli.vault(["exec", "gl", "--", cli.home]).status == 126)
        #expect(try reads(cli).isEmpty)
        let noProgram = cli.vault(["exec", "gl"])
        #expect(noProgram.status == 64)
    }
}
