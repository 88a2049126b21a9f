// tokenvault-gitlab: the `vault` command line with GitLab's API reachable over HTTPS (libcurl).
// `vault gitlab ...` and `vault check --online` run it (from PREFIX/libexec/tokenvault), so that
// `vault` itself links no HTTP stack.
import TokenVaultHTTP
import VaultCommands

VaultCLI.start(gitlab: CurlTransport())
