import TokenVault

/// The passphrase sources of the command line: `--passphrase-fd N`, `--passphrase-file PATH`,
/// `$TOKENVAULT_PASSPHRASE` (or another variable of ``Environment/secretNames``),
/// `$TOKENVAULT_ASKPASS` and a prompt on `/dev/tty`, by the library's rules
/// (`TokenVault.PassphraseSource`), read from the environment as the process got it (the
/// secret variables are wiped from `environ` at start), with the CLI's messages and exit codes.
package struct CLIPassphrase {
    package var source: PassphraseSource

    package init(fd: Int32?, file: String?, variable: String = "TOKENVAULT_PASSPHRASE", askpass: Bool = true) {
        source = PassphraseSource(fd: fd, file: file, variable: variable, variableValue: Environment.secret(variable),
                                  askpass: askpass ? Environment["TOKENVAULT_ASKPASS"] : nil,
                                  askpassTimeout: Environment[PassphraseSource.askpassTimeoutVariable])
    }

    /// Which source ``read(prompt:confirm:allowPrompt:)`` will use, for --verbose.
    package var sourceName: String { source.sourceName }

    /// Whether ``read(prompt:confirm:allowPrompt:)`` will ask a person at the terminal.
    package var isTerminalPrompt: Bool { source.isTerminalPrompt }

    /// Reads the passphrase. `confirm` asks twice when it comes from a terminal prompt (for a
    /// new passphrase).
    package func read(prompt: String, confirm: Bool = false, allowPrompt: Bool = true) throws(CLIError) -> Secret {
        var source = self.source
        source.allowsPrompt = allowPrompt
        do {
            return try source.read(prompt: prompt, confirm: confirm)
        } catch {
            throw CLIError(error)
        }
    }
}

extension CLIError {
    /// The CLI's words and exit status for a passphrase source's failure (3 when the vault stays
    /// locked for want of an answer, 64 for a bad TOKENVAULT_ASKPASS_TIMEOUT).
    package init(_ error: PassphraseError) {
        switch error {
        case .noSource:
            self = .noPassphrase
        case .descriptorIsTerminal(let fd):
            self = .failed("--passphrase-fd \(fd) is a terminal, where the passphrase would be echoed",
                           hint: "leave out --passphrase-fd to be asked without echo")
        case .invalidAskpassTimeout:
            self = .usage(error.description)
        case .askpassTimedOut, .askpassDidNotExit:
            self = .locked(error.description, hint: error.hint)
        default:
            self = .failed(error.description, hint: error.hint)
        }
    }
}
