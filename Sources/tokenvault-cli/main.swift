// tokenvault-cli: the `vault` command line (Sources/VaultCommands). `vault` itself is a small C
// front end (Sources/vault/main.c) that answers `vault get NAME` through the agent and runs this
// program, installed in PREFIX/libexec/tokenvault, for everything else.
import VaultCommands

VaultCLI.start()
