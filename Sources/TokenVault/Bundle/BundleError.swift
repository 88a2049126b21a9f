/// Why a bundle was refused, or an export failed. A refused bundle changes nothing.
public enum BundleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes do not start as a TokenVault bundle does.
    case notABundle
    /// A bundle of a format version this TokenVault does not know.
    case unsupportedVersion(Int)
    /// The bundle ends before its signature, or has bytes after it.
    case truncated
    /// The bundle is larger than any bundle TokenVault reads.
    case tooLarge(limit: Int)
    /// The signature does not verify: the bundle was changed after it was signed.
    case badSignature
    /// The bundle is sealed for another vault's identity.
    case notForThisVault(recipient: VaultIdentity)
    /// The bundle was signed again by a key that is not the sender's named inside it.
    case resigned(signer: VaultIdentity)
    /// The bundle is sealed to this vault's identity and signed by an identity this vault does
    /// not trust (and not by itself), and the user did not accept it. A sealed box is anonymous:
    /// the signature is the only thing that says who made such a bundle.
    case untrustedSigner(VaultIdentity)
    /// The export passphrase does not open the bundle.
    case wrongPassphrase
    /// The bundle is sealed under an export passphrase and none was given.
    case needsPassphrase
    /// The bundle's sealed contents are not what a TokenVault bundle holds.
    case malformed(String)
    /// The vault failed.
    case vault(VaultError)

    /// One line for a person; no secret, nothing of the bundle's bytes but identities.
    public var description: String {
        switch self {
        case .notABundle: "this is not a TokenVault bundle"
        case .unsupportedVersion(let version): "this bundle has format version \(version), which this TokenVault does not know"
        case .truncated: "the bundle is truncated (or has bytes after its signature): refused"
        case .tooLarge(let limit): "the bundle is larger than \(limit >> 20) MiB: refused"
        case .badSignature: "the bundle's signature does not verify: it was changed after it was signed; refused"
        case .notForThisVault(let recipient): "the bundle is sealed for another vault (\(recipient.text)), not this one: refused"
        case .resigned(let signer):
            "the bundle is signed by an unknown key (\(signer.text)) that is not the sender's sealed inside it: refused"
        case .untrustedSigner(let signer):
            "the bundle is signed by an identity this vault does not trust (\(signer.text)), and anyone who knows this vault's identity can make one: refused"
        case .wrongPassphrase: "wrong export passphrase"
        case .needsPassphrase: "the bundle is sealed under an export passphrase"
        case .malformed(let what): "the bundle's contents are malformed: \(what); refused"
        case .vault(let error): error.description
        }
    }

    /// A next step, where there is one.
    public var hint: String? {
        switch self {
        case .notForThisVault: "ask the sender to export again with --to and the identity '\(ProgramName.current) id' prints here"
        case .badSignature, .truncated, .resigned: "ask the sender for the bundle again, over another channel if you can"
        case .unsupportedVersion: "upgrade TokenVault"
        case .untrustedSigner(let signer):
            "if that identity is your teammate's (check it with them over another channel), save it: \(ProgramName.current) id trust NAME \(signer.text), then import again"
        case .vault(let error): error.hint
        default: nil
        }
    }
}
