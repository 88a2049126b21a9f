import TokenVault
import VaultCLICommon

/// How the git helper unlocks the vault: through its agent when one holds the key, else from the
/// passphrase sources; a person at the terminal may mistype, and after the first passphrase
/// typed there the helper starts the agent, so that one git operation (`get`, then `store` or
/// `erase`) asks at most once.
extension GitHelper {
    /// How many times a passphrase typed at the terminal may be wrong before git goes on without
    /// the vault. Any other source is read once: a script does not improve by being asked again.
    static let promptAttempts = 3

    /// How the vault was unlocked.
    enum Unlocked {
        /// By the agent, or by a passphrase that is not to start one.
        case done
        /// By a passphrase typed at the terminal, with `agent-autostart` on: the agent is to be
        /// started with the key it gave.
        case typed
    }

    /// Unlocks `vault` for git's `action`. Nil when it stays locked and git goes on without it
    /// (having said why on stderr, in one line).
    static func unlock(_ vault: Vault, path: String, action: String, keyFile keyFileFlag: String?,
                       environment: [String: String]) throws -> Unlocked? {
        var agentSilent = false
        if let agent = AgentClient.connect(vaultPath: path, environment: environment) {
            do {
                try vault.unlock(with: agent)
                Log.verbose("git \(action): unlocked by the agent")
                return .done
            } catch .otherAgentVersion {
                // Not used, and not replaced while it runs: said once, with what to do.
                Output.warning(VaultError.otherAgentVersion.description)
                Output.hint(VaultError.otherAgentVersion.hint ?? "")
                agentSilent = true
            } catch {
                // A locked agent still answers; a hung one does not (and is not started again).
                agentSilent = (try? agent.status()) == nil
                Log.verbose(agentSilent ? "git \(action): the agent did not answer" : "git \(action): the agent is locked")
            }
        }
        // Never a wait on a costly header (nor a question to a person about it).
        try vault.checkKDFCost()
        // The key file, for a vault that needs one, before anyone is asked for the passphrase.
        let keyFile = try CLIKeyFile(flag: keyFileFlag, vaultPath: path).load(required: vault.needsKeyFile())
        let source = CLIPassphrase(fd: nil, file: nil)
        let mayPrompt = environment["GIT_TERMINAL_PROMPT"] != "0"
        Log.verbose("git \(action): passphrase from \(source.sourceName)")
        let attempts = source.isTerminalPrompt ? promptAttempts : 1
        for attempt in 1...attempts {
            guard let passphrase = try readPassphrase(source, path: path, prompt: mayPrompt) else {
                Output.hint(lockedHint(agentSilent: agentSilent))
                return nil
            }
            guard source.isTerminalPrompt else {
                try vault.unlock(passphrase: passphrase, keyFile: keyFile)
                return .done
            }
            // The whole key derivation, every time: a retry is no cheaper to guess with.
            guard try opens(vault, with: passphrase, keyFile: keyFile) else {
                let wrong = keyFile == nil ? "wrong passphrase" : "wrong passphrase or key file"
                if attempt < attempts {
                    Terminal.show("\(ProgramName.current): error: \(wrong), try again")
                    continue
                }
                Output.error("\(wrong), \(attempts) times: git goes on without the vault")
                return nil
            }
            guard !agentSilent, try vault.settings().agentAutostart else { return .done }
            return .typed
        }
        return nil
    }

    /// Unlocks `vault` with `passphrase` (and `keyFile`); false when they do not open it.
    private static func opens(_ vault: Vault, with passphrase: Secret, keyFile: KeyFile?) throws(VaultError) -> Bool {
        do {
            try vault.unlock(passphrase: passphrase, keyFile: keyFile)
            return true
        } catch {
            if error == .wrongPassphrase || error == .wrongPassphraseOrKeyFile { return false }
            throw error
        }
    }

    /// Starts the vault's agent (or unlocks the locked one that runs) for the default idle
    /// timeout, as `vault unlock` would, with the key the passphrase just typed gave: over the
    /// agent's socket only, and without a second key derivation (git waits for the helper to
    /// exit). When that fails, git's next call asks again: one line says so.
    static func startAgent(path: String, vault: Vault) {
        do {
            let agent = try AgentLauncher.connectOrStart(vaultPath: path)
            try vault.lendKey(to: agent, idleTimeout: .seconds(AgentLauncher.defaultIdleTimeout),
                              maximumLifetime: .seconds(AgentLauncher.defaultMaximumLifetime))
            Log.verbose("git: the agent holds the key now ('\(ProgramName.current) lock' forgets it)")
        } catch {
            Output.warning("the agent did not start (\(error)): git's next call asks for the passphrase again")
        }
    }

    /// What git's user reads when the vault stays locked and nothing can ask for the passphrase.
    static func lockedHint(agentSilent: Bool) -> String {
        (agentSilent ? "the vault is locked (its agent did not answer)" : "the vault is locked")
            + " and there is no passphrase source: git goes on without it (run '\(ProgramName.current) unlock', set TOKENVAULT_ASKPASS, or run git from a terminal)"
    }

    /// The passphrase, or nil when there is no source (no prompt where git may not prompt).
    private static func readPassphrase(_ source: CLIPassphrase, path: String, prompt: Bool) throws(CLIError) -> Secret? {
        do {
            return try source.read(prompt: "Passphrase for \(path) (git credential helper): ", allowPrompt: prompt)
        } catch {
            if case .noPassphrase = error { return nil }
            throw error
        }
    }
}
