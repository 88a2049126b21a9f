// git-credential-vault: git's credential helper on the vault.
//   git config --global credential.helper vault
// Git runs `git-credential-vault get|store|erase` and talks to it on stdin and stdout; see
// GitHelper in VaultSupport.
import TokenVault
import VaultSupport
#if canImport(Glibc)
import Glibc
#endif

ProcessHardening.apply()
_ = Environment.current
unsetenv("TOKENVAULT_PASSPHRASE")
exit(GitHelper.main(arguments: Array(CommandLine.arguments.dropFirst())))
