import Foundation
import Testing
@testable import TokenVault

/// `vault import` deciding, line by line, what is already in the vault, what repeats a line
/// above and what each new entry is called (each line looked up by its host and token, not
/// compared with every other line).
@Suite struct ImportTests {
    @Test func repeatedTokensAreFoundByHostAndNamesCountOn() throws {
        let cli = CLI()
        #expect(cli.add("gl", token: "glpat-Held00000000000000", ["--url", "https://gitlab.com:443", "--username", "u"]).status == 0)
        let file = cli.home + "/creds"
        let lines = [
            "https://u:glpat-Held00000000000000@gitlab.com",        // 1: in the vault (default port)
            "https://v:glpat-Twin00000000000000@gitlab.com",        // 2: new
            "https://w:glpat-Twin00000000000000@gitlab.com",        // 3: the same as line 2
            "https://v:glpat-Twin00000000000000@other.example",     // 4: same token, another host: new
            "https://x:glpat-X1000000000000000@gitlab.com",         // 5-7: one user, one host
            "https://x:glpat-X2000000000000000@gitlab.com",
            "https://x:glpat-X3000000000000000@gitlab.com",
            "https://u:glpat-Held00000000000000@other.example",     // 8: held, but for another host: new
        ]
        _ = FileManager.default.createFile(atPath: file, contents: Data((lines.joined(separator: "\n") + "\n").utf8),
                                           attributes: [.posixPermissions: 0o600])
        let r = cli.vault(["import", "git-credentials", file])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("creds:1: https://gitlab.com (u): already in the vault as 'gl'"))
        #expect(r.err.contains("creds:3: https://gitlab.com (w): the same as 'v@gitlab.com' above"))
        #expect(r.err.contains("imported 6, in one transaction"))
        #expect(try cli.library().names() == ["gl", "u@other.example", "v@gitlab.com", "v@other.example",
                                              "x@gitlab.com", "x@gitlab.com-2", "x@gitlab.com-3"])
        #expect(cli.vault(["get", "x@gitlab.com-3"]).out == "glpat-X3000000000000000\n")
        // The tokens held were compared without reading them: no read recorded, no use.
        #expect(try cli.library().entry(named: "gl").lastUsed == nil)
    }
}
