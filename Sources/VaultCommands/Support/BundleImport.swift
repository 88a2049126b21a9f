import TokenVault
import VaultCLICommon

extension VaultCommand.Import {
    /// `vault import bundle FILE`: the bundle is checked (signature) before the vault is even
    /// unlocked, opened, its signer shown, and merged by the library's rules.
    func importBundle(_ path: String) throws {
        let envelope = try BundleEnvelope.parse(BundleFile.read(path))
        let vault = try global.unlockedVault()
        var passphrase: Secret?
        if envelope.needsPassphrase {
            let source = CLIPassphrase(fd: exportFD, file: exportFile, variable: "TOKENVAULT_EXPORT_PASSPHRASE", askpass: false)
            passphrase = try source.read(prompt: "Export passphrase for \(path): ")
        }
        let bundle = try vault.openBundle(envelope, passphrase: passphrase)
        let signer = envelope.signer.text
        let count = "\(bundle.tokens.count) \(bundle.tokens.count == 1 ? "entry" : "entries")"
        if let name = bundle.signerName {
            Output.note("signed by '\(name)' (\(signer)), \(envelope.created.iso8601)")
        } else if bundle.signedByThisVault {
            Output.note("signed by this vault (\(signer)), \(envelope.created.iso8601)")
        } else if !bundle.needsSignerConsent {
            // Under an export passphrase: the passphrase authenticates it (a vault moving to a new machine).
            Output.warning("signed by an identity this vault does not trust: \(signer), \(envelope.created.iso8601)")
            Output.hint("if that is your teammate's or your old vault's, save it: \(ProgramName.current) id trust NAME \(signer)")
        } else {
            Output.note("signed by an identity this vault does not trust: \(signer), \(envelope.created.iso8601)")
        }
        var accepted = false
        if bundle.needsSignerConsent, !dryRun {
            // Sealed to this vault's public identity, which anyone may know: only the signature
            // says who made it, and this vault does not know the signer.
            let question = "Import \(count) from \(signer), an identity this vault does not trust?"
            guard let answer = Terminal.confirm(question) else { throw BundleError.untrustedSigner(envelope.signer) }
            guard answer else {
                Output.note("nothing imported")
                throw CLIError.exit(.bundleRefused)
            }
            accepted = true
        }
        let merges = try vault.importBundle(bundle, dryRun: dryRun, acceptingUnknownSigner: accepted)
        for merge in merges {
            let what: String = switch merge.outcome {
            case .added where merge.gitDefaultDropped:
                (dryRun ? "would be added" : "added") + " (not as git's default for its host: this vault has an entry for it)"
            case .added: dryRun ? "would be added" : "added"
            case .unchanged: "unchanged (the vault holds this token already)"
            case .replaced: dryRun ? "would take the bundle's newer token (the current one kept in history)" : "took the bundle's newer token (the old one kept in history)"
            case .keptInHistory: dryRun ? "would keep its newer token (the bundle's kept in history)" : "kept its newer token (the bundle's kept in history)"
            }
            let line = "\(merge.name): \(what)"
            if dryRun { try Output.out(TerminalText.escape(line) + "\n") } else { Output.note(line) }
        }
        if dryRun, bundle.needsSignerConsent {
            Output.hint("the import asks before it takes entries from an identity this vault does not trust (without a terminal, it refuses): "
                + "\(ProgramName.current) id trust NAME \(signer) first, if it is your teammate's")
        }
        if !dryRun {
            let changed = merges.filter { $0.outcome != .unchanged }.count
            Output.note("\(path): \(changed) of \(merges.count) \(merges.count == 1 ? "entry" : "entries") changed, in one transaction")
        }
    }
}
