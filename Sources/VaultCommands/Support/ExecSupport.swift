import CExec
import Glibc
import TokenVault
import VaultCLICommon

/// One `--env NAME=ENTRY[:FIELD]` of `vault exec`.
struct ExecBinding {
    var variable: String
    var reference: SecretReference

    /// `NAME=ENTRY` or `NAME=ENTRY:FIELD` (the part after the last `:` is a field only when it
    /// names one).
    static func parse(_ text: String) throws -> ExecBinding {
        guard let equals = text.firstIndex(of: "=") else {
            throw CLIError.usage("--env takes NAME=ENTRY or NAME=ENTRY:FIELD, not '\(text)'")
        }
        let variable = String(text[..<equals])
        var entry = String(text[text.index(after: equals)...])
        guard isPOSIXName(variable) else {
            throw CLIError.usage("'\(variable)' is not a variable name: letters, digits and _, not starting with a digit")
        }
        var field: EntryField?
        if let colon = entry.lastIndex(of: ":"), let known = EntryField(rawValue: String(entry[entry.index(after: colon)...])) {
            field = known
            entry = String(entry[..<colon])
        }
        guard !entry.isEmpty else { throw CLIError.usage("--env \(variable)= names no entry") }
        return ExecBinding(variable: variable, reference: SecretReference(entry: entry, field: field))
    }

    static func isPOSIXName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        }
    }

    /// The variable a bare entry's token goes in.
    static func defaultVariable(for kind: TokenKind) -> String {
        switch kind {
        case .gitlab: "GITLAB_TOKEN"
        case .github: "GITHUB_TOKEN"
        default: "TOKEN"
        }
    }

    static func checkUnique(_ bindings: [ExecBinding]) throws {
        var seen: Set<String> = []
        for binding in bindings where !seen.insert(binding.variable).inserted {
            throw CLIError.usage("\(binding.variable) is set twice")
        }
    }
}

/// The program `vault exec` runs: found before any token is read.
enum ExecProgram {
    static let notFound: Int32 = 127
    static let notExecutable: Int32 = 126

    /// The program's path: `word` itself when it holds a `/`, else the first executable file of
    /// that name in `$PATH` (as execvp searches it). Exits 127 or 126 when there is none.
    static func locate(_ word: String) throws -> String {
        if word.isEmpty { fail(notFound, "'' : command not found") }
        if word.contains("/") {
            switch tv_exec_check(word) {
            case 0: return word
            case 1: fail(notFound, "\(word): no such file")
            default: fail(notExecutable, "\(word): not an executable file")
            }
        }
        var sawUnrunnable = false
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (folder.isEmpty ? "." : String(folder)) + "/" + word
            switch tv_exec_check(candidate) {
            case 0: return candidate
            case 2: sawUnrunnable = true
            default: continue
            }
        }
        if sawUnrunnable { fail(notExecutable, "\(word): not an executable file") }
        fail(notFound, "\(word): command not found")
    }

    /// The program's name as the activity log records it (its last path component, at most
    /// 64 bytes).
    static func shortName(_ word: String) -> String {
        let last = word.split(separator: "/").last.map(String.init) ?? word
        return String(decoding: last.utf8.prefix(64), as: UTF8.self)
    }

    static func fail(_ status: Int32, _ message: String) -> Never {
        Output.error(message)
        Glibc.exit(status)
    }
}

/// The child's environment and its run.
enum ExecEnvironment {
    /// Starts `program` with `arguments` (the first is its name) in this process's environment
    /// with `variables` set, and returns its process ID (see `tv_exec_wait`). The `NAME=value`
    /// strings of the variables are built in one block of secure memory, wiped when this
    /// returns; the kernel has copied them into the child. Exits 127 or 126 when the program
    /// cannot start.
    static func start(program: String, arguments: [String], variables: [(String, Secret)]) throws -> pid_t {
        for (name, value) in variables where value.withUnsafeBytes({ $0.contains(0) }) {
            throw CLIError.failed("the value for \(name) holds a NUL byte, which an environment variable cannot")
        }
        let setNames = Set(variables.map { $0.0 })
        var inherited: [UnsafeMutablePointer<CChar>?] = []
        var pointer = environ
        while let entry = pointer.pointee {
            pointer += 1
            let text = String(cString: entry)
            let name = String(text.prefix { $0 != "=" })
            if !setNames.contains(name) { inherited.append(strdup(entry)) }
        }
        defer { for entry in inherited { free(entry) } }
        let total = variables.reduce(0) { $0 + $1.0.utf8.count + 1 + $1.1.count + 1 }
        var offsets: [Int] = []
        let block = Secret.filling(maxCount: total) { buffer in
            var offset = 0
            for (name, value) in variables {
                offsets.append(offset)
                for byte in name.utf8 { buffer[offset] = byte; offset += 1 }
                buffer[offset] = UInt8(ascii: "="); offset += 1
                value.withUnsafeBytes { bytes in for byte in bytes { buffer[offset] = byte; offset += 1 } }
                buffer[offset] = 0; offset += 1
            }
            return offset
        }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawnError = block.withUnsafeBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress else { return EINVAL }
            let own = offsets.map { UnsafeMutablePointer(mutating: (base + $0).assumingMemoryBound(to: CChar.self)) as UnsafeMutablePointer<CChar>? }
            let envp = inherited + own + [nil]
            return argv.withUnsafeBufferPointer { argvBuffer in
                envp.withUnsafeBufferPointer { envpBuffer in
                    tv_exec_spawn(program, argvBuffer.baseAddress, envpBuffer.baseAddress, &pid)
                }
            }
        }
        if spawnError == 0 { return pid }
        ExecProgram.fail(spawnError == ENOENT ? ExecProgram.notFound : ExecProgram.notExecutable,
                         "\(arguments.first ?? program): \(String(cString: strerror(spawnError)))")
    }
}
