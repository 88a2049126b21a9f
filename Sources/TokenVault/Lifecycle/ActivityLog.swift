import Glibc

/// One event of the activity log: a read of a token, or a change to the vault.
public struct Event: Sendable, Equatable {
    /// The event's number in the log: increasing, never reused.
    public var sequence: UInt64
    /// When the event was recorded.
    public var time: Timestamp
    /// What happened: a read of a token, or a change (``EventAction/text`` is how the log
    /// writes it: `read`, `add`, `edit`, `replace token`, `rename`, `trash`, ...).
    public var action: EventAction
    /// The entry's name, for an event about one entry.
    public var entry: String?
    /// Who asked: `vault get`, `git-credential-vault get`, `library (NAME)`.
    public var actor: String
    /// The process ID of the asking program's parent, when known.
    public var parentPID: Int64?
    /// The name of the asking program's parent (its `comm`), when known.
    public var parentName: String?
    /// More about the change, when there is more (`from 'OLD'` for a rename).
    public var detail: String?
}

/// The activity log: events sealed like everything else (subkey 6, bound to their sequence
/// number) and chained, each row carrying a MAC (keyed BLAKE2b, subkey 7) over the previous MAC,
/// its sequence number and its sealed bytes. Deleting, reordering or changing an event breaks the
/// chain; cutting events off the end is caught by the head the manifest keeps at every change.
public struct LogReport: Sendable {
    /// The events read, in the order of their sequence numbers.
    public var events: [Event]
    /// Nil when the whole chain verifies; otherwise what is wrong.
    public var problem: String?
    /// True when the whole chain verifies.
    public var verified: Bool { problem == nil }
}

enum ActivityLog {
    static let zeroMAC = [UInt8](repeating: 0, count: KeyedHash.bytes)
    static let binding = [UInt8](repeating: 0, count: KeyedHash.bytes)

    private enum Tag: UInt8 {
        case time = 1, action = 2, entry = 3, actor = 4, parentPID = 5, parentName = 6, detail = 7
    }

    /// The process that started this one, as the OS tells it.
    /// Who asks for what an event records: the program (`vault get`) and its parent process.
    /// A client of the agent sends its own, so that what the agent does for it is recorded as
    /// the client's.
    struct Origin: Sendable {
        var actor: String
        var parentPID: Int64
        var parentName: String?

        init(actor: String, parentPID: Int64 = ActivityLog.parent.pid, parentName: String? = ActivityLog.parent.name) {
            self.actor = actor
            self.parentPID = parentPID
            self.parentName = parentName
        }
    }

    static let parent: (pid: Int64, name: String?) = {
        let pid = getppid()
        return (Int64(pid), commandName(ofProcess: "\(pid)"))
    }()

    /// A process's command name (`/proc/PID/comm`, at most 15 bytes; `self` for this process);
    /// nil when it cannot be read.
    static func commandName(ofProcess pid: String) -> String? {
        let fd = Glibc.open("/proc/\(pid)/comm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = Glibc.read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: "\n")
    }

    static func mac(previous: [UInt8], sequence: UInt64, sealed: [UInt8], keys: Vault.Keys) throws(VaultError) -> [UInt8] {
        try keys.backend.chainMAC(macInput(previous: previous, sequence: sequence, sealed: sealed))
    }

    /// What an event's MAC is computed over: the previous event's MAC, its sequence number and
    /// its sealed bytes.
    static func macInput(previous: [UInt8], sequence: UInt64, sealed: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.raw(previous)
        w.u64(sequence)
        w.raw(sealed)
        return w.bytes
    }

    /// A stored sequence number, refused when it is out of range (a tampered row).
    static func sequence(_ value: Int64) throws(VaultError) -> UInt64 {
        guard value > 0, value < Int64.max / 2 else { throw .tampered("the activity log (an impossible sequence number)") }
        return UInt64(value)
    }

    /// Whether an event records a read of a token. Reads are the only events written without
    /// rewriting the manifest; every other event (a change) moves the manifest's head to itself
    /// in the same write. So only reads may follow the head.
    static func isRead(_ action: String) -> Bool {
        action == "read" || action.hasPrefix("read ")
    }

    /// The last event that the manifest vouches for: its head, or the pruned anchor when pruning
    /// has gone past the head.
    static func anchored(_ manifest: Manifest) -> UInt64 {
        max(manifest.log.head?.sequence ?? 0, manifest.log.pruned?.sequence ?? 0)
    }

    /// Checks, before anything is added, that the log still holds what the manifest says it held:
    /// the first event right after the pruned anchor, and the head recorded at the last change.
    /// A log cut short or replaced is refused, never continued (which would launder it).
    ///
    /// Before a change, also that no change follows the head: one that does was made after this
    /// header was written, so the header and entries were put back from an older copy.
    static func checkContinuity(_ db: SQLite, manifest: Manifest, keys: Vault.Keys? = nil) throws(VaultError) {
        if let keys {
            // Opened in batches: through the agent, one request for each (the events since the
            // last change are every read since then).
            let rows = try db.prepare("SELECT seq, sealed FROM events WHERE seq > ? ORDER BY seq")
                .bind([.integer(Int64(anchored(manifest)))])
            var batch: [(sequence: UInt64, sealed: [UInt8])] = []
            func check() throws(VaultError) {
                let opened = try keys.backend.open(batch.map { SealedBox(purpose: .events, bytes: $0.sealed) })
                guard opened.count == batch.count else { throw .tampered("the activity log") }
                for (row, plaintext) in zip(batch, opened) {
                    let what = "event \(row.sequence) of the activity log"
                    guard let plaintext else { throw .tampered(what) }
                    let body = try Records.body(of: plaintext, lookup: binding, revision: row.sequence, what: what)
                    guard try decode(plaintext, body: body, sequence: row.sequence).action.isRead else {
                        throw .corrupt(rolledBack(row.sequence))
                    }
                }
                batch.removeAll(keepingCapacity: true)
            }
            while try rows.step() {
                let sequence = try Self.sequence(rows.int(0))
                batch.append((sequence, try rows.blob(1, "event \(sequence)")))
                if batch.count == 512 { try check() }
            }
            if !batch.isEmpty { try check() }
        }
        if let (first, _) = try bounds(db) {
            guard first == (manifest.log.pruned?.sequence ?? 0) + 1 else {
                throw .tampered("the activity log (its first events were removed or replaced)")
            }
        }
        // A head that pruning has since removed is vouched for by the pruned anchor instead.
        if let head = manifest.log.head, head.sequence > (manifest.log.pruned?.sequence ?? 0) {
            let row = try db.prepare("SELECT mac FROM events WHERE seq = ?").bind([.integer(Int64(head.sequence))])
            guard try row.step(), try row.blob(0, "the MAC of event \(head.sequence)") == head.mac else {
                throw .tampered("the activity log (events up to \(head.sequence) were removed or replaced)")
            }
        }
    }

    /// What a change after the head proves.
    static func rolledBack(_ sequence: UInt64) -> String {
        "event \(sequence) records a change made after the vault header was written: the header and entries were put back from an older copy"
    }

    /// Appends one event inside the caller's write transaction. Returns the new head.
    @discardableResult
    static func append(_ db: SQLite, keys: Vault.Keys, manifest: Manifest, action: String, entry: String?,
                       origin: Origin, detail: String? = nil) throws(VaultError) -> (sequence: UInt64, mac: [UInt8]) {
        try checkContinuity(db, manifest: manifest, keys: isRead(action) ? nil : keys)
        let last = try db.prepare("SELECT seq, mac FROM events ORDER BY seq DESC LIMIT 1")
        var previous = manifest.log.pruned?.mac ?? zeroMAC
        var sequence = (manifest.log.pruned?.sequence ?? 0) + 1
        if try last.step() {
            previous = try last.blob(1, "the MAC of the log's last event", count: KeyedHash.bytes)
            sequence = try Self.sequence(last.int(0)) + 1
        }
        var w = ByteWriter()
        w.field(Tag.time.rawValue, int: Timestamp.now().secondsSince1970)
        w.field(Tag.action.rawValue, action)
        if let entry { w.field(Tag.entry.rawValue, entry) }
        w.field(Tag.actor.rawValue, origin.actor)
        w.field(Tag.parentPID.rawValue, int: origin.parentPID)
        if let name = origin.parentName { w.field(Tag.parentName.rawValue, name) }
        if let detail { w.field(Tag.detail.rawValue, detail) }
        let body = w.bytes
        let sealed = try Records.seal(bodyCount: body.count, lookup: binding, revision: sequence,
                                      key: keys.events) { $0.copyBytes(from: body) }
        let mac = try mac(previous: previous, sequence: sequence, sealed: sealed, keys: keys)
        try db.prepare("INSERT INTO events (seq, sealed, mac) VALUES (?, ?, ?)")
            .run([.integer(Int64(sequence)), .blob(sealed), .blob(mac)])
        try Landed.event(db, sequence: sequence, sealed: sealed, mac: mac)
        return (sequence, mac)
    }

    /// Whether the log holds more than the vault keeps (by count; age is checked by `prune`).
    static func isOverfull(_ db: SQLite, manifest: Manifest, margin: Int64 = 0) throws(VaultError) -> Bool {
        try eventCount(db) > manifest.settings.logMaxEvents + margin
    }

    /// How many events the log holds: contiguous sequence numbers (a gap is tampering, which
    /// `vault log` reports), so MAX − MIN + 1, from the primary key without reading the rows.
    static func eventCount(_ db: SQLite) throws(VaultError) -> Int64 {
        guard let (first, last) = try bounds(db), last >= first else { return 0 }
        return Int64(last - first) + 1
    }

    /// The first and last sequence numbers, or nil for an empty log. Two queries: SQLite answers
    /// a lone MIN() or MAX() of the primary key from its b-tree, but scans the whole table for
    /// both in one query.
    static func bounds(_ db: SQLite) throws(VaultError) -> (first: UInt64, last: UInt64)? {
        let first = try db.prepare("SELECT MIN(seq) FROM events")
        _ = try first.step()
        guard !first.isNull(0) else { return nil }
        let last = try db.prepare("SELECT MAX(seq) FROM events")
        _ = try last.step()
        return (try sequence(first.int(0)), try sequence(last.int(0)))
    }

    /// Removes the oldest events beyond the vault's limits (count and age), keeping the chain
    /// verifiable from the manifest's pruned anchor. The events to be removed are verified first:
    /// a broken chain is never pruned away (it stays for `vault log` to report).
    static func prune(_ db: SQLite, keys: Vault.Keys, manifest: inout Manifest) throws(VaultError) {
        let settings = manifest.settings
        let total = try eventCount(db)
        guard total > 0 else { return }
        let byCount = max(0, total - settings.logMaxEvents)
        let (cutoff, overflow) = Timestamp.now().secondsSince1970
            .subtractingReportingOverflow(settings.logRetention.whole() ?? Int64.max)
        let oldest = overflow ? Int64.min : cutoff
        // Keep at least the newest event, so the chain always continues from a row.
        let rows = try db.prepare("SELECT seq, sealed, mac FROM events ORDER BY seq LIMIT ?").bind([.integer(total - 1)])
        var previous = manifest.log.pruned?.mac ?? zeroMAC
        var expected = (manifest.log.pruned?.sequence ?? 0) + 1
        var doomed: (UInt64, [UInt8])?
        var index: Int64 = 0
        // Read in chunks that double (8, 16, 32, ...), each chunk's MACs in one batch and its
        // events past the count limit opened in another: a write usually looks at one chunk (the
        // oldest event is young enough to stay), and through the agent a long log costs a few
        // requests, not one per event.
        var chunkSize = 8
        var more = true
        chunks: while more {
            var chunk: [(sequence: UInt64, sealed: [UInt8], mac: [UInt8])] = []
            while chunk.count < chunkSize {
                guard try rows.step() else { more = false; break }
                let sequence = try Self.sequence(rows.int(0))
                chunk.append((sequence, try rows.blob(1, "event \(sequence)"), try rows.blob(2, "the MAC of event \(sequence)")))
            }
            chunkSize = min(chunkSize * 2, 4096)
            var inputs: [[UInt8]] = []
            var chained = previous
            for event in chunk {
                inputs.append(macInput(previous: chained, sequence: event.sequence, sealed: event.sealed))
                chained = event.mac
            }
            let macs = try keys.backend.chainMACs(inputs)
            let firstAged = Int(clamping: max(0, byCount - index))
            let opened = firstAged < chunk.count
                ? try keys.backend.open(chunk[firstAged...].map { SealedBox(purpose: .events, bytes: $0.sealed) }) : []
            for (offset, event) in chunk.enumerated() {
                guard event.sequence == expected, offset < macs.count, macs[offset] == event.mac else {
                    return  // Broken: leave everything for `vault log` to report.
                }
                if offset >= firstAged {
                    // Past the count limit: only events older than the age limit still go.
                    let what = "event \(event.sequence) of the activity log"
                    guard offset - firstAged < opened.count, let plaintext = opened[offset - firstAged] else { throw .tampered(what) }
                    let body = try Records.body(of: plaintext, lookup: binding, revision: event.sequence, what: what)
                    guard try decode(plaintext, body: body, sequence: event.sequence).time.secondsSince1970 < oldest else { break chunks }
                }
                doomed = (event.sequence, event.mac)
                previous = event.mac
                expected = event.sequence + 1
                index += 1
            }
        }
        guard let doomed else { return }
        try db.prepare("DELETE FROM events WHERE seq <= ?").run([.integer(Int64(doomed.0))])
        manifest.log.pruned = doomed
    }

    static func open(_ sealed: [UInt8], sequence: UInt64, keys: Vault.Keys) throws(VaultError) -> Event {
        let (plaintext, body) = try Records.open(sealed, lookup: binding, revision: sequence, key: keys.events,
                                                 what: "event \(sequence) of the activity log")
        return try decode(plaintext, body: body, sequence: sequence)
    }

    private static func decode(_ plaintext: SecureBytes, body: Range<Int>, sequence: UInt64) throws(VaultError) -> Event {
        try plaintext.withUnsafeBytes { bytes throws(VaultError) -> Event in
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[body]))
            var event = Event(sequence: sequence, time: Timestamp(secondsSince1970: 0), action: "", actor: "")
            while let (tag, value) = try reader.field() {
                switch Tag(rawValue: tag) {
                case .time: event.time = Timestamp(secondsSince1970: value.int64 ?? 0)
                case .action: event.action = EventAction(value.utf8String)
                case .entry: event.entry = value.utf8String
                case .actor: event.actor = value.utf8String
                case .parentPID: event.parentPID = value.int64
                case .parentName: event.parentName = value.utf8String
                case .detail: event.detail = value.utf8String
                case nil: continue
                }
            }
            return event
        }
    }

    /// One row of the events table as stored: nil where a sequence number is impossible, no
    /// bytes where they are not blobs.
    private typealias StoredEvent = (sequence: UInt64?, sealed: [UInt8]?, mac: [UInt8]?)

    /// Reads and verifies the whole log. Every MAC is computed in one batch and every event
    /// opened in another (through the agent, two requests however long the log).
    static func verify(_ db: SQLite, keys: Vault.Keys, manifest: Manifest) throws(VaultError) -> LogReport {
        let rows = try db.prepare("SELECT seq, sealed, mac FROM events ORDER BY seq")
        var stored: [StoredEvent] = []
        while try rows.step() {
            stored.append((try? Self.sequence(rows.int(0)), try? rows.blob(1, ""), try? rows.blob(2, "")))
        }
        // What each event's MAC is over, with the stored MAC before it (none after a row that
        // is not stored as bytes), as the chain is checked below.
        var inputs: [[UInt8]] = []
        var previous = manifest.log.pruned?.mac ?? zeroMAC
        for case (let sequence?, let sealed, let mac) in stored {
            guard let sealed, let mac else { previous = []; continue }
            inputs.append(macInput(previous: previous, sequence: sequence, sealed: sealed))
            previous = mac
        }
        let computed = try keys.backend.chainMACs(inputs)
        let opened = try keys.backend.open(stored.compactMap { row in
            guard row.sequence != nil, let sealed = row.sealed, row.mac != nil else { return nil }
            return SealedBox(purpose: .events, bytes: sealed)
        })
        guard computed.count == inputs.count, opened.count == inputs.count else { throw .tampered("the activity log") }
        var expected = (manifest.log.pruned?.sequence ?? 0) + 1
        var events: [Event] = []
        var macs: [UInt64: [UInt8]] = [:]
        var problem: String?
        var index = 0
        for row in stored {
            guard let sequence = row.sequence else {
                if problem == nil { problem = "an event has an impossible sequence number" }
                continue
            }
            guard row.sealed != nil, let mac = row.mac else {
                if problem == nil { problem = "event \(sequence) is not stored as sealed bytes: it was changed" }
                expected = sequence + 1
                continue
            }
            defer { index += 1 }
            if problem == nil {
                if sequence != expected {
                    problem = sequence > expected ? "event \(expected) is missing" : "event \(sequence) is out of place"
                } else if computed[index] != mac {
                    problem = "event \(sequence) was changed, moved or removed"
                }
            }
            if let plaintext = opened[index], let body = try? Records.body(of: plaintext, lookup: binding, revision: sequence, what: ""),
               let event = try? decode(plaintext, body: body, sequence: sequence) {
                events.append(event)
            } else if problem == nil {
                problem = "event \(sequence) does not open: it was changed"
            }
            macs[sequence] = mac
            expected = sequence + 1
        }
        if problem == nil, let head = manifest.log.head, head.sequence > (manifest.log.pruned?.sequence ?? 0),
           macs[head.sequence] != head.mac {
            problem = head.sequence >= expected ? "events up to \(head.sequence) were cut off the end of the log"
                                                 : "event \(head.sequence) was changed"
        }
        let anchor = anchored(manifest)
        if problem == nil, let change = events.first(where: { $0.sequence > anchor && !$0.action.isRead }) {
            problem = rolledBack(change.sequence)
        }
        return LogReport(events: events, problem: problem)
    }
}

extension String {
    /// Without `characters` at either end (the library does without Foundation).
    package func trimmingCharacters(in characters: String) -> String {
        var s = Substring(self)
        while let last = s.last, characters.contains(last) { s = s.dropLast() }
        while let first = s.first, characters.contains(first) { s = s.dropFirst() }
        return String(s)
    }
}
