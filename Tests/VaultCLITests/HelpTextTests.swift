import Foundation
import Testing
@testable import TokenVault

/// Help as a person reads it at 80 columns, and the promises the README makes about help,
/// exit codes and `--json`.
@Suite struct HelpTextTests {
    @Test func unlockHelpShowsItsDefaultsAsTheyAreTyped() {
        let help = CLI(initialise: false).vault(["unlock", "--help"], env: ["COLUMNS": "80"]).out
        #expect(help.contains("(default: 15m)"), "\(help)")
        #expect(help.contains("(default: 12h)") || help.contains("(default: 8h)"), "\(help)")
        #expect(!help.contains("Span("), "\(help)")
    }

    /// Every command's help at 80 columns: no line wider but the parser's synopsis, and every
    /// example whole on its line (or continued with a backslash), never wrapped in the middle of
    /// a command.
    /// Under either name (`tokenvault` makes each example five columns wider).
    @Test(arguments: ["vault", "tokenvault"]) func everyCommandsHelpFitsEightyColumnsWithExamplesWhole(name: String) {
        let cli = CLI(initialise: false)
        for command in [[]] + Self.commands(cli) {
            let r = cli.invoked(as: name, command + ["--help"], env: ["COLUMNS": "80"])
            #expect(r.status == 0, "\(command): \(r.err)")
            let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false)
            // The argument parser's own synopsis is one line whatever the width (the terminal
            // folds it); everything written here fits.
            for line in lines where !line.hasPrefix("USAGE: ") { #expect(line.count <= 80, "\(command): \(line)") }
            guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "Examples:" }) else { continue }
            let indent = lines[start].prefix { $0 == " " }.count
            var continued = false
            for line in lines[(start + 1)...] {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
                let depth = line.prefix { $0 == " " }.count
                if !continued {
                    #expect(depth == indent + 2, "\(command): an example wrapped: '\(line)'")
                }
                continued = line.hasSuffix("\\")
            }
        }
    }

    @Test func exitCodeFourMeansTheSameInTheReadmeAndTheHelp() throws {
        let help = CLI(initialise: false).vault(["--help"]).out
        let readme = try String(contentsOfFile: ReadmeTests.root + "/README.md", encoding: .utf8)
        guard let row = readme.split(separator: "\n").first(where: { $0.hasPrefix("| 4 |") }) else {
            Issue.record("no exit code 4 in the README")
            return
        }
        let meaning = row.dropFirst("| 4 | ".count).dropLast(" |".count)
        #expect(help.contains("  4   " + meaning + "\n"), "README: \(meaning)\n\(help)")
    }

    /// The README names the commands that do not take the global options; every other does
    /// (the groups `gitlab`, `id`, `keyfile` and `remote` are not commands: their subcommands are).
    @Test func everyCommandButTheNamedOnesTakesTheGlobalOptions() {
        let cli = CLI(initialise: false)
        for command in Self.commands(cli) where !["completions", "git-credential", "gitlab", "id", "keyfile", "remote"].contains(command.joined(separator: " ")) {
            let help = cli.vault(command + ["--help"]).out
            for option in ["--vault", "--passphrase-fd", "--passphrase-file", "--allow-costly-kdf", "--verbose"] {
                #expect(help.contains(option), "\(command) lacks \(option)")
            }
        }
    }

    @Test func everyJSONOutputCarriesItsSchemaVersion() throws {
        let cli = CLI()
        #expect(cli.add("ci", token: "plain-token-value-json", ["--url", "https://gitlab.com", "--expires", "2099-01-01"]).status == 0)
        #expect(cli.vault(["edit", "ci", "--secret"], stdin: .data("plain-token-value-json2")).status == 0)
        let soon = Timestamp(secondsSince1970: Timestamp.now().secondsSince1970 + 3 * 86_400).dateString
        #expect(cli.add("soon", token: "plain-token-value-soon", ["--expires", soon]).status == 0, "for check to find")
        #expect(cli.vault(["id"]).status == 0)
        #expect(cli.vault(["id", "trust", "me", cli.vault(["id"]).out.trimmingCharacters(in: .whitespacesAndNewlines)]).status == 0)
        let outputs: [[String]] = [["get", "ci", "--json"], ["show", "ci", "--json"], ["list", "--json"], ["check", "--json"],
                                   ["history", "ci", "--json"], ["log", "--json"], ["status", "--json"], ["id", "list", "--json"]]
        for arguments in outputs {
            let r = cli.vault(arguments)
            let value = try JSONSerialization.jsonObject(with: Data(r.stdout))
            let objects = (value as? [[String: Any]]) ?? [(value as? [String: Any]) ?? [:]]
            #expect(!objects.isEmpty, "\(arguments): \(r.out) \(r.err)")
            for object in objects { #expect(object["schema_version"] as? Int == 1, "\(arguments): \(r.out)") }
            #expect(r.out.hasPrefix("{\"schema_version\":1,") || r.out.hasPrefix("[{\"schema_version\":1,"), "\(arguments): \(r.out)")
        }
        // Existing fields stay.
        let show = try JSONSerialization.jsonObject(with: Data(cli.vault(["show", "ci", "--json"]).stdout)) as? [String: Any]
        #expect(show?["name"] as? String == "ci")
        let history = try JSONSerialization.jsonObject(with: Data(cli.vault(["history", "ci", "--json"]).stdout)) as? [[String: Any]]
        #expect(history?.first?["version"] as? Int == 1)
    }

    /// Every command and subcommand, from `vault help`'s lists.
    static func commands(_ cli: CLI) -> [[String]] {
        func subcommands(_ path: [String]) -> [String] {
            let help = cli.vault(path + ["--help"], env: ["COLUMNS": "200"]).out
            guard let section = help.components(separatedBy: "SUBCOMMANDS:").dropFirst().first else { return [] }
            return section.split(separator: "\n").prefix { !$0.hasPrefix("  See") && !$0.isEmpty }
                .compactMap { $0.split(separator: " ").first.map(String.init) }
        }
        var result: [[String]] = []
        for name in subcommands([]) {
            result.append([name])
            for nested in subcommands([name]) { result.append([name, nested]) }
        }
        return result
    }
}
