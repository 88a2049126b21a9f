import Foundation
import Testing

/// `make install` links some products fully static (`SWIFT_STATIC` in the Makefile), and libcurl
/// has no practical static form: a static product that comes to depend on libcurl no longer
/// links in release (the debug build the tests use links it dynamically, and would not notice).
/// This reads which products the Makefile builds static and follows their targets' dependencies
/// in SwiftPM's own description of the package.
@Suite struct MakefileTests {
    /// The products the Makefile builds with `$(SWIFT_STATIC) --product NAME`.
    static func staticProducts(makefile: String) -> [String] {
        makefile.split(separator: "\n").compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.first == "$(SWIFT_STATIC)", let at = words.firstIndex(of: "--product"), at + 1 < words.count else { return nil }
            return String(words[at + 1])
        }
    }

    /// Every target `name` depends on, directly or not, in `swift package describe --type json`.
    static func closure(of name: String, in targets: [String: [String]]) -> Set<String> {
        var seen: Set<String> = [], pending = [name]
        while let next = pending.popLast() {
            for dependency in targets[next] ?? [] where seen.insert(dependency).inserted { pending.append(dependency) }
        }
        return seen
    }

    @Test func noProductTheMakefileLinksStaticDependsOnLibcurl() throws {
        let makefile = try String(contentsOfFile: ReadmeTests.root + "/Makefile", encoding: .utf8)
        let products = Self.staticProducts(makefile: makefile)
        #expect(products.contains("tokenvault-cli"), "\(products)")
        // A scratch folder of its own: `swift test` holds the lock of .build.
        let scratch = NSTemporaryDirectory() + "/tokenvault-describe-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let described = run(["swift", "package", "--package-path", ReadmeTests.root, "--scratch-path", scratch, "describe", "--type", "json"],
                            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                                          "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/tmp"], timeout: 120)
        #expect(described.status == 0, "\(described.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(described.out.utf8)) as? [String: Any])
        let list = try #require(json["targets"] as? [[String: Any]])
        var targets: [String: [String]] = [:]
        for target in list {
            guard let name = target["name"] as? String else { continue }
            targets[name] = target["target_dependencies"] as? [String] ?? []
        }
        // The check can fail: the GitLab command does depend on libcurl.
        #expect(Self.closure(of: "tokenvault-gitlab", in: targets).contains("CCurl"))
        for product in products {
            #expect(targets[product] != nil, "\(product) is not a target")
            #expect(!Self.closure(of: product, in: targets).contains("CCurl"), "\(product) is linked static by the Makefile but depends on libcurl")
        }
    }
}
