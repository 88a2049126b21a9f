/// The fields of the agent's messages, read out of a received body and written into a frame
/// (`AgentMessages.swift` says which fields each message has).

/// Reads fields out of a received body; past the end is `truncated`, never a trap.
struct FieldReader {
    private var bytes: ByteReader

    init(_ body: UnsafeRawBufferPointer) { bytes = ByteReader(body) }

    mutating func u8() throws(AgentCodecError) -> UInt8 {
        guard let value = bytes.u8() else { throw .truncated }
        return value
    }

    mutating func u64() throws(AgentCodecError) -> UInt64 {
        guard let value = bytes.u64() else { throw .truncated }
        return value
    }

    mutating func chunk() throws(AgentCodecError) -> UnsafeRawBufferPointer {
        guard let length = bytes.u32(), let chunk = bytes.take(Int(length)) else { throw .truncated }
        return chunk
    }

    mutating func string() throws(AgentCodecError) -> String { String(decoding: try chunk(), as: UTF8.self) }

    /// A count, then as many items: a count that the bytes left cannot hold (each item takes at
    /// least `itemBytes`) is refused before anything is reserved.
    mutating func list<T>(itemBytes: Int, maximum: Int = .max,
                          _ item: (inout FieldReader) throws(AgentCodecError) -> T) throws(AgentCodecError) -> [T] {
        guard let count = bytes.u32().map(Int.init) else { throw .truncated }
        guard count <= bytes.remaining / itemBytes else { throw .truncated }
        guard count <= maximum else { throw .invalid("a list of \(count) items") }
        var items: [T] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try item(&self)) }
        return items
    }

    mutating func purpose() throws(AgentCodecError) -> KeyDerivation.Purpose {
        guard let purpose = KeyDerivation.Purpose(rawValue: UInt64(try u8())), KeyDerivation.Purpose.sealing.contains(purpose) else {
            throw .invalid("a purpose")
        }
        return purpose
    }

    mutating func file() throws(AgentCodecError) -> FileIdentity { FileIdentity(device: try u64(), inode: try u64()) }

    mutating func origin() throws(AgentCodecError) -> ActivityLog.Origin {
        let actor = try string(), pid = try u64(), name = try string()
        return ActivityLog.Origin(actor: actor, parentPID: Int64(bitPattern: pid), parentName: name.isEmpty ? nil : name)
    }

    mutating func entry() throws(AgentCodecError) -> Entry {
        guard var entry = try? Records.decode(try chunk()) else { throw .invalid("an entry") }
        let used = try u8(), time = try u64()
        if used == 1 { entry.lastUsed = Timestamp(secondsSince1970: Int64(bitPattern: time)) }
        return entry
    }

    /// Nothing may follow the last field.
    func end() throws(AgentCodecError) {
        guard bytes.remaining == 0 else { throw .trailingBytes }
    }
}

extension FieldReader {
    /// An event of the activity log: u64(sequence) u64(time) chunk(action) then, each after a
    /// u8(present), chunk(entry) chunk(actor) u64(parent pid) chunk(parent's name) chunk(detail).
    mutating func event() throws(AgentCodecError) -> Event {
        let sequence = try u64(), time = Int64(bitPattern: try u64()), action = try string()
        let entry = try u8() == 1 ? try string() : nil
        let actor = try string()
        let pid = try u8() == 1 ? Int64(bitPattern: try u64()) : nil
        let parentName = try u8() == 1 ? try string() : nil
        let detail = try u8() == 1 ? try string() : nil
        return Event(sequence: sequence, time: Timestamp(secondsSince1970: time), action: EventAction(action),
                     entry: entry, actor: actor, parentPID: pid, parentName: parentName, detail: detail)
    }
}

extension AgentProtocol.Builder {
    /// An event of the activity log, as `FieldReader.event()` reads it.
    mutating func event(_ event: Event) {
        u64(event.sequence)
        u64(UInt64(bitPattern: event.time.secondsSince1970))
        chunk(Array(event.action.text.utf8))
        optional(event.entry) { $0.chunk(Array($1.utf8)) }
        chunk(Array(event.actor.utf8))
        optional(event.parentPID) { $0.u64(UInt64(bitPattern: $1)) }
        optional(event.parentName) { $0.chunk(Array($1.utf8)) }
        optional(event.detail) { $0.chunk(Array($1.utf8)) }
    }

    /// u8(present), then the value when there is one.
    mutating func optional<T>(_ value: T?, _ write: (inout Self, T) -> Void) {
        u8(value == nil ? 0 : 1)
        if let value { write(&self, value) }
    }
}
