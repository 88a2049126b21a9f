import Foundation
import Testing
@testable import TokenVault

/// `vault inject`: templates from a file or stdin, to stdout or a private file.
@Suite struct InjectTests {
    static let token = "glpat-InjectToken000000000"

    func fixture() -> CLI {
        let cli = CLI()
        #expect(cli.add("gl", token: Self.token, ["--url", "https://gitlab.example.com", "--username", "ci-bot"]).status == 0)
        return cli
    }

    func mode(_ path: String) -> mode_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o777 : 0
    }

    func reads(_ cli: CLI) throws -> [String] {
        let log = try #require(try JSONSerialization.jsonObject(with: Data(cli.vault(["log", "--json"]).stdout)) as? [String: Any])
        let events = try #require(log["events"] as? [[String: Any]])
        return events.filter { ($0["action"] as? String) == "read" }.map { "\($0["entry"] ?? "") \($0["actor"] ?? "")" }
    }

    @Test func everyReferenceFormIsFilledAndOtherBracesStay() throws {
        let cli = fixture()
        let template = """
            token = "{{ vault "gl" }}"
            user = {{vault "gl" "username"}} at {{	vault   "gl"	"host"  }}
            url={{ vault "gl" "url" }} kind={{ vault "gl" "kind" }} scopes=[{{ vault "gl" "scopes" }}] expires=[{{ vault "gl" "expires" }}]
            helm = {{ .Values.token }} {{vaults}} {{ "vault" }}

            """
        let path = cli.script("config.tmpl", template)
        let r = cli.vault(["inject", path])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == """
            token = "\(Self.token)"
            user = ci-bot at gitlab.example.com
            url=https://gitlab.example.com kind=gitlab scopes=[] expires=[]
            helm = {{ .Values.token }} {{vaults}} {{ "vault" }}

            """)
        #expect(r.err.isEmpty)
        // The token read once, recorded as inject's.
        #expect(try reads(cli) == ["gl vault inject"])
        // From standard input, with - or nothing.
        for arguments in [["inject"], ["inject", "-"]] {
            let piped = cli.vault(arguments, stdin: .data("x {{ vault \"gl\" }} y"))
            #expect(piped.status == 0 && piped.out == "x \(Self.token) y", "\(piped.err)")
        }
    }

    @Test func aTemplateOfTensOfThousandsOfReferencesIsFilledWithoutRunningOutOfMemory() throws {
        let cli = fixture()
        // 800 KB of field references (each once an allocation of its own, with guard pages:
        // the process ran out of mappings and trapped) and of token references.
        for (reference, value) in [("{{vault\"gl\"\"kind\"}}", "gitlab"), ("{{vault\"gl\"}}", Self.token)] {
            let count = 800_000 / reference.utf8.count
            let r = cli.vault(["inject"], stdin: .data(String(repeating: reference, count: count)))
            #expect(r.status == 0, "\(r.err.prefix(200))")
            #expect(r.out == String(repeating: value, count: count))
        }
        #expect(try reads(cli) == ["gl vault inject"])
    }

    @Test func anUnknownOrMalformedReferenceNamesItsLineAndWritesNothing() throws {
        let cli = fixture()
        let output = cli.home + "/out.conf"
        let unknown = cli.vault(["inject", "-o", output], stdin: .data("a = {{ vault \"gl\" }}\n\nb = {{ vault \"nope\" }}\n"))
        #expect(unknown.status == 2)
        #expect(unknown.err.hasPrefix("vault: error: standard input, line 3: no entry named 'nope'"), "\(unknown.err)")
        #expect(!FileManager.default.fileExists(atPath: output))
        for (text, line) in [("ok\n{{ vault gl }}", 2), ("{{ vault \"gl\" \"password\" }}", 1), ("\n\n\n{{ vault \"gl\"", 4),
                             ("{{ vault \"gl }}\n\"", 1), ("{{ vault \"\" }}", 1), ("{{ vault \"a\\n\" }}", 1)] {
            let r = cli.vault(["inject", "-o", output], stdin: .data(text))
            #expect(r.status == 1, "\(text)")
            #expect(r.err.hasPrefix("vault: error: standard input, line \(line): "), "\(text): \(r.err)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        cli.add("old", token: "glpat-Expired00000000000", ["--expires", "2020-01-01"])
        let expired = cli.vault(["inject"], stdin: .data("{{ vault \"gl\" }}\n{{ vault \"old\" }}\n"))
        #expect(expired.status == 4 && expired.out.isEmpty)
        #expect(expired.err.hasPrefix("vault: error: standard input, line 2: the token 'old' expired on 2020-01-01"), "\(expired.err)")
        #expect(try reads(cli).isEmpty)
    }

    @Test func theOutputFileIsPrivateAndNotOverwrittenWithoutForce() throws {
        let cli = fixture()
        let output = cli.home + "/out.conf"
        let r = cli.vault(["inject", "-o", output], stdin: .data("t={{ vault \"gl\" }}\n"))
        #expect(r.status == 0 && r.out.isEmpty, "\(r.err)")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "t=\(Self.token)\n")
        #expect(mode(output) == 0o600)
        let again = cli.vault(["inject", "--output", output], stdin: .data("new {{ vault \"gl\" }}"))
        #expect(again.status == 1)
        #expect(again.err == "vault: error: \(output) exists\nvault: hint: add --force to replace it\n")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "t=\(Self.token)\n")
        // A file of the user's, open to others, replaced by a private one.
        chmod(output, 0o644)
        let forced = cli.vault(["inject", "-o", output, "--force"], stdin: .data("new"))
        #expect(forced.status == 0, "\(forced.err)")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "new")
        #expect(mode(output) == 0o600)
        // No temporary file left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: cli.home)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")
    }
}
