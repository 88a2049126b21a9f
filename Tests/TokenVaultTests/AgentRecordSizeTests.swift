import Foundation
import Testing
@testable import TokenVault

/// A record larger than the agent takes in one request (TV_AGENT_MAXIMUM_REQUEST) is refused
/// before it is sent, with an error that says so: the agent would drop the connection, and the
/// vault used to look locked.
@Suite struct AgentRecordSizeTests {
    static let largeNotes = String(repeating: "n", count: 5 << 20)

    @Test func aRecordLargerThanTheAgentTakesIsRefusedAsTooLargeNotAsLocked() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder, through: .agent)
        try vault.add(Entry(name: "small"), secret: Secret("glpat-small-record-000000"))
        var entry = Entry(name: "large")
        entry.notes = Self.largeNotes
        do {
            try vault.add(entry, secret: Secret("glpat-large-record-000000"))
            Issue.record("a 5 MiB record went through the agent")
        } catch {
            #expect(error != .locked)
            #expect(error.description.contains("larger than the agent takes in one request (4 MiB)"), "\(error.description)")
        }
        // Nothing written, and the vault still reads through the agent.
        #expect(try vault.entries().map(\.name) == ["small"])
        #expect(try vault.get("small").secret.revealString() == "glpat-small-record-000000")
    }

    @Test func aRecordTheAgentCannotOpenIsReportedAsTooLargeAndTheTokenStillReads() throws {
        let folder = TempFolder()
        let local = try makeVault(in: folder)
        var entry = Entry(name: "large")
        entry.notes = Self.largeNotes
        // Without the agent, the library takes it.
        try local.add(entry, secret: Secret("glpat-large-record-000000"))
        #expect(try local.entry(named: "large").notes == Self.largeNotes)
        let vault = try unlocked(folder, through: .agent)
        // The agent reads the token from its own vault.
        #expect(try vault.get("large").secret.revealString() == "glpat-large-record-000000")
        do {
            let edited = try vault.entry(named: "large")
            #expect(edited.notes == Self.largeNotes)
        } catch {
            #expect(error != .locked)
            #expect(error.description.contains("larger than the agent takes"), "\(error.description)")
        }
    }
}
