import Foundation
@testable import TokenVault

/// A private HOME with a vault path, and a helper to run the real `vault` binary in it.
final class CLI: @unchecked Sendable {
    let home: String
    let vaultPath: String
    var environment: [String: String]
    static let passphrase = "correct horse battery"

    init(initialise: Bool = true) {
        var template = Array((NSTemporaryDirectory() + "/tokenvault-cli-XXXXXX").utf8CString)
        _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        home = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        chmod(home, 0o700)
        vaultPath = home + "/.local/share/tokenvault/vault.db"
        // A private runtime folder: agents started by a test live and die with it.
        try? FileManager.default.createDirectory(atPath: home + "/run", withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        environment = ["HOME": home, "PATH": "/usr/bin:/bin", "TOKENVAULT_PASSPHRASE": Self.passphrase, "LANG": "C",
                       "XDG_RUNTIME_DIR": home + "/run"]
        if initialise {
            let result = vault(["init", "--kdf", "minimum"])
            precondition(result.status == 0, "init failed: \(result.err)")
        }
    }

    deinit {
        // Lock any agent a test left running, then remove everything.
        _ = run([Binary.path("vault"), "lock", "--all"], environment: environment, timeout: 10)
        try? FileManager.default.removeItem(atPath: home)
    }

    /// Runs `vault ARGS` with this fixture's environment plus `env` (a nil value unsets) and
    /// `rawEnvironment` (values that need not be UTF-8).
    @discardableResult
    func vault(_ arguments: [String], stdin: Stdin = .devNull, env: [String: String?] = [:],
               rawEnvironment: [String: [UInt8]] = [:], extraFDs: [Int32: String] = [:], timeout: Double = 60) -> RunResult {
        var environment = self.environment
        for (key, value) in env { environment[key] = value }
        return run([Binary.path("vault")] + arguments, environment: environment, rawEnvironment: rawEnvironment,
                   stdin: stdin, extraFDs: extraFDs, timeout: timeout)
    }

    /// Runs `git-credential-vault get` for `https://host`, with this fixture's environment plus
    /// `env` (a nil value unsets).
    func gitHelperGet(host: String, env: [String: String?] = [:], timeout: Double = 60) -> RunResult {
        var environment = self.environment
        for (key, value) in env { environment[key] = value }
        return run([Binary.path("git-credential-vault"), "get"], environment: environment,
                   stdin: .data("protocol=https\nhost=\(host)\n\n"), timeout: timeout)
    }

    @discardableResult
    func add(_ name: String, token: String, _ options: [String] = []) -> RunResult {
        vault(["add", name] + options, stdin: .data(token))
    }

    /// Writes an executable script. A shell writes it, in a process of its own: a descriptor that
    /// this (multi-threaded) test process held open for writing could leak into a program started
    /// meanwhile by another test, and running the script would then fail with "text file busy".
    func script(_ name: String, _ text: String) -> String {
        let path = home + "/" + name
        let r = run(["/bin/sh", "-c", "cat > \"$1\" && chmod 700 \"$1\"", "sh", path], environment: ["PATH": "/usr/bin:/bin"],
                    stdin: .data(text))
        precondition(r.status == 0, "cannot write \(path)")
        return path
    }

    /// Every regular file under HOME, with its bytes.
    func files() -> [(String, [UInt8])] {
        var result: [(String, [UInt8])] = []
        let enumerator = FileManager.default.enumerator(atPath: home)
        while let name = enumerator?.nextObject() as? String {
            let path = home + "/" + name
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result.append((path, [UInt8](FileManager.default.contents(atPath: path) ?? Data())))
            }
        }
        return result
    }

    /// Opens the vault file through the library (as a second process would).
    func library() throws -> Vault {
        let vault = try Vault.open(at: vaultPath)
        try vault.unlock(passphrase: Secret(Self.passphrase))
        return vault
    }
}

/// A process that listens on the vault's agent socket, accepts connections and never answers:
/// a hung agent. It stops when the object goes away.
struct HungAgent {
    let process: BackgroundProcess

    init(_ cli: CLI) throws {
        let socket = AgentProtocol.socketPath(forVault: cli.vaultPath, environment: cli.environment)
        try FileManager.default.createDirectory(atPath: (socket as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        process = BackgroundProcess(["/usr/bin/python3", "-c", """
            import socket
            s = socket.socket(socket.AF_UNIX); s.bind("\(socket)"); s.listen(8); print("ready", flush=True)
            conns = []
            while True:
                c, _ = s.accept(); conns.append(c)
            """], environment: ["PATH": "/usr/bin:/bin"])
    }
}

extension Array where Element == UInt8 {
    func contains(bytes needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard !n.isEmpty, n.count <= count else { return false }
        return (0...(count - n.count)).contains { i in self[i..<i + n.count].elementsEqual(n) }
    }
}
