import Glibc
import TokenVault
import VaultCLICommon

/// Bundles on disk: written 0600 under a temporary name in the same folder, flushed, then
/// renamed into place; read with a bound on their size.
enum BundleFile {
    static func write(_ bytes: [UInt8], to path: String) throws {
        if VaultLocation.exists(path) {
            throw CLIError.failed("'\(path)' exists already", hint: "choose another name, or remove it first")
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw CLIError.failed("cannot create '\(temporary)': \(String(cString: strerror(errno)))") }
        var ok = fchmod(fd, 0o600) == 0
        var offset = 0
        while ok && offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = false } else { offset += n }
        }
        ok = ok && fsync(fd) == 0
        let reason = String(cString: strerror(errno))
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CLIError.failed("cannot write '\(path)': \(reason)")
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
