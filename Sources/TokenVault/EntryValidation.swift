/// What an entry's fields may hold, checked by the vault on every write so that the CLI, the git
/// helper, the importer and any other caller get the same rules.
extension Entry {
    /// Names are 1 to 128 characters: letters, digits and `. _ - @ : + /`, not starting with `-`,
    /// and not shaped like a token (so that a token pasted in the name's place is refused).
    public static func validate(name: String) throws(VaultError) {
        guard !name.isEmpty, name.utf8.count <= 128 else {
            throw .invalidInput("a name has 1 to 128 characters")
        }
        let allowed = name.unicodeScalars.allSatisfy { s in
            switch s {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-", "@", ":", "+", "/": true
            default: false
            }
        }
        try Redaction.refuseToken(name, what: "that name")
        guard allowed, !name.hasPrefix("-") else {
            throw .invalidInput("'\(Redaction.redact(name))' is not a valid name: use letters, digits and . _ - @ : + /, not starting with -")
        }
    }

    /// A user name holds no control or format character (escape sequences, line breaks,
    /// bidirectional overrides: what the CLI escapes as unprintable): it is sent to git and
    /// shown to people.
    public static func validate(username: String) throws(VaultError) {
        guard !TerminalText.containsUnprintable(username) else {
            throw .invalidInput("the user name holds a control character")
        }
    }

    /// A host holds no control or format character, as a user name.
    public static func validate(host: String) throws(VaultError) {
        guard !TerminalText.containsUnprintable(host) else {
            throw .invalidInput("the host holds a control character")
        }
    }

    /// The name, user name and host of a new entry.
    public func validate() throws(VaultError) {
        try Self.validate(name: name)
        try Self.validate(changedFrom: nil, to: self)
    }

    /// The user name and host of an entry changed from `old`, where they changed (an entry
    /// written before these rules can still be edited otherwise).
    package static func validate(changedFrom old: Entry?, to new: Entry) throws(VaultError) {
        if let username = new.username, username != old?.username { try validate(username: username) }
        if let host = new.host, host != old?.host { try validate(host: host) }
        if let period = new.rotateEvery, period != old?.rotateEvery, period.whole() == nil {
            throw .invalidInput("the rotation period of '\(Redaction.redact(new.name))' must be a whole number of seconds")
        }
    }
}

extension Redaction {
    /// Refuses a value given on the command line (a name, an option's value) that looks like a
    /// token: a token never belongs in argv, where `ps` and shell history see it.
    package static func refuseToken(_ value: String, what: String) throws(VaultError) {
        guard !looksLikeToken(value) else {
            throw .invalidInput("\(what) looks like a token; a token never belongs on the command line: pipe it on standard input")
        }
    }
}
