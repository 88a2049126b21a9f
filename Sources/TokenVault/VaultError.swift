/// Every failure the library reports. Messages name entries and paths, never a secret: a value
/// that looks like a token is shown as `<redacted>` even where a name was expected.
public enum VaultError: Error, Sendable, Equatable {
    /// The passphrase does not open this vault (or the header's KDF parameters were changed).
    case wrongPassphrase
    /// The passphrase and key file do not open this vault, which needs both: one of them (or
    /// both) is wrong, and which one cannot be known.
    case wrongPassphraseOrKeyFile
    /// This vault needs a key file with the passphrase, and none was given.
    case keyFileRequired
    /// No entry has this name.
    case notFound(name: String, suggestion: String?)
    /// An entry with this name exists already.
    case alreadyExists(name: String)
    /// `get` refuses the entry's token: it is in the trash (restore it first).
    case inTrash(name: String)
    /// `get` refuses the entry's token: it expired on this date (unless the caller allows it).
    case expired(name: String, on: Timestamp)
    /// `get` refuses the entry's token: GitLab said it is revoked, as found on this date
    /// (unless the caller allows it).
    case revoked(name: String, on: Timestamp)
    /// The operation needs the vault key, and the vault is locked.
    case locked
    /// An authenticated ciphertext did not verify, or a verified one belongs elsewhere: the file
    /// was modified outside TokenVault.
    case tampered(String)
    /// The file is not a readable TokenVault database.
    case corrupt(String)
    /// The vault file can be read or written by other users, or its folder written to.
    case unsafePermissions(path: String, mode: UInt32, isDirectory: Bool)
    /// The vault file or its folder belongs to another user.
    case wrongOwner(path: String)
    /// No vault exists at this path.
    case noVault(path: String)
    /// A vault already exists at this path.
    case vaultExists(path: String)
    /// The vault was written by a newer TokenVault.
    case unsupportedFormat(Int)
    /// Another process kept the vault locked for writing for this many seconds.
    case busy(seconds: Int)
    /// A name, URL or other input is not acceptable.
    case invalidInput(String)
    /// SQLite or the file system failed.
    case database(String)
    /// A file system call failed; the message names the path and the reason.
    case io(String)
    /// Deriving the key needed more memory than the machine could give (the header's KDF memory cost).
    case outOfMemory
    /// The header asks for a key derivation costlier than `sensitive` (more passes or more
    /// memory than TokenVault writes): refused before any work unless the user allows it.
    case costlyKeyDerivation(opsLimit: UInt64, memLimit: UInt64)
    /// The agent running for this vault is of another version of TokenVault (its protocol is
    /// not this one): it is not used.
    case otherAgentVersion
    /// A change was refused: the vault file at this path cannot be written here (mode 0400, a
    /// folder the user cannot write, a read-only mount). Nothing was changed; reads still work.
    case readOnly(path: String)
    /// A change was refused: the disk (or quota) holding the vault at this path is full. Nothing
    /// was changed.
    case diskFull(path: String)
}

extension VaultError: CustomStringConvertible {

    /// A message for a person, one line, without a secret: names that look like tokens are redacted.
    public var description: String {
        switch self {
        case .wrongPassphrase:
            "wrong passphrase"
        case .wrongPassphraseOrKeyFile:
            "wrong passphrase or key file"
        case .keyFileRequired:
            "this vault needs its key file as well as the passphrase, and no key file was given"
        case .notFound(let name, _):
            "no entry named '\(Redaction.redact(name))'"
        case .alreadyExists(let name):
            "an entry named '\(Redaction.redact(name))' already exists"
        case .inTrash(let name):
            "'\(Redaction.redact(name))' is in the trash"
        case .expired(let name, let date):
            "the token '\(Redaction.redact(name))' expired on \(date.dateString)"
        case .revoked(let name, let date):
            "the token '\(Redaction.redact(name))' is revoked at GitLab (found on \(date.dateString))"
        case .locked:
            "the vault is locked"
        case .tampered(let what):
            "the vault was tampered with or is corrupt: \(what) failed authentication"
        case .corrupt(let what):
            "the vault is corrupt: \(what)"
        case .unsafePermissions(let path, let mode, let isDirectory):
            "permissions \(String(mode & 0o7777, radix: 8)) for \(isDirectory ? "folder" : "file") '\(path)' are too open: other users can \(isDirectory ? "write to" : "read or write") it"
        case .wrongOwner(let path):
            "'\(path)' belongs to another user"
        case .noVault(let path):
            "no vault at '\(path)'"
        case .vaultExists(let path):
            "a vault already exists at '\(path)'"
        case .unsupportedFormat(let version):
            "this vault has format version \(version), which this TokenVault does not know: upgrade TokenVault"
        case .invalidInput(let message):
            message
        case .database(let message):
            "database error: \(message)"
        case .busy(let seconds):
            "the vault stayed busy for \(seconds) \(seconds == 1 ? "second" : "seconds") (another process kept it locked for writing)"
        case .io(let message):
            message
        case .outOfMemory:
            "out of memory while deriving the key (the vault's KDF memory cost is larger than this machine can give)"
        case .otherAgentVersion:
            "the agent running for this vault is of another version of TokenVault"
        case .readOnly(let path):
            "the vault file '\(path)' is read-only: nothing was changed"
        case .diskFull(let path):
            "the disk holding the vault file '\(path)' is full: nothing was changed"
        case .costlyKeyDerivation(let ops, let mem):
            "the vault header asks for a key derivation of \(ops) passes over \(mem >> 20) MiB, costlier than TokenVault writes (at most 4 passes over 1024 MiB, 'sensitive'): refused before any work"
        }
    }

    /// A next step for the user, where there is one.
    public var hint: String? {
        switch self {
        case .notFound(_, let suggestion?):
            "did you mean \(suggestion)?"
        case .inTrash(let name):
            "\(ProgramName.current) restore \(Redaction.redact(name))"
        case .keyFileRequired:
            "give it with --key-file FILE or TOKENVAULT_KEY_FILE, or remember where it is with '\(ProgramName.current) config key-file FILE'"
        case .expired:
            "renew it, or pass --allow-expired to print it anyway"
        case .revoked:
            "create a new token, or pass --allow-expired to print the old one anyway"
        case .unsafePermissions(let path, _, let isDirectory):
            isDirectory ? "chmod go-w '\(path)'" : "chmod 600 '\(path)'"
        case .noVault:
            "create one with '\(ProgramName.current) init', or point --vault or TOKENVAULT_PATH at an existing vault"
        case .tampered, .corrupt:
            "restore the vault from a backup; do not trust entries read from this file"
        case .otherAgentVersion:
            "run '\(ProgramName.current) lock' to stop it, then '\(ProgramName.current) unlock' to start an agent of this version"
        case .readOnly:
            "reads still work; to change the vault, make its file and folder writable for you (chmod u+w), or mount it read-write"
        case .diskFull:
            "free some space on that disk and try again; reads still work"
        case .costlyKeyDerivation:
            "if you gave the vault this cost yourself, pass --allow-costly-kdf to \(ProgramName.current) (for git: '\(ProgramName.current) unlock --allow-costly-kdf'); otherwise the file was changed: restore it from a backup"
        default:
            nil
        }
    }
}

/// Keeps token-looking strings out of messages.
package enum Redaction {
    /// Prefixes of personal access tokens and similar credentials of GitLab and GitHub.
    package static let tokenPrefixes = [
        "glpat-", "gloas-", "gldt-", "glrt-", "glptt-", "glcbt-", "glimt-", "glft-", "glsoat-", "glagent-",
        "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
    ]

    /// True when `value` looks like a credential: a known token prefix, or a run of 16 or more
    /// letters and digits (between `-`, `_` and other separators) that holds both, as random
    /// tokens do. Names made of words (`project-1-deploy-key`) do not match, nor does a number
    /// with a one-letter unit (`99999999999999999999d`).
    package static func looksLikeToken(_ value: String) -> Bool {
        if tokenPrefixes.contains(where: { value.hasPrefix($0) }) { return true }
        var length = 0, letters = 0, digits = 0, endsInLetter = false
        func random() -> Bool { length >= 16 && letters > 0 && digits > 0 && !(letters == 1 && endsInLetter) }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z": letters += 1; length += 1; endsInLetter = true
            case "0"..."9": digits += 1; length += 1; endsInLetter = false
            default:
                if random() { return true }
                length = 0; letters = 0; digits = 0; endsInLetter = false
            }
        }
        return random()
    }

    /// `text` with every token-like run of characters (letters, digits, `-_=+`) replaced by
    /// `<redacted>`, so that a token pasted into a name or URL never reaches a message.
    package static func redact(_ text: String) -> String {
        var result = ""
        var run = ""
        func flush() {
            result += looksLikeToken(run) ? "<redacted>" : run
            run = ""
        }
        for character in text {
            if character.isASCII && (character.isLetter || character.isNumber || "-_=+".contains(character)) {
                run.append(character)
            } else {
                flush()
                result.append(character)
            }
        }
        flush()
        return result
    }
}
