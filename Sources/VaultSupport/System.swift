#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TokenVault

/// The process's environment, read without Foundation.
package enum Environment {
    package static let current: [String: String] = {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                result[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            pointer += 1
        }
        return result
    }()

    package static subscript(name: String) -> String? { current[name] }
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
