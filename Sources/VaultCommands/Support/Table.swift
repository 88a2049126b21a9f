import VaultCLICommon
import TokenVault
import Glibc

/// Colour and width for a table on a terminal; plain and full-width otherwise.
struct Style {
    var colour: Bool
    var width: Int?

    static func forStdout() -> Style {
        guard isatty(1) == 1 else { return Style(colour: false, width: nil) }
        var size = winsize()
        let columns = ioctl(1, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        let noColour = Environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return Style(colour: !noColour && Environment["TERM"] != "dumb", width: columns)
    }
}

enum Table {
    enum Colour: String { case red = "31", yellow = "33" }

    /// A cell's text is escaped (`TerminalText`): the columns line up on what the terminal shows.
    struct Cell {
        var text: String
        var colour: Colour?
        init(_ text: String, colour: Colour? = nil) {
            self.text = TerminalText.escape(text)
            self.colour = colour
        }
    }

    /// Left-aligned columns separated by two spaces. With a width, the widest columns are cut
    /// (ending in "…") until the table fits.
    static func render(header: [String], rows: [[Cell]], style: Style = Style(colour: false, width: nil)) -> String {
        let all = [header.map { Cell($0) }] + rows
        var widths = header.map(\.count)
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.text.count) } }
        if let width = style.width {
            let minimum = header.map { max($0.count, 6) }
            while widths.reduce(0, +) + 2 * (widths.count - 1) > width {
                guard let widest = widths.indices.filter({ widths[$0] > minimum[$0] }).max(by: { widths[$0] < widths[$1] })
                else { break }
                widths[widest] -= 1
            }
        }
        return all.map { row in
            row.enumerated().map { i, cell -> String in
                var text = cell.text
                if text.count > widths[i] { text = String(text.prefix(widths[i] - 1)) + "…" }
                let padding = i == row.count - 1 ? "" : String(repeating: " ", count: widths[i] - text.count)
                if style.colour, let colour = cell.colour { return "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" + padding }
                return text + padding
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
