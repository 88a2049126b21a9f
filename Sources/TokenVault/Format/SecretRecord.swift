/// A version of a token that was replaced, and when.
public struct SecretVersion: Sendable {
    /// When a newer token replaced this one.
    public let replaced: Timestamp
    /// The replaced token.
    public let secret: Secret
}

/// The body of an entry's secret record: the current token and every token it replaced, newest
/// first, so that changing a token never loses the old one. Tag-length-value fields: tag 1 the
/// current token; tag 2 a previous version (replaced time as i64 LE, then the token's bytes);
/// tag 3 the OAuth refresh token git stored with the current token, if any.
struct SecretRecord {
    var current: Secret
    var previous: [SecretVersion]
    /// git's `oauth_refresh_token` for the current token (replaced with it, never kept in history).
    var refreshToken: Secret? = nil

    private static let currentTag: UInt8 = 1
    private static let previousTag: UInt8 = 2
    private static let refreshTag: UInt8 = 3

    var bodyCount: Int {
        5 + current.count + previous.reduce(0) { $0 + 5 + 8 + $1.secret.count } + (refreshToken.map { 5 + $0.count } ?? 0)
    }

    /// Writes the body straight into the (secure) buffer `Records.seal` hands out.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        func put(_ bytes: some Sequence<UInt8>) {
            for byte in bytes { buffer[offset] = byte; offset += 1 }
        }
        func header(_ tag: UInt8, _ length: Int) {
            var w = ByteWriter()
            w.u8(tag)
            w.u32(UInt32(length))
            put(w.bytes)
        }
        func put(_ secret: Secret) {
            secret.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + bytes.count]).copyMemory(from: bytes)
                offset += bytes.count
            }
        }
        header(Self.currentTag, current.count)
        put(current)
        for version in previous {
            header(Self.previousTag, 8 + version.secret.count)
            var w = ByteWriter()
            w.u64(UInt64(bitPattern: version.replaced.secondsSince1970))
            put(w.bytes)
            put(version.secret)
        }
        if let refreshToken {
            header(Self.refreshTag, refreshToken.count)
            put(refreshToken)
        }
        precondition(offset == bodyCount)
    }

    /// The record in `body`, its tokens copied into guarded memory: slices of `arena` (a pass
    /// over many records), or of one of the record's own, so that a long history (tens of
    /// thousands of tokens, from a bundle) is a few mappings, not a guarded allocation each.
    static func decode(_ body: UnsafeRawBufferPointer, arena: SecretArena? = nil) throws(VaultError) -> SecretRecord {
        let arena = arena ?? SecretArena()
        func copy(_ bytes: UnsafeRawBufferPointer) -> Secret { Secret(copying: bytes, in: arena) }
        var reader = ByteReader(body)
        var current: Secret?
        var previous: [SecretVersion] = []
        var refreshToken: Secret?
        while let (tag, value) = try reader.field() {
            switch tag {
            case currentTag:
                current = copy(value)
            case previousTag:
                guard value.count >= 8, let replaced = UnsafeRawBufferPointer(rebasing: value[0..<8]).int64 else {
                    throw .corrupt("a previous version of a token is truncated")
                }
                previous.append(SecretVersion(replaced: Timestamp(secondsSince1970: replaced),
                                              secret: copy(UnsafeRawBufferPointer(rebasing: value[8...]))))
            case refreshTag:
                refreshToken = copy(value)
            default:
                continue
            }
        }
        guard let current else { throw .corrupt("a secret record holds no token") }
        return SecretRecord(current: current, previous: previous, refreshToken: refreshToken)
    }

    /// Makes `secret` current, keeping the token it replaces (unless it is the same).
    mutating func replace(with secret: Secret, at time: Timestamp) {
        guard !secret.isEqual(to: current) else { return }
        refreshToken = nil  // It belonged to the token replaced.
        previous.insert(SecretVersion(replaced: time, secret: current), at: 0)
        current = secret
    }
}
