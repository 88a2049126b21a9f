import Glibc
import CTerminal
import TokenVault

/// Finds the vault's agent, or starts one: for `vault unlock`, and for the git helper after a
/// passphrase typed at the terminal. The agent is this very program run as
/// `PROGRAM agent --vault PATH` (`vault agent`, or the git helper's own agent mode), so that it
/// is always the same build as its client.
package enum AgentLauncher {
    /// How long an agent started without `--timeout` waits unused before it locks.
    package static let defaultIdleTimeout: Int64 = 15 * 60
    /// How long an agent started without `--max-lifetime` holds the key at most.
    package static let defaultMaximumLifetime: Int64 = 12 * 3600

    package static var folder: String { AgentClient.folder(environment: Environment.current) }

    package static func sockets(in folder: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var result: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("agent-") && name.hasSuffix(".sock") { result.append(folder + "/" + name) }
        }
        return result
    }

    /// The vault's running agent, or a new one, started detached: in a session of its own, its
    /// standard input, output and error on /dev/null and no other descriptor of this process
    /// (git waits for the end of its helper's output: an agent holding it would hang git). No
    /// secret reaches it here: the passphrase goes over its socket (`AgentClient.unlock`).
    package static func connectOrStart(vaultPath: String) throws(CLIError) -> AgentClient {
        if let agent = AgentClient.connect(vaultPath: vaultPath, environment: Environment.current) { return agent }
        if let place = AgentClient.placeProblem(forVault: vaultPath, environment: Environment.current) {
            throw CLIError.failed(place.problem, hint: place.hint)
        }
        guard let program = ThisProgram.path else { throw CLIError.failed("cannot find the vault program to start the agent") }
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(program), strdup("agent"), strdup("--vault"), strdup(vaultPath), nil]
        defer { argv.forEach { free($0) } }
        let pid = tv_spawn_detached(program, argv, environ)
        guard pid > 0 else { throw CLIError.failed("cannot start the agent") }
        Log.verbose("started the agent (pid \(pid))")
        for _ in 0..<200 {
            if let agent = AgentClient.connect(vaultPath: vaultPath, environment: Environment.current) { return agent }
            usleep(10_000)
        }
        throw CLIError.failed("the agent did not start", hint: "run '\(ProgramName.current) agent --verbose' to see why")
    }

    /// The vault path of `agent --vault PATH`, exactly these three arguments: how
    /// ``connectOrStart(vaultPath:)`` runs a program that has no command line of its own (the
    /// git helper). Nil for anything else.
    package static func agentRequest(_ arguments: [String]) -> String? {
        guard arguments.count == 3, arguments[0] == "agent", arguments[1] == "--vault", !arguments[2].isEmpty else { return nil }
        return arguments[2]
    }

    /// Runs the agent for `vaultPath` until it locks; the exit status (its stderr is /dev/null
    /// when started by ``connectOrStart(vaultPath:)``).
    package static func serve(vaultPath: String) -> Int32 {
        do {
            try AgentServer(vaultPath: vaultPath, environment: Environment.current).run()
            return 0
        } catch {
            return Output.report(error).rawValue
        }
    }
}

/// The running program's own file (`/proc/self/exe`).
package enum ThisProgram {
    package static var path: String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
