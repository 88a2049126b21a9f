import ArgumentParser
import TokenVault
import VaultCLICommon

/// Which subcommand a command line names, read before the parser: for a help hint that names
/// the command (`see 'vault help rm'`), and for `vault lsit`, which the parser would call an
/// unexpected argument, an unknown command with the nearest name suggested.
enum CommandPath {
    /// The subcommands named at the start of `arguments` (global options hoisted), and the
    /// first word where a subcommand was expected that names none (nil when all were known).
    static func read(_ arguments: [String], root: any ParsableCommand.Type = VaultCommand.self)
        -> (path: [String], unknown: (word: String, choices: [String])?) {
        var command = root
        var path: [String] = []
        for word in arguments {
            let subcommands = command.configuration.subcommands
            if subcommands.isEmpty || word.hasPrefix("-") || word == "help" { break }
            guard let next = subcommands.first(where: { $0._commandName == word }) else {
                return (path, (word, subcommands.map { $0._commandName }))
            }
            path.append(word)
            command = next
        }
        return (path, nil)
    }

    /// `vault lsit` as a usage error: `unknown command 'lsit'`, and `did you mean 'list'?` when
    /// one is close.
    static func refuseUnknown(_ arguments: [String]) throws(CLIError) {
        let (path, unknown) = read(arguments)
        guard let unknown else { return }
        let command = ([ProgramName.current] + path).joined(separator: " ")
        let hint = Suggestion.closest(to: unknown.word, in: unknown.choices).map { "did you mean '\($0)'?" }
            ?? "see '\(([ProgramName.current, "help"] + path).joined(separator: " "))'"
        throw .usage("unknown command '\(unknown.word)'" + (path.isEmpty ? "" : " for '\(command)'"), hint: hint)
    }

    /// `vault help` followed by the subcommands named: where the help for a usage error is.
    static func helpCommand(_ arguments: [String]) -> String {
        ([ProgramName.current, "help"] + read(arguments).path).joined(separator: " ")
    }
}
