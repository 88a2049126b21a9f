import Foundation
import Testing
@testable import TokenVault

/// `vault` is a C front end (Sources/vault/main.c): it answers `vault get NAME` and `vault get NAME
/// --allow-expired` through the agent, printing what the Swift command line (tokenvault-cli)
/// prints, byte for byte, and hands every other call to tokenvault-cli with the same arguments.
/// A copy of the front end alone in a folder has no tokenvault-cli to hand over to: what it
/// answers, it answered itself; where it would hand over, it says it cannot find it.
@Suite struct VaultFrontEndTests {
    static let cannotHandOver = "vault: error: vault cannot find tokenvault-cli (reinstall TokenVault)\n"
    let noPassphrase: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]

    /// The Swift command line as built (beside the test bundle), or as installed.
    static var swiftCLI: String {
        let beside = Binary.path("tokenvault-cli")
        return FileManager.default.isExecutableFile(atPath: beside) ? beside : Binary.folder + "/../libexec/tokenvault/tokenvault-cli"
    }

    /// A copy of the front end in a folder of its own.
    func loneFrontEnd(_ cli: CLI) -> String {
        let folder = cli.home + "/lone"
        let r = VaultCLITests.run(["/bin/sh", "-c", "mkdir -p \"$1\" && cp \"$2\" \"$1/vault\"", "sh", folder, Binary.path("vault")],
                    environment: ["PATH": "/usr/bin:/bin"])
        precondition(r.status == 0, "cannot copy the front end: \(r.err)")
        return folder + "/vault"
    }

    func run(_ program: String, _ arguments: [String], _ cli: CLI, env: [String: String?] = [:]) -> RunResult {
        var environment = cli.environment
        for (key, value) in env { environment[key] = value }
        return VaultCLITests.run([program] + arguments, environment: environment)
    }

    /// Entries for each warning `get` prints with a token, and the agent unlocked.
    func fixture() throws -> CLI {
        let cli = CLI()
        let soon = Timestamp.now().adding(days: 3).dateString
        cli.add("plain", token: "glpat-FrontEndPlain000000")
        cli.add("soon", token: "glpat-FrontEndSoon0000000", ["--expires", soon])
        cli.add("old", token: "glpat-FrontEndExpired0000", ["--expires", "2020-01-01"])
        cli.add("gone", token: "glpat-FrontEndRevoked0000")
        cli.add("refused", token: "glpat-FrontEndRefused0000", ["--url", "https://h.example"])
        cli.add("binned", token: "glpat-FrontEndTrashed0000")
        let library = try cli.library()
        try library.update("gone") { $0.revoked = Timestamp(date: "2024-05-06") }
        try library.update("refused") { $0.rejected = Timestamp(date: "2024-07-08") }
        #expect(cli.vault(["rm", "binned", "--yes"]).status == 0)
        #expect(cli.vault(["unlock"]).status == 0)
        return cli
    }

    func reads(_ cli: CLI) throws -> [String] {
        let log = try #require(try JSONSerialization.jsonObject(with: Data(cli.vault(["log", "--json"]).stdout)) as? [String: Any])
        let events = try #require(log["events"] as? [[String: Any]])
        return events.filter { ($0["action"] as? String)?.hasPrefix("read") == true }.compactMap { $0["entry"] as? String }
    }

    @Test func theFrontEndAnswersGetThroughTheAgentAsTheSwiftCommandDoesByteForByte() throws {
        let cli = try fixture()
        let lone = loneFrontEnd(cli)
        let cases: [([String], String, Bool)] = [
            (["get", "plain"], "glpat-FrontEndPlain000000", false),
            (["get", "soon"], "glpat-FrontEndSoon0000000", true),
            (["get", "old", "--allow-expired"], "glpat-FrontEndExpired0000", true),
            (["get", "gone", "--allow-expired"], "glpat-FrontEndRevoked0000", true),
            (["get", "refused"], "glpat-FrontEndRefused0000", true),
            (["get", "plain", "--allow-expired"], "glpat-FrontEndPlain000000", false),
        ]
        for (arguments, token, warns) in cases {
            let front = run(lone, arguments, cli, env: noPassphrase)
            let swift = run(Self.swiftCLI, arguments, cli, env: noPassphrase)
            #expect(front.status == 0, "\(arguments): \(front.err)")
            #expect(front.out == token + "\n", "\(arguments)")
            #expect(front.stdout == swift.stdout, "\(arguments)")
            #expect(front.stderr == swift.stderr, "\(arguments): \(front.err.debugDescription) against \(swift.err.debugDescription)")
            #expect(front.status == swift.status, "\(arguments)")
            #expect(front.err.isEmpty == !warns, "\(arguments): \(front.err.debugDescription)")
        }
        // The warnings as `vault get` has always printed them.
        #expect(run(lone, ["get", "old", "--allow-expired"], cli).err == "vault: warning: the token 'old' expired on 2020-01-01\n")
        #expect(run(lone, ["get", "gone", "--allow-expired"], cli).err
                == "vault: warning: the token 'gone' is revoked at GitLab (found on 2024-05-06)\n")
        #expect(run(lone, ["get", "soon"], cli).err.hasPrefix("vault: warning: the token 'soon' expires in "))
        #expect(run(lone, ["get", "refused"], cli).err.hasPrefix("vault: warning: git's server refused the token 'refused' on 2024-07-08"))
    }

    @Test func everyOtherShapeOrAnswerGoesToTheSwiftCommand() throws {
        let cli = try fixture()
        let lone = loneFrontEnd(cli)
        let shapes: [[String]] = [
            ["get", "plain", "--json"], ["get", "plain", "--field", "username"], ["--help"], ["get", "--help"], ["help"],
            ["--vault", cli.vaultPath, "get", "plain"], ["get", "plain", "-v"], ["get", "--allow-expired", "plain"],
            ["get", "plain", "--allow-expired", "--json"], ["get", "help"], ["list"], ["get"], [],
            // Answers other than a token: not found, in the trash, expired.
            ["get", "nope"], ["get", "binned"], ["get", "binned", "--allow-expired"], ["get", "old"], ["get", "gone"],
        ]
        for arguments in shapes {
            let r = run(lone, arguments, cli, env: noPassphrase)
            #expect(r.err == Self.cannotHandOver && r.out.isEmpty && r.status == 1, "\(arguments): \(r.err)")
        }
        // No agent: the Swift command line's to answer.
        #expect(cli.vault(["lock"]).status == 0)
        let locked = run(lone, ["get", "plain"], cli, env: noPassphrase)
        #expect(locked.err == Self.cannotHandOver, "\(locked.err)")
    }

    @Test func theSwiftCommandAnswersWhatTheFrontEndHandsOver() throws {
        let cli = try fixture()
        let vault = Binary.path("vault")
        let notFound = run(vault, ["get", "plai"], cli, env: noPassphrase)
        #expect(notFound.status == 2)
        #expect(notFound.err == "vault: error: no entry named 'plai'\nvault: hint: did you mean plain?\n", "\(notFound.err)")
        let trashed = run(vault, ["get", "binned"], cli, env: noPassphrase)
        #expect(trashed.status == 2)
        #expect(trashed.err == "vault: error: 'binned' is in the trash\nvault: hint: vault restore binned\n")
        let expired = run(vault, ["get", "old"], cli, env: noPassphrase)
        #expect(expired.status == 4)
        #expect(expired.err == "vault: error: the token 'old' expired on 2020-01-01\nvault: hint: renew it, or pass --allow-expired to print it anyway\n")
        let json = run(vault, ["get", "plain", "--json"], cli, env: noPassphrase)
        #expect(json.status == 0 && json.out.contains("\"secret\":\"glpat-FrontEndPlain000000\""), "\(json.out)")
        let field = run(vault, ["get", "refused", "--field", "host"], cli, env: noPassphrase)
        #expect(field.status == 0 && field.out == "h.example\n", "\(field.err)")
        let help = run(vault, ["get", "--help"], cli)
        #expect(help.status == 0 && help.out.contains("Print a token (and one newline) on standard output."))
        let completions = run(vault, ["completions", "bash"], cli)
        #expect(completions.status == 0 && completions.out.contains("vault"))
        #expect(cli.vault(["lock"]).status == 0)
        let locked = run(vault, ["get", "plain"], cli, env: noPassphrase)
        #expect(locked.status == 3, "\(locked.err)")
        #expect(locked.out.isEmpty)
        // Without the agent, the passphrase does it, warnings and all.
        let local = run(vault, ["get", "old", "--allow-expired"], cli)
        #expect(local.status == 0 && local.out == "glpat-FrontEndExpired0000\n")
        #expect(local.err == "vault: warning: the token 'old' expired on 2020-01-01\n")
    }

    @Test func eachGetIsRecordedOnceAndARefusalNever() throws {
        let cli = try fixture()
        let vault = Binary.path("vault")
        let before = try reads(cli)
        #expect(run(vault, ["get", "plain"], cli, env: noPassphrase).status == 0)
        #expect(run(vault, ["get", "old", "--allow-expired"], cli, env: noPassphrase).status == 0)
        // Refused by the agent, then by the Swift command line: nothing recorded.
        #expect(run(vault, ["get", "old"], cli, env: noPassphrase).status == 4)
        #expect(run(vault, ["get", "binned"], cli, env: noPassphrase).status == 2)
        let after = try reads(cli)
        #expect(Array(after.dropFirst(before.count)) == ["plain", "old"], "\(after)")
        // The front end's read, named as the Swift command line names it.
        let log = cli.vault(["log"]).out
        #expect(log.contains("vault get"), "\(log)")
    }

    @Test func aClosedStdoutIsTheSameErrorAsInTheSwiftCommandNeverASilentSuccess() throws {
        let cli = try fixture()
        // `exec >&-`: the program starts with no standard output at all.
        func closed(_ program: String, _ arguments: [String]) -> RunResult {
            run("/bin/sh", ["-c", "exec \"$@\" >&-", "sh", program] + arguments, cli, env: noPassphrase)
        }
        for arguments in [["get", "plain"], ["get", "soon"], ["get", "nope"]] {
            let front = closed(Binary.path("vault"), arguments)
            let swift = closed(Self.swiftCLI, arguments)
            #expect(front.status == swift.status, "\(arguments): \(front.status) against \(swift.status)")
            #expect(front.err == swift.err, "\(arguments): \(front.err.debugDescription) against \(swift.err.debugDescription)")
        }
        let plain = closed(Binary.path("vault"), ["get", "plain"])
        #expect(plain.status == 1)
        #expect(plain.err == "vault: error: cannot write to standard output: Bad file descriptor\n", "\(plain.err)")
    }

    /// A user and mount namespace can be made here (`unshare -rm`): then /dev can be hidden.
    static let canHideDev = VaultCLITests.run(["/usr/bin/unshare", "-rm", "/bin/sh", "-c", "mount -t tmpfs none /dev"],
                                              environment: ["PATH": "/usr/bin:/bin"]).status == 0

    @Test(.enabled(if: canHideDev)) func withoutDevNullAClosedStdoutIsStillAnErrorNeverASilentSuccess() throws {
        let cli = try fixture()
        // No /dev/null to fill the closed stdout with.
        func hidden(_ program: String) -> RunResult {
            run("/usr/bin/unshare", ["-rm", "/bin/sh", "-c", "mount -t tmpfs none /dev && exec \"$0\" get plain >&-", program],
                cli, env: noPassphrase)
        }
        let front = hidden(Binary.path("vault")), swift = hidden(Self.swiftCLI)
        #expect(front.status != 0 && !front.err.isEmpty, "\(front.status) \(front.err)")
        #expect(front.status == swift.status, "\(front.status) against \(swift.status)")
        #expect(front.err == swift.err, "\(front.err.debugDescription) against \(swift.err.debugDescription)")
    }

    @Test func anAgentThatDiesMidAnswerHasTheReadRecordedOnceAndNothingPrinted() throws {
        let cli = try fixture()
        let before = try reads(cli)
        let socket = AgentProtocol.socketPath(forVault: cli.vaultPath, environment: cli.environment)
        let real = socket + ".real"
        // Between the front end and the real agent: the first answer is cut in half (the agent
        // recorded the read, then died mid-frame); later connections are passed on whole.
        let proxy = BackgroundProcess(["/usr/bin/python3", "-c", """
            import os, socket, struct, threading
            path, real = "\(socket)", "\(real)"
            os.rename(path, real)
            s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(8); print("ready", flush=True)
            def relay(a, b):
                try:
                    while True:
                        d = a.recv(65536)
                        if not d: break
                        b.sendall(d)
                except OSError: pass
                for x in (a, b):
                    try: x.shutdown(socket.SHUT_RDWR)
                    except OSError: pass
            first = True
            while True:
                c, _ = s.accept()
                u = socket.socket(socket.AF_UNIX); u.connect(real)
                if first:
                    first = False
                    n = struct.unpack("<I", c.recv(4, socket.MSG_WAITALL))[0]
                    u.sendall(struct.pack("<I", n) + c.recv(n, socket.MSG_WAITALL))
                    m = struct.unpack("<I", u.recv(4, socket.MSG_WAITALL))[0]
                    body = u.recv(m, socket.MSG_WAITALL)
                    c.sendall(struct.pack("<I", m) + body[:m // 2])
                    c.close(); u.close()
                    continue
                threading.Thread(target=relay, args=(c, u), daemon=True).start()
                threading.Thread(target=relay, args=(u, c), daemon=True).start()
            """], environment: ["PATH": "/usr/bin:/bin"])
        #expect(proxy.firstLine == "ready")
        // With a passphrase in the environment: a second read would succeed.
        let r = run(Binary.path("vault"), ["get", "plain"], cli)
        #expect(rename(real, socket) == 0)  // The real agent back in its place.
        #expect(r.status == 3, "\(r.err)")
        #expect(r.out.isEmpty)
        #expect(r.err == "vault: error: the vault is locked\n", "\(r.err)")
        #expect(Array(try reads(cli).dropFirst(before.count)) == ["plain"])
    }

    @Test func theTokenGoesToStdoutOnlyNeverToAFileOrAnotherProgram() throws {
        let cli = try fixture()
        let lone = loneFrontEnd(cli)
        let r = run(lone, ["get", "plain"], cli, env: noPassphrase)
        #expect(r.out == "glpat-FrontEndPlain000000\n")
        #expect(!r.err.contains("glpat-FrontEndPlain"))
        for (path, bytes) in cli.files() {
            #expect(!bytes.contains(bytes: "glpat-FrontEndPlain000000"), "\(path)")
        }
    }
}
