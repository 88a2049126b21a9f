import FuzzSupport
@testable import TokenVault

// The manifest (Sources/TokenVault/Format/Manifest.swift): the input is its plaintext, sealed
// and padded as the vault seals it, then opened. Properties: no trap; a manifest that opens,
// sealed again, opens to the same manifest; lookups and changes of its listing do not trap; no
// error's text holds the marker secret.

private let key = SealingKey(backend: LocalBackend(vaultKey: SymmetricKey.random()), purpose: .manifest)

@_cdecl("fuzz_manifest_main")
public func main(_ argc: CInt, _ argv: Fuzz.Arguments) -> CInt { Fuzz.main(argc, argv, fuzz, seeds: seeds) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let plaintext = Fuzz.input(data, size)
    let padded = SecureBytes(count: Padding.paddedLength(plaintext.count), guarded: false) { buffer in
        buffer.copyMemory(from: plaintext)
        Padding.pad(buffer, length: plaintext.count)
    }
    do {
        let box = try padded.withUnsafeBytes { bytes throws(VaultError) in try key.seal(bytes) }
        var manifest = try Manifest.open(box, using: key)
        let again = try Manifest.open(manifest.seal(using: key), using: key)
        Fuzz.check(again == manifest, "a manifest sealed again opens to another manifest")
        // The listing's operations on what the file said.
        let probe = [UInt8](repeating: plaintext.last ?? 0, count: KeyedHash.bytes)
        _ = manifest.revision(of: probe)
        manifest.set(probe, revision: manifest.nextRevision())
        Fuzz.check(manifest.revision(of: probe) == manifest.generation, "a listed entry is not found")
        manifest.remove(probe)
        manifest.insert([(probe, 1)])
        _ = try? manifest.settings.checkRepresentable(changedFrom: VaultSettings())
    } catch {
        Fuzz.checkQuiet(error)
    }
    return 0
}

/// Manifests made by the code: empty, and one with entries, settings, log anchors, a key ring
/// listing and a later version's field.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    func plaintext(_ manifest: Manifest) -> [UInt8] {
        do {
            let opened = try key.open(try manifest.seal(using: key), what: "a seed")
            return opened.withUnsafeBytes { bytes in Array(bytes[0..<(Padding.unpaddedLength(bytes) ?? 0)]) }
        } catch {
            fatalError("a seed does not seal: \(error)")
        }
    }
    let binding = Manifest.Binding(vaultID: [UInt8](repeating: 1, count: 16), format: 4, kdf: .minimum,
                                   salt: [UInt8](repeating: 2, count: KeyDerivation.saltBytes))
    var full = Manifest(binding: binding)
    full.insert((1...5).map { i in ([UInt8](repeating: UInt8(i * 40), count: KeyedHash.bytes), UInt64(i)) })
    _ = full.nextRevision()
    full.settings.rotateEvery = .seconds(30 * 86_400)
    full.settings.agentAutostart = false
    full.settings.gitLabAPIURLs = ["gitlab.example.com": "https://gitlab.example.com/gitlab/api/v4"]
    full.settings.gitlabAdmin = ["gitlab.example.com": "gitlab-admin"]
    full.log.pruned = (3, [UInt8](repeating: 9, count: KeyedHash.bytes))
    full.log.head = (12, [UInt8](repeating: 8, count: KeyedHash.bytes))
    full.keyring[[UInt8](repeating: 7, count: KeyedHash.bytes)] = 4
    var later = ByteWriter()
    later.field(42, Array(Fuzz.marker.utf8))
    full.unknownFields = later.bytes
    return [("empty", plaintext(Manifest(binding: binding))), ("full", plaintext(full))]
}
