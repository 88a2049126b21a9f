/// What the activity log records of a `Vault`'s reads and changes: a read of a token, with
/// the entry's last-used time, in one small write of its own; a change, as pending events
/// that the change's own transaction appends.
extension Vault {
    /// A change to record, appended by the write that makes it (see `write`).
    struct PendingEvent {
        var action: String
        var entry: String?
        var detail: String? = nil
    }

    /// Records a read in the activity log, with the entry's last-used time, in one small write
    /// that waits neither for the disk nor, at exit, for a checkpoint: it stays in the
    /// write-ahead log until the next change folds the log into the file (or the log reaches
    /// 1,000 frames; see SECURITY.md, "A vault at rest is one file").
    /// A vault that cannot be written here (read-only, or its disk full) does not record it: the
    /// read goes on, and the outcome says so (kept for ``readRecording``).
    @discardableResult
    func recordRead(_ name: String, lookup: [UInt8], action: String, origin: ActivityLog.Origin,
                    isUse: Bool = true) throws(VaultError) -> ReadRecording {
        note(try ReadRecording.attempt { () throws(VaultError) in
            try recordReadHere(name, lookup: lookup, action: action, origin: origin, isUse: isUse)
        })
    }

    private func recordReadHere(_ name: String, lookup: [UInt8], action: String, origin: ActivityLog.Origin,
                                isUse: Bool) throws(VaultError) {
        try state.withLock { state throws(VaultError) in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            if let reason = state.unwritable { try Vault.refuseWrite(&state, because: reason, keys: keys, change: !ActivityLog.isRead(action)) }
            try db.execute("PRAGMA synchronous = NORMAL")
            defer { try? db.execute("PRAGMA synchronous = FULL") }
            var written: ([UInt8], Manifest)?
            var used: Timestamp?
            // Whether the cached entries are the file's as this write begins: then only the
            // entry's last-used time changes, and the cache is kept with it.
            var cacheIsCurrent = false
            try db.transaction(write: true, foldingLog: false) { () throws(VaultError) in
                try state.checkSchema()
                var manifest = try state.currentManifest(keys: keys)
                let version = try db.dataVersion()
                cacheIsCurrent = state.entriesCache.map { $0.version == version && $0.commits == db.commits } ?? false
                try ActivityLog.append(db, keys: keys, manifest: manifest, action: action, entry: name, origin: origin)
                // The entry may have been removed since it was read: then no last-used time.
                if isUse, try Self.entryExists(db, lookup: lookup) {
                    let now = Timestamp.now()
                    try Self.storeUsage(db, now, lookup: lookup, keys: keys)
                    used = now
                }
                // Reads keep the log bounded too; the manifest (which keeps the pruning anchor)
                // is rewritten only once in a while, when the log is a tenth over its limit.
                if try ActivityLog.isOverfull(db, manifest: manifest, margin: manifest.settings.logMaxEvents / 10 + 10) {
                    try ActivityLog.prune(db, keys: keys, manifest: &manifest)
                    written = (try Self.storeManifest(db, manifest, keys: keys), manifest)
                }
            }
            db.leaveLogOnClose(whileShorterThan: Self.readLogFrames)
            if let (sealed, manifest) = written { state.wrote(sealed, manifest) }
            if cacheIsCurrent { state.recordedRead(of: name, usedAt: used, commits: db.commits) }
        }
    }

    /// How long the write-ahead log may grow from reads' small writes before a close
    /// checkpoints it (a read adds three or four frames).
    static let readLogFrames: Int32 = 32

    /// How the activity log names a change to an entry.
    static func describeChange(from old: Entry, to new: Entry, replacedToken: Bool, restoredVersion: Int?) -> String {
        if let restoredVersion { return "restore version \(restoredVersion + 1)" }
        if replacedToken { return "replace token" }
        if old.deleted == nil && new.deleted != nil { return "trash" }
        if old.deleted != nil && new.deleted == nil { return "restore" }
        if old.rejected == nil && new.rejected != nil { return "rejected by git" }
        if old.rejected != nil && new.rejected == nil { return "restore" }
        return "edit"
    }

    /// Records that the entry was just used (by git or `vault get`). One small write outside the
    /// manifest, flushed without waiting for the disk: losing it in a power cut loses a time,
    /// never a token.
    public func markUsed(_ name: String, at time: Timestamp = .now()) throws(VaultError) {
        try state.withLock { state throws(VaultError) in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            if let reason = state.unwritable { throw reason.writeError(path: path) }
            let lookup = try keys.lookup(name)
            // Without waiting for the disk, now or when the process exits.
            try db.execute("PRAGMA synchronous = NORMAL")
            defer { try? db.execute("PRAGMA synchronous = FULL") }
            try db.transaction(write: true, foldingLog: false) { () throws(VaultError) in
                try state.checkSchema()
                guard try Self.entryExists(db, lookup: lookup) else { throw VaultError.notFound(name: name, suggestion: nil) }
                try Self.storeUsage(db, time, lookup: lookup, keys: keys)
            }
            db.leaveLogOnClose(whileShorterThan: Self.readLogFrames)
        }
    }
}
