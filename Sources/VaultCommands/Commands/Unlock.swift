import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Unlock: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unlock the vault once: an agent holds the key, and every command and git use it.",
            discussion: """
                Asks for the passphrase (from the usual sources; and for a vault that needs one, \
                the key file: --key-file, TOKENVAULT_KEY_FILE or '\(ProgramName.current) config key-file') \
                and starts the vault's agent if none runs. The key stays in the agent's locked memory, never on disk and never in \
                another process, until it has not been used for the timeout, reaches its maximum \
                lifetime, or `\(ProgramName.current) lock`.

                Examples:
                  \(ProgramName.current) unlock
                  \(ProgramName.current) unlock --timeout 1h --max-lifetime 8h
                  \(ProgramName.current) unlock --cache-ttl 0
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Lock after this long without use (e.g. 15m, 1h).", valueName: "span"))
        var timeout = Span(seconds: AgentLauncher.defaultIdleTimeout)

        @Option(help: ArgumentHelp("Lock after this long whatever happens (e.g. 8h).", valueName: "span"))
        var maxLifetime = Span(seconds: AgentLauncher.defaultMaximumLifetime)

        @Option(help: ArgumentHelp("Keep an entry read from OpenBao (REMOTE/ENTRY) in the agent's memory this long (0: not at all).",
                                   valueName: "span"))
        var cacheTTL = CacheTTL(seconds: Vault.remoteCacheTTL.wholeSeconds)

        func validate() throws {
            if timeout.seconds < 1 || maxLifetime.seconds < 1 { throw ValidationError("spans must be at least 1s") }
        }

        func run() throws {
            let path = global.path
            // The vault exists and is private, and its cost is one TokenVault writes (or allowed).
            let vault = try Vault.open(at: path)
            try vault.checkKDFCost(allowingCostly: global.allowCostlyKDF)
            let agent: AgentClient
            // A key file named by a source, for a vault whose header says it needs none, is used
            // here too: should it open the vault, the header's key_file was changed (tampering,
            // exit 5), as every other command finds; the agent alone would say "wrong passphrase".
            if try vault.needsKeyFile() || (try? global.session.keyFiles.located()) != nil {
                // The key derived here, from the passphrase and the key file (same sources as every
                // command), and lent to the agent over its socket: the agent's protocol carries
                // no key file.
                try global.session.unlockHere(vault)
                agent = try AgentLauncher.connectOrStart(vaultPath: path)
                try vault.lendKey(to: agent, idleTimeout: .seconds(timeout.seconds), maximumLifetime: .seconds(maxLifetime.seconds),
                                  remoteCacheTTL: .seconds(cacheTTL.seconds))
            } else {
                let passphrase = try global.passphrase.read(prompt: "Passphrase for \(path): ")
                agent = try AgentLauncher.connectOrStart(vaultPath: path)
                try agent.unlock(passphrase: passphrase, idleTimeout: .seconds(timeout.seconds), maximumLifetime: .seconds(maxLifetime.seconds),
                                 allowingCostlyKDF: global.allowCostlyKDF, remoteCacheTTL: .seconds(cacheTTL.seconds))
            }
            let status = try agent.status()
            Output.note("unlocked: the agent locks at \(status.locksAt?.iso8601 ?? "?") unless used before (each use gives it another \(timeout.seconds) s, up to \(maxLifetime.seconds) s in all)")
        }
    }
}

/// `--cache-ttl`: a span (`5m`, `30s`), or `0` for no cache.
struct CacheTTL: ExpressibleByArgument, Sendable {
    var seconds: Int64

    init(seconds: Int64) { self.seconds = seconds }

    init?(argument: String) {
        if argument == "0" {
            seconds = 0
            return
        }
        guard let span = Span(argument: argument) else { return nil }
        seconds = span.seconds
    }

    var defaultValueDescription: String { Span(seconds: seconds).defaultValueDescription }
}
