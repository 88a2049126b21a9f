import Foundation

/// Runs the real binaries in a mount namespace of their own (`unshare --mount`, or for a user
/// who is not root `unshare --user --map-root-user --mount`), where the vault's folder is
/// mounted otherwise (read-only, or a small tmpfs): what root cannot get from file permissions,
/// which it ignores. The mounts go with the namespace, so nothing global is left to clean up.
///
/// `script` is shell run with `set -e` after `setup`; in it, `$D` is the vault's folder and
/// `step NAME COMMAND...` runs a command, keeping its stdout, stderr and status under NAME (the
/// binaries are on PATH). A mount that fails fails the whole run, with its message: a test
/// never passes without the mount it asked for.
struct MountNamespace {
    /// The vault's folder bound onto itself read-only (a write to it is checked to fail).
    static let readOnlyFolder = """
        mount --bind "$D" "$D"
        mount -o remount,bind,ro "$D"
        if touch "$D/.probe" 2>/dev/null; then echo "the folder is still writable" >&2; exit 1; fi
        """

    /// The vault's folder on a tmpfs of `kilobytes`, holding what the folder held.
    static func smallDisk(kilobytes: Int) -> String {
        """
        saved=$(mktemp -d)
        cp -a "$D"/. "$saved"/
        mount -t tmpfs -o size=\(kilobytes)k,mode=0700 tmpfs "$D"
        cp -a "$saved"/. "$D"/
        rm -rf "$saved"
        """
    }

    /// Fills the disk holding `$D` until a write fails (and checks that one does).
    static let fillDisk = """
        dd if=/dev/zero of="$D/filler" bs=4k 2>/dev/null || true
        if printf x >> "$D/filler" 2>/dev/null; then echo "the disk is not full" >&2; exit 1; fi
        """

    /// Runs `setup` then `script` in a namespace of their own, with `cli`'s environment plus
    /// `env`; returns each step's result by name. Throws when the namespace, a mount or the
    /// script fails.
    static func steps(_ cli: CLI, setup: String, _ script: String, env: [String: String?] = [:]) throws -> [String: RunResult] {
        let out = cli.home + "/steps-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let folder = (cli.vaultPath as NSString).deletingLastPathComponent
        let body = """
            set -e
            D='\(folder)'
            OUT='\(out)'
            step() {
                name=$1; shift
                set +e
                "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
                echo $? >"$OUT/$name.status"
                set -e
            }
            \(setup)
            \(script)
            """
        let wrapper = cli.script("namespace-\(UUID().uuidString).sh", "#!/bin/bash\n" + body + "\n")
        var environment = cli.environment
        for (key, value) in env { environment[key] = value }
        environment["PATH"] = Binary.folder + ":/usr/bin:/bin:/usr/sbin:/sbin"
        let unshare = getuid() == 0 ? ["unshare", "--mount"] : ["unshare", "--user", "--map-root-user", "--mount"]
        let result = run(["/usr/bin/env"] + unshare + [wrapper], environment: environment, timeout: 120)
        guard result.status == 0 else { throw Failure(message: "the namespace's script failed (\(result.status)): \(result.err)") }
        var steps: [String: RunResult] = [:]
        for name in (try FileManager.default.contentsOfDirectory(atPath: out)).filter({ $0.hasSuffix(".status") }) {
            let step = String(name.dropLast(".status".count))
            func read(_ suffix: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: "\(out)/\(step).\(suffix)") ?? Data()) }
            let status = Int32(String(decoding: read("status"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            steps[step] = RunResult(status: status, stdout: read("out"), stderr: read("err"), timedOut: false, seconds: 0)
        }
        return steps
    }

    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

extension [String: RunResult] {
    /// The step named `name`, or an empty failure (which no expectation on it accepts).
    subscript(step name: String) -> RunResult {
        self[name] ?? RunResult(status: -1, stdout: [], stderr: Array("no step named \(name)".utf8), timedOut: false, seconds: 0)
    }
}
