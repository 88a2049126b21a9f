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
