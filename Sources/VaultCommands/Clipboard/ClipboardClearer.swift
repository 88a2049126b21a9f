import CExec
import Glibc
import TokenVault
import VaultCLICommon

/// `vault get --clip`: the copy, and the process that clears the clipboard later if it still
/// holds what was copied.
///
/// The clearer is this program again (`/proc/self/exe`) with one hidden argument, in a session
/// of its own (it outlives `vault` and the terminal), with /dev/null for stdout and stderr. It
/// never sees the token: it gets a ``SecretFingerprint`` (a keyed hash under a random key) on
/// its stdin, through a pipe, never argv or the environment; when the time comes it reads the
/// clipboard into secure memory, hashes it under that key, wipes it, and clears the clipboard
/// only if the hashes agree.
enum ClipboardClearer {
    /// tokenvault-cli's one argument that makes it the clearer; not a command of the parser, so
    /// neither help nor completions show it.
    static let argument = "--clipboard-clearer"

    /// What the clearer reads on stdin: this tag, the tool's kind (1 byte), the seconds to wait
    /// (8 bytes, little-endian), the length of what was copied (4 bytes, little-endian), and the
    /// fingerprint (key, then hash).
    private static let tag = Array("TVCLIP1\n".utf8)
    private static let messageCount = tag.count + 1 + 8 + 4 + SecretFingerprint.encodedCount
    /// The most the clearer reads back from the clipboard: what was copied is never more.
    private static let longest = 1 << 20
    /// The longest wait it takes: a century, as `--clear-after` (a ``Span``) allows; more would
    /// overflow the boot clock's deadline.
    private static let longestDelay: UInt64 = 36_500 * 86_400

    /// How long the copy and the clearing get to show on the clipboard (``ClipboardTool/settles(within:atMost:_:)``).
    static let settling = 5_000

    /// Copies `secret` with `tool`, waits until the clipboard holds it, and, unless `seconds` is
    /// nil, starts the clearer. When the clearer cannot start, the clipboard is cleared now and
    /// that is the error. Whether the clipboard was seen holding `secret` (false: it reads back
    /// as something else, or cannot be read; the clearer then leaves it alone).
    static func copy(_ secret: Secret, with tool: ClipboardTool, clearingAfter seconds: Int64?) throws(CLIError) -> Bool {
        guard secret.count <= longest else { throw .failed("that is too long for the clipboard (more than 1 MiB)") }
        let fingerprint = SecretFingerprint(of: secret)
        try tool.copy(secret)
        let held = tool.settles(within: settling, atMost: secret.count) { $0.map(fingerprint.matches) ?? false }
        guard let seconds else { return held }
        do {
            try start(tool: tool, fingerprint: fingerprint, count: secret.count, seconds: seconds)
        } catch {
            tool.clear()
            throw .failed("\(error.description); the clipboard was cleared at once rather than left holding the token",
                          hint: "copy it with --clear-after never to keep it there, or print it with \(ProgramName.current) get NAME")
        }
        return held
    }

    private static func start(tool: ClipboardTool, fingerprint: SecretFingerprint, count: Int, seconds: Int64) throws(CLIError) {
        var pipe: [Int32] = [-1, -1]
        guard tv_pipe(&pipe) == 0 else { throw .failed("cannot start the clearer: no pipe") }
        defer { close(pipe[1]) }
        let name = CommandLine.arguments.first ?? "vault"
        let pid: pid_t
        do {
            pid = try ClipboardTool.spawn("/proc/self/exe", [name, argument], stdin: pipe[0], stdout: nil, stderr: nil,
                                          newSession: true, name: "the clearer")
        } catch {
            close(pipe[0])
            throw error
        }
        close(pipe[0])
        var head = tag + [tool.kind.rawValue]
        head += withUnsafeBytes(of: UInt64(seconds).littleEndian) { Array($0) }
        head += withUnsafeBytes(of: UInt32(count).littleEndian) { Array($0) }
        signal(SIGPIPE, SIG_IGN)
        let sent = head.withUnsafeBytes { ClipboardTool.writeAll(pipe[1], $0) }
            && fingerprint.withEncoded { ClipboardTool.writeAll(pipe[1], $0) }
        guard sent else {
            kill(pid, SIGKILL)
            throw .failed("cannot start the clearer: it did not take its instructions")
        }
        // Not waited for: when vault exits, it goes on alone.
    }

    // MARK: The clearer itself

    /// The clearer's whole life (tokenvault-cli started with ``argument``, stdin a pipe): reads
    /// its instructions, waits, clears the clipboard if it still holds what was copied, exits.
    static func run() -> Never {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        guard let (kind, seconds, count, fingerprint) = readInstructions() else { exit(ExitStatus.usage.rawValue) }
        // Nothing of the caller's kept: not its stdin, not its working folder (a mount it holds).
        let null = open("/dev/null", O_RDONLY)
        if null >= 0 && null != 0 { dup2(null, 0); close(null) }
        _ = chdir("/")
        guard let tool = ClipboardTool.locate(kind, environment: Environment.current) else { exit(ExitStatus.other.rawValue) }
        tv_sleep_seconds(seconds)
        // The clipboard's content lives in secure memory, and is wiped as soon as it is hashed.
        let holdsIt = tool.read(atMost: count).map { fingerprint.matches($0) } ?? false
        if holdsIt {
            tool.clear()
            // Not gone before the clipboard shows it (xclip ends before the display has it).
            _ = tool.settles(within: settling, atMost: count) { !($0.map(fingerprint.matches) ?? false) }
        }
        exit(ExitStatus.success.rawValue)
    }

    /// The instructions on stdin, checked whole (they come from outside this process): nil
    /// unless they are exactly as ``copy(_:with:clearingAfter:)`` writes them.
    private static func readInstructions() -> (ClipboardTool.Kind, Int64, Int, SecretFingerprint)? {
        let message = Secret.filling(maxCount: messageCount + 1) { buffer in
            var count = 0
            while count < buffer.count {
                let n = Glibc.read(0, buffer.baseAddress! + count, buffer.count - count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                count += n
            }
            return count
        }
        return message.withUnsafeBytes { bytes -> (ClipboardTool.Kind, Int64, Int, SecretFingerprint)? in
            guard bytes.count == messageCount, bytes.prefix(tag.count).elementsEqual(tag),
                  let kind = ClipboardTool.Kind(rawValue: bytes[tag.count]) else { return nil }
            var offset = tag.count + 1
            func number(_ width: Int) -> UInt64 {
                defer { offset += width }
                return (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
            }
            let seconds = number(8), count = number(4)
            guard seconds <= longestDelay, count <= UInt64(longest),
                  let fingerprint = SecretFingerprint(encoded: UnsafeRawBufferPointer(rebasing: bytes[offset...])) else { return nil }
            return (kind, Int64(seconds), Int(count), fingerprint)
        }
    }
}
