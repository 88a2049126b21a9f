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
        if let name = bundle.signerName {
            Output.note("signed by '\(name)' (\(signer)), \(envelope.created.iso8601)")
        } else if bundle.signedByThisVault {
            Output.note("signed by this vault (\(signer)), \(envelope.created.iso8601)")
        } else {
            Output.note("signed by an unknown identity: \(signer), \(envelope.created.iso8601)")
            Output.hint("if that is your teammate's, save it: vault id trust NAME \(signer)")
        }
        let merges = try vault.importBundle(bundle, dryRun: dryRun)
        for merge in merges {
            let what: String = switch merge.outcome {
            case .added: dryRun ? "would be added" : "added"
            case .unchanged: "unchanged (the vault holds this token already)"
            case .replaced: dryRun ? "would take the bundle's newer token (the current one kept in history)" : "took the bundle's newer token (the old one kept in history)"
            case .keptInHistory: dryRun ? "would keep its newer token (the bundle's kept in history)" : "kept its newer token (the bundle's kept in history)"
            }
            let line = "\(merge.name): \(what)"
            if dryRun { try Output.out(TerminalText.escape(line) + "\n") } else { Output.note(line) }
        }
        if !dryRun {
            let changed = merges.filter { $0.outcome != .unchanged }.count
            Output.note("\(path): \(changed) of \(merges.count) \(merges.count == 1 ? "entry" : "entries") changed, in one transaction")
        }
    }
}
