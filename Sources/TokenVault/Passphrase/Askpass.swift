import Glibc
import CTerminal

/// `TOKENVAULT_ASKPASS`: a program that asks a person for the passphrase, as `SSH_ASKPASS`. It
/// gets the prompt as its one argument and /dev/null as stdin; the first line of its stdout is
/// the passphrase, and it must exit with status 0.
///
/// It never hangs the caller: it has the seconds ``PassphraseSource`` gives it to answer and
/// exit. At most one line of at most ``LineReader/limit`` bytes is read; then the
/// pipe is closed, and a program still running at the deadline (or at once, when it failed to
/// answer) gets SIGTERM, a second later SIGKILL, and is reaped.
package enum Askpass {
    /// Runs `program` with `prompt` and returns the first line it writes, without its line
    /// ending, waiting at most `seconds`.
    package static func read(_ program: String, prompt: String, seconds: Int) throws(PassphraseError) -> Secret {
        let deadline = MonotonicClock.milliseconds() + seconds * 1000
        var pipeFDs: [Int32] = [0, 0]
        guard tv_pipe_cloexec(&pipeFDs) == 0 else { throw .askpassNotStarted(program: nil, errno: errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the child's stdout only; both original ends close at exec.
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // Nothing else of ours (or of git's, when the helper runs it) reaches the program.
        _ = tv_spawn_close_others(&actions)
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(program), strdup(prompt), nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawnp(&pid, program, &actions, nil, argv, environ)
        close(pipeFDs[1])
        guard rc == 0 else {
            close(pipeFDs[0])
            throw .askpassNotStarted(program: program, errno: rc)
        }
        var outcome = Outcome.answered
        let line = Secret.filling(maxCount: LineReader.limit) { buffer in
            readLine(pipeFDs[0], into: buffer, until: deadline, outcome: &outcome)
        }
        close(pipeFDs[0])
        // A program that answered may take until the deadline to exit; one that did not is ended now.
        let (status, ended) = reap(pid, waitingUntil: outcome == .answered ? deadline : 0)
        switch outcome {
        case .timedOut: throw .askpassTimedOut(program: program, seconds: seconds)
        case .tooLong: throw .askpassTooLong(program: program)
        case .failed(let error): throw .askpassUnreadable(program: program, errno: error)
        case .answered: break
        }
        if ended { throw .askpassDidNotExit(program: program, seconds: seconds) }
        let signal = status & 0x7f
        if signal == SIGPIPE { throw .askpassKeptWriting(program: program) }
        if signal != 0 { throw .askpassKilled(program: program, signal: signal) }
        let code = (status >> 8) & 0xff
        guard code == 0 else { throw .askpassFailed(program: program, status: code) }
        return line
    }

    private enum Outcome: Equatable {
        case answered, timedOut, tooLong
        case failed(Int32)
    }

    /// Reads up to the first newline or the end of input, until `deadline`; returns the line's
    /// length without its line ending (0 when it failed: `outcome` says why).
    private static func readLine(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, until deadline: Int,
                                 outcome: inout Outcome) -> Int {
        var length = 0
        while true {
            let remaining = deadline - MonotonicClock.milliseconds()
            guard remaining > 0 else { outcome = .timedOut; return 0 }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(clamping: remaining))
            if ready < 0 && errno != EINTR { outcome = .failed(errno); return 0 }
            guard ready > 0 else { continue }
            guard length < buffer.count else { outcome = .tooLong; return 0 }
            let n = Glibc.read(fd, buffer.baseAddress! + length, buffer.count - length)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                outcome = .failed(errno)
                return 0
            }
            if n == 0 { return length }
            let bytes = UnsafeRawBufferPointer(buffer)
            if let newline = bytes[length..<(length + n)].firstIndex(of: UInt8(ascii: "\n")) {
                return LineReader.lengthWithoutLineEnding(bytes, newlineAt: newline)
            }
            length += n
        }
    }

    /// Waits for `pid` to exit until `deadline` (monotonic milliseconds), then ends it (SIGTERM,
    /// and SIGKILL a second later), and reaps it. Returns its wait status and whether it was ended.
    private static func reap(_ pid: pid_t, waitingUntil deadline: Int) -> (status: Int32, ended: Bool) {
        var status: Int32 = 0
        func exited(until limit: Int) -> Bool {
            repeat {
                let waited = waitpid(pid, &status, WNOHANG)
                if waited == pid || (waited < 0 && errno != EINTR) { return true }
                usleep(10_000)
            } while MonotonicClock.milliseconds() < limit
            return false
        }
        if exited(until: deadline) { return (status, false) }
        kill(pid, SIGTERM)
        if exited(until: MonotonicClock.milliseconds() + 1000) { return (status, true) }
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status, true)
    }
}
