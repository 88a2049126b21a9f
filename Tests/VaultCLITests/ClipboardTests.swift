import Foundation
import Testing
@testable import TokenVault

/// `vault get --clip` for real: an X server of the test's own (Xvfb), xclip, the built binaries.
@Suite struct ClipboardTests {
    /// A vault with one token, an X server, and `vault` under a name of this test's own (a link
    /// in its home), so that its clearer (`NAME --clipboard-clearer`) can be told from the
    /// clearers of tests running meanwhile.
    final class Desk {
        let cli = CLI()
        let x: XServer
        let vault: String
        let token = "glpat-Clip" + String(UInt64.random(in: 1_000_000_000_000...9_999_999_999_999))

        init() throws {
            cli.add("gl", token: token)
            x = try XServer()
            cli.environment["DISPLAY"] = x.display
            vault = cli.home + "/vault"
            #expect(symlink(Binary.path("vault"), vault) == 0)
        }

        func get(_ arguments: [String], env: [String: String?] = [:]) -> RunResult {
            var environment = cli.environment
            for (key, value) in env { environment[key] = value }
            return run([vault, "get"] + arguments, environment: environment, timeout: 30)
        }

        /// What the clipboard holds, as xclip reads it; nil when nothing serves it.
        func clipboard() -> String? {
            let r = run(["/usr/bin/xclip", "-out", "-selection", "clipboard"], environment: ["DISPLAY": x.display], timeout: 10)
            return r.status == 0 ? r.out : nil
        }

        /// Copies `text` as another program would (xclip stays in the background to serve it).
        func copy(_ text: String) {
            let r = run(["/bin/sh", "-c", "xclip -selection clipboard -in >/dev/null 2>&1"],
                        environment: ["DISPLAY": x.display, "PATH": "/usr/bin:/bin"], stdin: .data(text), timeout: 10)
            #expect(r.status == 0)
        }

        /// The clearer this desk's `vault` left, if it runs (looked for during `seconds`).
        func clearer(within seconds: Double = 0) -> pid_t? {
            let wanted = Array((vault + "\0--clipboard-clearer\0").utf8)
            var found: pid_t?
            _ = eventually(within: seconds) {
                found = Processes.all().first { $0.cmdline == wanted }?.pid
                return found != nil
            }
            return found
        }

        /// Polls until `condition` holds, for at most `seconds`.
        func eventually(within seconds: Double = 20, _ condition: () -> Bool) -> Bool {
            let start = Date()
            while Date().timeIntervalSince(start) < seconds {
                if condition() { return true }
                usleep(100_000)
            }
            return condition()
        }

        /// A PATH whose `xclip` hands its input, through `transform`, to the real xclip in the
        /// background once `vault` has read the clipboard and `delay` seconds more, and exits at
        /// once: xclip 0.13 itself exits before the
        /// X server has its request to take the clipboard (its copy left in the background sends
        /// it), only sooner. `-out` is the real xclip's.
        func lateXclip(delay: String, transform: String = "cat") throws -> [String: String?] {
            // Late after `vault` has read the clipboard once (the marker the reading xclip
            // leaves), not after a fixed time: on a loaded machine a fixed time could fall
            // after vault's whole wait, and the test would say nothing about the wait.
            try xclip("""
                input=$(\(transform); echo .)
                ( while [ ! -e '\(readMarker)' ]; do sleep 0.05; done; sleep \(delay)
                  printf %s "${input%.}" | /usr/bin/xclip "$@" ) </dev/null >/dev/null 2>&1 &
                exit 0
                """)
        }

        /// Left by the first `xclip -out` that the PATH of ``xclip(_:)`` runs.
        var readMarker: String { cli.home + "/clipboard-read" }

        /// A PATH whose `xclip` copies by running `body` (a shell script's), and reads as the
        /// real xclip.
        func xclip(_ body: String) throws -> [String: String?] {
            let bin = cli.home + "/fake-bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            _ = cli.script("fake-bin/xclip", """
                #!/bin/sh
                case " $* " in *" -out "*) : > '\(readMarker)'; exec /usr/bin/xclip "$@" ;; esac
                \(body)

                """)
            return ["PATH": bin + ":/usr/bin:/bin"]
        }

        func reads() throws -> [[String: Any]] {
            let r = cli.vault(["log", "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any])
            return (object["events"] as? [[String: Any]] ?? []).filter { $0["action"] as? String == "read" }
        }
    }

    @Test func theTokenGoesToTheClipboardAndNothingToStdout() throws {
        let desk = try Desk()
        let r = desk.get(["gl", "--clip", "--clear-after", "never"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.stdout.isEmpty)
        #expect(r.err.isEmpty, "not at a terminal, nothing is said: \(r.err)")
        #expect(desk.clipboard() == desk.token)
        #expect(desk.clearer() == nil, "never: no clearer")
        let reads = try desk.reads()
        #expect(reads.count == 1 && reads.first?["actor"] as? String == "vault get", "\(reads)")
    }

    @Test func theClipboardIsClearedAfterTheDelayWhenItStillHoldsTheToken() throws {
        let desk = try Desk()
        let start = Date()
        let r = desk.get(["gl", "--clip", "--clear-after", "2s"])
        #expect(r.status == 0 && r.stdout.isEmpty, "\(r.err)")
        #expect(desk.clipboard() == desk.token)
        let clearer = try #require(desk.clearer(within: 0.5), "no clearer runs")
        #expect(desk.eventually { !Processes.isRunning(clearer) }, "the clearer did not end")
        #expect(Date().timeIntervalSince(start) >= 1.9, "cleared before its time")
        // The clearer waits until the clipboard no longer holds the token before it ends.
        #expect(desk.clipboard() == "", "still \(desk.clipboard() ?? "nothing")")
    }

    @Test func theClipboardIsLeftAloneWhenItChangedMeanwhile() throws {
        let desk = try Desk()
        let start = Date()
        let r = desk.get(["gl", "--clip", "--clear-after", "4s"])
        #expect(r.status == 0, "\(r.err)")
        let clearer = try #require(desk.clearer(within: 1), "no clearer runs")
        desk.copy("something else")
        // Only a copy made before the clearer looks tests anything.
        #expect(Date().timeIntervalSince(start) < 3.5, "copied too late to test anything")
        #expect(desk.clipboard() == "something else")
        #expect(desk.eventually { !Processes.isRunning(clearer) }, "the clearer did not end")
        #expect(Date().timeIntervalSince(start) >= 3.9, "the clearer ended before its time")
        #expect(desk.clipboard() == "something else")
    }

    /// xclip 0.13 exits before the X server has taken its request for the clipboard: `vault`
    /// waits until the clipboard holds the token before it ends, and the clearer until it no
    /// longer does.
    @Test func aClipboardTakenLateIsWaitedForByTheCopyAndByTheClearer() throws {
        let desk = try Desk()
        let late = try desk.lateXclip(delay: "0.3")
        let r = desk.get(["gl", "--clip", "--clear-after", "1s"], env: late)
        #expect(r.status == 0 && r.stdout.isEmpty && r.err.isEmpty, "\(r.err)")
        #expect(desk.clipboard() == desk.token, "vault ended before the clipboard held the token")
        let clearer = try #require(desk.clearer(within: 0.5), "no clearer runs")
        #expect(desk.eventually { !Processes.isRunning(clearer) }, "the clearer did not end")
        #expect(desk.clipboard() == "", "the clearer ended before the clipboard was cleared")
    }

    @Test func aClipboardThatDoesNotHoldWhatWasCopiedIsAWarning() throws {
        let desk = try Desk()
        let changing = try desk.lateXclip(delay: "0", transform: "cat; echo")
        let r = desk.get(["gl", "--clip", "--clear-after", "never"], env: changing)
        #expect(r.status == 0 && r.stdout.isEmpty, "\(r.err)")
        #expect(r.err == "vault: warning: the clipboard does not read back as what was copied (xclip)\n", "\(r.err)")
        #expect(desk.clipboard() == desk.token + "\n")
    }

    /// A parent that ignores SIGCHLD (its children are then reaped by the kernel, and waitpid
    /// fails) must not make a copy that worked look failed, leaving the token with no clearer.
    @Test func aParentIgnoringItsChildrenDoesNotMakeTheCopyFail() throws {
        let desk = try Desk()
        let ignoring = ["/usr/bin/perl", "-e", "$SIG{CHLD} = 'IGNORE'; exec @ARGV or exit 127"]
        let r = run(ignoring + [desk.vault, "get", "gl", "--clip", "--clear-after", "1s"], environment: desk.cli.environment, timeout: 30)
        #expect(r.status == 0 && r.err.isEmpty, "\(r.err)")
        #expect(desk.clipboard() == desk.token)
        let clearer = try #require(desk.clearer(within: 0.5), "no clearer runs")
        #expect(desk.eventually { !Processes.isRunning(clearer) }, "the clearer did not end")
        #expect(desk.clipboard() == "")
    }

    /// Neither xclip nor the clearer gets the token in its arguments, the clearer runs in a
    /// session of its own, and (where this test may read other processes' memory, as root) the
    /// clearer's memory never holds the token.
    @Test func noProcessHoldsTheTokenInItsCommandLineAndTheClearerHoldsNoToken() throws {
        let desk = try Desk()
        let r = desk.get(["gl", "--clip", "--clear-after", "4s"])
        #expect(r.status == 0, "\(r.err)")
        let clearer = try #require(desk.clearer(within: 0.9), "no clearer runs")
        let processes = Processes.all()
        #expect(processes.contains { $0.cmdline == Array("xclip\0-selection\0clipboard\0-in\0".utf8) }, "no xclip serves the clipboard")
        for process in processes {
            #expect(!process.cmdline.contains(bytes: desk.token), "process \(process.pid) has the token in its arguments")
        }
        #expect(Processes.session(of: clearer) == clearer, "the clearer is not in a session of its own")
        // Nothing of vault's but stdin, stdout and stderr: not the vault file, not a pipe. (Once
        // it has started: setting itself up, it opens /dev/null for a moment before moving it
        // to stdin.)
        func descriptors() -> Set<String>? { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(clearer)/fd")).map(Set.init) }
        if descriptors() != nil {
            #expect(desk.eventually { descriptors() == ["0", "1", "2"] }, "\(descriptors() ?? [])")
        }
        if let (read, found) = Processes.search(memoryOf: clearer, for: desk.token) {
            #expect(read > 0)
            #expect(!found, "the clearer holds the token")
        }
        #expect(desk.eventually { desk.clipboard() == "" })
    }

    @Test func throughTheAgentTheTokenIsCopiedNotPrinted() throws {
        let desk = try Desk()
        #expect(desk.cli.vault(["unlock"]).status == 0)
        // The C front end answers `vault get NAME` through the agent by itself; --clip must
        // reach the Swift command line, which goes through the agent too.
        let r = desk.get(["gl", "--clip", "--clear-after", "never"], env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.stdout.isEmpty)
        #expect(desk.clipboard() == desk.token)
        #expect(try desk.reads().count == 1)
    }

    @Test func withoutAClipboardItSaysSoAndReadsNothing() throws {
        let desk = try Desk()
        let noDisplay = desk.get(["gl", "--clip"], env: ["DISPLAY": nil, "WAYLAND_DISPLAY": nil])
        #expect(noDisplay.status == 1)
        #expect(noDisplay.stdout.isEmpty)
        #expect(noDisplay.err.contains("vault: error: there is no clipboard: neither WAYLAND_DISPLAY nor DISPLAY is set"), "\(noDisplay.err)")
        #expect(noDisplay.err.contains("vault: hint: "))

        let empty = desk.cli.home + "/empty-bin"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let noProgram = desk.get(["gl", "--clip"], env: ["PATH": empty])
        #expect(noProgram.status == 1)
        #expect(noProgram.stdout.isEmpty)
        #expect(noProgram.err.contains("vault: error: no clipboard program on PATH: --clip needs xclip or xsel"), "\(noProgram.err)")
        #expect(try desk.reads().isEmpty, "a read was recorded without a clipboard")
        #expect(desk.clipboard() == nil)
    }

    @Test func anExpiredOrTrashedTokenIsRefusedAsGetRefusesIt() throws {
        let desk = try Desk()
        desk.cli.add("old", token: "glpat-ClipOld00000000000", ["--expires", "2001-01-01"])
        let expired = desk.get(["old", "--clip"])
        #expect(expired.status == 4, "\(expired.err)")
        #expect(desk.get(["old", "--clip", "--allow-expired", "--clear-after", "never"]).status == 0)
        #expect(desk.clipboard() == "glpat-ClipOld00000000000")
        #expect(desk.cli.vault(["rm", "gl", "--yes"]).status == 0)
        let trashed = desk.get(["gl", "--clip"])
        #expect(trashed.status == 2, "\(trashed.err)")
        #expect(desk.clipboard() == "glpat-ClipOld00000000000")
        #expect(try desk.reads().count == 1, "only the allowed read is recorded")
    }

    @Test func aClipboardProgramThatFailsIsAnError() throws {
        let desk = try Desk()
        // A display with no server: xclip cannot open it.
        let r = desk.get(["gl", "--clip"], env: ["DISPLAY": desk.x.display + "9"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.err.contains("vault: error: xclip could not copy to the clipboard: it failed (exit status 1)"), "\(r.err)")
        #expect(!r.err.contains(desk.token))
        // A program that repeats what it read in its message: not shown, not even in part.
        for body in ["echo \"xclip: cannot take $(cat)\" >&2; exit 1", "echo \"xclip: cannot take x$(cat)x\" >&2; exit 1",
                     "echo \"xclip: cannot take $(cut -c 1-16)\" >&2; exit 1"] {
            let repeating = desk.get(["gl", "--clip"], env: try desk.xclip(body))
            #expect(repeating.status == 1 && repeating.stdout.isEmpty)
            #expect(repeating.err.hasPrefix("vault: error: xclip could not copy to the clipboard: it failed (exit status 1)"), "\(repeating.err)")
            #expect(!repeating.err.contains(desk.token) && !repeating.err.contains(String(desk.token.prefix(16))), "\(repeating.err)")
        }
        // Its message otherwise, as it said it.
        let said = desk.get(["gl", "--clip"], env: try desk.xclip("echo 'Error: Can'\\''t open display: :0' >&2; exit 1"))
        #expect(said.err.contains("it failed (exit status 1): Error: Can't open display: :0\n"), "\(said.err)")
    }

    @Test func clipRefusesJSONAndClearAfterNeedsClip() throws {
        let desk = try Desk()
        let json = desk.get(["gl", "--clip", "--json"])
        #expect(json.status == 64 && json.stdout.isEmpty)
        #expect(json.err.contains("--clip and --json exclude each other"))
        let alone = desk.get(["gl", "--clear-after", "1m"])
        #expect(alone.status == 64 && alone.stdout.isEmpty)
        #expect(alone.err.contains("--clear-after goes with --clip"))
        let bad = desk.get(["gl", "--clip", "--clear-after", "soon"])
        #expect(bad.status == 64)
        #expect(try desk.reads().isEmpty)
    }

    /// The clearer's instructions come from a pipe: a delay no `--clear-after` gives (it would
    /// overflow the clock's deadline, and the clearer never end) is refused at once.
    @Test func theClearerRefusesInstructionsNoCopyWrites() throws {
        let desk = try Desk()
        func instructions(seconds: UInt64) -> [UInt8] {
            Array("TVCLIP1\n".utf8) + [2] + withUnsafeBytes(of: seconds.littleEndian) { Array($0) }
                + withUnsafeBytes(of: UInt32(5).littleEndian) { Array($0) } + [UInt8](repeating: 7, count: 64)
        }
        for seconds: UInt64 in [UInt64(Int64.max), 36_500 * 86_400 + 1] {
            let r = run([Binary.path("tokenvault-cli"), "--clipboard-clearer"], environment: desk.cli.environment,
                        stdin: .bytes(instructions(seconds: seconds)), timeout: 10)
            #expect(r.status == 64 && r.stdout.isEmpty && r.err.isEmpty, "\(seconds): \(r.status) \(r.err)")
        }
        // Well formed, they are taken: the clipboard, which does not hold what they describe, is left alone.
        desk.copy("kept")
        let r = run([Binary.path("tokenvault-cli"), "--clipboard-clearer"], environment: desk.cli.environment,
                    stdin: .bytes(instructions(seconds: 0)), timeout: 30)
        #expect(r.status == 0, "\(r.err)")
        #expect(desk.clipboard() == "kept")
    }

    @Test func aFieldIsCopiedWithClip() throws {
        let desk = try Desk()
        let r = desk.get(["gl", "--field", "kind", "--clip", "--clear-after", "0"])
        #expect(r.status == 0 && r.stdout.isEmpty, "\(r.err)")
        #expect(desk.clipboard() == "gitlab")
        #expect(desk.clearer() == nil, "0: no clearer")
    }

    @Test func atATerminalItSaysWhatWasCopiedAndWhenItIsCleared() throws {
        let desk = try Desk()
        let terminal = PTYProcess([desk.vault, "get", "gl", "--clip", "--clear-after", "2m"], environment: desk.cli.environment)
        #expect(terminal.wait() == 0)
        #expect(terminal.text.contains("vault: copied gl's token to the clipboard (xclip): cleared in 2m if it still holds it"), "\(terminal.text)")
        #expect(!terminal.text.contains(desk.token))
        #expect(desk.clipboard() == desk.token)
        if let clearer = desk.clearer() { kill(clearer, SIGKILL) }
    }
}

/// An X server of a test's own: Xvfb on a display number it finds free (`-displayfd`, which it
/// writes when it is ready). Stopped (TERM: it removes its lock file and socket) when the object
/// goes away, and with it every xclip that served its clipboard.
final class XServer {
    let server: BackgroundProcess
    let display: String

    init() throws {
        server = BackgroundProcess(["/usr/bin/Xvfb", "-displayfd", "1", "-nolisten", "tcp", "-screen", "0", "320x200x8"],
                                   environment: ["PATH": "/usr/bin:/bin"], stopSignal: SIGTERM)
        guard !server.firstLine.isEmpty else { throw XServerError.didNotStart }
        display = ":" + server.firstLine
    }

    enum XServerError: Error { case didNotStart }
}

/// Other processes, as /proc shows them.
enum Processes {
    static func all() -> [(pid: pid_t, cmdline: [UInt8])] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name in
            guard let pid = pid_t(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
            return (pid, [UInt8](data))
        }
    }

    /// Running: there, and not a zombie.
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = stat(of: pid) else { return false }
        return stat.first != "Z"
    }

    static func session(of pid: pid_t) -> pid_t? {
        guard let fields = stat(of: pid)?.split(separator: " "), fields.count > 3 else { return nil }
        return pid_t(fields[3])
    }

    /// The fields of /proc/PID/stat after the name: state, ppid, pgrp, session, ...
    private static func stat(of pid: pid_t) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        return String(text[text.index(close, offsetBy: 2)...])
    }

    /// Searches every readable byte of the process's memory for `text`: how many bytes were
    /// read, and whether it was found; nil when this process may not read it (it is not root, or
    /// lacks CAP_SYS_PTRACE for a process that is not dumpable).
    static func search(memoryOf pid: pid_t, for text: String) -> (read: Int, found: Bool)? {
        guard let maps = try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8) else { return nil }
        let fd = open("/proc/\(pid)/mem", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let needle = Data(text.utf8)
        var read = 0
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, fields[1].hasPrefix("r"), !line.hasSuffix("[vvar]") else { continue }
            let range = fields[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
            guard range.count == 2, range[1] > range[0], range[1] - range[0] < 1 << 30 else { continue }
            var chunk = Data(count: Int(range[1] - range[0]))
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(Int64(bitPattern: range[0]))) }
            guard n > 0 else { continue }
            read += n
            if chunk.prefix(n).range(of: needle) != nil { return (read, true) }
        }
        return (read, false)
    }
}
