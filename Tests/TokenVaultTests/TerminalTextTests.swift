import Testing
@testable import TokenVault

@Suite struct TerminalTextTests {
    @Test func controlAndFormatCharactersAreWrittenAsEscapes() {
        let cases: [(String, String)] = [
            ("plain text, café, 東京", "plain text, café, 東京"),
            ("\u{1B}]0;owned\u{07}", "\\e]0;owned\\x07"),
            ("a\nb\rc\td", "a\\nb\\rc\\td"),
            ("\u{00}\u{08}\u{7F}", "\\x00\\x08\\x7F"),
            ("C1 \u{85} \u{9B}31m", "C1 \\u{0085} \\u{009B}31m"),
            ("bidi \u{202E}txt.exe\u{202C} \u{2066}x\u{2069}", "bidi \\u{202E}txt.exe\\u{202C} \\u{2066}x\\u{2069}"),
            ("zero\u{200B}width\u{FEFF}", "zero\\u{200B}width\\u{FEFF}"),
            ("lines\u{2028}\u{2029}", "lines\\u{2028}\\u{2029}"),
            // A backslash is doubled, so "\e" typed by someone never reads as an escape.
            ("C:\\e\\n", "C:\\\\e\\\\n"),
        ]
        for (raw, shown) in cases {
            #expect(TerminalText.escape(raw) == shown)
        }
    }

    /// ASCII is answered without Unicode's tables (a pass printing thousands of lines spent a
    /// tenth of its time in them): the same answer as the general category gives.
    @Test func everyASCIIScalarIsJudgedAsItsGeneralCategorySays() {
        for value in UInt32(0)..<0x80 {
            let scalar = Unicode.Scalar(value)!
            let category = scalar.properties.generalCategory
            let unprintable = [.control, .format, .lineSeparator, .paragraphSeparator].contains(category)
            #expect(TerminalText.isUnprintable(scalar) == unprintable, "U+\(String(value, radix: 16))")
        }
    }

    @Test func escapedTextHoldsNoControlCharacter() {
        let all = String(String.UnicodeScalarView((UInt32(0)..<0x250).compactMap { Unicode.Scalar($0) }))
            + "\u{200E}\u{200F}\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}\u{2066}\u{2067}\u{2068}\u{2069}"
        let escaped = TerminalText.escape(all)
        #expect(!TerminalText.containsUnprintable(escaped))
        #expect(escaped.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F })
    }

    @Test func userNamesAndHostsWithControlCharactersAreRefused() {
        for bad in ["a\u{1B}[31m", "a\nb", "a\u{85}", "a\u{202E}b", "a\u{7F}"] {
            #expect(throws: VaultError.self) { try Entry.validate(username: bad) }
            #expect(throws: VaultError.self) { try Entry.validate(host: bad) }
            let entry = Entry(name: "n", url: CredentialURL(scheme: "https", host: "h"), username: bad)
            #expect(throws: VaultError.self) { try entry.validate() }
        }
        #expect(throws: Never.self) { try Entry.validate(username: "oauth2") }
        #expect(throws: Never.self) { try Entry.validate(host: "gitlab.example.com:8443") }
    }

    @Test func anEntryWrittenBeforeTheRuleCanStillBeChangedElsewhere() throws {
        var old = Entry(name: "n", url: CredentialURL(scheme: "https", host: "h"), username: "a\u{1B}b")
        var new = old
        new.notes = "changed"
        #expect(throws: Never.self) { try Entry.validate(changedFrom: old, to: new) }
        new.username = "c\u{1B}d"
        #expect(throws: VaultError.self) { try Entry.validate(changedFrom: old, to: new) }
        old.username = nil
        new = old
        new.url = CredentialURL(scheme: "https", host: "h\u{9B}")
        #expect(throws: VaultError.self) { try Entry.validate(changedFrom: old, to: new) }
    }

    @Test func aNumberWithAUnitIsNotTokenShaped() {
        #expect(!Redaction.looksLikeToken("99999999999999999999d"))
        #expect(!Redaction.looksLikeToken("1234567890123456789s"))
        #expect(Redaction.looksLikeToken("99999999999999999999dd"))
        #expect(Redaction.looksLikeToken("d99999999999999999999"))
        #expect(Redaction.looksLikeToken("x-99999999999999a9999999-y"))
        #expect(throws: VaultError.self) { try Redaction.refuseToken("glpat-abc", what: "the value of --note") }
        #expect(throws: Never.self) { try Redaction.refuseToken("rotated by hand", what: "the value of --note") }
    }
}
