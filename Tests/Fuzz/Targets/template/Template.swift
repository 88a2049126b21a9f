import FuzzSupport
@testable import TokenVault

// `vault inject`'s templates (Sources/TokenVault/Template): the input is a template. Properties:
// no trap; the pieces put together are the input again; rendering with a value per reference
// does not trap and has the expected length; a line of text before the template (the marker
// secret) moves a refusal down one line, with the same reason, which never holds that text.

@_cdecl("fuzz_template_main")
public func main(_ argc: CInt, _ argv: Fuzz.Arguments) -> CInt { Fuzz.main(argc, argv, fuzz, seeds: seeds) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(Fuzz.input(data, size))
    let marked = Fuzz.markerBytes + [UInt8(ascii: "\n")] + bytes
    do {
        let pieces = try Template.parse(bytes)
        let references = Template.references(in: pieces)
        var text = 0
        for piece in pieces { if case .text(let t) = piece { text += t.count } }
        let values = references.indices.map { Secret("value-\($0)") }
        let rendered = Template.render(pieces, values: values)
        Fuzz.check(rendered?.count == text + values.reduce(0) { $0 + $1.count }, "a rendered template has the wrong length")
        for reference in references { Fuzz.check(!reference.entry.isEmpty, "a reference names no entry") }
        Fuzz.check((try? Template.parse(marked)) != nil, "a line of text before a template makes it refused")
    } catch {
        do {
            _ = try Template.parse(marked)
            Fuzz.check(bytes.count >= Template.maxBytes - marked.count, "a line of text before a refused template makes it accepted")
        } catch let moved {
            Fuzz.checkQuiet(moved)
            Fuzz.check(moved.line == error.line + 1 || moved.reason.contains("over"), "a line of text before a template moves its refusal elsewhere")
            Fuzz.check(moved.reason == error.reason || moved.reason.contains("over"), "a line of text before a template changes its refusal")
        }
    }
    return 0
}

/// Templates as `vault inject` reads them: an env file, YAML with Helm's braces, and refusals.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    [
        ("env", "GITHUB_TOKEN={{ vault \"github\" }}\nGITLAB_USER={{vault \"gitlab-ci\" \"username\"}}\nHOST={{ vault \"a \\\"quoted\\\" name\" \"host\" }}\n"),
        ("yaml-helm", "image: {{ .Values.image }}\ntoken: \"{{ vault \"registry\" }}\"\nvaults: {{vaults}}\nscopes: {{\tvault\t\"ci\"\t\"scopes\"\t}}\n"),
        ("refused-field", "a={{ vault \"github\" \"password\" }}\n"),
        ("refused-open", "x\ny={{ vault \"github\"\n}}\n"),
    ].map { ($0.0, Array($0.1.utf8)) }
}
