import CAgentProtocol
import Synchronization

/// The command line's name in text a person reads: the prefix of its messages (`vault: error:`),
/// the commands hints spell (`vault restore X`), the usage line and examples of its help, and
/// the command a completion script registers unless told another (`vault completions --name`).
/// TokenVault installs one program under two names, `vault` and `tokenvault` (for a machine where
/// HashiCorp's Vault is `vault`): whoever typed `tokenvault` is told `tokenvault restore X`.
///
/// Only these two names. The name a program was invoked as is input from outside, so it is never
/// printed: it only chooses between the two. Any other name (`tokenvault-cli` run directly, the
/// git helper `git-credential-vault`, the agent, a test) is `vault`, the name the documentation
/// uses. The agent renders `vault get`'s warnings with `vault` whoever started it, and the C front
/// end of `vault` invoked as `tokenvault` renames the commands they quote (`'vault ...`). The
/// activity log names who asked as `vault get`, `vault exec ...` under either name: a record that
/// scripts read, not a message.
package enum ProgramName {
    /// The name the documentation uses, and the one for any program not invoked as `tokenvault`.
    package static let canonical = TV_PROGRAM_CANONICAL
    /// The other installed name.
    package static let alternative = TV_PROGRAM_ALTERNATIVE

    private static let invokedAsAlternative = Atomic<Bool>(false)

    /// The name of this process's command line: `vault` or `tokenvault`.
    package static var current: String {
        invokedAsAlternative.load(ordering: .relaxed) ? alternative : canonical
    }

    /// Takes this process's name from `argument0` (argv[0], as the front end passed it on): its
    /// last path component, when that is `tokenvault`.
    package static func adopt(invokedAs argument0: String) {
        invokedAsAlternative.store(name(invokedAs: argument0) == alternative, ordering: .relaxed)
    }

    /// `vault` or `tokenvault` for a program invoked as `argument0`.
    package static func name(invokedAs argument0: String) -> String {
        let base = argument0.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        return base == alternative ? alternative : canonical
    }
}
