import Glibc

/// The whole contract between a client (`vault`, the git helper, the library) and the agent that
/// holds an unlocked vault's key, as in rbw: the key never leaves the agent; clients send what
/// must be sealed or opened and get the result back.
///
/// Transport: a Unix stream socket, private to the user (folder 0700, socket 0600, the peer's uid
/// checked with SO_PEERCRED on both sides). Each message is a frame: a u32 little-endian length,
/// then the body. Frames are read into secure memory. A client may send any number of requests
/// on one connection, one at a time; the agent serves many connections side by side and waits
/// on none of them (`AgentConnections`).
///
/// Requests (first byte, then fields; a chunk is a u32 length and its bytes):
///   1 status
///   2 unlock   chunk(passphrase) u64(idle timeout, s) u64(maximum lifetime, s) [u8(flags: 1 allow
///              a key derivation costlier than `sensitive`); absent from older clients: 0]
///   3 lock     (the agent wipes the key and exits)
///   4 lookup   chunk(entry name)                    -> the name's blind index
///   5 seal     u8(purpose) chunk(plaintext)         -> the sealed box
///   6 open     u8(purpose) chunk(sealed box)        -> the plaintext
///   7 mac      chunk(data)                          -> the activity log's chain MAC of data
///   8 attach   file                                 -> ok, empty
///   9 read     file origin chunk(entry name)        -> ok entry chunk(token)
///  10 git      file origin u64(now, s since 1970) u8(fields present: 1 protocol, 2 host,
///              4 path, 8 user name) chunk(each present field, in that order)
///                                                   -> ok u64(n) n×entry u64(m) m×entry chunk(token)
///  11 helper  file origin u64(now) chunk(git's description, as git wrote it)
///                                                   -> ok u64(n) n×chunk(warning) chunk(stdout)
///              (the git helper's whole `get`: what to write to git, and the warnings for
///              stderr; the small C front end of `git-credential-vault` sends it)
///  13 git, as 10, from clients that know credentials git stores with `capability[]=authtype`
///              (metadata tag 18) and refresh tokens: fields-present bit 16 says git announced
///              the capability; the answer ends with chunk(the chosen one's refresh token, or
///              empty). An agent that predates them answers 13 and 14 `badRequest`, and the
///              client does the work itself: an older agent would match an authtype entry as a
///              password (it skips tag 18), so it is never asked.
///  14 helper, as 11, from such clients (the C front end).
///  15 read, as 9, under `Vault.get`'s rules: file origin u8(flags: 1 allow an expired or
///              revoked token) chunk(entry name) -> ok entry chunk(token), or the failure
///              `inTrash` (message: the name), `expired` or `revoked` (message: the date, in
///              decimal seconds since 1970), checked before the read is recorded. An agent that
///              predates it answers `badRequest`, and the client reads itself; the client
///              checks the entry it gets back all the same. Request 9, from older clients
///              (which check expiry and revocation themselves), refuses a token in the trash as
///              `notFound`.
/// Requests 9 to 15 are `Vault.get` and `Vault.gitCredential(for:)` done by the agent on its own
/// open vault, recorded in the activity log as the client's (origin: chunk(actor) u64(parent
/// pid) chunk(parent's name)). `file` is u64(device) u64(inode) of the client's vault file: the
/// agent answers 8 to 10 only when that is the file it unlocked, still at its path, and its key
/// still opens the file's manifest (when the file changed other than through SQLite, the agent
/// opens it again to check); otherwise it fails with `locked`. An entry is chunk(its metadata
/// record, as sealed) u8(has a last-used time) u64(that time). Request 10 answers with the
/// candidates (the chosen one first), the expired entries that would have matched, and the
/// chosen one's token (empty when none was chosen).
/// Responses:
///   0 ok       chunk(result), or the fields above
///   1 status   u8(unlocked) u64(locks at, s since 1970, 0 when locked) u64(idle timeout, s)
///   2 failure  u8(code) chunk(message: never a secret; for `notFound` the entry's name, for
///              `tampered` what failed, for `unsupported` the format version)
/// Purposes are the subkey ids of SECURITY.md: 1 manifest, 3 metadata, 4 secret, 6 events, 8 usage.
enum AgentProtocol {
    /// The largest answer a client reads (an opened manifest: about 240 KB at 10,000 entries).
    static let maximumFrame = 64 << 20
    /// The largest request the agent reads: its buffers grow only as bytes arrive, so many
    /// connections announcing large frames commit little memory.
    static let maximumRequest = 4 << 20

    enum Operation: UInt8 {
        case status = 1, unlock = 2, lock = 3, lookup = 4, seal = 5, open = 6, mac = 7
        case attach = 8, read = 9, git = 10, helper = 11
        case git2 = 13, helper2 = 14
        case read2 = 15
        /// Unlock with the vault key itself, from a client that derived it already (the git
        /// helper after a passphrase typed at the terminal): chunk(vault key) u64(idle timeout)
        /// u64(maximum lifetime) -> ok, empty. The agent keeps the key only if it opens the
        /// vault file at its path.
        case unlockKey = 16
        /// Many of the activity log's events opened at once (purpose 6 only): u64(count), then
        /// count chunks; answered with count chunks.
        case openEvents = 12
    }

    /// The flags of `unlock`.
    enum UnlockFlags {
        static let allowCostlyKDF: UInt8 = 1
    }

    /// The flags of `read` (request 15).
    enum ReadFlags {
        static let allowExpired: UInt8 = 1
    }

    enum ResponseKind: UInt8 {
        case ok = 0, status = 1, failure = 2
    }

    enum FailureCode: UInt8 {
        case locked = 1, wrongPassphrase = 2, tampered = 3, badRequest = 4, other = 5, notFound = 6
        /// The agent waited for another process's write too long to answer in time: the client
        /// does the work itself.
        case busy = 7
        case corrupt = 8, unsupported = 9
        /// `Vault.get`'s refusals (request 15).
        case inTrash = 10, expired = 11, revoked = 12
    }

    /// A frame body under construction: fields appended, then written out at once.
    struct Builder {
        private var parts: [Part] = []
        private enum Part {
            case bytes([UInt8])
            case secret(UnsafeRawBufferPointer, SecureBytes?)
        }

        mutating func u8(_ value: UInt8) { parts.append(.bytes([value])) }
        mutating func u64(_ value: UInt64) {
            var w = ByteWriter()
            w.u64(value)
            parts.append(.bytes(w.bytes))
        }
        mutating func chunk(_ bytes: [UInt8]) {
            var w = ByteWriter()
            w.u32(UInt32(bytes.count))
            parts.append(.bytes(w.bytes))
            parts.append(.bytes(bytes))
        }
        mutating func origin(_ origin: ActivityLog.Origin) {
            chunk(Array(origin.actor.utf8))
            u64(UInt64(bitPattern: origin.parentPID))
            chunk(Array((origin.parentName ?? "").utf8))
        }
        mutating func file(_ identity: (device: UInt64, inode: UInt64)) {
            u64(identity.device)
            u64(identity.inode)
        }
        mutating func entry(_ entry: Entry) {
            // Metadata (notes included) in a buffer that is wiped, as when it is sealed.
            var encoded = Records.encode(entry)
            let copy = SecureBytes(count: encoded.count, guarded: false) { $0.copyBytes(from: encoded) }
            Sodium.wipe(&encoded)
            copy.withUnsafeBytes { chunk(secure: $0, owner: copy) }
            u8(entry.lastUsed == nil ? 0 : 1)
            u64(UInt64(bitPattern: entry.lastUsed?.secondsSince1970 ?? 0))
        }
        /// A chunk copied from secure memory; `owner` keeps it alive until the frame is sent.
        mutating func chunk(secure bytes: UnsafeRawBufferPointer, owner: SecureBytes?) {
            var w = ByteWriter()
            w.u32(UInt32(bytes.count))
            parts.append(.bytes(w.bytes))
            parts.append(.secret(bytes, owner))
        }

        /// Sends the frame, waiting at most a second for the peer to take it.
        func send(_ fd: Int32) -> Bool {
            frame().withUnsafeBytes { AgentProtocol.writeAll(fd, $0) }
        }

        /// The whole frame, length first, in a buffer that is wiped when released (not a guarded
        /// allocation: frames live for microseconds, and a guarded allocation costs several system
        /// calls; what a caller keeps is copied into guarded memory).
        func frame() -> SecureBytes {
            let total = parts.reduce(0) { sum, part in
                switch part {
                case .bytes(let b): sum + b.count
                case .secret(let b, _): sum + b.count
                }
            }
            return SecureBytes(count: 4 + total, guarded: false) { out in
                var offset = 0
                func put(_ bytes: UnsafeRawBufferPointer) {
                    guard bytes.count > 0 else { return }
                    UnsafeMutableRawBufferPointer(rebasing: out[offset..<offset + bytes.count]).copyMemory(from: bytes)
                    offset += bytes.count
                }
                var w = ByteWriter()
                w.u32(UInt32(total))
                w.bytes.withUnsafeBytes { put($0) }
                for part in parts {
                    switch part {
                    case .bytes(let b): b.withUnsafeBytes { put($0) }
                    case .secret(let b, let owner): withExtendedLifetime(owner) { put(b) }
                    }
                }
            }
        }
    }

    /// Why a connection's bytes are not a frame; the connection is closed.
    enum FrameError: Error, CustomStringConvertible {
        /// The peer closed the connection between frames (not an error of the peer's).
        case closed
        /// The peer closed the connection, or failed, in the middle of a frame.
        case truncated
        /// A length above `maximumFrame`.
        case oversized(Int)
        /// A frame not complete by its deadline, or an answer not taken by its deadline.
        case timedOut
        case failed(errno: Int32)

        var description: String {
            switch self {
            case .closed: "closed by the client"
            case .truncated: "closed in the middle of a frame"
            case .oversized(let length): "a frame of \(length) bytes, more than the other end accepts"
            case .timedOut: "too slow to send its request or take its answer"
            case .failed(let code): String(cString: strerror(code))
            }
        }
    }

    /// A frame arriving in pieces, on a socket that is never waited on: its length, then its
    /// body, read into a buffer that is wiped when released. The buffer grows (to twice its
    /// size, the old one wiped) as bytes arrive: an announced length costs nothing until sent.
    struct FrameReader {
        private var header = [UInt8](repeating: 0, count: 4)  // a length, no secret
        private var headerCount = 0
        private var body: SecureBytes?
        private var bodyCount = 0
        private var length = 0
        private let maximum: Int

        init(maximum: Int = AgentProtocol.maximumFrame) { self.maximum = maximum }

        /// Whether part of a frame has arrived.
        var isPartial: Bool { headerCount > 0 }

        /// Reads what has arrived, without waiting: the body once the whole frame is there (the
        /// reader is then ready for the next one), nil while it is not.
        mutating func read(_ fd: Int32) throws(FrameError) -> SecureBytes? {
            while true {
                if let full = body, bodyCount == full.count {
                    guard bodyCount == length else {
                        // Full, but more is announced: a larger buffer, the bytes so far copied.
                        body = SecureBytes(count: min(length, full.count * 2), guarded: false) { bigger in
                            full.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: bigger[0..<$0.count]).copyMemory(from: $0) }
                        }
                        continue
                    }
                    self = FrameReader(maximum: maximum)
                    return full
                }
                let n: Int
                if let body {
                    n = body.building { recv(fd, $0.baseAddress! + bodyCount, $0.count - bodyCount, Int32(MSG_DONTWAIT)) }
                } else {
                    n = header.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + headerCount, 4 - headerCount, Int32(MSG_DONTWAIT)) }
                }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return nil }
                if n < 0 { throw .failed(errno: errno) }
                if n == 0 { throw isPartial ? .truncated : .closed }
                if body != nil {
                    bodyCount += n
                    continue
                }
                headerCount += n
                guard headerCount == 4 else { continue }
                length = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16 | Int(header[3]) << 24
                guard length <= maximum else { throw .oversized(length) }
                body = SecureBytes(count: min(length, 16 << 10), guarded: false)
            }
        }
    }

    /// Reads one frame's body into a buffer that is wiped when released; nil at end of input, on
    /// an oversized frame, or when the whole frame has not arrived within `seconds` (a slow
    /// peer cannot hold the other end: the deadline is for the frame, not for each read).
    static func receive(_ fd: Int32, within seconds: Int = 1) -> SecureBytes? {
        let deadline = monotonicMilliseconds() + Int64(seconds) * 1000
        var reader = FrameReader()
        while true {
            do {
                if let body = try reader.read(fd) { return body }
            } catch {
                return nil
            }
            guard wait(fd, POLLIN, deadline: deadline) else { return nil }
        }
    }

    static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// Waits until `fd` is ready for `events` or the deadline passes.
    private static func wait(_ fd: Int32, _ events: Int32, deadline: Int64) -> Bool {
        while true {
            let left = deadline - monotonicMilliseconds()
            guard left > 0 else { return false }
            var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
            let ready = poll(&entry, 1, Int32(min(left, 1000)))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return false }
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, within seconds: Int = 1) -> Bool {
        let deadline = monotonicMilliseconds() + Int64(seconds) * 1000
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN {
                guard wait(fd, POLLOUT, deadline: deadline) else { return false }
                continue
            }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Reads fields out of a received body.
    struct Reader {
        let body: UnsafeRawBufferPointer
        var offset = 0

        mutating func u8() -> UInt8? {
            guard offset < body.count else { return nil }
            defer { offset += 1 }
            return body[offset]
        }

        mutating func u64() -> UInt64? {
            guard offset + 8 <= body.count else { return nil }
            defer { offset += 8 }
            return (0..<8).reduce(UInt64(0)) { $0 | UInt64(body[offset + $1]) << (8 * UInt64($1)) }
        }

        mutating func string() -> String? {
            chunk().map { String(decoding: $0, as: UTF8.self) }
        }

        mutating func file() -> (device: UInt64, inode: UInt64)? {
            guard let device = u64(), let inode = u64() else { return nil }
            return (device, inode)
        }

        mutating func origin() -> ActivityLog.Origin? {
            guard let actor = string(), let pid = u64(), let name = string() else { return nil }
            return ActivityLog.Origin(actor: actor, parentPID: Int64(bitPattern: pid), parentName: name.isEmpty ? nil : name)
        }

        mutating func entry() -> Entry? {
            guard let record = chunk(), var entry = try? Records.decode(record),
                  let used = u8(), let time = u64() else { return nil }
            if used == 1 { entry.lastUsed = Timestamp(secondsSince1970: Int64(bitPattern: time)) }
            return entry
        }

        mutating func chunk() -> UnsafeRawBufferPointer? {
            guard offset + 4 <= body.count else { return nil }
            let length = (0..<4).reduce(0) { $0 | Int(body[offset + $1]) << (8 * $1) }
            guard offset + 4 + length <= body.count else { return nil }
            defer { offset += 4 + length }
            return UnsafeRawBufferPointer(rebasing: body[(offset + 4)..<(offset + 4 + length)])
        }
    }

    /// The device and inode of the file at `path` (zeros when there is none: never a match).
    static func fileIdentity(_ path: String) -> (device: UInt64, inode: UInt64) {
        var info = stat()
        guard stat(path, &info) == 0 else { return (0, 0) }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }
}
