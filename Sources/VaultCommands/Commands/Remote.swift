import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import VaultCLICommon
import Glibc

extension VaultCommand {
    struct RemoteCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remote",
            abstract: "Share tokens with a team: entries kept in OpenBao, addressed REMOTE/ENTRY.",
            discussion: """
                A remote is an OpenBao server (its KV version 2 engine at --mount, under \
                --prefix) and how to log in to it: a token read from standard input (or a \
                prompt that does not echo), or --approle ROLE_ID with its secret id read the same \
                way. Both are sealed in this vault; nothing OpenBao holds is written to disk. \
                Then every command that takes an entry's name takes REMOTE/ENTRY.

                Examples:
                  printf %s "$BAO_TOKEN" | \(ProgramName.current) remote add team \\
                      --url https://bao.example.com:8200
                  printf %s "$SECRET_ID" | \(ProgramName.current) remote add ci \\
                      --url https://bao.example.com:8200 --approle "$ROLE_ID"
                  \(ProgramName.current) remote status team
                  \(ProgramName.current) get team/gitlab-ci
                """,
            subcommands: [AddRemote.self, ListRemotes.self, RemoteStatus.self, RemoveRemote.self])
    }

    struct AddRemote: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Save an OpenBao server as a remote.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The remote's name (letters, digits, . _ -): entries are then REMOTE/ENTRY.")
        var name: String

        @Option(help: ArgumentHelp("OpenBao's address, https://HOST[:PORT] (http:// to this machine only); repeat it for a cluster's nodes, tried in order.",
                                   valueName: "url"))
        var url: [String] = []

        @Option(help: "The KV version 2 engine's mount.")
        var mount = "secret"

        @Option(help: "The folder of the mount that holds the entries.")
        var prefix = "tokenvault/"

        @Option(help: "An OpenBao namespace.")
        var namespace: String?

        @Option(help: ArgumentHelp("Trust only the certificate authorities in this PEM file.", valueName: "file"))
        var caFile: String?

        @Option(help: ArgumentHelp("Log in with AppRole: this role id; the secret id is read from standard input.", valueName: "role-id"))
        var approle: String?

        func validate() throws {
            if url.isEmpty { throw ValidationError("give OpenBao's address with --url") }
            try checkingInput {
                try Redaction.refuseToken(name, what: "the remote's name")
                for url in url { try RemoteSettings.validate(url: url) }
            }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            if try vault.remote(named: name) != nil { throw VaultError.alreadyExists(name: name) }
            // Saved as an absolute path: later commands run from anywhere.
            let caPath = try caFile.map { path -> String in
                var folder = [CChar](repeating: 0, count: 4096)
                let absolute = path.hasPrefix("/") ? path : (getcwd(&folder, folder.count).map { String(cString: $0) } ?? ".") + "/" + path
                guard access(absolute, R_OK) == 0 else { throw CLIError.usage("cannot read the CA file '\(path)' (--ca-file)") }
                return absolute
            }
            let credential: RemoteSettings.Credential
            if let approle {
                credential = .appRole(roleID: approle, secretID: try TokenInput.read(prompt: "AppRole secret id for \(name): "))
            } else {
                credential = .token(try TokenInput.read(prompt: "OpenBao token for \(name): "))
            }
            let remote = RemoteSettings(name: name, urls: url, mount: mount, prefix: prefix, namespace: namespace, caFile: caPath,
                                        credential: credential)
            try remote.validate()
            // Saved only once OpenBao accepts the credential.
            let entries = try RemoteAccess.entries(of: remote)
            let info = try entries.client.lookupSelf()
            try vault.addRemote(remote)
            Output.note("added remote '\(name)' (policies: \(info.policies.joined(separator: ", ")))")
        }
    }

    struct ListRemotes: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the remotes (never their credentials).")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let remotes = try global.unlockedVault().remotes()
            if remotes.isEmpty {
                Output.note("no remotes")
                return
            }
            let rows = remotes.map { remote -> [Table.Cell] in
                let login: String
                switch remote.credential {
                case .token: login = "token"
                case .appRole(let roleID, _): login = "approle " + roleID
                }
                return [Table.Cell(remote.name), Table.Cell(remote.urls.joined(separator: " ")), Table.Cell(remote.mount + "/" + remote.prefix),
                        Table.Cell(remote.namespace ?? "-"), Table.Cell(login)]
            }
            try Output.out(Table.render(header: ["NAME", "URL", "PATH", "NAMESPACE", "LOGIN"], rows: rows, style: Style.forStdout()))
        }
    }

    struct RemoteStatus: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Whether a remote is reachable and unsealed, and its token's policies and time to live.",
            discussion: "A renewable token is renewed.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The remote's name.")
        var name: String

        func run() throws {
            let vault = try global.unlockedVault()
            guard let remote = try vault.remote(named: name) else { throw VaultError.notFound(name: name, suggestion: nil) }
            let entries = try RemoteAccess.entries(of: remote)
            let health = try entries.client.health()
            var lines = ["remote:    \(remote.name)", "url:       \(remote.urls.joined(separator: " "))",
                         "reachable: yes (OpenBao \(health.version)\(health.standby ? ", a standby node" : ""))",
                         "sealed:    \(health.sealed ? "yes" : "no")"]
            if health.sealed {
                try Output.out(lines.map { TerminalText.escape($0) }.joined(separator: "\n") + "\n")
                throw OpenBaoError.sealed(remote: name)
            }
            let info = try entries.client.renewIfRenewable() ?? entries.client.lookupSelf()
            lines.append("policies:  \(info.policies.joined(separator: ", "))")
            lines.append("ttl:       " + (info.ttl == 0 ? "never expires" : Span(seconds: Int64(info.ttl)).defaultValueDescription)
                         + (info.renewable ? " (renewable)" : ""))
            try Output.out(lines.map { TerminalText.escape($0) }.joined(separator: "\n") + "\n")
        }
    }

    struct RemoveRemote: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Forget a remote and its credentials (nothing in OpenBao changes).")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The remote's name.")
        var name: String

        func run() throws {
            try global.unlockedVault().removeRemote(name)
            Output.note("removed remote '\(name)'")
        }
    }
}
