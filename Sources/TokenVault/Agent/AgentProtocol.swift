import CAgentProtocol
import Glibc

/// The agent's transport: a Unix stream socket, private to the user (folder 0700, socket 0600,
/// the peer's uid checked with SO_PEERCRED on both sides). Each message is a frame: a u32
/// little-endian length, then the body (`AgentRequest` or `AgentResponse`, encoded and decoded
/// in AgentMessages.swift). Frames are built and read in buffers that are wiped when released.
/// A client may send any number of requests on one connection, one at a time; the agent serves
/// many connections side by side and waits on none of them (`AgentConnections`).
enum AgentProtocol {
    /// The largest answer a client reads (an opened manifest: about 240 KB at 10,000 entries).
    static let maximumFrame = Int(TV_AGENT_MAXIMUM_FRAME)
    /// The largest request the agent reads: its buffers grow only as bytes arrive, so many
    /// connections announcing large frames commit little memory. Clients split their batches
    /// to stay under it.
    static let maximumRequest = Int(TV_AGENT_MAXIMUM_REQUEST)
    /// How long the agent keeps a remote (OpenBao) entry in its cache unless told otherwise:
    /// 5 minutes.
    static let defaultRemoteCacheTTL: Int64 = 300

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
        mutating func u32(_ value: UInt32) {
            var w = ByteWriter()
            w.u32(value)
            parts.append(.bytes(w.bytes))
        }
        /// A count, then each item.
        mutating func list<T>(_ items: [T], _ item: (inout Builder, T) -> Void) {
            u32(UInt32(items.count))
            for element in items { item(&self, element) }
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
        mutating func file(_ identity: FileIdentity) {
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
}

/// Which vault file a client means: the agent answers only for the one it unlocked.
struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// The file at `path` (zeros when there is none: never a match).
    init(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { self.init(device: 0, inode: 0); return }
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}

/// A sealed box and the subkey it is sealed under.
struct SealedBox: Sendable {
    let purpose: KeyDerivation.Purpose
    let bytes: [UInt8]

    /// Tokens and the identity's secret keys are opened into guarded memory; the rest into
    /// wiped buffers.
    var guarded: Bool { purpose == .entrySecret || purpose == .identity }
}
