import CFuzzDriver
import Glibc

/// What every fuzz target shares: the input as bytes, the property checks (a failed one is a
/// trap, which libFuzzer reports as a crash and saves the input of), the marker secret, and
/// the writing of a target's seed corpus (`TOKENVAULT_FUZZ_SEEDS=DIR fuzz-NAME`, scripts/fuzz.sh
/// --seeds), so that seeds are made by the code itself.
public enum Fuzz {
    /// A token planted in seeds (and in inputs, by targets that build them): no error's text may
    /// ever hold it.
    public static let marker = "tvfuzz-SECRET-9f3c"
    public static let markerBytes = Array(marker.utf8)

    /// `main`'s `argv`.
    public typealias Arguments = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

    /// The fuzz target's `MODULE_main`, which SwiftPM's `main` points at: libFuzzer's driver,
    /// calling `test` with each input; or, with `TOKENVAULT_FUZZ_SEEDS=DIR`, the target's seeds
    /// written into DIR.
    public static func main(_ argc: CInt, _ argv: Arguments,
                            _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt,
                            seeds: () -> [(name: String, bytes: [UInt8])]) -> CInt {
        writeSeedsIfAsked(seeds)
        var count = argc
        var arguments = argv
        return LLVMFuzzerRunDriver(&count, &arguments, test)
    }

    /// The input as a buffer (libFuzzer may pass a null pointer for an empty input).
    public static func input(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
        guard let data, size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: data, count: size)
    }

    /// Checks a property: a violation stops the process with `what`, and libFuzzer saves the input.
    public static func check(_ holds: @autoclosure () -> Bool, _ what: @autoclosure () -> String,
                             file: StaticString = #fileID, line: UInt = #line) {
        guard holds() else { fatalError("fuzz property violated: \(what())", file: file, line: line) }
    }

    /// Checks that an error's text (its description and its debug description) does not hold
    /// the marker secret.
    public static func checkQuiet(_ error: any Error, file: StaticString = #fileID, line: UInt = #line) {
        for text in [String(describing: error), String(reflecting: error)] {
            check(!contains(Array(text.utf8), markerBytes), "an error holds the marker secret: \(text)", file: file, line: line)
        }
    }

    /// Whether `needle` occurs in `haystack`.
    public static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
        return (0...(haystack.count - needle.count)).contains { start in
            haystack[start] == needle[0] && haystack[start..<start + needle.count].elementsEqual(needle)
        }
    }

    /// Writes `seeds` into `$TOKENVAULT_FUZZ_SEEDS` (one file each, named by its index and
    /// `names`) and exits, when that variable is set; does nothing otherwise.
    static func writeSeedsIfAsked(_ seeds: () -> [(name: String, bytes: [UInt8])]) {
        guard let folder = getenv("TOKENVAULT_FUZZ_SEEDS").map({ String(cString: $0) }) else { return }
        for seed in seeds() {
            let path = folder + "/" + seed.name
            guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
            _ = seed.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
        exit(0)
    }
}
