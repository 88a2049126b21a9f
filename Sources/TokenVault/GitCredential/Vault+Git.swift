/// What git's `store` and `erase` do to the vault: the rules every helper gets from the library.
///
/// A credential's identity for git is its protocol, host with port, path (when git sends one),
/// user name (none and empty are values of their own) and form (a user name and password, or an
/// `authtype` credential). The password decides only what a store does to the entry of that
/// identity: nothing, a confirmation, or a replacement (the old token kept in its history).
package enum GitStoreOutcome: Sendable, Equatable {
    /// Nothing stored, and why (an `ephemeral` credential, no protocol or host, no password).
    case notStored(String)
    /// The entry already holds this credential.
    case unchanged(String)
    /// The entry held this token, marked rejected: git says it works, so it no longer is.
    case confirmed(String)
    /// The same token, with a new expiry or refresh token.
    case updated(String)
    /// A new token for the entry; the old one is in its history.
    case replaced(String)
    /// A new entry, made from what git typed at its prompt.
    case added(String)
}

/// What git's `erase` did to the entry whose token failed, named by the entry's name.
package enum GitEraseOutcome: Sendable, Equatable {
    /// Marked rejected: kept, given to git no more until `vault restore`.
    case rejected(String)
    /// Removed (`--on-erase delete`, with the failed password only).
    case removed(String)
}

extension Vault {
    /// Stores what git's `store` sends. Concurrent stores are safe: a name taken meanwhile by
    /// another store is decided again, and the token and its refresh token are written together.
    package func gitStore(_ request: GitCredential) throws(VaultError) -> GitStoreOutcome {
        for _ in 0..<8 {
            do {
                return try gitStoreOnce(request)
            } catch VaultError.alreadyExists {
                continue  // Another store added this credential meanwhile: decide again.
            }
        }
        throw VaultError.database("git's credential kept changing under concurrent stores; try again")
    }

    private func gitStoreOnce(_ request: GitCredential) throws(VaultError) -> GitStoreOutcome {
        if request.ephemeral { return .notStored("git marked the credential ephemeral") }
        guard let scheme = request.protocolName, !scheme.isEmpty, let host = request.host, !host.isEmpty else {
            return .notStored("no protocol or host")
        }
        let authType = request.storedAuthType
        let token: Secret
        if authType != nil, let credential = request.credential {
            token = credential
        } else if let password = request.password {
            token = password  // Possibly empty: git's empty credential for http.emptyAuth and SSO.
        } else {
            return .notStored("no password")
        }
        let refresh = authType == nil ? request.oauthRefreshToken.flatMap { $0.isEmpty ? nil : $0 } : nil
        let all = try entries()
        let live = all.filter { $0.deleted == nil }

        // The entry of this very identity; else one that `get` answers this request with and
        // that holds this token (git stores back what it got, with the user name `get` gave it,
        // without the path of the entry that answered, or with one the entry serves).
        var target = GitMatching.sameIdentity(as: request, in: live).first
        if target == nil {
            for entry in GitMatching.sameHost(as: request, in: live)
            where (entry.authType == nil) == (authType == nil) && GitMatching.answers(entry, request) {
                if try holding(entry.name, secret: token, refreshToken: nil).token { target = entry; break }
            }
        }
        guard let entry = target else {
            let name = GitMatching.generatedName(for: request, taken: Set(all.map(\.name)))
            var new = Entry(name: name, url: CredentialURL(scheme: scheme, host: host, path: request.path),
                            username: request.username, kind: TokenKind.recognise(token) ?? TokenKind.guess(host: host),
                            expires: authType == nil ? request.passwordExpiry : nil)
            new.authType = authType
            new.storedByGit = true
            try add(new, record: SecretRecord(current: token, previous: [], refreshToken: refresh), allowingEmpty: true)
            return .added(name)
        }
        let held = try holding(entry.name, secret: token, refreshToken: refresh)
        let newExpiry = authType == nil ? request.passwordExpiry.flatMap { $0 == entry.expires ? nil : $0 } : nil
        let outcome: GitStoreOutcome
        if held.token {
            guard entry.rejected != nil || newExpiry != nil || !held.refreshToken else { return .unchanged(entry.name) }
            outcome = entry.rejected != nil ? .confirmed(entry.name) : .updated(entry.name)
        } else {
            outcome = .replaced(entry.name)
        }
        // The token with its refresh token, in one write: a new token clears the old one's
        // refresh token, so a concurrent store never leaves one paired with another's token.
        try update(entry.name, secret: token, refreshToken: refresh.map { .set($0) } ?? .keep, allowingEmpty: true,
                   action: nil) { changed in
            changed.rejected = nil
            if !held.token {
                // The old token's expiry is not the new one's.
                changed.expires = authType == nil ? request.passwordExpiry : nil
            } else if let newExpiry {
                changed.expires = newExpiry
            }
        }
        return outcome
    }

    /// Does what git's `erase` asks. With the failed password (git always sends it), the entries
    /// of that identity that hold exactly that token are marked rejected, or removed when
    /// `deleting` (`--on-erase delete`). Without a password (a person or a script), every entry
    /// that matches is marked rejected, as git's own helpers forget them, and never removed.
    @discardableResult
    package func gitErase(_ request: GitCredential, deleting: Bool) throws(VaultError) -> [GitEraseOutcome] {
        let failed = request.storedAuthType != nil ? request.credential : request.password
        let path = GitMatching.requestPath(request)
        var outcomes: [GitEraseOutcome] = []
        for entry in GitMatching.sameHost(as: request, in: try entries()) where entry.deleted == nil {
            if let username = request.username {
                // An entry without a user name answered git with a default one: it is the
                // credential git names only when it holds the failed token.
                guard entry.username == username || (entry.username == nil && failed != nil) else { continue }
            }
            if let path, entry.url?.path.map(GitMatching.normalise(path:)).map({ $0 == path }) == false { continue }
            if let failed {
                guard (entry.authType != nil) == (request.storedAuthType != nil), try holds(entry.name, secret: failed) else { continue }
                if deleting {
                    try remove(entry.name)
                    outcomes.append(.removed(entry.name))
                    continue
                }
            }
            guard entry.rejected == nil else { continue }
            try update(entry.name, action: nil) { $0.rejected = .now() }
            outcomes.append(.rejected(entry.name))
        }
        return outcomes
    }
}
