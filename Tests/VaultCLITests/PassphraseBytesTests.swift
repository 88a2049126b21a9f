import CTestSupport
import Foundation
import Testing
@testable import TokenVault

/// A passphrase is bytes, the same whatever its source (SECURITY.md, "The passphrase"): never
/// decoded as UTF-8; one final line ending (`\n` or `\r\n`) is not part of it from a file
/// descriptor, a file, TOKENVAULT_ASKPASS or the prompt; the environment variable is taken exactly.
@Suite struct PassphraseBytesTests {
    /// "café au lait" in Latin-1: 0xE9 is not valid UTF-8 on its own.
    static let latin1: [UInt8] = Array("caf".utf8) + [0xE9] + Array(" au lait".utf8)
    /// The same with another invalid byte, which UTF-8 decoding would make the same U+FFFD.
    static let otherByte: [UInt8] = Array("caf".utf8) + [0xE8] + Array(" au lait".utf8)

    enum Source: String, CaseIterable, CustomTestStringConvertible {
        case fd, file, environment, askpass, prompt
        var testDescription: String { rawValue }
    }

    /// A fixture with no vault yet, and a vault made through the library with `passphrase`.
    static func vault(passphrase: [UInt8]) throws -> CLI {
        let cli = CLI(initialise: false)
        var bytes = passphrase
        _ = try Vault.create(at: cli.vaultPath, passphrase: Secret(consuming: &bytes), kdf: .minimum)
        return cli
    }

    /// The exit status of `vault list` given `input` by `source` (for the prompt, what is typed).
    static func list(_ cli: CLI, from source: Source, _ input: [UInt8]) -> Int32 {
        let noPassphrase: [String: String?] = ["TOKENVAULT_PASSPHRASE": nil]
        switch source {
        case .fd:
            return cli.vault(["list", "--passphrase-fd", "0"], stdin: .bytes(input), env: noPassphrase).status
        case .file:
            let path = cli.home + "/passphrase-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: path, contents: Data(input), attributes: [.posixPermissions: 0o600])
            return cli.vault(["list", "--passphrase-file", path], env: noPassphrase).status
        case .environment:
            return cli.vault(["list"], env: noPassphrase, rawEnvironment: ["TOKENVAULT_PASSPHRASE": input]).status
        case .askpass:
            let answer = cli.home + "/answer-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: answer, contents: Data(input), attributes: [.posixPermissions: 0o600])
            let askpass = cli.script("askpass-\(UUID().uuidString)", "#!/bin/sh\nexec cat '\(answer)'\n")
            return cli.vault(["list"], env: ["TOKENVAULT_PASSPHRASE": nil, "TOKENVAULT_ASKPASS": askpass]).status
        case .prompt:
            var env = cli.environment
            env["TOKENVAULT_PASSPHRASE"] = nil
            let p = PTYProcess([Binary.path("vault"), "list"], environment: env)
            guard p.expect("Passphrase for") else { return -1 }
            p.send(bytes: input)
            return p.wait()
        }
    }

    @Test(arguments: Source.allCases)
    func aPassphraseWithAnInvalidUTF8ByteOpensWithTheSameBytesFromEverySource(source: Source) throws {
        let cli = try Self.vault(passphrase: Self.latin1)
        // A terminal, a file or a pipe ends the line; the environment variable has no line.
        let ending: [UInt8] = source == .environment ? [] : [0x0A]
        #expect(Self.list(cli, from: source, Self.latin1 + ending) == 0)
        // Another invalid byte is another passphrase (not the same U+FFFD).
        #expect(Self.list(cli, from: source, Self.otherByte + ending) == 3)
    }

    @Test func aVaultMadeFromTheEnvironmentHoldsItsExactBytes() throws {
        let cli = CLI(initialise: false)
        let made = cli.vault(["init", "--kdf", "minimum"], env: ["TOKENVAULT_PASSPHRASE": nil],
                             rawEnvironment: ["TOKENVAULT_PASSPHRASE": Self.latin1])
        #expect(made.status == 0, "\(made.err)")
        var exact = Self.latin1
        try Vault.open(at: cli.vaultPath).unlock(passphrase: Secret(consuming: &exact))
        // Not the bytes of "caf\u{FFFD} au lait".
        #expect(throws: VaultError.wrongPassphrase) {
            try Vault.open(at: cli.vaultPath).unlock(passphrase: Secret(String(decoding: Self.latin1, as: UTF8.self)))
        }
        // Nor from a file descriptor with the other byte.
        #expect(Self.list(cli, from: .fd, Self.latin1 + [0x0A]) == 0)
        #expect(Self.list(cli, from: .fd, Self.otherByte + [0x0A]) == 3)
    }

    @Test(arguments: [Source.fd, .file, .askpass])
    func onlyOneFinalLineEndingIsRemoved(source: Source) throws {
        let plain = try Self.vault(passphrase: Array("pass phrase".utf8))
        let opens: [String] = ["pass phrase\n", "pass phrase\r\n", "pass phrase", "pass phrase\nsecond line\n"]
        let refused: [String] = ["pass phrase\r", "pass phrase\r\r\n", "pass phrase \n", " pass phrase\n"]
        for input in opens {
            #expect(Self.list(plain, from: source, Array(input.utf8)) == 0, "\(input.debugDescription)")
        }
        for input in refused {
            #expect(Self.list(plain, from: source, Array(input.utf8)) == 3, "\(input.debugDescription)")
        }
        // A carriage return that does not end a line is part of the passphrase.
        let withReturn = try Self.vault(passphrase: Array("pass phrase\r".utf8))
        #expect(Self.list(withReturn, from: source, Array("pass phrase\r".utf8)) == 0)
        #expect(Self.list(withReturn, from: source, Array("pass phrase\r\r\n".utf8)) == 0)
        #expect(Self.list(withReturn, from: source, Array("pass phrase\r\n".utf8)) == 3)
    }

    @Test func theEnvironmentVariableIsTakenExactlyWithNothingRemoved() throws {
        let plain = try Self.vault(passphrase: Array("pass phrase".utf8))
        #expect(Self.list(plain, from: .environment, Array("pass phrase".utf8)) == 0)
        #expect(Self.list(plain, from: .environment, Array("pass phrase\n".utf8)) == 3)
        let withNewline = try Self.vault(passphrase: Array("pass phrase\n".utf8))
        #expect(Self.list(withNewline, from: .environment, Array("pass phrase\n".utf8)) == 0)
        // From a stream, that newline ends the line instead.
        #expect(Self.list(withNewline, from: .fd, Array("pass phrase\n".utf8)) == 3)
    }
}
