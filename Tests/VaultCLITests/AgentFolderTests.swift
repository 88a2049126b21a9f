import Foundation
import Testing
@testable import TokenVault

/// Where the agent listens without `XDG_RUNTIME_DIR`: a folder that no other user can take
/// first. The vault runs as a user id of its own (through `setpriv`), so that the folders this
/// suite plants for "another user" are nobody else's business on this machine.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root to run as another user"))
struct AgentFolderTests {
    static let nobody: uid_t = 65534
    static let token = "glpat-FolderToken00000000"

    /// A user id of its own, with a private HOME and no runtime folder.
    final class OtherUser {
        let uid = uid_t.random(in: 42_000..<52_000)
        /// A private temporary folder; HOME is in it.
        let base: String
        let home: String
        var environment: [String: String]

        init(homeSuffix: String = "") throws {
            var template = Array((NSTemporaryDirectory() + "/tokenvault-uid-XXXXXX").utf8CString)
            _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
            base = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            home = base + homeSuffix
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            // Every folder from base to home is the user's: one made on the way would have the
            // process's umask, which another test running alongside may have narrowed.
            var folders = [base]
            for part in homeSuffix.split(separator: "/") { folders.append(folders[folders.count - 1] + "/" + part) }
            for folder in folders {
                chmod(folder, 0o700)
                chown(folder, uid, uid)
            }
            environment = ["HOME": home, "PATH": "/usr/bin:/bin", "LANG": "C", "TOKENVAULT_PASSPHRASE": CLI.passphrase]
        }

        deinit {
            vault(["lock", "--all"])
            try? FileManager.default.removeItem(atPath: base)
        }

        /// Runs `program ARGS` as this user.
        @discardableResult
        func run(_ program: String, _ arguments: [String], stdin: Stdin = .devNull, env: [String: String?] = [:]) -> RunResult {
            var environment = self.environment
            for (key, value) in env { environment[key] = value }
            return VaultCLITests.run(["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", program] + arguments,
                                     environment: environment, stdin: stdin, timeout: 30)
        }

        @discardableResult
        func vault(_ arguments: [String], stdin: Stdin = .devNull, env: [String: String?] = [:]) -> RunResult {
            run(Binary.path("vault"), arguments, stdin: stdin, env: env)
        }

        /// A folder owned by another user (nobody), as that user would have made it.
        func plant(_ folder: String) throws {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            chmod(folder, 0o700)
            chown(folder, AgentFolderTests.nobody, AgentFolderTests.nobody)
        }

        func makeVault() throws {
            let initialised = vault(["init", "--kdf", "minimum"])
            try #require(initialised.status == 0, "\(initialised.err)")
            try #require(vault(["add", "gl", "--url", "https://h.example"], stdin: .data(AgentFolderTests.token)).status == 0)
        }
    }

    @Test func theAgentStartsAndAnswersWhenAnotherUserTookTheOldTmpFolder() throws {
        let user = try OtherUser()
        // Another user made /tmp/tokenvault-UID first (the fallback of earlier versions).
        let taken = "/tmp/tokenvault-\(user.uid)"
        try user.plant(taken)
        defer { try? FileManager.default.removeItem(atPath: taken) }
        try user.makeVault()
        let unlocked = user.vault(["unlock"])
        #expect(unlocked.status == 0, "\(unlocked.err)")
        #expect(user.vault(["status"]).status == 0)
        #expect(user.vault(["get", "gl"], env: ["TOKENVAULT_PASSPHRASE": nil]).out == Self.token + "\n")
        // The C front end finds the same socket: alone, without the Swift helper beside it, it
        // can only answer through the agent.
        let alone = user.home + "/alone"
        #expect(user.run("/bin/sh", ["-c", "mkdir -p \"$2\" && cp \"$1\" \"$2/\"", "sh", Binary.path("git-credential-vault"), alone]).status == 0)
        let answered = user.run(alone + "/git-credential-vault", ["get"], stdin: .data("protocol=https\nhost=h.example\n\n"),
                                env: ["TOKENVAULT_PASSPHRASE": nil])
        #expect(answered.out == "username=oauth2\npassword=\(Self.token)\n", "\(answered.err)")
        // The agent listens beside the default vault, in a folder of its own, private.
        let folder = user.home + "/.local/share/tokenvault/agents"
        var info = stat()
        #expect(lstat(folder, &info) == 0 && info.st_uid == user.uid && info.st_mode & 0o777 == 0o700)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).contains { $0.hasSuffix(".sock") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: taken).isEmpty)
        #expect(user.vault(["lock", "--all"]).err == "vault: locked 1 vault\n")
        #expect(user.vault(["status"]).status == 3)
    }

    @Test func aFolderThatIsNotTheUsersIsStillRefused() throws {
        let user = try OtherUser()
        try user.makeVault()
        // The fallback folder, made by another user.
        try user.plant(user.home + "/.local/share/tokenvault/agents")
        let refused = user.vault(["unlock"])
        #expect(refused.status != 0)
        #expect(refused.err.contains("is not private to you"), "\(refused.err)")
        #expect(user.vault(["status"]).status == 3)
        // The runtime folder's, likewise.
        let runtime = user.home + "/run"
        try user.plant(runtime + "/tokenvault")
        chown(runtime, user.uid, user.uid)
        let inRuntime = user.vault(["unlock"], env: ["XDG_RUNTIME_DIR": runtime])
        #expect(inRuntime.status != 0)
        #expect(inRuntime.err.contains("is not private to you"), "\(inRuntime.err)")
    }

    @Test func aSocketPathTooLongForTheSystemIsAClearError() throws {
        // A HOME so deep that the socket's path would pass the 107 bytes a socket name may have.
        let user = try OtherUser(homeSuffix: "/" + String(repeating: "h", count: 60) + "/" + String(repeating: "o", count: 30))
        try user.makeVault()
        let long = user.vault(["unlock"])
        #expect(long.status != 0)
        #expect(long.seconds < 1.5, "\(long.seconds) s")
        #expect(long.err.contains("is too long for a socket"), "\(long.err)")
        #expect(long.err.contains("vault: hint: set XDG_RUNTIME_DIR"), "\(long.err)")
        // With a runtime folder of a reasonable length, the same vault unlocks.
        let runtime = user.base + "/run"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        chmod(runtime, 0o700)
        chown(runtime, user.uid, user.uid)
        #expect(user.vault(["unlock"], env: ["XDG_RUNTIME_DIR": runtime]).status == 0)
        #expect(user.vault(["lock"], env: ["XDG_RUNTIME_DIR": runtime]).status == 0)
    }
}
