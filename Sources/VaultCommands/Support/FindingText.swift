import TokenVault

/// What `vault check` says of a finding: a sentence for a person, naming the command that deals
/// with it. The library's `Review.Finding` carries the facts; the wording is the CLI's.
extension Review.Finding {
    var message: String {
        let date = self.date?.dateString ?? "?"
        switch kind {
        case .revoked:
            return "revoked at GitLab (found on \(date)): create a new token, or '\(ProgramName.current) rm \(name)'"
        case .rotationInterrupted:
            return "a rotation started on \(date) did not finish: the old token may be revoked already; '\(ProgramName.current) gitlab verify \(name)' finds out"
        case .pushPending:
            return "the token is not in GitLab's \(detail ?? "variable") (pending since \(date)): '\(ProgramName.current) gitlab push \(name)' retries"
        case .expired:
            return "expired on \(date) (\(Self.days(age)) ago)"
        case .expiresSoon:
            return "expires on \(date) (in \(Self.days(age)))"
        case .noExpiry:
            return "has no expiry date: set the one the token has, with '\(ProgramName.current) edit \(name) --expires YYYY-MM-DD'"
        case .rejected:
            return "rejected by git on \(date): renew it, or '\(ProgramName.current) restore \(name)' if it works again"
        case .rotationDue:
            return "the token is \(Self.days(age)) old; rotate every \(Self.days(period))"
        case .broadScopes where scopes.isEmpty:
            return "a GitHub classic token, whose scopes cannot be narrowed: prefer a fine-grained token (github_pat_)"
        case .broadScopes:
            let narrower = scopes.compactMap { Review.broadGitLabScopes[$0] }.joined(separator: "; ")
            return "broad scopes \(scopes.joined(separator: ", ")): consider \(narrower)"
        case .duplicate:
            return "holds the same token as '\(otherEntry ?? "?")': one token per tool"
        case .storedByGit:
            return "stored by git's credential helper on \(date) and not reviewed yet: check it, then '\(ProgramName.current) rename \(name) NEW-NAME' or '\(ProgramName.current) edit \(name)'"
        case .unused:
            return "unused for \(Self.days(age)): revoke it if nothing needs it"
        case .usedElsewhere:
            return "GitLab saw it used on \(self.date?.iso8601 ?? "?"), but the vault did not hand it out in that time and knows no other place it lives: find the user, or revoke it ('\(ProgramName.current) gitlab revoke \(name)') if it leaked"
        case .unusedAtGitLab where self.date == nil:
            return "never used at GitLab in \(Self.days(age)): revoke it if nothing needs it ('\(ProgramName.current) gitlab revoke \(name)')"
        case .unusedAtGitLab:
            return "unused at GitLab for \(Self.days(age)) (last used \(date)): revoke it if nothing needs it ('\(ProgramName.current) gitlab revoke \(name)')"
        case .unverified:
            return "could not be verified at GitLab: \(detail ?? "")"
        }
    }

    /// Whole days, as "1 day" or "N days".
    private static func days(_ span: Duration?) -> String {
        let d = (span?.components.seconds ?? 0) / 86_400
        return d == 1 ? "1 day" : "\(d) days"
    }
}
