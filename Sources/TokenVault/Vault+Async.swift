import Glibc

/// The calls that derive a key from a passphrase (Argon2id: a noticeable fraction of a second
/// and up to a gigabyte of memory, on purpose), for callers in Swift concurrency: each runs the
/// derivation on a thread of its own, so that neither the caller's actor nor a thread of the
/// cooperative pool waits on it. They do what their synchronous namesakes do.
extension Vault {
    /// Creates a new vault file at `path` and returns it unlocked, as
    /// the synchronous `create(at:passphrase:kdf:)`, off the caller's executor.
    public static func create(at path: String, passphrase: Secret, kdf: KDFParameters = .default) async throws(VaultError) -> Vault {
        try await OwnThread.run { () throws(VaultError) in try Vault.create(at: path, passphrase: passphrase, kdf: kdf) }
    }

    /// Unlocks the vault with `passphrase`, as the synchronous `unlock(passphrase:allowingCostlyKDF:)`, off the
    /// caller's executor.
    public func unlock(passphrase: Secret, allowingCostlyKDF: Bool = false) async throws(VaultError) {
        try await OwnThread.run { () throws(VaultError) in try self.unlock(passphrase: passphrase, allowingCostlyKDF: allowingCostlyKDF) }
    }

    /// `unlockThroughAgent(environment:)` off the caller's executor: it waits on the agent's
    /// answer (a second at most).
    public func unlockThroughAgent(environment: [String: String]) async -> Bool {
        let answer = try? await OwnThread.run { () throws(VaultError) -> Bool in self.unlockThroughAgent(environment: environment) }
        return answer ?? false
    }

    /// Re-wraps the vault key under `newPassphrase`, as the synchronous `changePassphrase(to:kdf:)`, off the
    /// caller's executor.
    public func changePassphrase(to newPassphrase: Secret, kdf: KDFParameters? = nil) async throws(VaultError) {
        try await OwnThread.run { () throws(VaultError) in try self.changePassphrase(to: newPassphrase, kdf: kdf) }
    }
}

/// Runs blocking work on a new thread and resumes the caller with its result.
enum OwnThread {
    private final class Job: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws(VaultError) -> T) async throws(VaultError) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, VaultError>, Never>) in
            let job = Job { continuation.resume(returning: Result { () throws(VaultError) in try work() }) }
            let box = Unmanaged.passRetained(job).toOpaque()
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { raw in
                guard let raw else { return nil }
                Unmanaged<Job>.fromOpaque(raw).takeRetainedValue().body()
                return nil
            }, box)
            if started == 0 {
                pthread_detach(thread)
            } else {
                // No thread to be had: the work runs here rather than not at all.
                Unmanaged<Job>.fromOpaque(box).takeRetainedValue().body()
            }
        }
        return try result.get()
    }
}
