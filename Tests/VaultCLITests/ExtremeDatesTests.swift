import Foundation
import Testing
import TokenVault

/// Dates at the ends of what a vault may hold (an entry written through the library by another
/// tool, with any `Timestamp`): `vault check` reports them, it never traps on their arithmetic.
@Suite struct ExtremeDatesTests {
    @Test(arguments: [Int64.min, Int64.min + 1, Int64.max])
    func checkReportsAnExpiryAtTheEndsOfTime(seconds: Int64) throws {
        let cli = CLI()
        cli.add("ci", token: "glpat-ExtremeDates000000000", ["--url", "https://gitlab.example.com"])
        let vault = try Vault.open(at: cli.vaultPath)
        try vault.unlock(passphrase: Secret(CLI.passphrase))
        try vault.update("ci") { $0.expires = Timestamp(secondsSince1970: seconds) }

        let checked = cli.vault(["check"])
        #expect(checked.status == (seconds < 0 ? 4 : 0), "\(checked.err)")
        if seconds < 0 { #expect(checked.out.contains("ci: expired on 0001-01-01"), "\(checked.out)") }
        let json = cli.vault(["check", "--json"])
        #expect(json.status == checked.status, "\(json.err)")
    }
}
