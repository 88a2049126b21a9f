import FuzzSupport
@testable import TokenVault

// The plain-text files `vault import` reads (Sources/TokenVault/Import): the first byte of the
// input chooses `.git-credentials` (even) or `.netrc` (odd), the rest is the file. Properties:
// no trap; every credential read has a password, a host and a line of the file; no problem's
// text holds the marker secret (planted as passwords in the seeds).

@_cdecl("fuzz_import_main")
public func main(_ argc: CInt, _ argv: Fuzz.Arguments) -> CInt { Fuzz.main(argc, argv, fuzz, seeds: seeds) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Fuzz.input(data, size)
    guard let kind = input.first else { return 0 }
    let file = UnsafeRawBufferPointer(rebasing: input[1...])
    let result = kind % 2 == 0 ? PlainTextCredentials.parseGitCredentials(file) : PlainTextCredentials.parseNetrc(file)
    let lines = 1 + file.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    for credential in result.credentials {
        Fuzz.check(!credential.secret.isEmpty, "an imported credential has no password")
        Fuzz.check(!credential.url.host.isEmpty, "an imported credential has no host")
        Fuzz.check((1...lines).contains(credential.line), "an imported credential names line \(credential.line) of \(lines)")
    }
    for problem in result.problems {
        Fuzz.check((1...lines).contains(problem.line), "a problem names line \(problem.line) of \(lines)")
        let text = Array(problem.reason.utf8)
        Fuzz.check(!Fuzz.contains(text, Fuzz.markerBytes), "a problem holds the marker secret: \(problem.reason)")
    }
    return 0
}

/// Files as git credential-store and curl's users write them.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    let m = Fuzz.marker
    let gitCredentials = """
        https://octocat:ghp_\(m)@github.com
        https://oauth2:glpat-\(m)@gitlab.example.com:8443/group/project
        # a comment
        http://user%40corp:p%3Ass%25\(m)@git.example.org
        not a url
        https://nopassword@github.com

        """
    let netrc = """
        machine github.com login octocat password ghp_\(m)
        machine gitlab.example.com
          login oauth2
          password "glpat \\"quoted\\" \(m)"
        # comment
        macdef init
        cd /pub
        bin

        default login anonymous password guest@
        machine api.example.com login x password \(m) account y

        """
    return [("git-credentials", [0] + Array(gitCredentials.utf8)), ("netrc", [1] + Array(netrc.utf8))]
}
