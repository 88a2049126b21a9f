import Foundation
import Testing
@testable import TokenVault

/// An attacker with the vault file modifies it with SQL. Every read must return the right
/// secret or an error, never another entry's secret.
@Suite struct TamperTests {
    static let secrets = ["alpha": "glpat-alpha-0000000000000000", "bravo": "glpat-bravo-1111111111111111"]

    /// A vault with two entries, closed, and the raw rows.
    func prepare(_ folder: TempFolder) throws {
        let vault = try makeVault(in: folder)
        for (name, secret) in Self.secrets.sorted(by: { $0.key < $1.key }) {
            try vault.add(Entry(name: name, url: try CredentialURL.parse("https://\(name).example").url), secret: Secret(secret))
        }
    }

    /// Reads every entry afresh and checks each result is the right secret or an error.
    /// Returns how many reads failed.
    @discardableResult
    func readAll(_ folder: TempFolder, through backend: Backend = .local) -> Int {
        var failures = 0
        guard let vault = try? unlocked(folder, through: backend) else { return Self.secrets.count }
        for (name, expected) in Self.secrets {
            do {
                let (entry, secret) = try vault.get(name).pair
                #expect(secret.revealString() == expected, "\(name) returned another secret")
                #expect(entry.name == name)
            } catch {
                failures += 1
            }
        }
        if let entries = try? vault.entries() {
            #expect(entries.map(\.name).sorted() == Self.secrets.keys.sorted())
        }
        return failures
    }

    @Test(arguments: Backend.allCases)
    func untouchedVaultReadsBack(_ backend: Backend) throws {
        let folder = TempFolder()
        try prepare(folder)
        #expect(readAll(folder, through: backend) == 0)
    }

    @Test(arguments: ["lookup", "metadata", "secret"], Backend.allCases)
    func flippedBitsInEveryEntryBlobAreDetected(column: String, backend: Backend) throws {
        let folder = TempFolder()
        try prepare(folder)
        let original = try rawRows(folder.vaultPath)
        let length = original[0].metadata.count
        // Every byte of short blobs; a spread of positions in long ones.
        let positions = Array(Set((0..<min(length, 64)).map { $0 } + stride(from: 0, to: length, by: 7).map { $0 } + [length - 1]))
        for position in positions {
            for row in original {
                var changed = row
                switch column {
                case "lookup": guard position < changed.lookup.count else { continue }; changed.lookup[position] ^= 0x01
                case "metadata": guard position < changed.metadata.count else { continue }; changed.metadata[position] ^= 0x80
                default: guard position < changed.secret.count else { continue }; changed.secret[position] ^= 0x04
                }
                try writeRow(folder.vaultPath, changed)
                #expect(readAll(folder, through: backend) >= 1, "a flipped bit at \(position) in \(column) went unnoticed")
                try writeRow(folder.vaultPath, row)
            }
        }
        #expect(readAll(folder, through: backend) == 0)
    }

    @Test func swappingEncryptedColumnsBetweenRowsIsDetected() throws {
        let folder = TempFolder()
        try prepare(folder)
        let original = try rawRows(folder.vaultPath)
        let columns = ["lookup", "metadata", "secret"]
        // Every non-empty combination of columns swapped between the two rows.
        for mask in 1..<(1 << columns.count) {
            var a = original[0], b = original[1]
            if mask & 1 != 0 { swap(&a.lookup, &b.lookup) }
            if mask & 2 != 0 { swap(&a.metadata, &b.metadata) }
            if mask & 4 != 0 { swap(&a.secret, &b.secret) }
            try withDatabase(folder.vaultPath) { db in
                // Move the lookups out of the way first (the column is unique).
                try db.prepare("UPDATE entries SET lookup = randomblob(32)").run()
            }
            try writeRow(folder.vaultPath, a)
            try writeRow(folder.vaultPath, b)
            let failures = readAll(folder)
            // Swapping all three columns is swapping row ids only, which changes nothing.
            if mask == 7 { #expect(failures == 0) } else { #expect(failures >= 1, "swap mask \(mask) unnoticed") }
            try withDatabase(folder.vaultPath) { db in try db.prepare("UPDATE entries SET lookup = randomblob(32)").run() }
            try writeRow(folder.vaultPath, original[0])
            try writeRow(folder.vaultPath, original[1])
        }
        // Metadata and secret columns swapped within one row.
        var crossed = original[0]
        swap(&crossed.metadata, &crossed.secret)
        try writeRow(folder.vaultPath, crossed)
        #expect(readAll(folder) >= 1)
    }

    @Test func anOlderCopyOfARowIsRefused() throws {
        let folder = TempFolder()
        try prepare(folder)
        let old = try rawRows(folder.vaultPath)
        do {
            let vault = try Vault.open(at: folder.vaultPath)
            try vault.unlock(passphrase: Secret("correct horse"))
            try vault.update("alpha", secret: Secret("glpat-alpha-rotated-22222222"))
        }
        let current = try rawRows(folder.vaultPath)
        // Put alpha's old row back: its old secret must not come out.
        try writeRow(folder.vaultPath, old[0])
        let vault = try Vault.open(at: folder.vaultPath)
        try vault.unlock(passphrase: Secret("correct horse"))
        #expect(throws: VaultError.self) { try vault.get("alpha") }
        #expect(throws: VaultError.self) { try vault.entries() }
        #expect(try vault.secret(named: "bravo").revealString() == Self.secrets["bravo"])
        try writeRow(folder.vaultPath, current[0])
        #expect(try vault.secret(named: "alpha").revealString() == "glpat-alpha-rotated-22222222")
    }

    @Test func aDeletedRowOrAnAddedRowIsDetected() throws {
        let folder = TempFolder()
        try prepare(folder)
        let rows = try rawRows(folder.vaultPath)
        try withDatabase(folder.vaultPath) { db in try db.prepare("DELETE FROM entries WHERE id = ?").run([.integer(rows[1].id)]) }
        let vault = try Vault.open(at: folder.vaultPath)
        try vault.unlock(passphrase: Secret("correct horse"))
        #expect(throws: VaultError.self) { try vault.get("bravo") }
        #expect(throws: VaultError.self) { try vault.entries() }
        // Removing an entry, then putting its row back.
        try withDatabase(folder.vaultPath) { db in
            try db.prepare("INSERT INTO entries (id, lookup, metadata, secret) VALUES (?, ?, ?, ?)")
                .run([.integer(rows[1].id), .blob(rows[1].lookup), .blob(rows[1].metadata), .blob(rows[1].secret)])
        }
        #expect(try vault.secret(named: "bravo").revealString() == Self.secrets["bravo"])
        try vault.remove("bravo")
        try withDatabase(folder.vaultPath) { db in
            try db.prepare("INSERT INTO entries (lookup, metadata, secret) VALUES (?, ?, ?)")
                .run([.blob(rows[1].lookup), .blob(rows[1].metadata), .blob(rows[1].secret)])
        }
        #expect(throws: VaultError.self) { try vault.get("bravo") }
        #expect(throws: VaultError.self) { try vault.entries() }
    }

    @Test(arguments: ["format", "format_wrapped", "alg_wrapped", "vault_id", "kdf_alg", "kdf_ops", "kdf_mem", "kdf_salt", "wrapped_key", "manifest"])
    func aChangedHeaderIsDetected(column: String) throws {
        let folder = TempFolder()
        try prepare(folder)
        try withDatabase(folder.vaultPath) { db in
            switch column {
            case "format": try db.execute("UPDATE vault SET format = 0")
            // Values that equal the real ones when truncated to 32 bits.
            case "format_wrapped": try db.execute("UPDATE vault SET format = format + 4294967296")
            case "alg_wrapped": try db.execute("UPDATE vault SET kdf_alg = kdf_alg + 4294967296")
            case "kdf_alg": try db.execute("UPDATE vault SET kdf_alg = 1")
            case "kdf_ops": try db.execute("UPDATE vault SET kdf_ops = kdf_ops + 1")
            case "kdf_mem": try db.execute("UPDATE vault SET kdf_mem = kdf_mem * 2")
            default:
                let s = try db.prepare("SELECT \(column) FROM vault")
                _ = try s.step()
                var blob = try s.blob(0, "column")
                blob[blob.count / 2] ^= 0x10
                try db.prepare("UPDATE vault SET \(column) = ?").run([.blob(blob)])
            }
        }
        var opened = false
        do {
            let vault = try Vault.open(at: folder.vaultPath)
            try vault.unlock(passphrase: Secret("correct horse"))
            opened = true
        } catch {
            // Any VaultError will do: wrong passphrase, tampered or corrupt.
        }
        #expect(!opened, "a changed \(column) went unnoticed")
    }

    @Test func aVaultKeyFromAnotherVaultDoesNotOpenThisOne() throws {
        let one = TempFolder(), two = TempFolder()
        try prepare(one)
        try prepare(two)
        // Same passphrase, same KDF: copy vault two's salt and wrapped key into vault one.
        let (salt, wrapped) = try withDatabase(two.vaultPath) { db in
            let s = try db.prepare("SELECT kdf_salt, wrapped_key FROM vault")
            _ = try s.step()
            return (try s.blob(0, "column"), try s.blob(1, "column"))
        }
        try withDatabase(one.vaultPath) { db in
            try db.prepare("UPDATE vault SET kdf_salt = ?, wrapped_key = ?").run([.blob(salt), .blob(wrapped)])
        }
        let vault = try Vault.open(at: one.vaultPath)
        #expect(throws: VaultError.self) { try vault.unlock(passphrase: Secret("correct horse")) }
    }
}
