/// A small JSON reader for GitLab's answers (RFC 8259). Strings stay byte ranges of the body
/// until asked for, so that a token in the answer is copied from the body's wiped memory into a
/// `Secret`, never into a `String`.
package enum JSONValue {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    /// The range of the string's content in the body (between the quotes), and whether it has
    /// escapes.
    case string(Range<Int>, escaped: Bool)
    case number(Double)
    case bool(Bool)
    case null

    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    package struct ParseError: Error {}

    /// Parses the whole of `bytes` as one value.
    package static func parse(_ bytes: UnsafeRawBufferPointer) throws(ParseError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.offset == bytes.count else { throw ParseError() }
        return value
    }

    /// A string value, decoded (escapes included); nil for anything else.
    package func string(in bytes: UnsafeRawBufferPointer) -> String? {
        guard case .string(let range, let escaped) = self else { return nil }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard escaped else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        var i = 0
        while i < raw.count {
            let byte = raw[i]
            guard byte == UInt8(ascii: "\\"), i + 1 < raw.count else { out.append(byte); i += 1; continue }
            let next = raw[i + 1]
            i += 2
            switch next {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard i + 4 <= raw.count, let unit = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: raw[i..<i + 4]), as: UTF8.self), radix: 16) else { return nil }
                i += 4
                // Surrogate pairs are joined; a lone surrogate becomes U+FFFD.
                var scalar = Unicode.Scalar(unit)
                if (0xD800..<0xDC00).contains(unit), i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u"),
                   let low = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: raw[(i + 2)..<(i + 6)]), as: UTF8.self), radix: 16),
                   (0xDC00..<0xE000).contains(low) {
                    scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                    i += 6
                }
                out.append(contentsOf: Array(String(Character(scalar ?? "\u{FFFD}")).utf8))
            default: out.append(next)  // \" \\ \/
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func skipSpace() {
            while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
        }

        mutating func value(depth: Int) throws(ParseError) -> JSONValue {
            guard depth < 64 else { throw ParseError() }
            skipSpace()
            guard offset < bytes.count else { throw ParseError() }
            switch bytes[offset] {
            case UInt8(ascii: "{"):
                offset += 1
                var members: [(key: String, value: JSONValue)] = []
                skipSpace()
                if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") { offset += 1; return .object(members) }
                while true {
                    skipSpace()
                    let key = try string()
                    guard let name = key.string(in: bytes) else { throw ParseError() }
                    skipSpace()
                    guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw ParseError() }
                    offset += 1
                    members.append((name, try value(depth: depth + 1)))
                    skipSpace()
                    guard offset < bytes.count else { throw ParseError() }
                    if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                    guard bytes[offset] == UInt8(ascii: "}") else { throw ParseError() }
                    offset += 1
                    return .object(members)
                }
            case UInt8(ascii: "["):
                offset += 1
                var items: [JSONValue] = []
                skipSpace()
                if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard offset < bytes.count else { throw ParseError() }
                    if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                    guard bytes[offset] == UInt8(ascii: "]") else { throw ParseError() }
                    offset += 1
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return try string()
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default:
                let start = offset
                while offset < bytes.count, "+-0123456789.eE".utf8.contains(bytes[offset]) { offset += 1 }
                guard offset > start, let number = Double(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)) else {
                    throw ParseError()
                }
                return .number(number)
            }
        }

        mutating func literal(_ word: String, _ value: JSONValue) throws(ParseError) -> JSONValue {
            let utf8 = Array(word.utf8)
            guard offset + utf8.count <= bytes.count, bytes[offset..<offset + utf8.count].elementsEqual(utf8) else { throw ParseError() }
            offset += utf8.count
            return value
        }

        mutating func string() throws(ParseError) -> JSONValue {
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw ParseError() }
            offset += 1
            let start = offset
            var escaped = false
            while offset < bytes.count {
                let byte = bytes[offset]
                if byte == UInt8(ascii: "\"") {
                    offset += 1
                    return .string(start..<(offset - 1), escaped: escaped)
                }
                guard byte >= 0x20 else { throw ParseError() }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    offset += 1
                }
                offset += 1
            }
            throw ParseError()
        }
    }
}
