import Foundation
@testable import TokenVault

/// A private temporary folder (mode 0700) that is removed when the test ends.
final class TempFolder: Sendable {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() + "/tokenvault-test-XXXXXX").utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil, "mkdtemp failed")
        path = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        chmod(path, 0o700)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    var vaultPath: String { path + "/vault.db" }

    /// Every regular file below the folder.
    func files() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: path)
        var result: [String] = []
        while let name = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let full = path + "/" + name
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                result.append(full)
            }
        }
        return result
    }
}

func mode(of path: String) -> UInt32 {
    var info = stat()
    precondition(stat(path, &info) == 0, "stat \(path)")
    return UInt32(info.st_mode) & 0o777
}

func bytes(of path: String) -> [UInt8] {
    (FileManager.default.contents(atPath: path).map { [UInt8]($0) }) ?? []
}

extension Array where Element == UInt8 {
    func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { i in self[i..<i + needle.count].elementsEqual(needle) }
    }
}

/// Creates a vault at libsodium's minimum KDF cost, so tests stay fast.
func makeVault(in folder: TempFolder, passphrase: String = "correct horse") throws -> Vault {
    try Vault.create(at: folder.vaultPath, passphrase: Secret(passphrase), kdf: .minimum)
}

/// Direct SQL on a vault file, as an attacker with the file would do it.
func withDatabase<R>(_ path: String, _ body: (SQLite) throws -> R) throws -> R {
    let db = try SQLite(path: path, mode: .readWrite)
    return try body(db)
}

struct RawRow: Equatable {
    var id: Int64
    var lookup: [UInt8]
    var metadata: [UInt8]
    var secret: [UInt8]
}

func rawRows(_ path: String) throws -> [RawRow] {
    try withDatabase(path) { db in
        let s = try db.prepare("SELECT id, lookup, metadata, secret FROM entries ORDER BY id")
        var rows: [RawRow] = []
        while try s.step() { rows.append(RawRow(id: s.int(0), lookup: try s.blob(1, "lookup"), metadata: try s.blob(2, "metadata"), secret: try s.blob(3, "secret"))) }
        return rows
    }
}

func writeRow(_ path: String, _ row: RawRow) throws {
    try withDatabase(path) { db in
        try db.prepare("UPDATE entries SET lookup = ?, metadata = ?, secret = ? WHERE id = ?")
            .run([.blob(row.lookup), .blob(row.metadata), .blob(row.secret), .integer(row.id)])
    }
}

extension Token {
    /// The entry and the token, for a test that names both at once.
    var pair: (Entry, Secret) { (entry, secret) }
}
