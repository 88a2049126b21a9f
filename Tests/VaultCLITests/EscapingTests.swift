import Foundation
import Testing
@testable import TokenVault

/// Text from outside (a URL's user and host, a note, a scope, what git sends, a process name)
/// reaches a person's terminal escaped, never as control characters it would obey.
@Suite struct EscapingTests {
    static let token = "glpat-Escaping000000000000"

    /// A vault with one entry holding an escape sequence in every field that can hold one. The
    /// user name and host are written as a TokenVault before the control-character rule could
    /// write them (today's refuses them).
    func evilVault() throws -> CLI {
        let cli = CLI()
        let added = cli.add("evil", token: Self.token, ["--url", "https://h.example", "--scopes", "read_api,x\u{1B}[2Jy",
                                                       "--note", "one\nvault: forged\r\u{202E}\u{9B}31m"])
        #expect(added.status == 0, "\(added.err)")
        try OlderTokenVault.rewrite(cli, entry: "evil") { entry in
            entry.url = CredentialURL(scheme: "https", host: "h\u{1B}]0;x\u{07}.example")
            entry.username = "u\u{1B}[8m"
        }
        return cli
    }

    @Test func listEscapesEveryFieldAndAlignsOnTheEscapedText() throws {
        let cli = try evilVault()
        let r = cli.vault(["list"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == """
            NAME  KIND    HOST                 USER    SCOPES            EXPIRES  LAST USED
            evil  gitlab  h\\e]0;x\\x07.example  u\\e[8m  read_api,x\\e[2Jy  never    never

            """)
        #expect(!r.stdout.contains(0x1B) && !r.stdout.contains(0x07))
    }

    @Test func showEscapesEveryFieldButTheRevealedToken() throws {
        let cli = try evilVault()
        let r = cli.vault(["show", "evil", "--reveal"])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.contains("url:        https://h\\e]0;x\\x07.example"))
        #expect(lines.contains("host:       h\\e]0;x\\x07.example"))
        #expect(lines.contains("username:   u\\e[8m"))
        #expect(lines.contains("scopes:     read_api,x\\e[2Jy"))
        #expect(lines.contains("notes:      one\\nvault: forged\\r\\u{202E}\\u{009B}31m"))
        #expect(lines.contains("token:      \(Self.token)"))
        #expect(lines.count == 13 && lines.last == "", "\(lines)")
        #expect(!r.stdout.contains(0x1B) && !r.stdout.contains(0x07) && !r.stdout.contains(0x0D))
        // --json keeps its own escaping, unchanged.
        let json = cli.vault(["show", "evil", "--json"]).out
        #expect(json.contains(#""username":"u\u001b[8m""#))
        #expect(json.contains(#""notes":"one\nvault: forged\r\#u{202E}\#u{9B}31m""#))
    }

    @Test func logEscapesTheProgramAndTheParentProcessName() throws {
        let cli = CLI()
        cli.add("e", token: Self.token)
        // A parent process whose name holds ESC: a shell started through a link so named.
        let shell = cli.home + "/sh\u{1B}[31m"
        try FileManager.default.createSymbolicLink(atPath: shell, withDestinationPath: "/bin/sh")
        let got = run([shell, "-c", "\"$0\" get e >/dev/null; true", Binary.path("vault")], environment: cli.environment)
        #expect(got.status == 0, "\(got.err)")
        // A program name that would forge a row (through the library, as a client names itself).
        let vault = try cli.library()
        vault.actor = "x\u{1B}[31m\n2026-01-01T00:00:00Z  read    e  forged"
        _ = try vault.get("e")
        let r = cli.vault(["log", "e"])
        #expect(r.status == 0, "\(r.err)")
        let rows = r.out.split(separator: "\n").map(String.init)
        #expect(rows.count == 4, "\(rows)")  // the header, add, and two reads
        let events = try JSONSerialization.jsonObject(with: Data(cli.vault(["log", "--json"]).stdout)) as? [String: Any]
        let read = (events?["events"] as? [[String: Any]])?.first { $0["actor"] as? String == "vault get" }
        let parent = try #require(read?["parent_pid"] as? Int)
        #expect(rows[2].hasSuffix("  sh\\e[31m \(parent)"), "\(rows[2])")
        #expect(rows[3].contains("  read    e      x\\e[31m\\n2026-01-01T00:00:00Z  read    e  forged  "), "\(rows[3])")
        #expect(!r.stdout.contains(0x1B))
    }

    @Test func historyEscapesTheNameItQuotes() throws {
        let cli = CLI()
        let r = cli.vault(["history", "x\u{1B}]0;owned\u{07}"])
        #expect(r.status == 2)
        #expect(r.err == "vault: error: no entry named 'x\\e]0;owned\\x07'\n")
    }

    @Test func checkEscapesWhatItQuotes() throws {
        let cli = CLI()
        cli.add("gl", token: Self.token, ["--url", "https://gitlab.example", "--kind", "gitlab", "--expires", "2099-01-01"])
        try OlderTokenVault.rewrite(cli, entry: "gl") { $0.url = CredentialURL(scheme: "http", host: "gitlab\u{1B}[8m.example") }
        let r = cli.vault(["check", "--online"])
        #expect(r.out.contains("gl: could not be verified at GitLab: "), "\(r.out)")
        #expect(r.out.contains("gitlab\\e[8m.example"), "\(r.out)")
        #expect(!r.stdout.contains(0x1B) && !r.stderr.contains(0x1B))
    }

    @Test func theGitHelperEscapesWhatGitSentInItsMessages() throws {
        let cli = CLI()
        let helper = Binary.path("git-credential-vault")
        let stored = run([helper, "store"], environment: cli.environment,
                         stdin: .data("url=https://gl.example/a%1b%5b31mb\npassword=\(Self.token)\n\n"))
        #expect(stored.status == 0)
        // Stored quietly (git's contract), under a name made only of plain characters.
        #expect(stored.err.isEmpty, "\(stored.err)")
        #expect(cli.vault(["list", "--json"]).out.contains("\"name\":\"gl.example/a__31mb\""))
        let missed = run([helper, "--verbose", "get"], environment: cli.environment,
                         stdin: .data("protocol=https\nhost=other\u{1B}]0;x\u{07}.example\n\n"))
        #expect(missed.status == 0)
        #expect(missed.out == "")
        #expect(missed.err.contains("vault: git get: no entry for https://other\\e]0;x\\x07.example\n"), "\(missed.err)")
        #expect(!missed.stderr.contains(0x1B) && !missed.stderr.contains(0x07))
    }

    @Test func gitsStoreRefusesControlCharactersInTheUserNameAndHost() throws {
        let cli = CLI()
        let helper = Binary.path("git-credential-vault")
        let user = run([helper, "store"], environment: cli.environment,
                       stdin: .data("url=https://%1b%5b31m@gl.example\npassword=\(Self.token)\n\n"))
        #expect(user.status == 0)
        #expect(user.out == "")
        #expect(user.err == "vault: error: git's credential for https://gl.example was not stored: the user name holds a control character\n")
        let host = run([helper, "store"], environment: cli.environment,
                       stdin: .data("protocol=https\nhost=gl\u{1B}[2J.example\nusername=u\npassword=\(Self.token)\n\n"))
        #expect(host.status == 0)
        #expect(host.err == "vault: error: git's credential for https://gl\\e[2J.example was not stored: the host holds a control character\n")
        #expect(cli.vault(["list", "--json"]).out == "[]\n")
    }

    @Test func addEditAndImportRefuseControlCharactersInTheUserNameAndHost() throws {
        let cli = CLI()
        for url in ["https://%1b%5b31m@h.example", "https://u\u{9B}@h.example", "https://h\u{1B}[2J.example",
                    "https://h\u{202E}.example"] {
            let added = cli.add("a", token: Self.token, ["--url", url])
            #expect(added.status == 64, "\(url): \(added.err)")
            #expect(added.err.contains("holds a control character"), "\(added.err)")
        }
        cli.add("e", token: Self.token, ["--url", "https://h.example"])
        for options in [["--url", "https://%1b@h.example"], ["--url", "https://h\u{1B}.example"],
                        ["--username", "u\u{2066}"], ["--username", "u\u{1B}"]] {
            let edited = cli.vault(["edit", "e"] + options)
            #expect(edited.status == 64, "\(options): \(edited.err)")
            #expect(edited.err.contains("holds a control character"), "\(edited.err)")
        }
        // The library refuses it too, for any caller.
        #expect(throws: VaultError.invalidInput("the user name holds a control character")) {
            try cli.library().update("e") { $0.username = "u\u{1B}[8m" }
        }
        #expect(throws: VaultError.invalidInput("the host holds a control character")) {
            try cli.library().add(Entry(name: "n", url: CredentialURL(scheme: "https", host: "h\u{7}")), secret: Secret(Self.token))
        }
        let credentials = cli.home + "/git-credentials"
        try "https://u:\(Self.token)@h\u{1B}[2J.example\nhttps://%1b%5b31m:\(Self.token)@g.example\n"
            .write(toFile: credentials, atomically: true, encoding: .utf8)
        let imported = cli.vault(["import", "git-credentials", credentials])
        #expect(imported.err.contains("git-credentials:1: skipped: a control character in the host"), "\(imported.err)")
        #expect(imported.err.contains("git-credentials:2: skipped: a control character in the user name"), "\(imported.err)")
        let netrc = cli.home + "/netrc"
        try "machine n\u{1B}.example login u password \(Self.token)\nmachine m.example login \"u\u{1B}[8m\" password \(Self.token)\n"
            .write(toFile: netrc, atomically: true, encoding: .utf8)
        let fromNetrc = cli.vault(["import", "netrc", netrc])
        #expect(fromNetrc.err.contains("netrc:1: skipped: a control character in the host"), "\(fromNetrc.err)")
        #expect(fromNetrc.err.contains("netrc:2: skipped: a control character in the user name"), "\(fromNetrc.err)")
        #expect(!imported.stderr.contains(0x1B) && !fromNetrc.stderr.contains(0x1B))
        #expect(try cli.library().entries().map(\.name) == ["e"])
        #expect(try cli.library().entry(named: "e").username == nil)
    }

    @Test func tokenShapedOptionValuesAreRefused() throws {
        let cli = CLI()
        cli.add("e", token: Self.token)
        let other = "glpat-InArgv00000000000000"
        let cases: [[String]] = [["--note", other], ["--note", "the token is Xy7Kq2Lm9Np4Rs6Tu8Vw"], ["--username", other],
                                 ["--scopes", "read_api,\(other)"], ["--url", "https://\(other)@gitlab.example"],
                                 ["--url", "https://\(other).example.com"], ["--url", "https://gitlab.example/group/\(other)"]]
        for options in cases {
            for command in [["edit", "e"], ["add", "new"]] {
                let r = cli.vault(command + options, stdin: .data(Self.token))
                #expect(r.status == 64, "\(command + options): \(r.err)")
                #expect(r.err.contains("looks like a token"), "\(r.err)")
                #expect(r.err.contains("vault: hint: pipe it on standard input"), "\(r.err)")
                #expect(!r.err.contains(other) && !r.err.contains("Xy7Kq2Lm9Np4Rs6Tu8Vw") && r.out.isEmpty)
            }
        }
        #expect(cli.vault(["list", "--scope", other]).status == 64)
        #expect(cli.vault(["show", "e"]).out.contains("notes:      -"))
        #expect(try cli.library().names() == ["e"])
    }

    @Test func anOverflowingSpanIsNotMistakenForAToken() throws {
        let cli = CLI()
        let r = cli.vault(["list", "--expiring", "99999999999999999999d"])
        #expect(r.status == 64)
        #expect(r.err == "vault: error: The value '99999999999999999999d' is invalid for '--expiring <span>'\nvault: hint: see 'vault help list'\n")
    }
}

/// Writes an entry's metadata the way an older TokenVault could have: sealed and bound like any
/// record, but without today's checks on what the fields hold.
enum OlderTokenVault {
    static func rewrite(_ cli: CLI, entry name: String, _ change: (inout Entry) -> Void) throws {
        let db = try SQLite(path: cli.vaultPath, mode: .readWrite)
        let header = try db.prepare("SELECT kdf_ops, kdf_mem, kdf_salt, wrapped_key FROM vault")
        _ = try header.step()
        let kek = try KeyDerivation.passphraseKey(Secret(CLI.passphrase), salt: try header.blob(2, "salt"),
                                                  parameters: KDFParameters(opsLimit: UInt64(header.int(0)), memLimit: UInt64(header.int(1))))
        let backend = LocalBackend(vaultKey: SymmetricKey(storage: try SecretBox.open(try header.blob(3, "key"), using: kek, what: "key")))
        let key = SealingKey(backend: backend, purpose: .entryMetadata)
        let lookup = try backend.lookup(name)
        let row = try db.prepare("SELECT metadata FROM entries WHERE lookup = ?").bind([.blob(lookup)])
        _ = try row.step()
        let sealed = try row.blob(0, "metadata")
        // The revision the record is bound to: after the version byte and the lookup.
        let plaintext = try key.open(sealed, what: "metadata")
        let revision = plaintext.withUnsafeBytes { bytes in
            var reader = ByteReader(bytes)
            _ = reader.take(1 + lookup.count)
            return reader.u64() ?? 0
        }
        let (opened, body) = try Records.open(sealed, lookup: lookup, revision: revision, key: key, what: "metadata")
        var entry = try opened.withUnsafeBytes { bytes in try Records.decode(UnsafeRawBufferPointer(rebasing: bytes[body])) }
        change(&entry)
        let encoded = Records.encode(entry)
        let resealed = try Records.seal(bodyCount: encoded.count, lookup: lookup, revision: revision, key: key) {
            $0.copyBytes(from: encoded)
        }
        try db.prepare("UPDATE entries SET metadata = ? WHERE lookup = ?").run([.blob(resealed), .blob(lookup)])
    }
}
