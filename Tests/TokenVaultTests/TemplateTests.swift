import Testing
@testable import TokenVault

/// The template parser of `vault inject`: the grammar, its errors and their lines, hostile input.
@Suite struct TemplateTests {
    func parse(_ text: String) throws(Template.ParseError) -> [Template.Piece] {
        try Template.parse(Array(text.utf8))
    }

    func failure(_ text: String) -> Template.ParseError? {
        do { _ = try parse(text); return nil } catch { return error }
    }

    @Test func referencesAreFoundWithAnySpacingAndEscapes() throws {
        let pieces = try parse("a {{ vault \"gl\" }}b{{vault\"x\\\"y\\\\\"\"username\"}}\n{{\tvault \"gl\"  \"expires\"\t}}")
        #expect(pieces == [
            .text(Array("a ".utf8)), .reference(SecretReference(entry: "gl"), line: 1), .text(Array("b".utf8)),
            .reference(SecretReference(entry: "x\"y\\", field: .username), line: 1), .text([10]),
            .reference(SecretReference(entry: "gl", field: .expires), line: 2),
        ])
    }

    @Test func otherBracesAreText() throws {
        for text in ["{{ .Values.x }}", "{{vaults \"a\" }}", "{{ \"vault\" }}", "{ vault \"a\" }", "{{", "{{ vault", "}}", "{{{{", ""] {
            let pieces = try parse(text)
            #expect(pieces == (text.isEmpty ? [] : [.text(Array(text.utf8))]), "\(text)")
        }
        // A third brace stays in front of the reference.
        #expect(try parse("{{{ vault \"a\" }}") == [.text([UInt8(ascii: "{")]), .reference(SecretReference(entry: "a"), line: 1)])
    }

    @Test func malformedReferencesNameTheirLine() {
        let cases: [(String, Int)] = [
            ("{{ vault }}", 1), ("x\n{{ vault gl }}", 2), ("\n\n{{ vault \"gl\"", 3), ("{{ vault \"gl\" \"secret\" }}", 1),
            ("{{ vault \"gl\" \"username\" \"x\" }}", 1), ("{{ vault \"g\nl\" }}", 1), ("{{ vault \"a\\n\" }}", 1),
            ("{{ vault \"\" }}", 1), ("{{ vault \"unclosed", 1), ("{{ vault \"gl\" }", 1), ("{{ vault \"a\u{7f}\" }}", 1),
            ("{{ vault \"" + String(repeating: "n", count: 256) + "\" }}", 1),
        ]
        for (text, line) in cases {
            let error = failure(text)
            #expect(error?.line == line, "\(text.prefix(40)): \(String(describing: error))")
        }
        #expect(failure("{{ vault \"" + String(repeating: "n", count: 255) + "\" }}") == nil)
        #expect(failure("{{ vault \"\u{ff}\" }}") == nil)
        // Bytes that are not UTF-8 in a name are refused, not trapped on.
        #expect((try? Template.parse(Array("{{ vault \"".utf8) + [0xff, 0xfe] + Array("\" }}".utf8))) == nil)
    }

    @Test func aTemplateOverTheLimitIsRefused() {
        #expect((try? Template.parse([UInt8](repeating: 0x61, count: Template.maxBytes + 1))) == nil)
        #expect((try? Template.parse([UInt8](repeating: 0x7b, count: Template.maxBytes)))?.count == 1)
    }

    @Test func hostileBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("{} \t\"\\\nvault\u{0}ab".utf8) + [0xff, 0x80]
        for _ in 0..<3000 {
            let count = Int.random(in: 0...60, using: &generator)
            let bytes = (0..<count).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
            if let pieces = try? Template.parse(bytes) {
                // What parses renders back to the same bytes when each reference is its own text.
                let references = Template.references(in: pieces)
                let rendered = Template.render(pieces, values: references.map { _ in Secret("") })
                #expect(rendered != nil)
            }
        }
    }

    @Test func renderingPutsEachValueInPlace() throws {
        let pieces = try parse("a={{ vault \"x\" }};b={{ vault \"y\" \"url\" }}.")
        let rendered = try #require(Template.render(pieces, values: [Secret("ONE"), Secret("https://h")]))
        #expect(rendered.revealString() == "a=ONE;b=https://h.")
        #expect(Template.render(pieces, values: [Secret("ONE")]) == nil)
    }
}
