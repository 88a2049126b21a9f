import Testing
import TokenVault

/// The library's public surface as another Swift tool sees it: a plain `import TokenVault`
/// (not `@testable`), so that what is tested here is what such a tool can reach.
@Suite struct PublicAPITests {
    static let now = Timestamp(date: "2030-01-01")!

    @Test func reviewFindingsCarryTheFactsAndNoCommandLineWording() throws {
        let expired = Entry(name: "expired", kind: .gitlab, expires: Timestamp(date: "2029-12-01")!)
        let broad = Entry(name: "broad", kind: .gitlab, scopes: ["api", "read_user"], expires: Timestamp(date: "2031-01-01")!)
        let findings = Review.findings([expired, broad], now: Self.now, rotateEvery: Review.defaultRotation)
        let gone = try #require(findings.first { $0.kind == .expired })
        #expect(gone.name == "expired")
        #expect(gone.date == Timestamp(date: "2029-12-01"))
        #expect(gone.age == .seconds(31 * 86_400))
        #expect(gone.severity == .error)
        let scopes = try #require(findings.first { $0.kind == .broadScopes })
        #expect(scopes.name == "broad" && scopes.scopes == ["api"])
    }
}
