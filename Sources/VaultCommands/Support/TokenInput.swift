import TokenVault
import VaultCLICommon

/// Reads a token: all of stdin when it is not a terminal, else a no-echo prompt on /dev/tty.
enum TokenInput {
    static func read(prompt: String) throws -> Secret {
        let secret: Secret
        if !Terminal.isTerminal(0) {
            do {
                secret = try LineReader.readAll(fd: 0, what: "the token on standard input")
            } catch {
                throw CLIError(error)
            }
        } else if let typed = try Terminal.readSecret(prompt: prompt) {
            secret = typed
        } else {
            throw CLIError.failed("no token: standard input is a terminal but there is no terminal to prompt on")
        }
        guard !secret.isEmpty else {
            throw CLIError.failed("the token is empty", hint: "pipe it on standard input: printf %s \"$TOKEN\" | \(ProgramName.current) add NAME")
        }
        return secret
    }
}
