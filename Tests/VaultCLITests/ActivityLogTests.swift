import Foundation
import Testing
@testable import TokenVault

/// The activity log: what is recorded, and that tampering with it is reported.
@Suite struct ActivityLogTests {
    func log(_ cli: CLI) throws -> [[String: Any]] {
        let r = cli.vault(["log", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any])
        return object["events"] as? [[String: Any]] ?? []
    }

    @Test func everyKindOfEventIsRecorded() throws {
        let cli = CLI()
        cli.add("ci", token: "glpat-Log0000000000000000", ["--url", "https://h.example"])
        _ = cli.vault(["get", "ci"])
        _ = run([Binary.path("git-credential-vault"), "get"], environment: cli.environment, stdin: .data("protocol=https\nhost=h.example\n\n"))
        _ = cli.vault(["edit", "ci", "--note", "x"])
        _ = cli.vault(["edit", "ci", "--secret"], stdin: .data("glpat-Log1111111111111111"))
        _ = cli.vault(["history", "ci", "--restore", "1"])
        _ = cli.vault(["rename", "ci", "ci2"])
        _ = run([Binary.path("git-credential-vault"), "erase"], environment: cli.environment,
                stdin: .data("protocol=https\nhost=h.example\npassword=glpat-Log0000000000000000\n\n"))
        _ = cli.vault(["restore", "ci2"])
        _ = cli.vault(["rm", "ci2", "--yes"])
        _ = cli.vault(["restore", "ci2"])
        _ = cli.vault(["config", "trash-days", "10"])
        _ = cli.vault(["check"])
        let file = cli.home + "/creds"
        _ = FileManager.default.createFile(atPath: file, contents: Data("https://u:glpat-Imp000000000000000@g.example\n".utf8),
                                           attributes: [.posixPermissions: 0o600])
        _ = cli.vault(["import", "git-credentials", file])
        _ = cli.vault(["rm", "--purge", "ci2", "--yes"])
        _ = cli.vault(["passwd"], env: ["TOKENVAULT_NEW_PASSPHRASE": "next passphrase"])
        cli.environment["TOKENVAULT_PASSPHRASE"] = "next passphrase"

        let events = try log(cli)
        let actions = events.compactMap { $0["action"] as? String }
        for expected in ["add", "read", "edit", "replace token", "read history", "restore version 1", "rename", "rejected by git",
                         "restore", "trash", "config", "review", "purge", "passphrase change"] {
            #expect(actions.contains(expected), "no '\(expected)' event in \(actions)")
        }
        let reads = events.filter { $0["action"] as? String == "read" }
        #expect(reads.contains { $0["actor"] as? String == "vault get" })
        #expect(reads.contains { $0["actor"] as? String == "git-credential-vault get" })
        #expect(events.allSatisfy { ($0["parent_pid"] as? Int ?? 0) > 0 })
        #expect(events.contains { $0["entry"] as? String == "u@g.example" && $0["action"] as? String == "add" })
        let sequences = events.compactMap { $0["sequence"] as? Int }
        #expect(sequences == Array(1...sequences.count))
        // Encrypted like everything else.
        for (path, data) in cli.files() {
            #expect(!data.contains(bytes: "replace token") && !data.contains(bytes: "git-credential-vault"), "\(path)")
        }
        // Filters.
        let r = cli.vault(["log", "ci", "--since", "1h"])
        #expect(r.status == 0)
        #expect(r.err.contains("the activity log's chain verifies"))
    }

    func tampered(_ change: (SQLite, [(Int64, [UInt8], [UInt8])]) throws -> Void) throws -> RunResult {
        let cli = CLI()
        for i in 0..<4 { cli.add("e\(i)", token: "glpat-Tamper\(i)000000000000") }
        _ = cli.vault(["config", "trash-days", "9"])  // a change last: the manifest anchors the head
        #expect(cli.vault(["log"]).status == 0)
        let db = try SQLite(path: cli.vaultPath, mode: .readWrite)
        let s = try db.prepare("SELECT seq, sealed, mac FROM events ORDER BY seq")
        var rows: [(Int64, [UInt8], [UInt8])] = []
        while try s.step() { rows.append((s.int(0), try s.blob(1, "c"), try s.blob(2, "c"))) }
        try change(db, rows)
        return cli.vault(["log"])
    }

    @Test func aDeletedEventIsReported() throws {
        let r = try tampered { db, rows in try db.prepare("DELETE FROM events WHERE seq = ?").run([.integer(rows[1].0)]) }
        #expect(r.status == 5)
        #expect(r.err.contains("event 2 is missing"))
    }

    @Test func aChangedEventIsReported() throws {
        let r = try tampered { db, rows in
            var sealed = rows[2].1
            sealed[sealed.count - 1] ^= 1
            try db.prepare("UPDATE events SET sealed = ? WHERE seq = ?").run([.blob(sealed), .integer(rows[2].0)])
        }
        #expect(r.status == 5)
        #expect(r.err.contains("event 3 was changed"))
    }

    @Test func reorderedEventsAreReported() throws {
        let r = try tampered { db, rows in
            try db.prepare("UPDATE events SET sealed = ?, mac = ? WHERE seq = ?").run([.blob(rows[1].1), .blob(rows[1].2), .integer(rows[2].0)])
            try db.prepare("UPDATE events SET sealed = ?, mac = ? WHERE seq = ?").run([.blob(rows[2].1), .blob(rows[2].2), .integer(rows[1].0)])
        }
        #expect(r.status == 5)
        #expect(r.err.contains("tampered"))
    }

    @Test func eventsCutOffTheEndAreReported() throws {
        let r = try tampered { db, rows in
            try db.prepare("DELETE FROM events WHERE seq >= ?").run([.integer(rows[rows.count - 2].0)])
        }
        #expect(r.status == 5)
        #expect(r.err.contains("cut off the end"))
    }

    @Test func aCutLogIsNotContinuedByALaterChange() throws {
        let cli = CLI()
        for i in 0..<3 { cli.add("e\(i)", token: "glpat-Cut\(i)00000000000000") }
        let db = try SQLite(path: cli.vaultPath, mode: .readWrite)
        try db.execute("DELETE FROM events WHERE seq >= 2")
        let change = cli.add("later", token: "glpat-Later0000000000000")
        #expect(change.status == 5, "a change on a cut log must be refused: \(change.err)")
        #expect(cli.vault(["get", "e0"]).status == 5)
        #expect(cli.vault(["log"]).status == 5)
        try db.execute("DELETE FROM events")
        #expect(cli.add("later", token: "glpat-Later0000000000000").status == 5)
        #expect(cli.vault(["log"]).status == 5)
    }

    @Test func pruningNeverLaundersABrokenChain() throws {
        let cli = CLI()
        for i in 0..<6 { cli.add("e\(i)", token: "glpat-Prune\(i)0000000000000") }
        let db = try SQLite(path: cli.vaultPath, mode: .readWrite)
        try db.execute("DELETE FROM events WHERE seq = 2")
        #expect(cli.vault(["log"]).status == 5)
        _ = cli.vault(["config", "log-events", "3"])
        #expect(cli.vault(["log"]).status == 5, "pruning hid a deleted event")
    }

    @Test func readsKeepTheLogBounded() throws {
        let cli = CLI()
        cli.add("e", token: "glpat-Bounded000000000000")
        #expect(cli.vault(["config", "log-events", "2"]).status == 0)
        for _ in 0..<20 { #expect(cli.vault(["get", "e"]).status == 0) }
        let report = try cli.library().activityLog()
        #expect(report.verified, "\(report.problem ?? "")")
        #expect(report.events.count <= 13, "\(report.events.count) events kept")
    }

    /// Each read writes a few pages to the write-ahead log and leaves it for the next process;
    /// past a few dozen frames a read's close folds it back into the file. (Left alone, the log
    /// only grew: every process opening the vault read it back whole first.)
    @Test func readsLeaveTheWriteAheadLogShort() throws {
        let cli = CLI()
        cli.add("gl", token: "glpat-LogLength000000000")
        var largest: Int64 = 0
        for _ in 0..<60 {
            #expect(cli.vault(["get", "gl"]).status == 0)
            var info = stat()
            if stat(cli.vaultPath + "-wal", &info) == 0 { largest = max(largest, Int64(info.st_size)) }
        }
        #expect(largest > 0, "reads left no log at all: this test no longer tests anything")
        // 31 frames and one read's few more, of 4 KiB pages (24-byte frame headers, a 32-byte log
        // header). Without the limit, 60 reads leave about 180 frames.
        #expect(largest <= 40 * (4096 + 24) + 32, "the write-ahead log reached \(largest) bytes")
    }

    @Test func impossibleNumbersAreRefusedNotCrashedOn() throws {
        let cli = CLI()
        cli.add("e", token: "glpat-Numbers00000000000")
        #expect(cli.vault(["config", "trash-days", "999999999999999"]).status == 64)
        #expect(cli.vault(["config", "log-days", "999999999999999"]).status == 64)
        #expect(cli.vault(["config", "rotate-every", "99999999999d"]).status == 64)
        #expect(cli.vault(["check", "--within", "99999999999"]).status == 64)
        #expect(cli.vault(["log", "--since", "9999999999999999d"]).status == 64)
        let db = try SQLite(path: cli.vaultPath, mode: .readWrite)
        try db.execute("INSERT INTO events (seq, sealed, mac) VALUES (-1, x'00', x'00')")
        let log = cli.vault(["log"])
        #expect(log.status == 5, "\(log.err)")
        #expect(cli.vault(["get", "e"]).status == 5)
    }

    @Test func theConfigEventSaysWhatChanged() throws {
        let cli = CLI()
        #expect(cli.vault(["config", "trash-days", "7"]).status == 0)
        let events = try log(cli)
        #expect(events.last?["detail"] as? String == "trash-days 30 → 7")
    }

    /// Pruning reads the log in chunks that double (8, 16, 32, ...): a limit lowered under a long
    /// log prunes across several chunks at once, and the chain still verifies from its anchor.
    @Test(arguments: [1, 3, 8, 9, 24, 25])
    func aLimitLoweredUnderALongLogPrunesAcrossChunks(_ limit: Int) throws {
        let cli = CLI()
        let vault = try cli.library()
        for i in 0..<60 { try vault.add(Entry(name: "c\(i)"), secret: Secret("token-\(i)")) }
        try vault.updateSettings { $0.logMaxEvents = Int64(limit) }
        let report = try vault.activityLog()
        #expect(report.verified, "\(report.problem ?? "")")
        #expect(report.events.count <= limit + 1, "\(report.events.count) events kept under a limit of \(limit)")
        #expect(report.events.last?.action == .config)
        try vault.add(Entry(name: "after"), secret: Secret("token-after"))
        #expect(try vault.activityLog().verified)
        #expect(cli.vault(["log"]).status == 0)
    }

    @Test func retentionPrunesAndTheChainStillVerifies() throws {
        let cli = CLI()
        let vault = try cli.library()
        try vault.updateSettings { $0.logMaxEvents = 5 }
        for i in 0..<12 { try vault.add(Entry(name: "p\(i)"), secret: Secret("token-\(i)")) }
        let report = try vault.activityLog()
        #expect(report.verified, "\(report.problem ?? "")")
        #expect(report.events.count <= 6)
        #expect(report.events.last?.entry == "p11")
        #expect(cli.vault(["log"]).status == 0)
    }
}
