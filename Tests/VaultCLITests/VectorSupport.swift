import Foundation
import Testing

/// The committed test vectors (Tests/Vectors, docs/FORMAT.md "Test vectors"): vault files made by
/// scripts/make-vectors.sh with the CLI, each beside the JSON of what it holds.
enum Vectors {
    static let folder = ReadmeTests.root + "/Tests/Vectors"
    static let names = ["basic", "unicode", "pruned", "gitlab", "keyfile"]

    static func expected(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name + ".json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A private copy of the vector (opening a vault may write: a read is recorded, an older
    /// schema migrated), in a folder of mode 0700 and with mode 0600: git keeps neither, and the
    /// vault refuses a file open to others. The copy goes with `cli`'s HOME.
    static func copy(_ name: String, into cli: CLI) throws -> String {
        let folder = cli.home + "/vectors"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let path = folder + "/" + name + ".db"
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: Self.folder + "/" + name + ".vault", toPath: path)
        chmod(path, 0o600)
        return path
    }

    /// A CLI whose passphrase is the vector's, and whose `TOKENVAULT_KEY_FILE` is its key file
    /// when it needs one.
    static func cli(for name: String) throws -> CLI {
        let cli = CLI(initialise: false)
        cli.environment["TOKENVAULT_PASSPHRASE"] = try #require(try expected(name)["passphrase"] as? String)
        if let key = try keyFile(name, into: cli.home) { cli.environment["TOKENVAULT_KEY_FILE"] = key }
        return cli
    }

    /// A private copy of the vector's key file (the `key_file` its JSON names, beside it), mode
    /// 0600 in `folder`: git keeps 0644, and a key file open to others is refused. Nil for a
    /// vector that needs none.
    static func keyFile(_ name: String, into folder: String) throws -> String? {
        guard let file = try expected(name)["key_file"] as? String else { return nil }
        let path = folder + "/" + file
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.copyItem(atPath: Self.folder + "/" + file, toPath: path)
        }
        chmod(path, 0o600)
        return path
    }
}

/// JSON as the tests compare it: parsed, `schema_version` (the CLI's, which the recovery tool
/// does not print) removed from every object.
enum JSONValue {
    static func parse(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    static func withoutSchemaVersion(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            return object.filter { $0.key != "schema_version" }.mapValues(withoutSchemaVersion)
        }
        if let array = value as? [Any] { return array.map(withoutSchemaVersion) }
        return value
    }

    /// Equal as JSON: the same canonical text (keys sorted).
    static func equal(_ a: Any?, _ b: Any?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return canonical(a) == canonical(b)
    }

    static func canonical(_ value: Any) -> Data? {
        try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
    }

    /// The keys of `expected` whose values differ in `actual`, for a readable failure.
    static func differences(_ expected: [String: Any], _ actual: [String: Any], prefix: String = "") -> [String] {
        expected.keys.sorted().compactMap { key in
            equal(expected[key], actual[key]) ? nil : "\(prefix)\(key): expected \(expected[key] ?? "nil"), got \(actual[key] ?? "nil")"
        }
    }
}

/// The vault's contents as the CLI prints them, in the vectors' shape: every entry (the trash's
/// too) as `vault list --json` shows it, with its token, `token_since` and history from `vault
/// export --plain-json --with-history`; the settings as `vault config` prints them; the identity,
/// the trusted identities and the activity log. Commands that record nothing come first.
func contentsAsTheCLIShowsThem(_ cli: CLI, vault path: String) throws -> [String: Any] {
    let at = ["--vault", path]
    func json(_ arguments: [String]) throws -> Any {
        let r = cli.vault(arguments + at)
        #expect(r.status == 0, "vault \(arguments.joined(separator: " ")): \(r.err)")
        return JSONValue.withoutSchemaVersion(try JSONValue.parse(r.out))
    }
    let live = try #require(try json(["list", "--json"]) as? [[String: Any]])
    let trash = try #require(try json(["list", "--trash", "--json"]) as? [[String: Any]])
    let log = try json(["log", "--json"])
    let config = cli.vault(["config"] + at)
    var settings: [String: Any] = [:]
    for line in config.out.split(separator: "\n") {
        let parts = line.split(separator: " ", maxSplits: 1)
        if parts.count == 2 { settings[String(parts[0])] = String(parts[1]) }
    }
    let identity = cli.vault(["id", "show"] + at).out.trimmingCharacters(in: .whitespacesAndNewlines)
    let trusted = try json(["id", "list", "--json"])
    let exported = try #require(try json(["export", "--plain-json", "--with-history"]) as? [String: Any])
    var tokens: [String: [String: Any]] = [:]
    for entry in exported["entries"] as? [[String: Any]] ?? [] {
        if let name = entry["name"] as? String { tokens[name] = entry }
    }
    var entries: [[String: Any]] = []
    for var entry in (live + trash).sorted(by: { ($0["name"] as? String ?? "") < ($1["name"] as? String ?? "") }) {
        let token = tokens[entry["name"] as? String ?? ""] ?? [:]
        entry["token_since"] = token["token_since"]
        entry["secret"] = token["secret"]
        entry["history"] = (token["history"] as? [[String: Any]] ?? []).enumerated().map { index, version in
            ["version": index + 1, "replaced": version["replaced"] ?? NSNull(), "secret": version["secret"] ?? NSNull()]
        }
        entries.append(entry)
    }
    return ["entries": entries, "settings": settings, "identity": identity, "trusted": trusted, "log": log]
}

/// `python3 scripts/recover.py ARGS` with only what it is given in its environment.
func recoverTool(_ arguments: [String], environment: [String: String] = [:], stdin: Stdin = .devNull) -> RunResult {
    // The python3 on the suite's PATH, where scripts/deps.sh installed PyNaCl (a pyenv's, a
    // virtual environment's, or the system's), with nothing else of the suite's environment.
    let inherited = ProcessInfo.processInfo.environment
    var env = ["PATH": inherited["PATH"] ?? "/usr/bin:/bin", "LANG": "C.UTF-8"]
    for key in ["HOME", "PYTHONPATH", "PYENV_ROOT", "VIRTUAL_ENV"] { if let value = inherited[key] { env[key] = value } }
    for (key, value) in environment { env[key] = value }
    return run(["/usr/bin/env", "python3", ReadmeTests.root + "/scripts/recover.py"] + arguments, environment: env,
               stdin: stdin, timeout: 120)
}
