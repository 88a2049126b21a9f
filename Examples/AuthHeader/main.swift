// An example of another tool using TokenVault: open the default vault, unlock it through the
// user's agent (after `vault unlock`) or else with the passphrase found the way the `vault`
// command finds it (TOKENVAULT_PASSPHRASE, TOKENVAULT_ASKPASS, or a prompt on the terminal), and
// build an HTTP Authorization header from a token.
//
//   swift run auth-header gitlab-ci
import TokenVault

import Glibc

func fail(_ message: String, _ status: Int32) -> Never {
    var line = "auth-header: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(status)
}

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    fail("usage: auth-header NAME", 64)
}
ProcessHardening.apply()
var environment: [String: String] = [:]
for name in ["TOKENVAULT_PATH", "XDG_DATA_HOME", "HOME", "XDG_RUNTIME_DIR"] {
    if let value = getenv(name) { environment[name] = String(cString: value) }
}
do throws(VaultError) {
    let path = VaultLocation.defaultPath(environment: environment)
    let vault = try Vault.open(at: path)
    // The agent first: one `vault unlock` serves every tool, with no key derived here.
    if !vault.unlockThroughAgent(environment: environment) {
        let passphrase: Secret
        do {
            passphrase = try PassphraseSource().read(prompt: "Passphrase for \(path): ")
        } catch {
            fail("error: \(error)", 3)
        }
        try vault.unlock(passphrase: passphrase)
    }
    // `get` refuses a token in the trash, and a revoked or expired one (pass
    // `allowingExpired: true` to take those anyway), before it records the read.
    let token = try vault.get(arguments[1])
    let entry = token.entry
    if entry.expiresSoon() {
        var line = "auth-header: warning: '\(entry.name)' expires on \(entry.expires!.dateString)\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
    // GitLab accepts "Authorization: Bearer <token>" as well as the PRIVATE-TOKEN header.
    print("Authorization: Bearer \(token.secret.revealString())")
} catch {
    switch error {
    case .expired, .revoked: fail("error: \(error)", 4)
    case .inTrash, .notFound: fail("error: \(error)", 2)
    default: fail("error: \(error)", 1)
    }
}
