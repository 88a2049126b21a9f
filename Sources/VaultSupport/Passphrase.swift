#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTerminal
import TokenVault

/// Where a passphrase comes from, tried in this order: `--passphrase-fd N`,
/// `--passphrase-file PATH` (refused unless private to its owner), `$TOKENVAULT_PASSPHRASE`,
/// the program named by `$TOKENVAULT_ASKPASS` (its stdout is the passphrase), and last a
/// no-echo prompt on `/dev/tty`. With none of them, the command fails at once: it never waits
/// on stdin.
package struct PassphraseSource {
    package var fd: Int32?
    package var file: String?
    package var environment: [String: String]

    package init(fd: Int32?, file: String?, environment: [String: String]) {
        self.fd = fd
        self.file = file
        self.environment = environment
    }

    /// Which source ``read(prompt:confirm:)`` will use, for --verbose.
    package var sourceName: String {
        if let fd { return "file descriptor \(fd)" }
        if let file { return "the file \(file)" }
        if let value = environment["TOKENVAULT_PASSPHRASE"], !value.isEmpty { return "TOKENVAULT_PASSPHRASE" }
        if let program = environment["TOKENVAULT_ASKPASS"], !program.isEmpty { return "TOKENVAULT_ASKPASS (\(program))" }
        return "a prompt on the terminal"
    }

    /// Reads the passphrase. `confirm` asks twice when it comes from a terminal prompt (for a
    /// new passphrase).
    package func read(prompt: String, confirm: Bool = false, allowPrompt: Bool = true) throws(CLIError) -> Secret {
        if let fd {
            guard !Terminal.isTerminal(fd) else {
                throw CLIError.failed("--passphrase-fd \(fd) is a terminal, where the passphrase would be echoed",
                                      hint: "leave out --passphrase-fd to be asked without echo")
            }
            return try nonEmpty(LineReader.readLine(fd: fd, what: "the passphrase from file descriptor \(fd)"))
        }
        if let file {
            return try nonEmpty(Self.readFile(file))
        }
        if let value = environment["TOKENVAULT_PASSPHRASE"], !value.isEmpty {
            return Secret(value)
        }
        if let program = environment["TOKENVAULT_ASKPASS"], !program.isEmpty {
            return try nonEmpty(Self.askpass(program, prompt: prompt))
        }
        guard allowPrompt, let first = try Terminal.readSecret(prompt: prompt) else { throw CLIError.noPassphrase }
        if confirm {
            guard let second = try Terminal.readSecret(prompt: "Repeat to confirm: ") else { throw CLIError.noPassphrase }
            guard first.isEqual(to: second) else { throw CLIError.failed("the two passphrases differ") }
        }
        return try nonEmpty(first)
    }

    private func nonEmpty(_ secret: Secret) throws(CLIError) -> Secret {
        guard !secret.isEmpty else { throw CLIError.failed("the passphrase is empty") }
        return secret
    }

    package static func readFile(_ path: String) throws(CLIError) -> Secret {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError.failed("cannot open the passphrase file '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CLIError.failed("cannot inspect the passphrase file '\(path)'") }
        if info.st_uid != geteuid() || info.st_mode & 0o077 != 0 {
            throw CLIError.failed("the passphrase file '\(path)' is readable by other users (mode \(String(info.st_mode & 0o777, radix: 8)))",
                                  hint: "chmod 600 '\(path)'")
        }
        return try LineReader.readLine(fd: fd, what: "the passphrase file")
    }

    /// Runs the askpass program with the prompt as its argument and reads its stdout.
    package static func askpass(_ program: String, prompt: String) throws(CLIError) -> Secret {
        var pipeFDs: [Int32] = [0, 0]
        guard tv_pipe_cloexec(&pipeFDs) == 0 else { throw CLIError.failed("cannot run TOKENVAULT_ASKPASS") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the child's stdout only; both original ends close at exec.
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(program), strdup(prompt), nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawnp(&pid, program, &actions, nil, argv, environ)
        close(pipeFDs[1])
        defer { close(pipeFDs[0]) }
        guard rc == 0 else {
            throw CLIError.failed("cannot run TOKENVAULT_ASKPASS '\(program)': \(String(cString: strerror(rc)))")
        }
        let result = Result { () throws(CLIError) -> Secret in
            try LineReader.readLine(fd: pipeFDs[0], what: "the output of TOKENVAULT_ASKPASS")
        }
        var status: Int32 = 0
        var waited: pid_t
        repeat { waited = waitpid(pid, &status, 0) } while waited < 0 && errno == EINTR
        // Exited normally with status 0.
        guard waited == pid, status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw CLIError.failed("TOKENVAULT_ASKPASS '\(program)' failed")
        }
        return try result.get()
    }
}
