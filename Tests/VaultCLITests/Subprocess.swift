import CTestSupport
import Foundation

/// Runs the real built binaries as subprocesses, in a new session (so with no controlling
/// terminal unless a test gives it a pseudo-terminal).
struct RunResult {
    var status: Int32
    var stdout: [UInt8]
    var stderr: [UInt8]
    var timedOut: Bool
    var seconds: Double

    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
}

enum Stdin {
    case data(String)
    /// Bytes that need not be UTF-8.
    case bytes([UInt8])
    /// The data, with the pipe left open until the process ends (as a caller that never closes).
    case dataKeepOpen(String)
    case devNull
    case closed
}

enum Binary {
    /// The folder that holds the test bundle also holds the built executables.
    static let folder: String = {
        if let dir = ProcessInfo.processInfo.environment["TOKENVAULT_BIN_DIR"] { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }()

    static func path(_ name: String) -> String { folder + "/" + name }
}

/// The sanitizers' settings of a run under scripts/sanitize.sh (where to write a report, and to
/// stop at the first): every program a test starts gets them, whatever environment the test
/// gives it, so that a report in a spawned binary fails the run even when the test ignores its
/// status. Empty in a normal run.
let sanitizerOptions: [String: String] = ProcessInfo.processInfo.environment.filter {
    ["ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS"].contains($0.key)
}

func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
    strings.map { strdup($0) } + [nil]
}

/// Environment entries (`NAME=value`) as C strings whose values may be any bytes: `raw`
/// replaces a variable of `environment` or adds one.
func cEnvironment(_ environment: [String: String], raw: [String: [UInt8]]) -> [UnsafeMutablePointer<CChar>?] {
    let environment = environment.merging(sanitizerOptions) { given, _ in given }
    let entries = environment.filter { raw[$0.key] == nil }.map { Array("\($0.key)=\($0.value)".utf8) }
        + raw.map { Array("\($0.key)=".utf8) + $0.value }
    return entries.map { bytes in
        let copy = malloc(bytes.count + 1)!
        bytes.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        copy.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
        return copy.assumingMemoryBound(to: CChar.self)
    } + [nil]
}

/// Starts `arguments` (found on PATH when not a path) in a new session with a clean signal
/// mask, exactly `environment`, and the given file actions.
func spawn(_ arguments: [String], environment: [String: String], rawEnvironment: [String: [UInt8]] = [:],
           actions: inout posix_spawn_file_actions_t) -> pid_t {
    var attributes = posix_spawnattr_t()
    tv_spawnattr_init_clean(&attributes, 1)
    defer { posix_spawnattr_destroy(&attributes) }
    let argv = cStrings(arguments)
    let envp = cEnvironment(environment, raw: rawEnvironment)
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
    precondition(rc == 0, "cannot start \(arguments[0]): \(rc)")
    return pid
}

/// Spawns `arguments` with exactly `environment` (and `rawEnvironment`, whose values need not be
/// UTF-8), optional stdin, extra fds (child fd -> data readable from it), and a watchdog that
/// kills the process after `timeout` seconds.
func run(_ arguments: [String], environment: [String: String], rawEnvironment: [String: [UInt8]] = [:], stdin: Stdin = .devNull,
         extraFDs: [Int32: String] = [:], timeout: Double = 60, stdoutPath: String? = nil) -> RunResult {
    var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0], inPipe: [Int32] = [0, 0]
    tvt_pipe_cloexec(&outPipe); tvt_pipe_cloexec(&errPipe); tvt_pipe_cloexec(&inPipe)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    switch stdin {
    case .data, .dataKeepOpen, .bytes: posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
    case .devNull: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    case .closed: posix_spawn_file_actions_addclose(&actions, 0)
    }
    if let stdoutPath {
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY, 0)
    } else {
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    }
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    var extraPipes: [(Int32, [Int32], String)] = []
    for (fd, data) in extraFDs {
        var p: [Int32] = [0, 0]
        tvt_pipe_cloexec(&p)
        posix_spawn_file_actions_adddup2(&actions, p[0], fd)
        extraPipes.append((fd, p, data))
    }
    let start = Date()
    let pid = spawn(arguments, environment: environment, rawEnvironment: rawEnvironment, actions: &actions)
    close(outPipe[1]); close(errPipe[1]); close(inPipe[0])
    for (_, p, data) in extraPipes {
        close(p[0])
        _ = data.utf8CString.withUnsafeBufferPointer { write(p[1], $0.baseAddress, $0.count - 1) }
        close(p[1])
    }
    var keepOpen = false
    switch stdin {
    case .data(let text), .dataKeepOpen(let text):
        _ = Array(text.utf8).withUnsafeBytes { write(inPipe[1], $0.baseAddress, $0.count) }
        if case .dataKeepOpen = stdin { keepOpen = true }
    case .bytes(let bytes):
        _ = bytes.withUnsafeBytes { write(inPipe[1], $0.baseAddress, $0.count) }
    default: break
    }
    if !keepOpen { close(inPipe[1]) }
    defer { if keepOpen { close(inPipe[1]) } }

    var stdout: [UInt8] = [], stderr: [UInt8] = []
    var open = [outPipe[0], errPipe[0]]
    var timedOut = false
    while !open.isEmpty {
        var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let remaining = timeout - Date().timeIntervalSince(start)
        if remaining <= 0 {
            timedOut = true
            kill(pid, SIGKILL)
            break
        }
        _ = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 0.2) * 1000))
        for f in fds where f.revents != 0 {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = read(f.fd, &buffer, buffer.count)
            if n <= 0 {
                open.removeAll { $0 == f.fd }
            } else if f.fd == outPipe[0] {
                stdout += buffer[0..<n]
            } else {
                stderr += buffer[0..<n]
            }
        }
    }
    close(outPipe[0]); close(errPipe[0])
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let seconds = Date().timeIntervalSince(start)
    let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return RunResult(status: exitStatus, stdout: stdout, stderr: stderr, timedOut: timedOut, seconds: seconds)
}

/// A program on a pseudo-terminal: its stdin, stdout and stderr are the terminal, which is its
/// controlling terminal, as when a person runs it.
final class PTYProcess {
    let master: Int32
    let pid: pid_t
    private(set) var transcript: [UInt8] = []

    init(_ arguments: [String], environment: [String: String]) {
        var name = [CChar](repeating: 0, count: 256)
        master = tv_open_pty(&name, name.count)
        precondition(master >= 0, "no pseudo-terminal")
        let slave = String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Opened after setsid(), the terminal becomes the child's controlling terminal.
        posix_spawn_file_actions_addopen(&actions, 0, slave, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        posix_spawn_file_actions_addclose(&actions, master)
        pid = spawn(arguments, environment: environment, actions: &actions)
    }

    /// Reads until the transcript contains `text` (or `timeout` passes). Returns whether it did.
    @discardableResult
    func expect(_ text: String, timeout: Double = 20) -> Bool {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if String(decoding: transcript, as: UTF8.self).contains(text) { return true }
            if readSome(waiting: 100) < 0 { break }
        }
        return String(decoding: transcript, as: UTF8.self).contains(text)
    }

    func send(_ text: String) {
        send(bytes: Array(text.utf8))
    }

    /// Types bytes that need not be UTF-8.
    func send(bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Waits for the exit status, reading the rest of the output.
    func wait() -> Int32 {
        while readSome(waiting: 2000) > 0 {}
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(master)
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    var text: String { String(decoding: transcript, as: UTF8.self) }

    /// Instead of ``wait()``: reads until the program ends, typing the next of `answers` (and a
    /// newline) each time `prompt` shows up once more; kills it (returning nil) when it has not
    /// ended after `timeout` seconds, as when it waits for an answer that is not in `answers`.
    func drive(answering prompt: String, with answers: [String], timeout: Double = 60) -> Int32? {
        let start = Date()
        var answered = 0
        var status: Int32 = 0
        var ended = false
        while !ended && Date().timeIntervalSince(start) < timeout {
            _ = readSome(waiting: 100)
            let shown = count(prompt)
            while answered < min(shown, answers.count) {
                send(answers[answered] + "\n")
                answered += 1
            }
            ended = waitpid(pid, &status, WNOHANG) == pid
        }
        if !ended {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        while readSome(waiting: 100) > 0 {}  // What is left to read.
        close(master)
        guard ended else { return nil }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Reads what the terminal shows within `milliseconds` into the transcript: the number of
    /// bytes, 0 when nothing came, -1 at the end (the program and its children closed it).
    private func readSome(waiting milliseconds: Int32) -> Int {
        var fd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&fd, 1, milliseconds) > 0 else { return 0 }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(master, &buffer, buffer.count)
        guard n > 0 else { return -1 }
        transcript += buffer[0..<n]
        return n
    }

    /// How many times `text` shows on the terminal.
    func count(_ text: String) -> Int { self.text.components(separatedBy: text).count - 1 }
}

/// A long-running child (a test server): its first line of output is read, and it is killed
/// when the object goes away (with `stopSignal`, then after 5 seconds with SIGKILL).
final class BackgroundProcess: @unchecked Sendable {
    let pid: pid_t
    let firstLine: String
    let stopSignal: Int32

    init(_ arguments: [String], environment: [String: String], stopSignal: Int32 = SIGKILL) {
        self.stopSignal = stopSignal
        var out: [Int32] = [0, 0]
        tvt_pipe_cloexec(&out)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        pid = spawn(arguments, environment: environment, actions: &actions)
        close(out[1])
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(out[0], &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
        close(out[0])
        firstLine = String(decoding: line, as: UTF8.self)
    }

    deinit {
        kill(pid, stopSignal)
        var status: Int32 = 0
        var waited = 0
        while stopSignal != SIGKILL && waitpid(pid, &status, WNOHANG) == 0 {
            if waited == 100 { kill(pid, SIGKILL); break }
            usleep(50_000)
            waited += 1
        }
        waitpid(pid, &status, 0)
    }
}
