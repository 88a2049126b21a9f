import Foundation
import Testing
@testable import TokenVault

/// Runs every ```sh block of README.md, in order, in one shell with the built `vault` on PATH,
/// so the README never lies.
@Suite struct ReadmeTests {
    static let readme: String = {
        var folder = URL(fileURLWithPath: #filePath)
        while folder.path != "/" {
            folder.deleteLastPathComponent()
            let candidate = folder.appendingPathComponent("README.md")
            if FileManager.default.fileExists(atPath: candidate.path) {
                return (try? String(contentsOf: candidate, encoding: .utf8)) ?? ""
            }
        }
        return ""
    }()

    static func blocks(tagged tag: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```\(tag)" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test func usageExamplesRun() throws {
        let blocks = Self.blocks(tagged: "sh")
        #expect(blocks.count >= 5)
        let cli = CLI(initialise: false)
        // The examples use the default KDF cost; the test uses libsodium's minimum to stay fast
        // (a separate test checks the default).
        let script = "set -euo pipefail\n" + blocks.joined(separator: "\n")
            .replacingOccurrences(of: "vault init\n", with: "vault init --kdf minimum\n")
        var environment = cli.environment
        environment["TOKENVAULT_PASSPHRASE"] = nil
        environment["PATH"] = Binary.folder + ":/usr/bin:/bin"
        let r = run(["/bin/bash", "-c", script], environment: environment)
        #expect(r.status == 0, "README examples failed: \(r.err)")
        #expect(r.out.contains("gitlab-ci"))
        for (path, data) in cli.files() {
            #expect(!data.contains(bytes: "glpat-EXAMPLE"), "a README token in plain text in \(path)")
            #expect(!data.contains(bytes: "glpat-ROTATED"), "a README token in plain text in \(path)")
            #expect(!data.contains(bytes: "glpat-IMPORTED"), "a README token in plain text in \(path)")
        }
        // The state the examples leave: the first token restored from history (the rotated one
        // now in history), an imported entry, and the new passphrase.
        let vault = try Vault.open(at: cli.vaultPath)
        try vault.unlock(passphrase: Secret("another long passphrase"))
        #expect(try vault.secret(named: "gitlab-ci").revealString() == "glpat-EXAMPLE0000000000000")
        #expect(try vault.history(of: "gitlab-ci").first?.secret.revealString() == "glpat-ROTATED000000000000")
        #expect(try vault.entries().filter { $0.deleted == nil }.map(\.name) == ["alice@gitlab.example.com", "gitlab-ci"])
        #expect(try vault.entry(named: "github").deleted != nil, "vault rm moves to the trash")
        #expect(try vault.secret(named: "alice@gitlab.example.com").revealString() == "glpat-IMPORTED00000000000")
        #expect(!FileManager.default.fileExists(atPath: cli.home + "/.git-credentials"))
    }

    @Test func theQuickStartHasExactlyTwoCommands() {
        let quickStart = Self.readme.components(separatedBy: "## Quick start").dropFirst().first?
            .components(separatedBy: "## ").first ?? ""
        let commands = quickStart.split(separator: "\n").filter { $0.hasPrefix("bash scripts/") }
        #expect(commands.count == 2)
        // As root where sudo is not installed (a fresh container), and as a user with sudo.
        #expect(!quickStart.split(separator: "\n").contains { $0.hasPrefix("sudo ") })
        #expect(commands.last?.contains("scripts/test.sh") == true)
        let ci = (try? String(contentsOfFile: (Self.root + "/.ci/run"), encoding: .utf8)) ?? ""
        #expect(ci.contains("scripts/test.sh"), "CI runs the README's test command")
    }

    static var root: String {
        var folder = URL(fileURLWithPath: #filePath)
        folder.deleteLastPathComponent()
        folder.deleteLastPathComponent()
        folder.deleteLastPathComponent()
        return folder.path
    }
}
