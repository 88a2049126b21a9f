import CTestSupport
import Foundation
import Testing
@testable import TokenVault

@Suite struct ProcessTests {
    @Test func concurrentProcessesLoseNoWrite() async throws {
        let cli = CLI()
        let results = await withTaskGroup(of: [RunResult].self) { group in
            for worker in 0..<6 {
                group.addTask {
                    (0..<5).map { i in cli.add("w\(worker)-\(i)", token: "token-\(worker)-\(i)") }
                }
            }
            var all: [RunResult] = []
            for await batch in group { all += batch }
            return all
        }
        for r in results {
            #expect(r.status == 0, "\(r.err)")
            #expect(!r.err.contains("locked"))
        }
        let vault = try cli.library()
        #expect(try vault.names().count == 30)
        for worker in 0..<6 {
            for i in 0..<5 { #expect(try vault.secret(named: "w\(worker)-\(i)").revealString() == "token-\(worker)-\(i)") }
        }
    }

    @Test func sigkillDuringWritesNeverBreaksTheVault() throws {
        let cli = CLI()
        cli.add("anchor", token: "anchor-token")
        var killed = 0
        for i in 0..<40 {
            // Start a write, kill it at a random moment, then check the vault.
            var pid: pid_t = 0
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            var p: [Int32] = [0, 0]
            tvt_pipe_cloexec(&p)
            posix_spawn_file_actions_adddup2(&actions, p[0], 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            let command = i % 3 == 2 ? ["rm", "--yes", "e\(i - 1)"] : ["add", "e\(i)"]
            pid = spawn([Binary.path("vault")] + command, environment: cli.environment, actions: &actions)
            close(p[0])
            _ = write(p[1], "token-\(i)", "token-\(i)".utf8.count)
            close(p[1])
            usleep(UInt32.random(in: 0...30_000))
            if kill(pid, SIGKILL) == 0 { killed += 1 }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            posix_spawn_file_actions_destroy(&actions)

            // The vault opens, lists, and every entry is readable and whole.
            let vault = try cli.library()
            let names = try vault.names()
            #expect(names.contains("anchor"))
            for name in names {
                let secret = try vault.secret(named: name).revealString()
                #expect(name == "anchor" ? secret == "anchor-token" : secret == "token-\(name.dropFirst())")
            }
        }
        #expect(killed > 0)
        let final = cli.vault(["list"])
        #expect(final.status == 0)
    }
}
