import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal entries in a signed bundle for another vault, or for yourself under a passphrase.",
            discussion: """
                --to IDENTITY seals the named entries (token and metadata; with --with-history the \
                tokens they replaced too) for that vault's identity (a name saved with '\(ProgramName.current) id \
                trust', or the tvid1-... line '\(ProgramName.current) id' prints there). --passphrase seals every \
                entry with its history under a new export passphrase (asked twice on the terminal, \
                or read from --export-passphrase-fd, --export-passphrase-file or \
                TOKENVAULT_EXPORT_PASSPHRASE). Either way the bundle is signed by this vault's \
                identity, written 0600 to -o FILE, or to standard output when that is not a \
                terminal. Import it with '\(ProgramName.current) import bundle FILE'.

                --plain-json prints the entries and their tokens as JSON (schema in SECURITY.md), \
                to hand them to another tool through a pipe: never to a terminal, never to a file.

                Examples:
                  \(ProgramName.current) export gitlab-ci --to alice -o gitlab-ci.tvb
                  \(ProgramName.current) export --passphrase -o ~/usb/vault.tvb
                  \(ProgramName.current) export --plain-json | other-tool import
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entries to export (with --to; with --plain-json, default: all).", completion: NameCompletion.names(.live))
        var names: [String] = []

        @Option(help: ArgumentHelp("The recipient: a trusted name or a tvid1-... identity.", valueName: "identity"))
        var to: String?

        @Flag(help: "Seal every entry under a new export passphrase instead.")
        var passphrase = false

        @Flag(help: "Print the entries and tokens as JSON, for another tool (refuses a terminal).")
        var plainJSON = false

        @Flag(help: "Include the tokens each entry replaced.")
        var withHistory = false

        @Option(name: .shortAndLong, help: ArgumentHelp("Write the bundle to this file (0600); it must not exist.", valueName: "file"))
        var output: String?

        @Option(help: ArgumentHelp("The export passphrase's key-derivation cost: interactive, moderate (default) or sensitive.",
                                   valueName: "preset"))
        var kdf: String = "moderate"

        @Option(name: .customLong("export-passphrase-fd"), help: ArgumentHelp("Read the export passphrase from this file descriptor.", valueName: "n"))
        var exportFD: Int32?

        @Option(name: .customLong("export-passphrase-file"), help: ArgumentHelp("Read the export passphrase from this private file.", valueName: "path"))
        var exportFile: String?

        func validate() throws {
            let modes = [to != nil, passphrase, plainJSON].filter { $0 }.count
            guard modes == 1 else { throw ValidationError("give exactly one of --to IDENTITY, --passphrase and --plain-json") }
            if to != nil, names.isEmpty { throw ValidationError("name the entries to export: \(ProgramName.current) export NAME... --to IDENTITY") }
            if passphrase, !names.isEmpty { throw ValidationError("--passphrase exports every entry: leave out the names") }
            if passphrase, withHistory { throw ValidationError("--passphrase always includes the history") }
            if plainJSON, output != nil {
                throw ValidationError("--plain-json never writes a file (tokens would rest there unencrypted): pipe it to the tool that reads it")
            }
            guard let preset = KDFParameters.preset(named: kdf) else { throw ValidationError("--kdf must be interactive, moderate or sensitive") }
            if preset == .minimum { Output.warning("--kdf minimum makes the export passphrase trivial to guess; it exists for tests only") }
        }

        func run() throws {
            if plainJSON { return try exportPlainJSON() }
            // Checked before any work: a bundle is bytes, not for a terminal.
            if output == nil, Terminal.isTerminal(1) {
                throw CLIError.usage("a bundle is binary and standard output is a terminal", hint: "write it to a file with -o FILE, or pipe it")
            }
            let vault = try global.unlockedVault()
            let bundle: [UInt8]
            if let to {
                let recipient = try Self.resolve(to, in: vault)
                bundle = try vault.exportBundle(named: names, to: recipient, withHistory: withHistory)
            } else {
                let source = CLIPassphrase(fd: exportFD, file: exportFile, variable: "TOKENVAULT_EXPORT_PASSPHRASE", askpass: false)
                let secret = try source.read(prompt: "Export passphrase: ", confirm: true)
                bundle = try vault.exportBundle(passphrase: secret, kdf: KDFParameters.preset(named: kdf) ?? .default)
            }
            if let output {
                try BundleFile.write(bundle, to: output)
                Output.note("wrote \(output) (\(bundle.count) bytes), signed by \(try vault.identity().text)")
            } else {
                try Output.out(bytes: bundle)
            }
        }

        /// A trusted name, or an identity's text form.
        static func resolve(_ text: String, in vault: Vault) throws -> VaultIdentity {
            if text.lowercased().hasPrefix("tvid") { return try VaultIdentity(text: text) }
            guard let found = try vault.trustedIdentities().first(where: { $0.name == text }) else {
                throw CLIError.failed("no trusted identity named '\(text)'",
                                      hint: "save it first: \(ProgramName.current) id trust \(text) tvid1-... (the line '\(ProgramName.current) id' prints in their vault)")
            }
            return found.identity
        }

        private func exportPlainJSON() throws {
            guard !Terminal.isTerminal(1) else {
                throw CLIError.usage("--plain-json prints every token in clear and standard output is a terminal",
                                     hint: "pipe it to the tool that reads it: \(ProgramName.current) export --plain-json | TOOL")
            }
            Output.warning("--plain-json hands the tokens over in clear text: keep them out of files and logs")
            let vault = try global.unlockedVault()
            let tokens = try vault.exportTokens(named: names.isEmpty ? nil : names, withHistory: withHistory, detail: "as plain JSON")
            let entries: [JSON.Value] = tokens.map { token in
                guard case .object(var fields) = EntryJSON.metadata(token.entry, secret: token.secret) else { return .null }
                fields.append(("token_since", token.entry.tokenSince.map { .string($0.iso8601) } ?? .null))
                fields.append(("history", .array(token.history.map { version in
                    .object([("replaced", .string(version.replaced.iso8601)), ("secret", .string(version.secret.revealString()))])
                })))
                return .object(fields)
            }
            try Output.out(JSON.encode(.object([
                ("format", .string("tokenvault-plain-export")), ("version", .number(1)),
                ("created", .string(Timestamp.now().iso8601)), ("entries", .array(entries)),
            ])) + "\n")
        }
    }
}
