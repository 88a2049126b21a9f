import ArgumentParser
import Glibc
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct KeyfileCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keyfile",
            abstract: "Make a key file: a second factor that must be present with the passphrase.",
            discussion: """
                A vault made with '\(ProgramName.current) init --key-file FILE', or given one with \
                '\(ProgramName.current) passwd --add-key-file FILE', opens only with its passphrase and \
                that file: a copied vault file and a guessed passphrase are not enough.

                Examples:
                  \(ProgramName.current) keyfile new /media/usb/vault.key
                  \(ProgramName.current) passwd --add-key-file /media/usb/vault.key
                """,
            subcommands: [New.self])

        struct New: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a new key file: 32 random bytes, mode 600.",
                discussion: """
                    Keep the key file apart from the vault file: on a removable drive, or in \
                    another folder that is not backed up or synced with the vault. A key file \
                    beside the vault, or in the same backup, is copied with it and protects \
                    nothing. The file is never overwritten: a path where anything exists (a \
                    symbolic link included) is refused, and so is a folder that other users may \
                    write to. Any file of 32 bytes to 1 MiB that is private to you can serve as \
                    a key file; its whole content counts.

                    Examples:
                      \(ProgramName.current) keyfile new /media/usb/vault.key
                    """)

            @OptionGroup var global: GlobalOptions

            @Argument(help: ArgumentHelp("Where to write the key file (it must not exist).", valueName: "file"))
            var file: String

            func run() throws {
                do throws(KeyFileError) {
                    try KeyFile.create(at: file)
                } catch {
                    throw CLIError(error)
                }
                Output.note("wrote the key file \(file) (32 random bytes, mode 600)")
                if let here = KeyFileNotes.folder(of: file), here == KeyFileNotes.folder(of: global.path) {
                    Output.warning("the key file is in the vault's folder: a copy of the folder takes both; keep it apart from the vault")
                }
            }
        }
    }
}

/// What `init --key-file` and `passwd --add-key-file` tell the user about a key file.
enum KeyFileNotes {
    /// Losing the key file loses the vault: said, with the ways to keep the tokens.
    static func warnLoss(_ file: String) {
        Output.warning("without the key file \(file) the vault cannot be opened, even with the passphrase: keep a copy of it, apart from the vault")
        Output.hint("'\(ProgramName.current) backup FILE' copies the vault (which still needs the key file); '\(ProgramName.current) export' writes its tokens to a bundle that opens with a passphrase of its own")
    }

    /// The folder of `path`, resolved (nil when it cannot be).
    static func folder(of path: String) -> String? {
        let folder = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        guard let resolved = realpath(folder, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
