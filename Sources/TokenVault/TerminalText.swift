/// Text for a person's terminal. Names, URLs, user names, notes, scopes and process names come
/// from outside (the command line, git, a file, another process); written raw, an escape
/// sequence among them could set the window title, hide or rewrite text, or forge a line. Every
/// human-facing print path shows them through ``escape(_:)``; `--json` has its own escaping,
/// and a token printed for a script is never touched.
package enum TerminalText {
    /// `text` with every scalar a terminal would not simply show written as an escape, and a
    /// backslash doubled so the result reads one way only:
    ///
    /// - `\\` for a backslash;
    /// - `\e`, `\n`, `\r`, `\t` for ESC, line feed, carriage return and tab;
    /// - `\xHH` (two upper-case hex digits) for the other C0 controls and DEL;
    /// - `\u{HHHH}` (at least four upper-case hex digits) for C1 controls and every other
    ///   control, format (bidirectional overrides and isolates, zero-width characters), line
    ///   or paragraph separator scalar: see ``isUnprintable(_:)``.
    package static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\\" || isUnprintable($0) }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\u{1B}": out += "\\e"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where !isUnprintable(scalar): out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x80: out += "\\x" + hex(scalar.value, digits: 2)
            default: out += "\\u{" + hex(scalar.value, digits: 4) + "}"
            }
        }
        return out
    }

    /// True for the scalars ``escape(_:)`` rewrites (a backslash aside): Unicode's general
    /// categories Cc (C0 controls, DEL, C1 controls), Cf (format: U+202A–U+202E, U+2066–U+2069,
    /// zero-width and invisible characters), Zl and Zp (U+2028, U+2029).
    package static func isUnprintable(_ scalar: Unicode.Scalar) -> Bool {
        // ASCII's only such scalars are its controls (Cc): answered without Unicode's tables.
        if scalar.isASCII { return scalar.value < 0x20 || scalar.value == 0x7F }
        return switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }

    /// True when `text` holds a scalar that ``isUnprintable(_:)``.
    package static func containsUnprintable(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: isUnprintable)
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
