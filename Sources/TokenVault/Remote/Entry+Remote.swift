/// What an entry held by an OpenBao remote needs of ``Entry`` that a local one gets from the
/// vault: its times, as the remote's record of it says them.
extension Entry {
    /// Sets the times a remote's record holds: `created` and `updated` (the KV version's own
    /// time) and `tokenSince` (when the token was last replaced).
    public mutating func setRemoteTimes(created: Timestamp, updated: Timestamp, tokenSince: Timestamp?) {
        self.created = created
        self.updated = updated
        self.tokenSince = tokenSince
    }
}
