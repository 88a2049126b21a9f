import ArgumentParser
import Glibc
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Inject: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fill a template's references with tokens.",
            discussion: """
                Reads the template (a file, or standard input when there is none or it is -), \
                replaces each reference with its value, and writes the result to standard output \
                (a terminal too, as `\(ProgramName.current) get` does) or to the file given with -o.

                A reference is {{ vault "ENTRY" }} (the token) or {{ vault "ENTRY" "FIELD" }} \
                (username, url, host, scopes, expires or kind), on one line, with any spaces or \
                tabs around its parts or none; inside the quotes, \\" is a quote and \\\\ a \
                backslash. A {{ not followed by the word vault (and then a space, " or }) is \
                text and stays as it is. A malformed reference, or one to an entry that does \
                not exist or that `\(ProgramName.current) get` refuses (in the trash, revoked or expired: exit \
                codes as get's), is an error naming its line, and nothing is written. Each token \
                is read once, recorded in the activity log as `\(ProgramName.current) inject`.

                With -o, the file is written under a temporary name (mode 600) in the same \
                folder and put in place when whole; an existing file is kept unless --force.

                Examples:
                  \(ProgramName.current) inject config.tmpl -o config.toml
                  echo 'token = "{{ vault "gitlab-ci" }}"' | \(ProgramName.current) inject
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The template (default: standard input).", valueName: "template"), completion: .file())
        var template: String?

        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write to this file (mode 600) instead of standard output.", valueName: "file"))
        var output: String?

        @Flag(help: "Replace the output file if it exists.")
        var force = false

        @Flag(help: "Use tokens even if they have expired or are revoked.")
        var allowExpired = false

        func run() throws {
            if let output, !force, InjectOutput.exists(output) {
                throw CLIError.failed("\(output) exists", hint: "add --force to replace it")
            }
            let source = template.flatMap { $0 == "-" ? nil : $0 }
            let bytes = try InjectOutput.read(source)
            let pieces: [Template.Piece]
            do {
                pieces = try Template.parse(bytes)
            } catch {
                throw CLIError.failed("\(source ?? "standard input"), \(error.description)")
            }
            let references = Template.references(in: pieces)
            var values: [Secret] = []
            if !references.isEmpty {
                let vault = try global.session.unlockedVault()
                do {
                    let resolved = try withSuggestion(vault) { try RemoteAccess.values(of: references, in: vault, allowingExpired: allowExpired) }
                    var warned: Set<String> = []
                    for (reference, value) in zip(references, resolved) where reference.field == nil && warned.insert(value.entry.name).inserted {
                        ExpiryPolicy.warn(value.entry)
                    }
                    values = resolved.map(\.value)
                } catch let error as VaultError {
                    throw InjectOutput.located(error, in: pieces, source: source)
                }
            }
            guard let rendered = Template.render(pieces, values: values) else {
                throw CLIError.failed("the template's values did not match its references")
            }
            if let output {
                try InjectOutput.write(rendered, to: output, replacing: force)
            } else {
                try Output.write(secret: rendered)
            }
        }
    }
}
