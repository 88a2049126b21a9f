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
        // An agent started for this folder's vault (`Backend.agent`) wipes its key and exits.
        try? AgentClient.connect(vaultPath: vaultPath, environment: agentEnvironment)?.lock()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Where this folder's agents listen: a folder of their own inside it.
    var agentEnvironment: [String: String] { ["XDG_RUNTIME_DIR": path] }

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

/// Where a vault's keys are while a test uses it: the library suite runs over both.
enum Backend: String, CaseIterable, Sendable {
    /// In this process, after an unlock with the passphrase.
    case local
    /// In an agent (an `AgentServer` in this process, on a real Unix socket in the test's
    /// folder), which the vault asks for every seal, open and read.
    case agent
}

/// Creates a vault at the minimum KDF cost and returns it unlocked through `backend`.
func makeVault(in folder: TempFolder, through backend: Backend, passphrase: String = "correct horse") throws -> Vault {
    let created = try makeVault(in: folder, passphrase: passphrase)
    guard backend == .agent else { return created }
    return try unlocked(folder, through: .agent, passphrase: passphrase)
}

/// The vault in `folder`, opened afresh and unlocked through `backend` (for `.agent`, the
/// folder's agent, started and unlocked the first time).
func unlocked(_ folder: TempFolder, through backend: Backend, passphrase: String = "correct horse") throws -> Vault {
    let vault = try Vault.open(at: folder.vaultPath)
    switch backend {
    case .local: try vault.unlock(passphrase: Secret(passphrase))
    case .agent: try vault.unlock(with: try agent(for: folder, passphrase: passphrase))
    }
    return vault
}

/// A connection to the agent of the folder's vault, holding its key; started if none runs.
func agent(for folder: TempFolder, passphrase: String = "correct horse") throws -> AgentClient {
    let (path, environment) = (folder.vaultPath, folder.agentEnvironment)
    if let running = AgentClient.connect(vaultPath: path, environment: environment), (try? running.status())?.unlocked == true {
        return running
    }
    Thread.detachNewThread { try? AgentServer(vaultPath: path, environment: environment).run() }
    for _ in 0..<300 {
        if let client = AgentClient.connect(vaultPath: path, environment: environment) {
            try client.unlock(passphrase: Secret(passphrase), idleTimeout: .seconds(600), maximumLifetime: .seconds(600))
            return client
        }
        usleep(10_000)
    }
    throw VaultError.locked
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
