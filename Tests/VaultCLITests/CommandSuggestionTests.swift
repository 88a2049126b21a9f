import Foundation
import Testing

/// A mistyped command, or a command missing an argument, points at the right command.
@Suite struct CommandSuggestionTests {
    @Test func aMistypedCommandIsNamedAndTheNearestOneSuggested() {
        let cli = CLI(initialise: false)
        let r = cli.vault(["lsit"])
        #expect(r.status == 64)
        #expect(r.err == "vault: error: unknown command 'lsit'\nvault: hint: did you mean 'list'?\n", "\(r.err)")
        #expect(r.stdout.isEmpty)
    }

    @Test func aMistypedCommandAfterGlobalOptionsIsSuggestedToo() {
        let cli = CLI()
        let r = cli.vault(["--vault", cli.vaultPath, "stauts"])
        #expect(r.status == 64)
        #expect(r.err.contains("vault: error: unknown command 'stauts'\nvault: hint: did you mean 'status'?"), "\(r.err)")
    }

    @Test func aMistypedSubcommandOfAGroupIsSuggestedWithinIt() {
        let cli = CLI(initialise: false)
        let r = cli.vault(["gitlab", "verfy"])
        #expect(r.status == 64)
        #expect(r.err == "vault: error: unknown command 'verfy' for 'vault gitlab'\nvault: hint: did you mean 'verify'?\n", "\(r.err)")
    }

    @Test func aWordNearNoCommandPointsAtTheHelp() {
        let cli = CLI(initialise: false)
        let r = cli.vault(["frobnicate"])
        #expect(r.status == 64)
        #expect(r.err == "vault: error: unknown command 'frobnicate'\nvault: hint: see 'vault help'\n", "\(r.err)")
    }

    @Test func rmWithoutANamePointsAtItsOwnHelp() {
        let cli = CLI()
        let r = cli.vault(["rm"])
        #expect(r.status == 64)
        #expect(r.err.contains("vault: hint: see 'vault help rm'\n"), "\(r.err)")
        #expect(cli.vault(["help", "rm"]).out.contains("vault rm old-ci-token"))
    }

    @Test func knownCommandsAndHelpStillParse() {
        let cli = CLI()
        #expect(cli.vault(["list"]).status == 0)
        #expect(cli.vault(["help", "list"]).status == 0)
        #expect(cli.vault(["--help"]).status == 0)
        #expect(cli.vault(["id", "list"]).status == 0)
    }
}
