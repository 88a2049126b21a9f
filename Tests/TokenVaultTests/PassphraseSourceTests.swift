import Foundation
import Testing
import TokenVault

/// The library's passphrase sources, by the CLI's rules, through the public API alone.
@Suite struct PassphraseSourceTests {
    /// A pipe holding `bytes`, its write end closed: the read end, for `fd:`.
    func pipe(holding bytes: [UInt8]) -> Int32 {
        var fds: [Int32] = [0, 0]
        #expect(Glibc.pipe(&fds) == 0)
        bytes.withUnsafeBytes { _ = write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        return fds[0]
    }

    func source(fd: Int32? = nil, file: String? = nil, value: String? = nil, askpass: String? = nil,
                timeout: String? = nil) -> PassphraseSource {
        PassphraseSource(fd: fd, file: file, variable: "TOKENVAULT_PASSPHRASE", variableValue: value.map { Secret($0) },
                         askpass: askpass, askpassTimeout: timeout, allowsPrompt: false)
    }

    @Test func aFileDescriptorGivesItsFirstLineWithoutOneLineEnding() throws {
        let fd = pipe(holding: Array("pass\u{00e9} \r\n second".utf8))
        defer { close(fd) }
        let secret = try source(fd: fd).read(prompt: "?")
        #expect(secret.revealString() == "pass\u{00e9} ")
        #expect(source(fd: 3).sourceName == "file descriptor 3")
    }

    @Test func theVariableIsTakenExactlyAndTheFileMustBePrivate() throws {
        #expect(try source(value: " spaced\n").read(prompt: "?").revealString() == " spaced\n")
        let folder = TempFolder()
        let path = folder.path + "/passphrase"
        _ = FileManager.default.createFile(atPath: path, contents: Data("from file\n".utf8))
        chmod(path, 0o644)
        #expect(throws: PassphraseError.filePermissions(path: path, mode: UInt32(S_IFREG) | 0o644)) {
            try source(file: path).read(prompt: "?")
        }
        chmod(path, 0o600)
        #expect(try source(file: path, value: "ignored").read(prompt: "?").revealString() == "from file")
    }

    @Test func askpassAnswersWithinItsTimeAndNothingElseIsWaitedOn() throws {
        let folder = TempFolder()
        let script = folder.path + "/askpass"
        _ = FileManager.default.createFile(atPath: script, contents: Data("#!/bin/sh\nprintf 'asked: %s\\n' \"$1\"\n".utf8))
        chmod(script, 0o700)
        #expect(try source(askpass: script).read(prompt: "P").revealString() == "asked: P")
        #expect(throws: PassphraseError.invalidAskpassTimeout) { try source(askpass: script, timeout: "0").read(prompt: "P") }
        #expect(throws: PassphraseError.noSource) { try source().read(prompt: "P") }
        #expect(source().isTerminalPrompt && !source(askpass: script).isTerminalPrompt)
    }
}
