import Foundation
import Testing
@testable import TokenVault

/// A write folds the write-ahead log into the vault file, waiting for readers of older
/// snapshots within the busy timeout; past it, the write stands and the vault says so.
@Suite struct FoldTests {
    /// The entry names in a copy of the vault file alone (no `-wal`).
    func namesInCopy(of folder: TempFolder) throws -> [String] {
        let copy = TempFolder()
        try FileManager.default.copyItem(atPath: folder.vaultPath, toPath: copy.vaultPath)
        let vault = try Vault.open(at: copy.vaultPath)
        try vault.unlock(passphrase: Secret("correct horse"))
        return try vault.names()
    }

    @Test func aReaderHoldingAnOldSnapshotPastTheBusyTimeoutLeavesTheChangeInTheLogAndSaysSo() throws {
        let folder = TempFolder()
        let vault = try makeVault(in: folder)
        try vault.add(Entry(name: "first"), secret: Secret("glpat-Fold000000000000000"))
        #expect(!vault.hasChangesOnlyInLog)
        #expect(try namesInCopy(of: folder) == ["first"])

        // Another program reads, and keeps its snapshot.
        let reader = try SQLite(path: folder.vaultPath, mode: .readOnly)
        try reader.execute("BEGIN")
        #expect(try reader.prepare("SELECT count(*) FROM entries").step())
        vault.setBusyTimeout(milliseconds: 300)
        let start = ContinuousClock.now
        try vault.add(Entry(name: "second"), secret: Secret("glpat-Fold111111111111111"))
        // Waited for the reader within the bound, then gave up; the change stands.
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(vault.hasChangesOnlyInLog)
        #expect(try vault.names() == ["first", "second"])
        #expect(try namesInCopy(of: folder) == ["first"])

        // The reader done, the next write folds both.
        try reader.execute("COMMIT")
        try vault.add(Entry(name: "third"), secret: Secret("glpat-Fold222222222222222"))
        #expect(!vault.hasChangesOnlyInLog)
        #expect(try namesInCopy(of: folder) == ["first", "second", "third"])
    }
}
