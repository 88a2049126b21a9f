/// A token with the metadata of its entry: what ``Vault/get(_:allowingExpired:)`` returns, and
/// what ``Vault/add(_:)`` takes for several entries at once.
public struct Token: Sendable {
    /// The entry's metadata.
    public var entry: Entry
    /// The token itself.
    public var secret: Secret
    /// Whether reading it was recorded in the activity log (``Vault/get(_:allowingExpired:)``).
    public var recording: ReadRecording

    /// A token from its parts.
    public init(entry: Entry, secret: Secret, recording: ReadRecording = .recorded) {
        self.entry = entry
        self.secret = secret
        self.recording = recording
    }
}
