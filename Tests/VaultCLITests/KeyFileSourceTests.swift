import Foundation
import Testing

/// Where the key file comes from (`--key-file`, `TOKENVAULT_KEY_FILE`, `vault config key-file`),
/// the same for the agent's `vault unlock` and for git's helper (its C front end falling back to
/// the Swift helper, as it does when no agent answers).
@Suite(.serialized) struct KeyFileSourceTests {
    enum Source: String, CaseIterable {
        case flag, environment, config
    }

    static let token = "glpat-KeyFileSourceToken001"

    /// A vault that needs a key file, with an entry git's helper answers for git.example.com,
    /// and the key file named by `source` (arguments to add, variables to set).
    static func fixture(_ source: Source) -> (cli: CLI, arguments: [String], env: [String: String?]) {
        let (cli, key) = KeyFileTests.fixture()
        let added = cli.vault(["add", "git", "--url", "https://git.example.com", "--username", "ci", "--key-file", key],
                              stdin: .data(token))
        precondition(added.status == 0, added.err)
        switch source {
        case .flag: return (cli, ["--key-file", key], [:])
        case .environment: return (cli, [], ["TOKENVAULT_KEY_FILE": key])
        case .config:
            let set = cli.vault(["config", "key-file", key])
            precondition(set.status == 0, set.err)
            return (cli, [], [:])
        }
    }

    @Test(arguments: Source.allCases)
    func theAgentUnlocksWithTheKeyFileFrom(_ source: Source) {
        let (cli, arguments, env) = Self.fixture(source)
        defer { cli.vault(["lock"]) }
        let unlocked = cli.vault(["unlock", "--timeout", "5m"] + arguments, env: env)
        #expect(unlocked.status == 0, "\(unlocked.err)")
        // Another process, with neither a passphrase nor a key file: the agent answers.
        let config = cli.vault(["config", "key-file", "--unset"])
        #expect(config.status == 0)
        let r = cli.vault(["get", "git"], env: ["TOKENVAULT_PASSPHRASE": nil, "TOKENVAULT_KEY_FILE": nil])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == Self.token + "\n")
    }

    @Test(arguments: Source.allCases)
    func gitsHelperUnlocksWithTheKeyFileFrom(_ source: Source) {
        let (cli, arguments, env) = Self.fixture(source)
        var environment = cli.environment
        for (key, value) in env { environment[key] = value }
        let r = run([Binary.path("git-credential-vault")] + arguments + ["get"], environment: environment,
                    stdin: .data("protocol=https\nhost=git.example.com\n\n"))
        #expect(r.status == 0)
        #expect(r.out.contains("password=\(Self.token)\n"), "\(r.err)")
        #expect(r.err.isEmpty)
    }

    @Test func gitsHelperWithoutTheKeyFileSaysWhichFactorIsMissing() {
        let (cli, _, _) = Self.fixture(.flag)
        let r = cli.gitHelperGet(host: "git.example.com")
        #expect(r.status == 0)  // Git goes on without the vault.
        #expect(!r.out.contains("password="))
        #expect(r.err.contains("needs its key file") && r.err.contains("--key-file"))
    }
}
