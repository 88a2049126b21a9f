import Foundation
import Testing
@testable import TokenVault

/// GitLab's answer is hostile input: an id it gives for a token is noted only when it is one
/// GitLab gives (positive), the only kind entry tag 21 holds.
@Suite struct GitLabIdAnswerTests {
    @Test(arguments: [0, -5]) func anIdThatIsNotPositiveIsNotNotedAndTheEntryDoesNotGrow(id: Int) throws {
        let world = try GitLabWorld(tokens: [GitLabWorld.token: ["id": id, "scopes": ["read_api"], "expires_at": "2098-12-31"]])
        world.addEntry()
        for _ in 0..<3 {
            let r = world.gitlab(["verify", "ci"])
            #expect(r.status == 0, "\(r.err)")
        }
        let entry = try world.cli.library().entry(named: "ci")
        #expect(entry.gitlabToken == nil)
        // Not written as a field this version cannot read back, once per verify.
        #expect(!entry.unknownFields.contains { $0.tag == 21 }, "\(entry.unknownFields)")
        #expect(!world.cli.vault(["log", "ci"]).out.contains("GitLab's id of the token noted"))
    }
}

/// The host's configured admin token is needed only to read a record by a known id.
@Suite struct GitLabConfiguredAdminTests {
    @Test func anUnusableConfiguredAdminDoesNotStopATokenWhoseIdIsNotKnownYet() throws {
        let world = try GitLabWorld.forPush()
        #expect(world.cli.vault(["rm", "admin", "--yes"]).status == 0)
        let first = world.gitlab(["verify", "ci"])
        #expect(first.status == 0, "\(first.err)")
        #expect(try world.cli.library().entry(named: "ci").gitlabToken?.id == 2)
        // Now the id is known, and the configured admin token is wanted: in the trash, it is refused.
        let second = world.gitlab(["verify", "ci"])
        #expect(second.status == 1)
        #expect(second.err.contains("vault: error: ci: the admin token 'admin' cannot read the record: it is in the trash"), "\(second.err)")
        // One named is checked although the id is not known.
        #expect(world.cli.add("elsewhere", token: "glpat-ElsewhereToken000000", ["--url", "https://gitlab.example.com", "--kind", "gitlab"]).status == 0)
        #expect(world.cli.vault(["edit", "ci", "--secret"], stdin: .data("glpat-ReplacedByHand000000")).status == 0)
        let named = world.gitlab(["verify", "ci", "--admin-token", "elsewhere"])
        #expect(named.status == 1)
        #expect(named.err.contains("the admin token 'elsewhere' cannot read the record"), "\(named.err)")
    }
}
