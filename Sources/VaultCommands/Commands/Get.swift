import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import VaultCLICommon

extension VaultCommand {
    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a token (and one newline) on standard output.",
            discussion: """
                Nothing else is printed on stdout, so the command fits in $( ). An expired or \
                revoked token is not printed (exit code 4) unless --allow-expired, nor one in the \
                trash (exit code 2); a refused read is not recorded as a use. A token that expires \
                within 7 days, or that git's server refused (see `\(ProgramName.current) restore`), is printed with \
                a warning on stderr. So is a token read from a read-only vault or on a full \
                disk: the read is not recorded, and the warning says so.

                --clip copies the token to the clipboard instead (the CLIPBOARD selection, \
                pasted with Ctrl+V), through wl-copy under Wayland, else xclip or xsel under \
                X11, found on PATH; nothing goes to stdout, and the read is recorded as get's. \
                After --clear-after (45s; 0 or never: not cleared) a process left behind \
                clears the clipboard if it still holds the token; it keeps a keyed hash of the \
                token, never the token. With --field, the field is copied. No clipboard (no \
                WAYLAND_DISPLAY or DISPLAY, no program on PATH) or a failed copy: exit code 1.

                Examples:
                  TOKEN=$(\(ProgramName.current) get gitlab-ci)
                  curl -H "PRIVATE-TOKEN: $(\(ProgramName.current) get gitlab-ci)" \\
                      https://gitlab.com/api/v4/user
                  \(ProgramName.current) get gitlab-ci --field username
                  \(ProgramName.current) get gitlab-ci --json | jq -r .secret
                  \(ProgramName.current) get gitlab-ci --clip --clear-after 2m
                """)

        enum Field: String, ExpressibleByArgument, CaseIterable {
            case username, url, host, scopes, expires, kind
        }

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's name.", completion: NameCompletion.names(.live))
        var name: String

        @Option(help: "Print this field instead of the token: username, url, host, scopes, expires or kind.")
        var field: Field?

        @Flag(help: "Print the whole entry, token included, as one JSON object.")
        var json = false

        @Flag(help: "Print the token even if it has expired or is revoked.")
        var allowExpired = false

        @Flag(help: "Copy the token (or --field) to the clipboard instead of printing it.")
        var clip = false

        @Option(help: ArgumentHelp("With --clip: clear the clipboard after this long (default: 45s) if it still holds the token; 0 or never: leave it.",
                                   valueName: "duration"))
        var clearAfter: ClearDelay?

        func validate() throws {
            if field != nil && json { throw ValidationError("--field and --json exclude each other") }
            if clip && json { throw ValidationError("--clip and --json exclude each other") }
            if !clip && clearAfter != nil {
                throw ValidationError("--clear-after goes with --clip")
            }
        }

        func run() throws {
            try Self.perform(session: global.session, name: name, field: field, json: json, allowExpired: allowExpired,
                             clip: clip ? clearAfter ?? ClearDelay(seconds: ClearDelay.standard) : nil)
        }

        /// The whole command, apart from parsing: `vault get NAME`, the commonest call in scripts,
        /// reaches it without the argument parser (see `VaultCommand.main`).
        static func perform(session: Session, name: String, field: Field? = nil, json: Bool = false,
                            allowExpired: Bool = false, clip: ClearDelay? = nil) throws {
            // No clipboard: said before anything is read, so no read is recorded.
            let clipboard = try clip.map { _ in try ClipboardTool.locate(environment: Environment.current) }
            let vault = try session.unlockedVault()
            // `REMOTE/ENTRY`: read from OpenBao, by the same rules (never recorded here: OpenBao's
            // audit device records it).
            let remote = try RemoteAccess.resolve(name, in: vault)
            if let field {
                let entry = try remote.map { remote in try remote.entries.entry(remote.entry).entry }
                    ?? withSuggestion(vault) { try vault.entry(named: name) }
                if entry.deleted != nil { throw VaultError.inTrash(name: name) }
                let value = Self.value(of: field, in: entry)
                if let clipboard, let clip {
                    try copy(Secret(value), to: clipboard, clearingAfter: clip, what: "\(name)'s \(field.rawValue)")
                    return
                }
                try Output.out(value + "\n")
                return
            }
            // The library refuses a token in the trash, and a revoked or expired one unless
            // allowed, before it records the read.
            let token = try remote.map { remote in
                try RemoteAccess.get(remote.entries, remote.entry, name: name, vault: vault, allowingExpired: allowExpired)
            }
                ?? withSuggestion(vault) { let read = try vault.get(name, allowingExpired: allowExpired); return (read.entry, read.secret) }
            let entry = token.entry, secret = token.secret
            ExpiryPolicy.warn(entry)
            if let clipboard, let clip {
                vault.lock()  // Nothing of the vault is needed any more.
                try copy(secret, to: clipboard, clearingAfter: clip, what: "\(name)'s token")
            } else if json {
                try Output.json(EntryJSON.metadata(entry, secret: secret))
            } else {
                try Output.out(secret: secret)
            }
        }

        /// Copies `secret` and, at a terminal, says so on stderr (never what was copied).
        private static func copy(_ secret: Secret, to clipboard: ClipboardTool, clearingAfter delay: ClearDelay, what: String) throws {
            guard try ClipboardClearer.copy(secret, with: clipboard, clearingAfter: delay.seconds) else {
                Output.warning("the clipboard does not read back as what was copied (\(clipboard.name))")
                return
            }
            guard Terminal.isTerminal(2) else { return }
            let when = delay.seconds.map { "cleared in \(Span(seconds: $0).defaultValueDescription) if it still holds it" }
                ?? "not cleared (--clear-after never)"
            Output.note("copied \(what) to the clipboard (\(clipboard.name)): \(when)")
        }

        static func value(of field: Field, in entry: Entry) -> String {
            EntryField(rawValue: field.rawValue)?.value(in: entry) ?? ""
        }
    }
}

/// `--clear-after`: a span as elsewhere (`45s`, `2m`), or `0` / `never` for a clipboard that
/// is not cleared (`seconds` nil).
struct ClearDelay: ExpressibleByArgument, Sendable {
    static let standard: Int64? = 45
    var seconds: Int64?

    init(seconds: Int64?) { self.seconds = seconds }

    init?(argument: String) {
        if argument == "never" || argument == "0" {
            seconds = nil
            return
        }
        guard let span = Span(argument: argument) else { return nil }
        seconds = span.seconds == 0 ? nil : span.seconds
    }

    var defaultValueDescription: String { seconds.map { Span(seconds: $0).defaultValueDescription } ?? "never" }
}

/// What `get` says on stderr with a token the library handed out: the library's lines
/// (`Entry.readWarnings`), the same the agent sends to the C front end of `vault`.
enum ExpiryPolicy {
    static let warningDays = Entry.expiryWarningDays

    static func warn(_ entry: Entry, now: Timestamp = .now()) {
        for line in entry.readWarnings(now: now) { Output.warning(rendered: line) }
    }
}
