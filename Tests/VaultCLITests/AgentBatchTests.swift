import Foundation
import Testing
@testable import TokenVault

/// Whole-vault commands through the agent make no round trip per entry: the agent counts the
/// requests it answers (`status` reports it), and the count for a command is the same at one
/// entry and at many.
@Suite struct AgentBatchTests {
    /// The requests the agent answered for `arguments`, at `count` entries.
    func requests(for arguments: [String], entries count: Int) throws -> UInt64 {
        let cli = CLI()
        let vault = try cli.library()
        try vault.add((0..<count).map { Token(entry: Entry(name: "entry-\($0)"), secret: Secret("token-\($0)-0123456789")) })
        for index in stride(from: 0, to: count, by: 3) { try vault.markUsed("entry-\(index)") }
        let unlocked = cli.vault(["unlock", "--timeout", "5m"])
        try #require(unlocked.status == 0, "\(unlocked.err)")
        defer { cli.vault(["lock"]) }
        let agent = try #require(AgentClient.connect(vaultPath: cli.vaultPath, environment: cli.environment))
        let before = try agent.status().requests
        let run = cli.vault(arguments, env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(run.status == 0 || arguments.first == "check", "\(arguments): \(run.err)")
        #expect(run.err.contains("passphrase") == false, "\(run.err)")
        return try agent.status().requests - before
    }

    @Test(arguments: [["list"], ["list", "--json"], ["check"], ["log"], ["history", "entry-0"]])
    func aWholeVaultCommandMakesAsManyRequestsAtOneEntryAsAtTwoHundred(_ arguments: [String]) throws {
        let few = try requests(for: arguments, entries: 1)
        let many = try requests(for: arguments, entries: 200)
        #expect(few == many, "\(arguments.joined(separator: " ")): \(few) requests at 1 entry, \(many) at 200")
        #expect(many < 20, "\(many) requests")
    }
}
