/// `vault inject`'s templates: text with references to entries, replaced by their values.
///
/// The grammar, on bytes (the text is passed through byte for byte):
///
/// ```
/// reference := "{{" blank* "vault" blank* string [blank* string] blank* "}}"
/// blank     := " " | "\t"
/// string    := '"' { any byte but '"', '\', or a control byte | '\"' | '\\' } '"'
/// ```
///
/// The first string names the entry (1 to ``maxNameBytes`` bytes); the second, when present, is
/// a field (``EntryField``: `username`, `url`, `host`, `scopes`, `expires`, `kind`) put in
/// place of the token. A `{{` that is not followed (after blanks) by the word `vault` and then a
/// blank, `"` or `}` is not a reference and stays as it is (`{{ .Values.x }}`, `{{vaults}}`);
/// one that is must be a whole reference on one line, or the template is refused with the line
/// it starts on. There is no way to write a reference's text literally.
public enum Template {
    /// A part of a parsed template.
    public enum Piece: Sendable, Equatable {
        /// Text passed through as it is.
        case text([UInt8])
        /// A reference, and the line (from 1) it is on.
        case reference(SecretReference, line: Int)
    }

    /// Why a template was refused, and where.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The line (from 1) of the reference that is refused.
        public let line: Int
        /// What is wrong with it.
        public let reason: String

        /// `line N: reason`.
        public var description: String { "line \(line): \(reason)" }
    }

    /// The largest template parsed (1 MiB).
    public static let maxBytes = 1 << 20
    /// The longest entry name a reference may hold.
    public static let maxNameBytes = 255

    /// The pieces of `bytes`, text and references in order; adjacent text is one piece.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> [Piece] {
        guard bytes.count <= maxBytes else { throw ParseError(line: 1, reason: "the template is over \(maxBytes) bytes") }
        var pieces: [Piece] = []
        var textStart = 0, i = 0, line = 1
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") { line += 1 }
            guard bytes[i] == UInt8(ascii: "{"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "{"),
                  let afterKeyword = keywordEnd(bytes, from: i + 2) else {
                i += 1
                continue
            }
            var scanner = Scanner(bytes: bytes, position: afterKeyword, line: line)
            let reference = try scanner.reference()
            if textStart < i { pieces.append(.text(Array(bytes[textStart..<i]))) }
            pieces.append(.reference(reference, line: line))
            i = scanner.position
            textStart = i
        }
        if textStart < bytes.count { pieces.append(.text(Array(bytes[textStart...]))) }
        return pieces
    }

    /// The references of `pieces`, in order.
    public static func references(in pieces: [Piece]) -> [SecretReference] {
        pieces.compactMap { if case .reference(let reference, _) = $0 { reference } else { nil } }
    }

    /// The template with each reference replaced by its value (`values`, one for each reference
    /// in order), built in secure memory. Nil when `values` does not match the references.
    public static func render(_ pieces: [Piece], values: [Secret]) -> Secret? {
        guard values.count == references(in: pieces).count else { return nil }
        var total = 0, next = 0
        for piece in pieces {
            switch piece {
            case .text(let text): total += text.count
            case .reference: total += values[next].count; next += 1
            }
        }
        return Secret.filling(maxCount: total) { buffer in
            var offset = 0, next = 0
            for piece in pieces {
                switch piece {
                case .text(let text):
                    for byte in text { buffer[offset] = byte; offset += 1 }
                case .reference:
                    values[next].withUnsafeBytes { value in for byte in value { buffer[offset] = byte; offset += 1 } }
                    next += 1
                }
            }
            return offset
        }
    }

    /// Where the word `vault` ends when it follows `{{` at `start` (after blanks) and is itself
    /// followed by a blank, `"` or `}`; nil when the `{{` is not a reference.
    private static func keywordEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = start
        while i < bytes.count, isBlank(bytes[i]) { i += 1 }
        let keyword = Array("vault".utf8)
        guard bytes.count - i > keyword.count, Array(bytes[i..<i + keyword.count]) == keyword else { return nil }
        let after = bytes[i + keyword.count]
        guard isBlank(after) || after == UInt8(ascii: "\"") || after == UInt8(ascii: "}") else { return nil }
        return i + keyword.count
    }

    static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// Reads the rest of one reference, after `{{ vault`.
    private struct Scanner {
        let bytes: [UInt8]
        var position: Int
        let line: Int

        mutating func reference() throws(ParseError) -> SecretReference {
            skipBlanks()
            guard let name = try string(), !name.isEmpty else { throw failure("a reference needs an entry's name in double quotes: {{ vault \"NAME\" }}") }
            guard name.count <= Template.maxNameBytes else { throw failure("an entry's name is at most \(Template.maxNameBytes) bytes") }
            skipBlanks()
            var field: EntryField?
            if let fieldName = try string() {
                let text = String(decoding: fieldName, as: UTF8.self)
                guard let known = EntryField(rawValue: text) else {
                    throw failure("unknown field '\(TerminalText.escape(text))' (username, url, host, scopes, expires or kind)")
                }
                field = known
                skipBlanks()
            }
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "}"), bytes[position + 1] == UInt8(ascii: "}") else {
                throw failure("a reference ends with }} on its line: {{ vault \"NAME\" [\"FIELD\"] }}")
            }
            position += 2
            guard let entry = String(validating: name, as: UTF8.self) else { throw failure("an entry's name is not UTF-8") }
            return SecretReference(entry: entry, field: field)
        }

        /// A quoted string's bytes, or nil when none starts here.
        mutating func string() throws(ParseError) -> [UInt8]? {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
            position += 1
            var value: [UInt8] = []
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return value
                case UInt8(ascii: "\\"):
                    guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "\\") else {
                        throw failure("only \\\" and \\\\ are escapes in a quoted name")
                    }
                    value.append(bytes[position])
                    position += 1
                case 0..<0x20, 0x7f:
                    throw failure("a quoted name ends on its line, with no control characters")
                default:
                    value.append(byte)
                }
                guard value.count <= Template.maxNameBytes else { throw failure("an entry's name is at most \(Template.maxNameBytes) bytes") }
            }
            throw failure("a quoted name is not closed")
        }

        mutating func skipBlanks() {
            while position < bytes.count, Template.isBlank(bytes[position]) { position += 1 }
        }

        func failure(_ reason: String) -> ParseError { ParseError(line: line, reason: reason) }
    }
}
