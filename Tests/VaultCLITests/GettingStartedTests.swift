import Foundation
import Testing

/// The DocC getting-started article shows the example program's own code: every line of its
/// Swift snippets is a line of `Examples/AuthHeader/main.swift`, which the package builds (and
/// `theExampleProgramBuildsAHeader` runs), so the article never shows code that does not compile.
@Suite struct GettingStartedTests {
    static func file(_ relative: String) throws -> String {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
            folder = folder.deletingLastPathComponent()
            guard folder.path != "/" else { throw CocoaError(.fileNoSuchFile) }
        }
        return try String(contentsOf: folder.appendingPathComponent(relative), encoding: .utf8)
    }

    @Test func everySnippetOfTheArticleIsCodeOfTheExample() throws {
        let article = try Self.file("Sources/TokenVault/TokenVault.docc/GettingStarted.md")
        let example = Set(try Self.file("Examples/AuthHeader/main.swift").split(separator: "\n").map(String.init))
        let snippets = article.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(snippets.count >= 5)
        for line in snippets.flatMap({ $0.split(separator: "\n").map(String.init) }) {
            // A comment alone may stand for code shown elsewhere ("as above").
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("//") && !example.contains(line) { continue }
            #expect(example.contains(line), "not in Examples/AuthHeader/main.swift: \(line)")
        }
    }
}
