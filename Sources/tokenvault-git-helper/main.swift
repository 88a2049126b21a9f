// tokenvault-git-helper: git's credential helper on the vault, written in Swift. Git runs
// `git-credential-vault`, a small C front end that answers `get` through the unlocked agent and
// runs this program for everything else, with the same arguments and git's description on
// stdin (installed in PREFIX/libexec/tokenvault/). See GitHelper in VaultGitHelper.
import TokenVault
import TokenVaultHTTP
import VaultCLICommon
import VaultGitHelper
import Glibc

ProcessHardening.apply()
Environment.forgetSecrets()
let arguments = Array(CommandLine.arguments.dropFirst())
// The agent this helper starts after a passphrase typed at the terminal is this program, run as
// `tokenvault-git-helper agent --vault PATH` (as `vault agent`): see AgentLauncher.
if let vaultPath = AgentLauncher.agentRequest(arguments) { exit(AgentLauncher.serve(vaultPath: vaultPath)) }
// Remote entries (OpenBao) are served over libcurl; a closed connection never kills the helper.
signal(SIGPIPE, SIG_IGN)
GitHelper.openBao = CurlTransport()
exit(GitHelper.main(arguments: arguments))
