// vault: the command line (Sources/VaultCommands).
import VaultCommands

VaultCLI.start()
