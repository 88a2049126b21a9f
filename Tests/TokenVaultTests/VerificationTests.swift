import Foundation
import Testing
@testable import TokenVault

/// `Vault.verify()` on the files TamperTests makes: what a read would refuse, the report names,
/// part by part, and it goes on to check the rest.
@Suite struct VerificationTests {
    func report(_ folder: TempFolder, through backend: Backend) throws -> VerificationReport {
        let vault = try Vault.openReadOnly(at: folder.vaultPath)
        try vault.unlock(withKeysOf: try unlocked(folder, through: backend))
        return try vault.verify()
    }

    func failed(_ report: VerificationReport) -> [VerificationReport.Part] {
        report.findings.filter { $0.problem != nil }.map(\.part)
    }

    @Test(arguments: Backend.allCases)
    func anUntouchedVaultVerifiesPartByPart(_ backend: Backend) throws {
        let folder = TempFolder()
        try TamperTests().prepare(folder)
        let report = try report(folder, through: backend)
        #expect(report.isIntact, "\(report.findings)")
        #expect(report.findings.map(\.part) == VerificationReport.Part.allCases)
    }

    @Test(arguments: ["lookup", "metadata", "secret"], Backend.allCases)
    func aFlippedBitInAnyEntryBlobFailsTheEntriesAndOnlyWhatDependsOnThem(column: String, backend: Backend) throws {
        let folder = TempFolder()
        try TamperTests().prepare(folder)
        let original = try rawRows(folder.vaultPath)
        for position in stride(from: 0, to: original[0].metadata.count, by: 11) {
            var changed = original[1]
            switch column {
            case "lookup": guard position < changed.lookup.count else { continue }; changed.lookup[position] ^= 0x01
            case "metadata": changed.metadata[position] ^= 0x80
            default: guard position < changed.secret.count else { continue }; changed.secret[position] ^= 0x04
            }
            try writeRow(folder.vaultPath, changed)
            let report = try report(folder, through: backend)
            #expect(failed(report) == [.entries, .history, .trash], "a flipped bit at \(position) in \(column): \(report.findings)")
            // The log was not touched: still checked, still good.
            #expect(report.findings.last?.problem == nil)
            try writeRow(folder.vaultPath, original[1])
        }
        #expect(try report(folder, through: backend).isIntact)
    }

    @Test func anOlderCopyOfARowFailsTheEntries() throws {
        let folder = TempFolder()
        try TamperTests().prepare(folder)
        let old = try rawRows(folder.vaultPath)
        do {
            let vault = try unlocked(folder, through: .local)
            try vault.update("alpha", secret: Secret("glpat-alpha-rotated-22222222"))
        }
        try writeRow(folder.vaultPath, old[0])
        let report = try report(folder, through: .local)
        #expect(failed(report) == [.entries, .history, .trash])
        #expect(report.firstProblem?.contains("entries") == true)
    }

    @Test func aVaultThatNoProgramHasOpenIsReadAsOtherProgramsWriteItNotAsAFileThatNeverChanges() throws {
        let folder = TempFolder()
        try TamperTests().prepare(folder)
        // Closed: nothing beside it (a `vault verify` while no agent or command has it open).
        #expect(!FileManager.default.fileExists(atPath: folder.vaultPath + "-shm"))
        let reader = try Vault.openReadOnly(at: folder.vaultPath)
        try reader.unlock(passphrase: Secret("correct horse"))
        #expect(try reader.verify().isIntact)
        // Meanwhile another program writes (each write folded into the file) and closes.
        do {
            let writer = try unlocked(folder, through: .local)
            for index in 0..<40 {
                try writer.add(Entry(name: "new-\(index)"), secret: Secret("glpat-new\(index)-0000000000000000"))
            }
        }
        let report = try reader.verify()
        #expect(report.isIntact, "\(report.findings)")
        #expect(report.findings.first { $0.part == .entries }?.summary.hasPrefix("42 entries") == true, "\(report.findings)")
        // Closed, it leaves nothing beside the file.
        _ = consume reader
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("vault.db") } == ["vault.db"])
    }
}
