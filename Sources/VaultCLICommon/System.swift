import Glibc
import TokenVault

/// The process's environment, read once, without Foundation. The values of the passphrase
/// variables never become a `String`: their bytes go straight into a `Secret`, exactly as they
/// are (not decoded as UTF-8, nothing stripped).
package enum Environment {
    /// The variables whose values are secrets: absent from ``current``, read with ``secret(_:)``.
    package static let secretNames = ["TOKENVAULT_PASSPHRASE", "TOKENVAULT_NEW_PASSPHRASE", "TOKENVAULT_EXPORT_PASSPHRASE"]

    private static let snapshot: (values: [String: String], secrets: [String: Secret]) = {
        var values: [String: String] = [:]
        var secrets: [String: Secret] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            pointer += 1
            let bytes = UnsafeRawBufferPointer(start: entry, count: strlen(entry))
            guard let eq = bytes.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = String(decoding: bytes[..<eq], as: UTF8.self)
            let value = UnsafeRawBufferPointer(rebasing: bytes[(eq + 1)...])
            // The first of two entries with one name wins, as with getenv.
            if secretNames.contains(name) {
                if secrets[name] == nil { secrets[name] = Secret(copying: value) }
            } else if values[name] == nil {
                values[name] = String(decoding: value, as: UTF8.self)
            }
        }
        return (values, secrets)
    }()

    package static var current: [String: String] { snapshot.values }

    package static subscript(name: String) -> String? { current[name] }

    /// The bytes of a variable of ``secretNames`` as the process got them; nil when it was unset
    /// or empty.
    package static func secret(_ name: String) -> Secret? {
        guard let secret = snapshot.secrets[name], !secret.isEmpty else { return nil }
        return secret
    }

    /// Reads the environment (if not yet done), then wipes the secret variables' bytes in place
    /// and removes them, so that no program started later inherits them.
    package static func forgetSecrets() {
        _ = snapshot
        for name in secretNames {
            let prefix = Array((name + "=").utf8)
            var pointer = environ
            while let entry = pointer.pointee {
                pointer += 1
                let length = strlen(entry)
                guard length >= prefix.count,
                      UnsafeRawBufferPointer(start: entry, count: prefix.count).elementsEqual(prefix) else { continue }
                memset(entry + prefix.count, 0, length - prefix.count)
            }
            unsetenv(name)
        }
    }
}


/// `--verbose` logging to stderr. Only paths, names, sources and timings: never a secret.
package enum Log {
    nonisolated(unsafe) package static var enabled = false

    package static func verbose(_ message: @autoclosure () -> String) {
        if enabled { Output.note(message()) }
    }

    package static func clock() -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now
    }

    package static func since(_ start: timespec) -> Int {
        let now = clock()
        return (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1_000_000
    }
}
