import Glibc
import TokenVault
import VaultCLICommon

/// Bundles on disk: written 0600 under a temporary name in the same folder, flushed, then
/// linked into place (never over an existing file); read with a bound on their size.
enum BundleFile {
    /// Writes the bundle to a new file, 0600, whole or not at all; an existing file is never
    /// replaced, also one created meanwhile.
    static func write(_ bytes: [UInt8], to path: String) throws {
        if VaultLocation.exists(path) {
            throw CLIError.failed("'\(path)' exists already", hint: "choose another name, or remove it first")
        }
        do {
            try VaultLocation.publishPrivateFile(bytes, at: path)
        } catch .vaultExists {
            throw CLIError.failed("'\(path)' exists already", hint: "choose another name, or remove it first")
        }
    }

    /// The bundle's bytes (at most `BundleEnvelope.maximumBytes`; larger is refused unread).
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError.failed("cannot read '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let limit = BundleEnvelope.maximumBytes
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw CLIError.failed("cannot read '\(path)': \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            guard bytes.count + n <= limit else { throw BundleError.tooLarge(limit: limit) }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}
