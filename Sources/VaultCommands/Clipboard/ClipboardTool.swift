import CExec
import Glibc
import TokenVault
import VaultCLICommon

/// The graphical session's clipboard (the CLIPBOARD selection, what Ctrl+V pastes, as `pass -c`
/// uses), through the program that serves it: `wl-copy` and `wl-paste` under Wayland
/// (`WAYLAND_DISPLAY` set), else `xclip` or `xsel` under X11 (`DISPLAY` set), found on `PATH`.
///
/// What goes in is written to the program's stdin through a pipe, never in its arguments or a
/// file; what comes back (``read(atMost:)``) lands in secure memory.
struct ClipboardTool {
    /// Which program serves the clipboard. The raw value travels to the clearer.
    enum Kind: UInt8, CaseIterable {
        case wayland = 1, xclip = 2, xsel = 3

        /// The programs, in the order of ``locate(environment:)``'s preference for each display.
        var programs: (copy: String, paste: String) {
            switch self {
            case .wayland: ("wl-copy", "wl-paste")
            case .xclip: ("xclip", "xclip")
            case .xsel: ("xsel", "xsel")
            }
        }
    }

    let kind: Kind
    /// The full paths of the programs that copy and paste (one program for X11's).
    let copyPath: String
    let pastePath: String

    /// The program's name as messages say it.
    var name: String { kind.programs.copy }

    /// How long the program gets to take or hand over the clipboard before it counts as hung.
    static let patience: Int32 = 10_000

    /// The clipboard of this session: Wayland's when `WAYLAND_DISPLAY` is set and `wl-copy` is
    /// on `PATH`, else X11's when `DISPLAY` is set, through `xclip` or else `xsel`.
    static func locate(environment: [String: String]) throws(CLIError) -> ClipboardTool {
        let wayland = !(environment["WAYLAND_DISPLAY"] ?? "").isEmpty
        let x11 = !(environment["DISPLAY"] ?? "").isEmpty
        let candidates = (wayland ? [Kind.wayland] : []) + (x11 ? [Kind.xclip, .xsel] : [])
        if candidates.isEmpty {
            throw .failed("there is no clipboard: neither WAYLAND_DISPLAY nor DISPLAY is set",
                          hint: "--clip needs a graphical session; elsewhere use TOKEN=$(\(ProgramName.current) get NAME) or \(ProgramName.current) exec")
        }
        for kind in candidates {
            if let tool = locate(kind, environment: environment) { return tool }
        }
        let wanted = candidates.map { $0 == .wayland ? "wl-copy and wl-paste" : $0.programs.copy }.joined(separator: " or ")
        throw .failed("no clipboard program on PATH: --clip needs \(wanted)",
                      hint: "install \(wayland ? "wl-clipboard" : "xclip or xsel") (Debian: apt install \(wayland ? "wl-clipboard" : "xclip"))")
    }

    /// The programs of `kind` on `PATH`, or nil when one is missing.
    static func locate(_ kind: Kind, environment: [String: String]) -> ClipboardTool? {
        let folders = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
            .filter { $0.hasPrefix("/") }  // Never a program of the current folder.
        func find(_ program: String) -> String? {
            folders.lazy.map { $0 + "/" + program }.first { tv_exec_check($0) == 0 }
        }
        guard let copy = find(kind.programs.copy), let paste = find(kind.programs.paste) else { return nil }
        return ClipboardTool(kind: kind, copyPath: copy, pastePath: paste)
    }

    // MARK: Copying, reading back, clearing

    /// Puts `secret` on the clipboard: the program reads it from a pipe, takes the clipboard and
    /// stays in the background to serve it (as xclip, xsel and wl-copy do), in a session of its
    /// own, so that closing the terminal does not take the clipboard away.
    func copy(_ secret: Secret) throws(CLIError) {
        let arguments: [String] = switch kind {
        case .wayland: ["wl-copy"]
        case .xclip: ["xclip", "-selection", "clipboard", "-in"]
        case .xsel: ["xsel", "--clipboard", "--input"]
        }
        var pipe: [Int32] = [-1, -1]
        guard tv_pipe(&pipe) == 0 else { throw Self.systemFailure("cannot make a pipe") }
        var writeEnd = pipe[1]
        defer { if writeEnd >= 0 { close(writeEnd) } }
        // Its stderr goes to a file in memory: the part of it left in the background may write
        // there later without being killed by SIGPIPE, and it keeps no descriptor of ours open
        // (a caller reading our stdout or stderr to the end would wait for it).
        let errors = tv_memory_file("vault-clipboard-errors")
        defer { if errors >= 0 { close(errors) } }
        let pid = try start(copyPath, arguments, stdin: pipe[0], stdout: nil, stderr: errors >= 0 ? errors : nil, newSession: true)
        close(pipe[0])
        // A program that does not read (it failed first) makes this write fail with EPIPE, not
        // end this process: its exit status then says why.
        signal(SIGPIPE, SIG_IGN)
        _ = secret.withUnsafeBytes { Self.writeAll(writeEnd, $0) }
        close(writeEnd)
        writeEnd = -1
        let status = tv_wait_within(pid, Self.patience)
        guard status == 0 else {
            let said = errors >= 0 ? Self.firstLine(of: errors, hiding: secret) : ""
            let why = status < 0 ? "did not finish within \(Self.patience / 1000) seconds" : "failed (exit status \(status))"
            throw .failed("\(name) could not copy to the clipboard: it \(why)\(said.isEmpty ? "" : ": " + said)",
                          hint: kind == .wayland ? "is WAYLAND_DISPLAY the display of a running session?" : "is DISPLAY the display of a running X server?")
        }
    }

    /// What the clipboard holds, in secure memory; nil when it cannot be read (empty of any text,
    /// no program serving it, no display), or when it holds more than `limit` bytes.
    func read(atMost limit: Int) -> Secret? {
        let arguments: [String] = switch kind {
        case .wayland: ["wl-paste", "--no-newline"]
        case .xclip: ["xclip", "-selection", "clipboard", "-out"]
        case .xsel: ["xsel", "--clipboard", "--output"]
        }
        var pipe: [Int32] = [-1, -1]
        guard tv_pipe(&pipe) == 0 else { return nil }
        defer { close(pipe[0]) }
        guard let pid = try? start(pastePath, arguments, stdin: nil, stdout: pipe[1], stderr: nil, newSession: false) else {
            close(pipe[1])
            return nil
        }
        close(pipe[1])
        var complete = false
        let content = Secret.filling(maxCount: limit + 1) { buffer in
            var count = 0
            var deadline = Self.patience
            while count < buffer.count, deadline > 0 {
                var ready = pollfd(fd: pipe[0], events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 100) >= 0 || errno == EINTR else { return count }
                deadline -= 100
                guard ready.revents != 0 else { continue }
                let n = Glibc.read(pipe[0], buffer.baseAddress! + count, buffer.count - count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    complete = n == 0
                    return count
                }
                count += n
            }
            return count
        }
        // Closing the pipe first ends a program still writing (more than `limit`, or hung).
        close(pipe[0])
        pipe[0] = -1
        let status = tv_wait_within(pid, Self.patience)
        return complete && status == 0 && content.count <= limit ? content : nil
    }

    /// Reads the clipboard (as ``read(atMost:)``) until `holds` accepts what it read, for at most
    /// `milliseconds`: whether it did. A program that serves the clipboard may end before the
    /// display has its request (xclip 0.13 leaves sending it to its copy in the background), so
    /// what it did shows only a moment later.
    func settles(within milliseconds: Int, atMost limit: Int, _ holds: (Secret?) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(milliseconds)
        while true {
            if holds(read(atMost: limit)) { return true }
            guard ContinuousClock.now < deadline else { return false }
            usleep(50_000)
        }
    }

    /// Empties the clipboard (xclip takes it with nothing; its copy in the background that
    /// served the token ends when it loses it). Whether the program said it did.
    @discardableResult
    func clear() -> Bool {
        let arguments: [String] = switch kind {
        case .wayland: ["wl-copy", "--clear"]
        case .xclip: ["xclip", "-selection", "clipboard", "-in"]
        case .xsel: ["xsel", "--clipboard", "--clear"]
        }
        guard let pid = try? start(copyPath, arguments, stdin: nil, stdout: nil, stderr: nil, newSession: true) else { return false }
        return tv_wait_within(pid, Self.patience) == 0
    }

    // MARK: Running the programs

    /// Starts `path` with `arguments`, the descriptors given (nil: /dev/null) and this process's
    /// environment (the passphrase variables were removed from it at start).
    private func start(_ path: String, _ arguments: [String], stdin: Int32?, stdout: Int32?, stderr: Int32?,
                       newSession: Bool) throws(CLIError) -> pid_t {
        try Self.spawn(path, arguments, stdin: stdin, stdout: stdout, stderr: stderr, newSession: newSession, name: name)
    }

    /// Starts a program as ``start(_:_:stdin:stdout:stderr:newSession:)`` describes, saying
    /// `name` in the error when it cannot.
    static func spawn(_ path: String, _ arguments: [String], stdin: Int32?, stdout: Int32?, stderr: Int32?,
                      newSession: Bool, name: String) throws(CLIError) -> pid_t {
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let error = argv.withUnsafeBufferPointer { argvBuffer in
            tv_spawn_tool(path, argvBuffer.baseAddress, environ, stdin ?? null, stdout ?? null, stderr ?? null,
                          newSession ? 1 : 0, &pid)
        }
        guard error == 0 else { throw .failed("cannot run \(name): \(String(cString: strerror(error)))") }
        return pid
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// The first line a program wrote to the file `fd` (its stderr), at most 200 bytes, with
    /// token-like words masked; nothing when it holds `secret` (a program that repeats its input).
    private static func firstLine(of fd: Int32, hiding secret: Secret) -> String {
        let written = Secret.filling(maxCount: 200) { buffer in max(0, pread(fd, buffer.baseAddress!, buffer.count, 0)) }
        return written.withUnsafeBytes { bytes in
            let line = bytes.prefix { $0 != UInt8(ascii: "\n") }
            let repeated = secret.withUnsafeBytes { secret in
                !secret.isEmpty && line.count >= secret.count
                    && (0...(line.count - secret.count)).contains { line.dropFirst($0).starts(with: secret) }
            }
            guard !repeated else { return "" }
            return Redaction.redact(String(decoding: line, as: UTF8.self).trimmingCharacters(in: " \t\r"))
        }
    }

    private static func systemFailure(_ what: String) -> CLIError {
        .failed("\(what): \(String(cString: strerror(errno)))")
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        let unwanted = Set(set)
        var text = Substring(self)
        while let first = text.first, unwanted.contains(first) { text = text.dropFirst() }
        while let last = text.last, unwanted.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
