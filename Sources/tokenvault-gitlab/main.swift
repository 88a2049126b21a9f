// tokenvault-gitlab: the `vault` command line with GitLab's API reachable over HTTPS (libcurl).
// `vault gitlab ...` and `vault check --online` run it (from PREFIX/libexec/tokenvault), so that
// `vault` itself links no HTTP stack.
import TokenVaultHTTP
import VaultCommands
import Glibc

// A connection GitLab closes never kills the program before a new token is stored.
signal(SIGPIPE, SIG_IGN)
VaultCLI.start(gitlab: CurlTransport())
