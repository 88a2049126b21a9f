import Glibc
import Testing
@testable import TokenVault

/// Passes over thousands of tokens (`vault check`'s review, a large `vault import`) hold them in
/// a few guarded regions of a `SecretArena`, not in a guarded allocation (an mmap and its guard
/// pages) each: wiped as before, and within the process's limit on memory mappings.
///
/// /proc/self/maps counts the whole process's mappings, and other suites run at the same time:
/// these tests run one at a time, and allow up to half a mapping per token (one each, what the
/// arena replaced, is at least twice that), so that another suite's allocations during the
/// measurement do not fail them on a loaded machine.
@Suite(.serialized) struct SecretArenaTests {
    /// The lines of /proc/self/maps: the process's memory mappings.
    static func mappings() -> Int {
        guard let file = fopen("/proc/self/maps", "r") else { return -1 }
        defer { fclose(file) }
        var count = 0
        while true {
            let c = fgetc(file)
            if c == EOF { break }
            if c == 0x0A { count += 1 }
        }
        return count
    }

    @Test func aSecretReleasedFromAnArenaLeavesNoByteOfItWhileItsRegionLives() throws {
        let arena = SecretArena()
        let token = Array("glpat-released-0123456789".utf8)
        var first: SecureBytes? = token.withUnsafeBytes { SecureBytes(copying: $0, arena: arena) }
        let neighbour = token.prefix(4).withUnsafeBytes { SecureBytes(copying: $0, arena: arena) }
        // The neighbour keeps the region mapped; the first token's place in it is read after release.
        let place = try #require(first?.withUnsafeBytes { $0.baseAddress })
        #expect(first?.withUnsafeBytes { Array($0) } == token)
        first = nil
        #expect(Array(UnsafeRawBufferPointer(start: place, count: token.count)) == [UInt8](repeating: 0, count: token.count))
        #expect(neighbour.withUnsafeBytes { Array($0) } == Array(token.prefix(4)))
    }

    @Test func slicesOfAnArenaKeepTheirOwnBytesWhateverTheirSizes() {
        let arena = SecretArena()
        // Sizes from empty to larger than the biggest region, so that regions are filled and
        // left, and one secret gets a region of its own.
        let sizes = (0..<3000).map { $0 % 97 } + [0, SecretArena.largestRegionBytes + 5, 1]
        let buffers = sizes.enumerated().map { index, size in
            SecureBytes(count: size, arena: arena) { $0.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: index)) }
        }
        for (index, (buffer, size)) in zip(buffers, sizes).enumerated() {
            #expect(buffer.count == size)
            #expect(buffer.withUnsafeBytes { $0.allSatisfy { $0 == UInt8(truncatingIfNeeded: index) } })
        }
    }

    @Test func aBatchOfTokensOpensIntoAFewMappingsNotOneEach() throws {
        let backend = LocalBackend(vaultKey: SymmetricKey.random())
        let tokens = (0..<5000).map { Array("glpat-batch-\($0)-abcdefghij".utf8) }
        var boxes: [SealedBox] = []
        for token in tokens {
            boxes.append(SealedBox(purpose: .entrySecret, bytes: try token.withUnsafeBytes { try backend.seal(.entrySecret, $0) }))
        }
        let before = Self.mappings()
        let opened = try backend.open(boxes)
        let during = Self.mappings()
        #expect(before > 0)
        #expect(during - before < tokens.count / 2, "\(during - before) mappings for \(tokens.count) tokens")
        #expect(opened.map { $0?.withUnsafeBytes { Array($0) } } == tokens)
    }

    @Test func aLargeImportFileHoldsItsTokensInAFewMappingsNotOneEach() {
        // More lines than Linux's default limit of 65,530 mappings allows at three mappings each.
        var file: [UInt8] = []
        for i in 0..<25_000 { file += Array("https://user-\(i):glpat-import-\(i)-abcdefghij@host-\(i % 50).example.com\n".utf8) }
        let before = Self.mappings()
        let parsed = file.withUnsafeBytes { PlainTextCredentials.parseGitCredentials($0) }
        let during = Self.mappings()
        #expect(parsed.credentials.count == 25_000)
        #expect(during - before < parsed.credentials.count / 2, "\(during - before) mappings for \(parsed.credentials.count) tokens")
        #expect(parsed.credentials.last?.secret.revealString() == "glpat-import-24999-abcdefghij")
    }

    @Test func anEntrysLongHistoryReadsIntoAFewMappingsNotOneEach() throws {
        // A bundle may bring an entry tens of thousands of previous tokens; reading the entry
        // back (`vault history`, the next merge) opened each into an allocation of its own.
        let arena = SecretArena()
        let previous = (0..<25_000).map { SecretVersion(replaced: Timestamp(secondsSince1970: Int64($0)),
                                                         secret: Array("glpat-old-\($0)".utf8).withUnsafeBytes { Secret(copying: $0, in: arena) }) }
        let record = SecretRecord(current: Secret("glpat-current"), previous: previous)
        var body = [UInt8](repeating: 0, count: record.bodyCount)
        body.withUnsafeMutableBytes { record.fill($0) }
        let before = Self.mappings()
        let decoded = try body.withUnsafeBytes { try SecretRecord.decode($0) }
        let during = Self.mappings()
        #expect(during - before < previous.count / 2, "\(during - before) mappings for \(previous.count) tokens")
        #expect(decoded.previous.count == 25_000)
        #expect(decoded.previous.last?.secret.revealString() == "glpat-old-24999")
        #expect(decoded.current.revealString() == "glpat-current")
    }

    @Test func aTokenTooLargeForARegionGetsItsOwnAndTheSmallOnesAfterItShareTheRegionBefore() {
        // A large token took a region of its own and left the one being filled: each small
        // token after it then began a new region, so lines alternating a large token and a small
        // one (a hostile import file) mapped and locked a whole region for every small token.
        let arena = SecretArena()
        let first = arena.allocate(16).region
        for _ in 0..<4 {
            let large = arena.allocate(SecretArena.largestRegionBytes + 1).region
            #expect(large !== first)
            #expect(arena.allocate(16).region === first)
        }
    }
}
