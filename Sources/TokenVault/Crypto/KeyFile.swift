import CSodium
import Glibc

/// A key file: a second factor that must be present with the passphrase (`vault init
/// --key-file`, `vault passwd --add-key-file`). Any regular file of ``minimumSize`` bytes to
/// ``maximumSize`` bytes, private to its owner, hashed in full; `vault keyfile new` writes 32
/// random bytes.
///
/// Only its BLAKE2b digest is kept, in guarded memory (the file's bytes are read into guarded
/// memory too, and wiped once hashed). Like a ``Secret`` it never shows its bytes: every
/// description is `<redacted>`.
///
/// The key-encryption key of a vault that needs a key file is derived as docs/FORMAT.md
/// ("Key file (schema 5)") writes down:
/// `F = BLAKE2b-256(file, personal "TokVault-keyfile")`, then
/// `KEK = BLAKE2b-256(Argon2id(passphrase, salt), key F, personal "TokVault-kek-kf1")`.
public struct KeyFile: Sendable {
    /// The fewest bytes a key file may have (what `vault keyfile new` writes).
    public static let minimumSize = 32
    /// The most bytes a key file may have: 1 MiB.
    public static let maximumSize = 1 << 20
    /// BLAKE2b's personalisation of the file's digest (16 bytes).
    static let filePersonal = Array("TokVault-keyfile".utf8)
    /// BLAKE2b's personalisation of the key-encryption key (16 bytes).
    static let kekPersonal = Array("TokVault-kek-kf1".utf8)

    /// The file's 32-byte digest, in guarded memory.
    let digest: SecureBytes
    /// The file's device and inode, when read from a file: not secret, and kept only so that a
    /// vault can refuse its own files as its key file (`checkApart(fromVault:)`).
    let identity: FileIdentity?

    /// The key file of these bytes (a test vector; a caller that holds the bytes already).
    public init(bytes: UnsafeRawBufferPointer) throws(KeyFileError) {
        guard (Self.minimumSize...Self.maximumSize).contains(bytes.count) else { throw .size(path: nil, bytes: bytes.count) }
        digest = Self.hash(bytes)
        identity = nil
    }

    /// Reads the key file at `path`: a regular file that belongs to this user and that no one
    /// else may read or write, of ``minimumSize`` to ``maximumSize`` bytes, read whole into
    /// guarded memory and hashed.
    public init(readingAt path: String) throws(KeyFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path: path, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notAFile(path: path) }
        guard info.st_uid == geteuid() else { throw .wrongOwner(path: path) }
        guard info.st_mode & 0o077 == 0 else { throw .filePermissions(path: path, mode: UInt32(info.st_mode)) }
        let size = Int(info.st_size)
        guard (Self.minimumSize...Self.maximumSize).contains(size) else { throw .size(path: path, bytes: size) }
        var failure: KeyFileError?
        let content = SecureBytes(count: size) { buffer in
            var length = 0
            while true {
                // One byte more than fstat said: a file that grew meanwhile is not read in part.
                let room = length < size ? size - length : 0
                var spare: UInt8 = 0
                let n = room > 0 ? Glibc.read(fd, buffer.baseAddress! + length, room) : Glibc.read(fd, &spare, 1)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failure = .unreadable(path: path, errno: errno); return }
                if n == 0 { break }
                if room == 0 { failure = .changed(path: path); return }
                length += n
            }
            if length != size { failure = .changed(path: path) }
        }
        if let failure { throw failure }
        digest = content.withUnsafeBytes { Self.hash($0) }
        identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Refuses the vault's own files as its key file: the vault file, its write-ahead log and
    /// shared index, its settings file. They change with every write (the very write that makes
    /// the vault need the key file among them), so the vault would never open again.
    func checkApart(fromVault vaultPath: String) throws(VaultError) {
        guard let identity else { return }
        let own = [vaultPath, vaultPath + "-wal", vaultPath + "-shm", vaultPath + "-journal", LocalSettings.path(forVault: vaultPath)]
        for path in own where FileIdentity(path: path) == identity {
            throw .invalidInput("the key file is '\(path)', one of the vault's own files: it changes with every write, and the vault would never open again")
        }
    }

    /// `F = BLAKE2b-256(bytes, personal "TokVault-keyfile")`, in guarded memory.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> SecureBytes {
        Sodium.initialize()
        return SecureBytes(count: SymmetricKey.byteCount) { out in
            let result = filePersonal.withUnsafeBytes { personal in
                crypto_generichash_blake2b_salt_personal(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count,
                    bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count), nil, 0, nil,
                    personal.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            precondition(result == 0, "crypto_generichash_blake2b_salt_personal failed")
        }
    }

    /// The key-encryption key of a vault that needs this key file, from the Argon2id output of
    /// its passphrase: `BLAKE2b-256(argon2, key F, personal "TokVault-kek-kf1")`.
    func keyEncryptionKey(passphraseKey: SymmetricKey) -> SymmetricKey {
        let storage = SecureBytes(count: SymmetricKey.byteCount) { out in
            let result = passphraseKey.withUnsafeBytes { argon2 in
                digest.withUnsafeBytes { key in
                    Self.kekPersonal.withUnsafeBytes { personal in
                        crypto_generichash_blake2b_salt_personal(
                            out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count,
                            argon2.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(argon2.count),
                            key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count, nil,
                            personal.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
            precondition(result == 0, "crypto_generichash_blake2b_salt_personal failed")
        }
        return SymmetricKey(storage: storage)
    }

    /// Writes a new key file at `path`: 32 bytes from the system's CSPRNG (`randombytes_buf`),
    /// mode 0600, flushed to disk. Refuses a path where anything exists (a symbolic link
    /// included: it is never followed), and a folder that other users may write to (they could
    /// replace the file) unless it is sticky, or that belongs to someone else than this user or
    /// root.
    public static func create(at path: String) throws(KeyFileError) {
        let folder = VaultLocation.folder(of: path)
        var info = stat()
        guard stat(folder, &info) == 0 else { throw .cannotCreate(path: path, errno: errno) }
        let owner = info.st_uid == geteuid() || info.st_uid == 0
        let writableByOthers = info.st_mode & 0o022 != 0 && info.st_mode & S_ISVTX == 0
        guard owner && !writableByOthers else { throw .unsafeFolder(path: folder) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .exists(path: path) }
            throw .cannotCreate(path: path, errno: errno)
        }
        var failure: Int32 = fchmod(fd, 0o600) == 0 ? 0 : errno
        let bytes = SecureBytes(count: minimumSize) { Sodium.randomBytes(into: $0) }
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while failure == 0 && offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = n < 0 ? errno : EIO } else { offset += n }
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else {
            unlink(path)
            throw .cannotCreate(path: path, errno: failure)
        }
        try? VaultLocation.sync(folder)
    }
}

extension KeyFile: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Always `<redacted>`.
    public var description: String { "<redacted>" }
    /// Always `<redacted>`.
    public var debugDescription: String { "<redacted>" }
    /// A mirror with no children.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// Why a key file cannot be read or written. A description names the file, never its bytes.
public enum KeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file cannot be opened (`errno` says why: missing, not allowed).
    case cannotOpen(path: String, errno: Int32)
    /// It is not a regular file.
    case notAFile(path: String)
    /// It belongs to another user.
    case wrongOwner(path: String)
    /// Other users may read or write it (`mode`: its permission bits).
    case filePermissions(path: String, mode: UInt32)
    /// It has fewer than 32 bytes or more than 1 MiB (`path` nil: bytes given directly).
    case size(path: String?, bytes: Int)
    /// Reading it failed.
    case unreadable(path: String, errno: Int32)
    /// It changed size while it was read.
    case changed(path: String)
    /// `create`: something exists at the path already.
    case exists(path: String)
    /// `create`: the file cannot be made or written.
    case cannotCreate(path: String, errno: Int32)
    /// `create`: the folder is open to other users' writes, or someone else's.
    case unsafeFolder(path: String)

    /// One line for a person.
    public var description: String {
        switch self {
        case .cannotOpen(let path, let errno): "cannot open the key file '\(path)': \(Self.reason(errno))"
        case .notAFile(let path): "the key file '\(path)' is not a regular file"
        case .wrongOwner(let path): "the key file '\(path)' belongs to another user"
        case .filePermissions(let path, let mode):
            "the key file '\(path)' is readable by other users (mode \(String(mode & 0o777, radix: 8)))"
        case .size(let path, let bytes):
            "the key file\(path.map { " '\($0)'" } ?? "") has \(bytes) bytes: a key file has from \(KeyFile.minimumSize) bytes to 1 MiB"
        case .unreadable(let path, let errno): "cannot read the key file '\(path)': \(Self.reason(errno))"
        case .changed(let path): "the key file '\(path)' changed while it was read"
        case .exists(let path): "'\(path)' exists already: a key file is never overwritten"
        case .cannotCreate(let path, let errno): "cannot create the key file '\(path)': \(Self.reason(errno))"
        case .unsafeFolder(let path): "the folder '\(path)' is open to other users' writes (they could replace the key file)"
        }
    }

    /// A next step, where there is one.
    public var hint: String? {
        switch self {
        case .filePermissions(let path, _): "chmod 600 '\(path)'"
        case .unsafeFolder: "make the key file in a folder of your own (chmod go-w), apart from the vault"
        default: nil
        }
    }

    /// True when the key file is missing, unreadable or not one: the vault stays locked for want
    /// of its second factor (exit 3), as for a missing passphrase.
    public var isMissingFactor: Bool {
        switch self {
        case .cannotOpen, .notAFile, .size, .unreadable, .changed: true
        default: false
        }
    }

    private static func reason(_ errno: Int32) -> String { String(cString: strerror(errno)) }
}
