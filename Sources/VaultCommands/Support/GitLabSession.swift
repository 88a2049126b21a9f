import ArgumentParser
import TokenVault
import TokenVaultGitLab
import VaultCLICommon

/// Options of the commands that talk to GitLab.
struct GitLabOptions: ParsableArguments {
    @Option(name: .customLong("ca-file"), help: ArgumentHelp(
        "Trust only the certificate authorities in this PEM file (a self-hosted GitLab behind a private CA).",
        valueName: "path"))
    var caFile: String?

    @Option(help: ArgumentHelp("Give GitLab at most this many seconds to answer.", valueName: "seconds"))
    var timeout: Int = 30

    func validate() throws {
        if !(1...600).contains(timeout) { throw ValidationError("--timeout takes 1 to 600 seconds") }
        if let caFile, !VaultLocation.exists(caFile) { throw ValidationError("no file at '\(caFile)' (--ca-file)") }
    }
}

/// What verifying one entry at GitLab found.
struct Verification {
    enum State { case active, revoked, expired, failed }
    var name: String
    var state: State
    /// One line for the user: what GitLab says, and what changed in the vault.
    var report: String
}

/// Talks to GitLab for the entries of one vault.
struct GitLabSession {
    let vault: Vault
    let transport: any HTTPTransport
    let options: GitLabOptions

    init(vault: Vault, options: GitLabOptions) throws {
        guard let transport = Online.transport else {
            throw CLIError.failed("GitLab's commands run in tokenvault-gitlab", hint: "run them as 'vault gitlab ...'")
        }
        self.vault = vault
        self.transport = transport
        self.options = options
    }

    /// The GitLab instance that issued the entry's token: the host of its URL.
    func gitlab(for entry: Entry) throws -> GitLab {
        // Only a GitLab token goes to GitLab (a GitHub or other token would be sent to the host
        // in a header it does not expect).
        guard entry.kind == .gitlab else {
            throw CLIError.usage("'\(entry.name)' is not a GitLab token (its kind is \(entry.kind.rawValue))",
                                 hint: "if it is one: vault edit \(entry.name) --kind gitlab")
        }
        guard let url = entry.url else {
            throw CLIError.usage("'\(entry.name)' has no URL, so its GitLab is unknown",
                                 hint: "vault edit \(entry.name) --url https://gitlab.example.com")
        }
        do {
            return try GitLab(url: url, transport: transport, caFile: options.caFile, timeout: options.timeout)
        } catch {
            throw CLIError.failed(error.description)
        }
    }

    /// The entries `verify --all` and `check --online` look at: GitLab tokens not in the trash.
    func gitlabEntries() throws -> [Entry] {
        try vault.entries().filter { $0.kind == .gitlab && $0.deleted == nil && $0.url != nil }
    }

    /// Asks GitLab about the entry's token and brings the entry up to date: scopes, expiry,
    /// revoked or not, and the outcome of an unfinished rotation.
    func verify(_ entry: Entry) -> Verification {
        let name = entry.name
        do {
            let gitlab = try gitlab(for: entry)
            let token = try vault.secret(named: name, for: "read for gitlab verify")
            let info: GitLab.TokenInfo
            switch Result(catching: { () throws(GitLabError) in try gitlab.verify(token) }) {
            case .success(let answer): info = answer
            case .failure(.unauthorized): return try refused(entry)
            case .failure(let error): throw error
            }
            var notes: [String] = []
            if info.scopes.sorted() != entry.scopes.sorted() {
                notes.append("scopes were \(entry.scopes.isEmpty ? "unknown" : entry.scopes.joined(separator: ","))")
            }
            if info.expires != entry.expires {
                notes.append("expiry was \(entry.expires?.dateString ?? "unknown")")
            }
            let dead = info.revoked || !info.active
            let expiredAtGitLab = !info.revoked && (info.expires.map { $0 <= .now() } ?? false)
            if entry.rotationStarted != nil {
                notes.append(dead ? "the unfinished rotation happened: the token is revoked and its successor was lost"
                                  : "the unfinished rotation did not happen: the token still works")
            }
            if dead != (entry.revoked != nil) || !notes.isEmpty {
                try vault.update(name, action: "verify at GitLab", detail: notes.isEmpty ? nil : notes.joined(separator: "; ")) { e in
                    e.scopes = info.scopes
                    e.expires = info.expires
                    e.rotationStarted = nil
                    e.revoked = dead && !expiredAtGitLab ? (e.revoked ?? .now()) : nil
                }
            }
            let summary = "scopes \(info.scopes.joined(separator: ",")), expires \(info.expires?.dateString ?? "never")"
            let changed = notes.isEmpty ? "" : " (updated: \(notes.joined(separator: "; ")))"
            if expiredAtGitLab { return Verification(name: name, state: .expired, report: "\(name): expired at GitLab; \(summary)\(changed)") }
            if dead { return Verification(name: name, state: .revoked, report: "\(name): REVOKED at GitLab; \(summary)\(changed)") }
            return Verification(name: name, state: .active, report: "\(name): active; \(summary)\(changed)")
        } catch {
            return Verification(name: name, state: .failed, report: "\(name): \(Self.describe(error))")
        }
    }

    /// GitLab refuses the token (401): revoked, expired or never valid. It stays in the vault,
    /// marked revoked (an expired one is only reported).
    private func refused(_ entry: Entry) throws -> Verification {
        if entry.isExpired() {
            if entry.rotationStarted != nil {
                try vault.update(entry.name, action: "verify at GitLab", detail: "refused (expired)") { $0.rotationStarted = nil }
            }
            return Verification(name: entry.name, state: .expired,
                                report: "\(entry.name): GitLab refuses the token, which expired on \(entry.expires!.dateString)")
        }
        var detail = "refused (401): marked revoked"
        if entry.rotationStarted != nil { detail += "; the unfinished rotation happened, and its new token was lost" }
        try vault.update(entry.name, action: "verify at GitLab", detail: detail) { e in
            e.revoked = e.revoked ?? .now()
            e.rotationStarted = nil
        }
        let lost = entry.rotationStarted != nil
            ? " The rotation started on \(entry.rotationStarted!.dateString) did happen: its new token never reached the vault. Create a new token in GitLab and store it with 'vault edit \(entry.name) --secret'."
            : ""
        return Verification(name: entry.name, state: .revoked,
                            report: "\(entry.name): REVOKED: GitLab refuses the token (401: revoked, expired or invalid); marked revoked.\(lost)")
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let error as GitLabError: error.description
        case let error as CLIError: error.description
        default: "\(error)"
        }
    }
}
