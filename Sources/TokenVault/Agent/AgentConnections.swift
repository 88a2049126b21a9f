import CHardening
import Glibc

/// The agent's clients. The agent never waits on one of them, so a silent, slow or greedy client
/// holds up nobody else:
/// - Every socket is non-blocking. A request arrives in pieces into its connection's own buffer
///   (wiped when released); a frame not complete within `deadline` of its first byte, an
///   oversized one, or one cut short closes the connection (`AgentProtocol.FrameError`).
/// - An answer is written as far as the socket takes it; the rest waits until the socket is
///   writable, and a client that has not taken all of it within `deadline` of the request is
///   closed. A connection with an answer pending is not read (requests are served one at a time).
/// - An idle connection (no partial frame, no pending answer) is kept until its client closes it.
///   Past `maximum`, a new connection closes the oldest idle one (or, when none is idle, the one
///   that has waited longest on its deadline) instead of being refused.
struct AgentConnections {
    static let maximum = 64
    static let deadline: Int64 = 1000  // milliseconds

    private final class Connection {
        let fd: Int32
        var reader = AgentProtocol.FrameReader(maximum: AgentProtocol.maximumRequest)
        /// When the partial frame began or the pending answer was asked for, else nil.
        var busySince: Int64?
        var answer: SecureBytes?
        var written = 0
        var lastUsed: Int64

        init(fd: Int32, now: Int64) {
            self.fd = fd
            lastUsed = now
        }

        var isIdle: Bool { busySince == nil }
    }

    private var connections: [Connection] = []

    /// What to wait for on each connection: its answer's turn to be written, or its next bytes.
    var pollEntries: [pollfd] {
        connections.map { pollfd(fd: $0.fd, events: Int16($0.answer == nil ? POLLIN : POLLOUT), revents: 0) }
    }

    /// Milliseconds until the nearest deadline, at most `limit`.
    func timeout(now: Int64, limit: Int64) -> Int32 {
        let nearest = connections.compactMap(\.busySince).min().map { $0 + Self.deadline - now } ?? limit
        return Int32(max(0, min(limit, nearest)))
    }

    /// Takes every connection waiting on `listener`: only the user's own processes.
    mutating func accept(_ listener: Int32, now: Int64, log: (String) -> Void) {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd < 0 && errno == EINTR { continue }
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            guard tv_peer_uid(fd) == Int64(geteuid()) else {
                log("refused a connection from uid \(tv_peer_uid(fd))")
                close(fd)
                continue
            }
            if connections.count >= Self.maximum {
                let idle = connections.filter(\.isIdle)
                if let oldest = idle.min(by: { $0.lastUsed < $1.lastUsed }) {
                    log("closed the oldest idle connection to make room for a new one")
                    remove(oldest.fd)
                } else if let slowest = connections.min(by: { ($0.busySince ?? now) < ($1.busySince ?? now) }) {
                    log("closed the connection waiting longest to make room for a new one")
                    remove(slowest.fd)
                }
            }
            connections.append(Connection(fd: fd, now: now))
        }
    }

    /// Reads and writes what the sockets in `ready` (as `poll` left them) allow, and closes the
    /// connections past their deadline. Returns the requests complete now, by connection.
    mutating func service(_ ready: ArraySlice<pollfd>, now: Int64, log: (String) -> Void) -> [(Int32, SecureBytes)] {
        var requests: [(Int32, SecureBytes)] = []
        for entry in ready where entry.revents != 0 {
            guard let connection = connections.first(where: { $0.fd == entry.fd }) else { continue }
            do throws(AgentProtocol.FrameError) {
                if connection.answer != nil {
                    try write(connection, now: now)
                } else if let request = try connection.reader.read(connection.fd) {
                    connection.busySince = now  // Now for its answer.
                    requests.append((connection.fd, request))
                } else if connection.reader.isPartial && connection.busySince == nil {
                    connection.busySince = now
                }
            } catch {
                drop(connection.fd, error, log: log)
            }
        }
        for connection in connections where connection.busySince.map({ now - $0 >= Self.deadline }) ?? false {
            drop(connection.fd, .timedOut, log: log)
        }
        return requests
    }

    /// Sends `answer` to the client on `fd`, as far as its socket takes it now.
    mutating func answer(_ fd: Int32, _ answer: SecureBytes, now: Int64, log: (String) -> Void) {
        guard let connection = connections.first(where: { $0.fd == fd }) else { return }
        connection.answer = answer
        connection.written = 0
        do throws(AgentProtocol.FrameError) {
            try write(connection, now: now)
        } catch {
            drop(fd, error, log: log)
        }
    }

    private func write(_ connection: Connection, now: Int64) throws(AgentProtocol.FrameError) {
        guard let answer = connection.answer else { return }
        while connection.written < answer.count {
            let n = answer.withUnsafeBytes {
                send(connection.fd, $0.baseAddress! + connection.written, $0.count - connection.written, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            if n <= 0 { throw .failed(errno: n < 0 ? errno : EPIPE) }
            connection.written += n
        }
        connection.answer = nil  // Wiped as it is released.
        connection.busySince = nil
        connection.lastUsed = now
    }

    /// Closes a connection whose bytes are not a frame (or that simply ended).
    private mutating func drop(_ fd: Int32, _ error: AgentProtocol.FrameError, log: (String) -> Void) {
        if case .closed = error {} else { log("closed a connection: \(error)") }
        remove(fd)
    }

    private mutating func remove(_ fd: Int32) {
        close(fd)
        connections.removeAll { $0.fd == fd }
    }

    mutating func closeAll() {
        connections.forEach { close($0.fd) }
        connections.removeAll()
    }
}
