/// The vault's backend in the agent: every seal, open and hash is a request, in batches (split
/// to stay under the agent's request limit), and a read of a token is one request answered
/// from the agent's own open vault. When the agent is busy (it waited for another process's
/// write too long), the vault does the read itself, through the same requests.
struct AgentBackend: VaultBackend {
    let client: AgentClient
    /// The vault file the client means (the agent reads only for the file it unlocked).
    let path: String

    var vaultKey: SymmetricKey? { nil }

    /// Bytes of a batch request besides its items' own (opcode, count, slack).
    static let batchOverhead = 64
    /// What the agent takes in one request.
    static var batchLimit: Int { AgentProtocol.maximumRequest - batchOverhead }

    /// Refuses, before anything is sent, an item the agent would not take even alone (a record
    /// larger than its request limit): the agent would drop the connection, and the vault would
    /// look locked.
    static func checkFits(_ bytes: Int, limit: Int = batchLimit) throws(VaultError) {
        guard bytes > limit else { return }
        let mib = (Double(bytes) / 1_048_576 * 10).rounded(.up) / 10
        throw .io("a record of \(mib) MiB is larger than the agent takes in one request (\(AgentProtocol.maximumRequest >> 20) MiB): run '\(ProgramName.current) lock' and use the vault with its passphrase")
    }

    /// `items` in consecutive batches of at most `limit` bytes (by `size`), each sent with `send`.
    static func inBatches<Item, Result>(_ items: [Item], limit: Int = batchLimit, size: (Item) -> Int,
                                        _ send: ([Item]) throws(VaultError) -> [Result]) throws(VaultError) -> [Result] {
        var results: [Result] = []
        results.reserveCapacity(items.count)
        var start = 0
        while start < items.count {
            var end = start
            var bytes = 0
            try checkFits(size(items[start]), limit: limit)
            while end < items.count, end == start || bytes + size(items[end]) <= limit {
                bytes += size(items[end])
                end += 1
            }
            let answered = try send(Array(items[start..<end]))
            guard answered.count == end - start else { throw .tampered("an answer of the agent (the wrong number of items)") }
            results += answered
            start = end
        }
        return results
    }

    /// The answer to `request`, or the failure it reports as the error it stands for.
    private func ask(_ request: AgentRequest) throws(VaultError) -> AgentResponse {
        let response = try client.send(request)
        if case .failure(let failure) = response { throw failure.vaultError(name: nil) }
        return response
    }

    func lookup(_ names: [String]) throws(VaultError) -> [[UInt8]] {
        try Self.inBatches(names, size: { $0.utf8.count + 4 }) { batch throws(VaultError) in
            guard case .lookups(let lookups) = try ask(.lookup(batch)) else { throw VaultError.locked }
            return lookups
        }
    }

    func chainMACs(_ data: [[UInt8]]) throws(VaultError) -> [[UInt8]] {
        try Self.inBatches(data, size: { $0.count + 4 }) { batch throws(VaultError) in
            guard case .macs(let macs) = try ask(.mac(batch)) else { throw VaultError.locked }
            return macs
        }
    }

    func open(_ boxes: [SealedBox]) throws(VaultError) -> [SecureBytes?] {
        try Self.inBatches(boxes, size: { $0.bytes.count + 5 }) { batch throws(VaultError) in
            guard case .opened(let opened) = try ask(.open(batch)) else { throw VaultError.locked }
            // Tokens in guarded memory, as when opened here (a batch's in one arena).
            let arena = SecretArena()
            return zip(batch, opened).map { box, plaintext in
                guard box.guarded, let plaintext else { return plaintext }
                return plaintext.withUnsafeBytes { SecureBytes(copying: $0, arena: arena) }
            }
        }
    }

    func seal(_ purpose: KeyDerivation.Purpose, _ plaintext: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8] {
        try Self.checkFits(plaintext.count + 5)  // Its purpose and length.
        let copy = SecureBytes(count: plaintext.count, guarded: false) { $0.copyMemory(from: plaintext) }
        guard case .sealed(let box) = try ask(.seal(purpose, copy)) else { throw .locked }
        return box
    }

    func get(_ name: String, allowingExpired: Bool, origin: ActivityLog.Origin,
             in vault: Vault) throws(VaultError) -> Vault.TokenRead {
        switch try client.send(.read(FileIdentity(path: path), origin, name: name, allowingExpired: allowingExpired)) {
        case .entry(let entry, let secret, let recording) where entry.name == name:
            // The entry asked for, under the rules again: an agent that did not apply them
            // hands out nothing.
            if let refusal = entry.readRefusal(allowingExpired: allowingExpired) { throw refusal }
            return (entry, secret, recording)
        case .failure(.busy):
            return try vault.readToken(name, allowingExpired: allowingExpired, for: origin)
        case .failure(let failure):
            throw failure.vaultError(name: name)
        default:
            throw .locked
        }
    }

    func gitReply(toDescription description: Secret, now: Timestamp, origin: ActivityLog.Origin,
                  in vault: Vault) throws(VaultError) -> GitReply {
        switch try client.send(.git(FileIdentity(path: path), origin, now: now, description: description.storage)) {
        case .git(let reply): return reply
        case .failure(.busy): return try vault.composeGitReply(toDescription: description, now: now, origin: origin)
        case .failure(let failure): throw failure.vaultError(name: nil)
        default: throw .locked
        }
    }

    func entries(in vault: Vault) throws(VaultError) -> [Entry] {
        switch try client.send(.entries(FileIdentity(path: path))) {
        case .entries(let entries):
            // Sorted by name, each once, as `entries()` promises: an agent that answers
            // otherwise is not believed.
            for (earlier, later) in zip(entries, entries.dropFirst()) where !(earlier.name < later.name) {
                throw .tampered("the entry list (from the agent)")
            }
            return entries
        case .failure(.busy): return try vault.entriesHere()
        case .failure(let failure): throw failure.vaultError(name: nil)
        default: throw .locked
        }
    }

    func history(of name: String, origin: ActivityLog.Origin, in vault: Vault) throws(VaultError) -> ([SecretVersion], ReadRecording) {
        switch try client.send(.history(FileIdentity(path: path), origin, name: name)) {
        case .history(let versions, let recording): return (versions, recording)
        case .failure(.busy): return try vault.historyHere(of: name, for: origin)
        case .failure(let failure): throw failure.vaultError(name: name)
        default: throw .locked
        }
    }

    func activityLog(in vault: Vault) throws(VaultError) -> LogReport {
        switch try client.send(.log(FileIdentity(path: path))) {
        case .log(let report):
            // Sequence numbers a file may hold, each once, in order, as `activityLog()` gives
            // them (a caller may take one for an Int64): an agent that answers otherwise is not
            // believed.
            var previous: UInt64 = 0
            for event in report.events {
                guard event.sequence > previous, (try? ActivityLog.sequence(Int64(bitPattern: event.sequence))) != nil else {
                    throw .tampered("the activity log (from the agent)")
                }
                previous = event.sequence
            }
            return report
        case .failure(.busy): return try vault.activityLogHere()
        case .failure(let failure): throw failure.vaultError(name: nil)
        default: throw .locked
        }
    }

    func reviewTokens(origin: ActivityLog.Origin, in vault: Vault) throws(VaultError) -> (Review.Tokens, ReadRecording) {
        switch try client.send(.review(FileIdentity(path: path), origin)) {
        case .review(let tokens, let recording): return (tokens, recording)
        case .failure(.busy): return try vault.reviewTokensHere(origin: origin)
        case .failure(let failure): throw failure.vaultError(name: nil)
        default: throw .locked
        }
    }
}
