import TokenVaultGitLab
import VaultCLICommon
import Glibc

/// GitLab's and OpenBao's APIs, reachable only from `tokenvault-gitlab`: that program runs the
/// same command line with an HTTPS transport (libcurl); `vault` has none, links no HTTP stack,
/// and hands the commands that need one (`vault gitlab ...`, `vault check`,
/// `vault remote ...`, a command on `REMOTE/ENTRY`) to that program.
enum Online {
    /// Set once, by the program's main, before anything else runs.
    nonisolated(unsafe) static var transport: (any HTTPTransport)?

    static let program = "tokenvault-gitlab"

    /// Whether these arguments name a command that talks to GitLab.
    static func needed(_ arguments: [String]) -> Bool {
        let withValue = GlobalOptions.Names.withValue
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if withValue.contains(argument) { index += 2; continue }
            if argument.hasPrefix("-") { index += 1; continue }
            if argument == "gitlab" || argument == "remote" { return true }
            // `check` reviews remote entries too (and, with --online, asks GitLab).
            // `inject` reads its references from a template, not the command line.
            if argument == "check" || argument == "inject" { return true }
            // `REMOTE/ENTRY` may name an entry in OpenBao (a local name with a slash goes there
            // too: that program runs every command).
            return RemoteAccess.commands.contains(argument) && arguments[(index + 1)...].contains { RemoteAccess.mayName($0) }
        }
        return false
    }

    /// Replaces this process with `tokenvault-gitlab` and the same arguments, argv[0] included (it
    /// names itself after it, as this one did), in the environment this process started with. Returns only when that program cannot be run.
    static func handOff(_ arguments: [String]) -> CLIError {
        var candidates: [String] = []
        if let exe = ThisProgram.path {
            let folder = String(exe[..<(exe.lastIndex(of: "/") ?? exe.startIndex)])
            candidates = [folder + "/../libexec/tokenvault/" + program, folder + "/" + program]
        }
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            return .failed("GitLab's commands need \(program), which is not installed beside vault",
                           hint: "reinstall TokenVault (make install puts it in PREFIX/libexec/tokenvault)")
        }
        let argv = ([CommandLine.arguments.first ?? path] + arguments).map { strdup($0) } + [nil]
        // The environment as it is, byte for byte (a passphrase is never decoded).
        execve(path, argv, environ)
        return .failed("cannot run \(path): \(String(cString: strerror(errno)))")
    }
}
