import Foundation
import Testing
@testable import TokenVault

/// A stop signal (`kill`, a closed terminal) that arrives while `vault gitlab rotate` still asks GitLab
/// about the token, before the rotation request: nothing is rotated.
@Suite struct GitLabStopTests {
    // (SIGINT is not among them here: a shell starts a background job with SIGINT ignored.)
    @Test(arguments: ["TERM", "HUP"])
    func aStopBeforeTheRotationRequestRotatesNothing(signal: String) throws {
        let world = try GitLabWorld(mode: ["self": "delay"], delay: 2)
        world.addEntry()
        let err = world.folder + "/err.txt"
        // The signal is sent once the question about the token has reached the stand-in.
        let script = """
            "$0" gitlab rotate ci --ca-file "$1" --timeout 10 2>"$2" &
            pid=$!
            for i in $(seq 200); do grep -q 'personal_access_tokens/self"' "$3" 2>/dev/null && break; sleep 0.05; done
            kill -\(signal) $pid
            wait $pid
            echo $?
            """
        let r = run(["/bin/sh", "-c", script, Binary.path("vault"), world.caFile, err, world.log], environment: world.cli.environment, timeout: 30)
        let said = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        #expect(try world.rotationsReceivedCount() == 0, "\(said)")
        #expect(try world.tokens()[GitLabWorld.token]?["revoked"] as? Bool == false)
        #expect(try world.entry()["rotation_started"] is NSNull, "\(said)")
        #expect(Int(r.out.trimmingCharacters(in: .whitespacesAndNewlines)) != 0)
        #expect(world.cli.vault(["get", "ci"]).out.trimmingCharacters(in: .newlines) == GitLabWorld.token)
    }
}
