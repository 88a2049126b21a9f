import ArgumentParser
import TokenVault
import VaultCLICommon

/// Entry names for the shells' completion scripts (`vault completions`). At each TAB on an
/// entry's name the script calls the program back (`vault ---completion SUBCOMMAND... --
/// ARGUMENT ...`, swift-argument-parser's format), and the names come from the unlocked agent
/// in one request, with no event recorded. Without an agent that holds the key (the vault is
/// locked), or on any failure, there are no names: never a prompt, never a word on stderr.
enum NameCompletion {
    /// The first argument of a call back from a completion script.
    static let request = "---completion"

    /// Which entries a command takes.
    enum Entries {
        /// Not in the trash: what `get`, `exec`, `edit` ... act on.
        case live
        /// Every entry (`show`, `history`, `log`).
        case all
        /// In the trash or rejected by git: what `restore` brings back.
        case restorable
        /// `rm`: live ones, and with `--purge` on the line every one.
        case removable
    }

    /// The completion of an argument that names an entry.
    static func names(_ entries: Entries) -> CompletionKind {
        .custom { words, _, _ in
            let which: Entries = entries == .removable ? (words.contains("--purge") ? .all : .live) : entries
            return candidates(which, words: words).map(quoted)
        }
    }

    /// `--env NAME=ENTRY`: once `NAME=` is typed, `NAME=` and each live entry's name.
    static var variable: CompletionKind {
        .custom { words, _, prefix in
            guard let equals = prefix.firstIndex(of: "=") else { return [] }
            let variable = String(prefix[...equals])
            return candidates(.live, words: words).map { quoted(variable + $0) }
        }
    }

    /// Answers a call back from a completion script: the candidates on stdout, one a line, and
    /// nothing else, whatever happens (exit 0).
    static func respond(to arguments: [String]) -> Int32 {
        do {
            _ = try VaultCommand.parseAsRoot(arguments)
        } catch {
            // The argument parser answers with an "error" that carries the candidates; any
            // other error (a script of another version) is not for the shell to show.
            if VaultCommand.exitCode(for: error) == .success {
                let text = VaultCommand.fullMessage(for: error)
                try? Output.out(text.isEmpty ? "" : text + "\n")
            }
        }
        return 0
    }

    /// The names of `entries` in the vault the command line names (`--vault PATH`, else the
    /// default one), through its agent; none when no agent holds the key.
    private static func candidates(_ entries: Entries, words: [String]) -> [String] {
        let environment = Environment.current
        let path = vaultPath(in: words, environment: environment) ?? VaultLocation.defaultPath(environment: environment)
        guard let agent = AgentClient.connect(vaultPath: path, environment: environment),
              let vault = try? Vault.open(at: path, checkingNow: false),
              (try? vault.unlock(with: agent)) != nil,
              let all = try? vault.entries() else { return [] }
        return all.filter { entry in
            switch entries {
            case .live, .removable: entry.deleted == nil
            case .all: true
            case .restorable: entry.deleted != nil || entry.rejected != nil
            }
        }
        .map(\.name)
        // Only names today's rule allows (only a vault written by something else holds another):
        // bash's own quoting of what TAB inserts breaks the line on some characters (`$(...)`),
        // and a line break or an escape sequence has no place on a command line.
        .filter { (try? Entry.validate(name: $0)) != nil }
    }

    /// `--vault PATH` or `--vault=PATH` as typed on the line being completed (`~/` expanded).
    private static func vaultPath(in words: [String], environment: [String: String]) -> String? {
        let option = "--" + GlobalOptions.Names.vault
        var value: String?
        for (index, word) in words.enumerated() {
            if word == option, index + 1 < words.count {
                value = words[index + 1]
            } else if word.hasPrefix(option + "=") {
                value = String(word.dropFirst(option.count + 1))
            }
        }
        guard let value, !value.isEmpty else { return nil }
        if value.hasPrefix("~/"), let home = environment["HOME"] { return home + value.dropFirst(1) }
        return value
    }

    /// A candidate as the requesting shell reads it literally. bash's `compgen -W` expands each
    /// word (`$(...)` would run): single-quoted, it only removes the quotes. zsh's `_describe`
    /// splits at a colon (which names may hold) and removes backslashes: both escaped. fish
    /// takes each line as it is.
    static func quoted(_ name: String) -> String {
        let shell = CompletionShell.requesting
        if shell == .bash { return "'" + name.replacing("'", with: #"'\''"#) + "'" }
        if shell == .zsh { return name.replacing(#"\"#, with: #"\\"#).replacing(":", with: #"\:"#) }
        return name
    }
}
