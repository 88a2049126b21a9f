import Foundation
import Testing
@testable import TokenVault

/// GitLab's id of a token (entry tag 21) is not taken from a bundle: an admin token reads the
/// record the id names, and the entry takes that record's revocation, scopes and expiry, so an
/// id pointing at another token's record would mark this one revoked.
@Suite struct GitLabIdBundleTests {
    @Test func anImportedTokenComesWithoutTheGitLabIdTheBundleGivesIt() throws {
        let two = TwoVaults()
        two.bob.add("shared", token: "token-bob-own-1")
        try two.bob.library().update("shared") { $0.gitlabToken = GitLabTokenIdentity(id: 11) }
        Thread.sleep(forTimeInterval: 1.2)
        two.alice.add("shared", token: "token-alice-newer-2")
        two.alice.add("added", token: "token-alice-new-3")
        let alice = try two.alice.library()
        for name in ["shared", "added"] {
            // Another token's record (a teammate's mistake, or worse).
            try alice.update(name) { $0.gitlabToken = GitLabTokenIdentity(id: 4242, askedWithItself: .now()) }
        }
        let r = try two.importIntoBob(try two.export(["shared", "added"]))
        #expect(r.status == 0, "\(r.err)")
        let bob = try two.bob.library()
        #expect(try bob.secret(named: "shared").revealString() == "token-alice-newer-2")
        // Neither the bundle's id nor the id of the token it replaced.
        #expect(try bob.entry(named: "shared").gitlabToken == nil)
        #expect(try bob.entry(named: "added").gitlabToken == nil)
        let shown = two.bob.vault(["show", "added", "--json"])
        #expect(shown.status == 0 && shown.out.contains("\"gitlab_token_id\":null"), "\(shown.out)")
    }
}
