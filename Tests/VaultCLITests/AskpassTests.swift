import Foundation
import Testing
@testable import TokenVault

/// TOKENVAULT_ASKPASS never hangs the program: one line within a time limit, then the program
/// is ended and reaped.
@Suite struct AskpassTests {
    /// An askpass script that writes its pid to a file, then runs `body`.
    static func askpass(_ cli: CLI, _ body: String) -> (script: String, pidFile: String) {
        let pidFile = cli.home + "/askpass-\(UUID().uuidString).pid"
        let script = cli.script("askpass-\(UUID().uuidString)", "#!/bin/sh\necho $$ > '\(pidFile)'\n\(body)\n")
        return (script, pidFile)
    }

    /// Whether the process whose pid is in `pidFile` is gone (not even a zombie left).
    static func isGone(_ pidFile: String) -> Bool {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var body: String
        var status: Int32
        var message: String
        var testDescription: String { body }
    }

    static let hanging: [Case] = [
        // `yes`: endless lines. Its first line is read, then its pipe is closed.
        Case(body: "exec yes", status: 1, message: "TOKENVAULT_ASKPASS '%@' went on writing after its first line"),
        // Endless output without a newline.
        Case(body: "exec cat /dev/zero", status: 1, message: "TOKENVAULT_ASKPASS '%@' wrote more than 65536 bytes without a line break"),
        // Never answers.
        Case(body: "exec sleep 1000", status: 3, message: "TOKENVAULT_ASKPASS '%@' did not answer within 2 seconds"),
        // Answers, but never exits.
        Case(body: "echo '\(CLI.passphrase)'; exec sleep 1000", status: 3,
             message: "TOKENVAULT_ASKPASS '%@' answered but did not exit within 2 seconds"),
    ]

    @Test(arguments: hanging)
    func anAskpassThatWouldHangEndsWithinItsLimitAndLeavesNoProcess(_ example: Case) {
        let cli = CLI()
        let (script, pidFile) = Self.askpass(cli, example.body)
        let r = cli.vault(["list"], env: ["TOKENVAULT_PASSPHRASE": nil, "TOKENVAULT_ASKPASS": script,
                                          "TOKENVAULT_ASKPASS_TIMEOUT": "2"], timeout: 30)
        #expect(!r.timedOut)
        #expect(r.seconds < 6, "took \(r.seconds) s")
        #expect(r.status == example.status, "\(r.err)")
        #expect(r.err.contains("vault: error: " + example.message.replacingOccurrences(of: "%@", with: script)), "\(r.err)")
        #expect(r.out.isEmpty)
        #expect(Self.isGone(pidFile), "the askpass program is still running")
    }

    @Test func yesAsTheAskpassProgramFailsAtOnce() {
        let cli = CLI()
        let r = cli.vault(["list"], env: ["TOKENVAULT_PASSPHRASE": nil, "TOKENVAULT_ASKPASS": "yes"], timeout: 30)
        #expect(!r.timedOut)
        #expect(r.seconds < 5, "took \(r.seconds) s")
        #expect(r.status == 1)
        #expect(r.err.contains("vault: error: TOKENVAULT_ASKPASS 'yes' went on writing after its first line"), "\(r.err)")
    }

    @Test func theTimeLimitIsAWholeNumberOfSeconds() {
        let cli = CLI()
        let askpass = cli.script("askpass.sh", "#!/bin/sh\necho '\(CLI.passphrase)'\n")
        for bad in ["0", "-1", "1.5", "soon", "3601"] {
            let r = cli.vault(["list"], env: ["TOKENVAULT_PASSPHRASE": nil, "TOKENVAULT_ASKPASS": askpass,
                                              "TOKENVAULT_ASKPASS_TIMEOUT": bad])
            #expect(r.status == 64, "\(bad): \(r.err)")
            #expect(r.err.contains("TOKENVAULT_ASKPASS_TIMEOUT must be a whole number of seconds from 1 to 3600"))
        }
        let r = cli.vault(["list"], env: ["TOKENVAULT_PASSPHRASE": nil, "TOKENVAULT_ASKPASS": askpass,
                                          "TOKENVAULT_ASKPASS_TIMEOUT": "3600"])
        #expect(r.status == 0, "\(r.err)")
    }

    @Test func theGitHelperGoesOnWithoutAnAskpassThatNeverAnswers() {
        let cli = CLI()
        cli.add("gitlab", token: "glpat-askpass-never-answers-123", ["--url", "https://gitlab.example.com"])
        let (script, pidFile) = Self.askpass(cli, "exec sleep 1000")
        let r = cli.gitHelperGet(host: "gitlab.example.com", env: ["TOKENVAULT_PASSPHRASE": nil, "TOKENVAULT_ASKPASS": script,
                                                               "TOKENVAULT_ASKPASS_TIMEOUT": "2"], timeout: 30)
        #expect(!r.timedOut)
        #expect(r.seconds < 6, "took \(r.seconds) s")
        #expect(r.status == 0)
        #expect(r.out.isEmpty)
        #expect(r.err.contains("did not answer within 2 seconds"), "\(r.err)")
        #expect(Self.isGone(pidFile), "the askpass program is still running")
    }
}
