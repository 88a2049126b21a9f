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
        do {
            try secret.withUnsafeBytes { bytes throws(VaultError) in
                try VaultLocation.publishPrivateFile(bytes, at: path, replacing: replacing)
            }
        } catch .vaultExists {
            throw CLIError.failed("\(path) exists", hint: "add --force to replace it")
        } catch .io(let message) {
            throw CLIError.failed(message)
        }
    }
}
