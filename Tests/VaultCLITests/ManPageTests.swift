import Foundation
import Testing
@testable import TokenVault

/// `make install` installs vault(1) and a page per subcommand for each installed name: the
/// Makefile's `install-man` (scripts/install-man.sh, swift-argument-parser's generate-manual),
/// run here as `make install` runs it but with the debug build instead of a release build.
@Suite struct ManPageTests {
    /// swift-argument-parser's generator, built beside the tests by scripts/test.sh (`swift build
    /// --product generate-manual`: SwiftPM does not build another package's executable for tests).
    static let generator = Binary.path("generate-manual")

    /// `make [target] PREFIX=prefix [NAMES=names]` in the repository, with the debug build.
    func make(_ target: String, prefix: String, names: String? = nil) -> RunResult {
        var arguments = ["make", "-s", "-C", ReadmeTests.root, target, "PREFIX=" + prefix,
                         "MAN_CLI=" + VaultFrontEndTests.swiftCLI, "GENERATE_MANUAL=" + Self.generator]
        if let names { arguments.append("NAMES=" + names) }
        return run(arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": prefix, "LANG": "C"], timeout: 180)
    }

    func pages(_ folder: String) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
    }

    /// The page as `man` shows it at 80 columns; a warning of the formatter fails the test.
    func render(_ page: String) -> String {
        let r = run(["man", "-l", page], environment: ["PATH": "/usr/bin:/bin", "MANWIDTH": "80", "LANG": "C"], timeout: 30)
        #expect(r.status == 0 && r.err.isEmpty, "\(page): \(r.err)")
        return r.out
    }

    /// The long options an OPTIONS section of `--help` lists (`--git-default/--no-git-default`: both).
    static func options(inHelp help: String) -> [String] {
        guard let section = help.components(separatedBy: "\nOPTIONS:\n").dropFirst().first else { return [] }
        return section.split(separator: "\n").flatMap { line -> [String] in
            guard line.hasPrefix("  -"), let word = line.split(separator: " ").first(where: { $0.hasPrefix("--") }) else { return [] }
            return word.split(separator: "/").map { String($0.prefix { $0 != "," }) }
        }
    }

    @Test func installForBothNamesWritesAPagePerCommandThatManRendersWithItsOptions() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.generator),
                     "no \(Self.generator): build it with `swift build --product generate-manual` (scripts/test.sh does)")
        let cli = CLI(initialise: false)
        let prefix = cli.home + "/prefix"
        let install = make("install-man", prefix: prefix)
        #expect(install.status == 0, "\(install.err)")
        let folder = prefix + "/share/man/man1"
        let commands = HelpTextTests.commands(cli) + [["help"]]
        for name in ["vault", "tokenvault"] {
            let expected = Set([name + ".1"] + commands.map { ([name] + $0).joined(separator: "-") + ".1" })
            #expect(pages(folder).filter { $0.hasPrefix(name + ".") || $0.hasPrefix(name + "-") } == expected, "\(pages(folder))")
        }
        for command in [[]] + commands where command != ["help"] {
            let help = cli.vault(command + ["--help"], env: ["COLUMNS": "200"]).out
            for name in ["vault", "tokenvault"] {
                let page = render(folder + "/" + ([name] + command).joined(separator: "-") + ".1")
                let title = ([name] + command).joined(separator: " ")
                #expect(page.contains("NAME\n     \(title) -- "), "\(title): \(page)")  // LANG=C: an ASCII dash.
                for option in Self.options(inHelp: help) { #expect(page.contains(option), "\(title) lacks \(option)") }
                // The page of each name says that name, in its examples too; cross-references
                // are to the pages as installed (NAME-SUB).
                let others = page.replacingOccurrences(of: "tokenvault", with: "")
                // `completions` too: its examples name the files a script goes into after the name.
                if name == "tokenvault" {
                    #expect(!others.contains("vault \(command.first ?? "init")"), "\(title): \(page)")
                    #expect(!others.contains("completions/vault") && !others.contains("/_vault"), "\(title): \(page)")
                }
                let source = try String(contentsOfFile: folder + "/" + ([name] + command).joined(separator: "-") + ".1", encoding: .utf8)
                #expect(!source.contains(".Xr \(name).") && !source.contains(".Dt \(name.uppercased())."), "\(title): \(source)")
            }
        }
        let get = render(folder + "/tokenvault-get.1")
        #expect(get.contains("--allow-expired") && get.contains("TOKEN=$(tokenvault get gitlab-ci)"), "\(get)")
        #expect(render(folder + "/vault.1").contains("vault-gitlab(1)"))
        #expect(render(folder + "/tokenvault-gitlab.1").contains("tokenvault-gitlab-rotate(1)"))

        let uninstall = make("uninstall", prefix: prefix)
        #expect(uninstall.status == 0, "\(uninstall.err)")
        #expect(pages(folder).isEmpty, "\(pages(folder))")
    }

    /// HashiCorp's Vault is `vault`: an install under `tokenvault` alone leaves `vault` pages to it.
    @Test func aTokenvaultOnlyInstallWritesNoVaultPage() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.generator),
                     "no \(Self.generator): build it with `swift build --product generate-manual` (scripts/test.sh does)")
        let cli = CLI(initialise: false)
        let prefix = cli.home + "/prefix"
        let folder = prefix + "/share/man/man1"
        // Somebody else's page, which neither install nor uninstall touches.
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: folder + "/vault.1", contents: Data("HashiCorp\n".utf8)))
        #expect(make("install-man", prefix: prefix, names: "tokenvault").status == 0)
        let installed = pages(folder)
        #expect(installed.contains("tokenvault.1") && installed.contains("tokenvault-get.1") && installed.contains("tokenvault-id-trust.1"))
        #expect(installed.filter { $0.hasPrefix("vault") } == ["vault.1"], "\(installed)")
        #expect(FileManager.default.contents(atPath: folder + "/vault.1") == Data("HashiCorp\n".utf8))
        #expect(make("uninstall", prefix: prefix, names: "tokenvault").status == 0)
        #expect(pages(folder) == ["vault.1"], "\(pages(folder))")
    }

    /// The script refuses a name that is not one of the two, before writing anything.
    @Test func anotherNameIsRefused() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.generator))
        let cli = CLI(initialise: false)
        let r = make("install-man", prefix: cli.home + "/prefix", names: "hashicorp")
        #expect(r.status != 0)
        #expect(r.err.contains("'hashicorp' is not a name of the command line"), "\(r.err)")
        #expect(pages(cli.home + "/prefix/share/man/man1").isEmpty)
    }
}
