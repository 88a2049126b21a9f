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
    /// `vault history NAME` through the agent is the agent's own read of the entry, in one
    /// request, with the same answer as without the agent (it used to have the agent open the
    /// whole manifest, then the entry's records, then chain the read's event: nine requests).
    @Test func theHistoryOfAnEntryIsOneRequestWithTheSameAnswer() throws {
        let cli = CLI()
        let vault = try cli.library()
        try vault.add(Entry(name: "e"), secret: Secret("token-one-0123456789"))
        try vault.update("e", secret: Secret("token-two-0123456789"))
        try vault.update("e", secret: Secret("token-three-0123456789"))
        let local = cli.vault(["history", "e", "--reveal"])
        #expect(local.status == 0, "\(local.err)")
        #expect(local.out.contains("token-two-0123456789") && local.out.contains("token-one-0123456789"))

        #expect(cli.vault(["unlock", "--timeout", "5m"]).status == 0)
        defer { cli.vault(["lock"]) }
        let agent = try #require(AgentClient.connect(vaultPath: cli.vaultPath, environment: cli.environment))
        // As many requests as `vault list`, which asks the agent once (its entries), the
        // status that reports the count included.
        var before = try agent.status().requests
        #expect(cli.vault(["list"], env: ["TOKENVAULT_PASSPHRASE": nil]).status == 0)
        let listing = try agent.status().requests - before
        before = try agent.status().requests
        let through = cli.vault(["history", "e", "--reveal"], env: ["TOKENVAULT_PASSPHRASE": nil])
        let requests = try agent.status().requests - before
        #expect(requests == listing, "history: \(requests) requests, list: \(listing)")
        #expect(through.status == 0, "\(through.err)")
        #expect(through.out == local.out)
        // Recorded by the agent, as a read of the history by this command.
        let reads = try vault.activityLog().events.filter { $0.entry == "e" && $0.action.description == "read history" }
        #expect(reads.count == 2)
        let missing = cli.vault(["history", "f"], env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(missing.status == 2 && missing.err.contains("no entry"), "\(missing.err)")
    }
}
