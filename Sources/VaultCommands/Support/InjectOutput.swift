import Glibc
import TokenVault
import VaultCLICommon

/// `vault inject`'s input and output files.
enum InjectOutput {
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// The template's bytes, from `path` or standard input; at most `Template.maxBytes`.
    static func read(_ path: String?) throws -> [UInt8] {
        let fd = path.map { open($0, O_RDONLY | O_CLOEXEC) } ?? 0
        let name = path ?? "standard input"
        guard fd >= 0 else { throw CLIError.failed("cannot read \(name): \(String(cString: strerror(errno)))") }
        defer { if path != nil { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw CLIError.failed("cannot read \(name): \(String(cString: strerror(errno)))") }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
            if bytes.count > Template.maxBytes { throw CLIError.failed("\(name) is over \(Template.maxBytes) bytes: not a template") }
        }
    }

    /// The read's error, with the line of the first reference to its entry.
    static func located(_ error: VaultError, in pieces: [Template.Piece], source: String?) -> Error {
        let name: String? = switch error {
        case .notFound(let name, _), .inTrash(let name), .expired(let name, _), .revoked(let name, _): name
        default: nil
        }
        let line = pieces.lazy.compactMap { piece -> Int? in
            if case .reference(let reference, let line) = piece, reference.entry == name { line } else { nil }
        }.first
        guard let line else { return error }
        let status = Output.status(for: error)
        Output.error("\(source ?? "standard input"), line \(line): \(error.description)")
        if let hint = error.hint { Output.hint(hint) }
        return CLIError.exit(status)
    }

    /// Writes `secret` to a new file (mode 600) beside `path` and puts it in place: linked,
    /// which fails if `path` exists, or renamed over it when `replacing`.
    static func write(_ secret: Secret, to path: String, replacing: Bool) throws {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = folder + "." + base + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError.failed("cannot create a file in \(folder.isEmpty ? "." : folder): \(String(cString: strerror(errno)))") }
        var failure: String?
        let written = secret.withUnsafeBytes { bytes -> Bool in
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                let n = Glibc.write(fd, base + offset, bytes.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        if !written || fsync(fd) != 0 { failure = "cannot write \(path): \(String(cString: strerror(errno)))" }
        close(fd)
        if failure == nil {
            if replacing {
                if rename(temporary, path) != 0 { failure = "cannot replace \(path): \(String(cString: strerror(errno)))" }
            } else if link(temporary, path) != 0 {
                failure = errno == EEXIST ? "\(path) exists" : "cannot create \(path): \(String(cString: strerror(errno)))"
            }
        }
        if failure != nil || !replacing { unlink(temporary) }
        if let failure { throw CLIError.failed(failure, hint: failure.hasSuffix("exists") ? "add --force to replace it" : nil) }
    }
}
