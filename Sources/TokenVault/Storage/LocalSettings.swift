import Glibc

/// The vault's unencrypted settings file, beside it (`vault.db.settings` for `vault.db`): what
/// this machine needs before the vault is unlocked, and so cannot be in the sealed manifest.
/// Today one setting: `key-file`, the path of the vault's key file (a path, never its contents).
///
/// The file is text, mode 0600, at most 16 KiB: lines `name=value`, `#` comments and blank lines.
/// It is read as hostile input: refused unless it is a regular file of this user that no one
/// else may read or write (never through a symbolic link), valid UTF-8 without control
/// characters, with each name once. A name this version does not know is kept as it is and
/// written back.
public struct LocalSettings: Sendable, Equatable {
    /// The most bytes the file may have.
    public static let maximumSize = 16 * 1024
    /// The setting that remembers the key file.
    public static let keyFileName = "key-file"

    /// The settings, in the file's order.
    private var lines: [(name: String, value: String)] = []

    /// The same settings, in the same order.
    public static func == (a: LocalSettings, b: LocalSettings) -> Bool {
        a.lines.map(\.name) == b.lines.map(\.name) && a.lines.map(\.value) == b.lines.map(\.value)
    }

    /// No setting.
    public init() {}

    /// The settings file of the vault at `vaultPath`.
    public static func path(forVault vaultPath: String) -> String { vaultPath + ".settings" }

    /// The absolute path of the vault's key file, when one is remembered.
    public var keyFile: String? {
        get { lines.first { $0.name == Self.keyFileName }?.value }
        set {
            lines.removeAll { $0.name == Self.keyFileName }
            if let newValue { lines.append((Self.keyFileName, newValue)) }
        }
    }

    /// True when no setting is left.
    public var isEmpty: Bool { lines.isEmpty }

    /// The settings of the vault at `vaultPath`: none when the file does not exist.
    public static func read(forVault vaultPath: String) throws(VaultError) -> LocalSettings {
        let path = path(forVault: vaultPath)
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ENOENT { return LocalSettings() }
            throw .io("cannot open the settings file '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw .invalidInput("the settings file '\(path)' is not a regular file")
        }
        guard info.st_uid == geteuid() else { throw .wrongOwner(path: path) }
        guard info.st_mode & 0o077 == 0 else { throw .unsafePermissions(path: path, mode: UInt32(info.st_mode), isDirectory: false) }
        var bytes = [UInt8](repeating: 0, count: maximumSize + 1)
        var length = 0
        while length < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + length, $0.count - length) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw .io("cannot read the settings file '\(path)': \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            length += n
        }
        guard length <= maximumSize else { throw .invalidInput("the settings file '\(path)' is longer than \(maximumSize) bytes") }
        return try parse(bytes[..<length], path: path)
    }

    /// The settings in `bytes`, or why they are not acceptable.
    static func parse(_ bytes: ArraySlice<UInt8>, path: String) throws(VaultError) -> LocalSettings {
        var settings = LocalSettings()
        var number = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            func refuse(_ why: String) -> VaultError {
                .invalidInput("the settings file '\(path)', line \(number): \(why)")
            }
            guard let text = String(validating: line, as: UTF8.self) else { throw refuse("not UTF-8") }
            guard !hasControl(text) else { throw refuse("a control character") }
            if text.isEmpty || text.hasPrefix("#") { continue }
            guard let eq = text.firstIndex(of: "=") else { throw refuse("not name=value") }
            let name = String(text[..<eq]), value = String(text[text.index(after: eq)...])
            guard !name.isEmpty, name.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "-") })
            else { throw refuse("a name of other characters than a-z and -") }
            guard !settings.lines.contains(where: { $0.name == name }) else { throw refuse("'\(name)' a second time") }
            if name == keyFileName, !value.hasPrefix("/") || value.utf8.count > Int(PATH_MAX) {
                throw refuse("key-file is not an absolute path")
            }
            settings.lines.append((name, value))
        }
        return settings
    }

    /// Whether `text` holds a control character: C0, DEL or C1 (U+0080 to U+009F, which some
    /// terminals obey as escapes).
    private static func hasControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    /// The file's text.
    var text: String {
        "# TokenVault: this machine's settings for the vault beside this file. Not encrypted: never a secret here.\n"
            + lines.map { "\($0.name)=\($0.value)\n" }.joined()
    }

    /// Writes the settings of the vault at `vaultPath` whole (mode 0600, replacing the file), or
    /// removes the file when none is left.
    public func write(forVault vaultPath: String) throws(VaultError) {
        let path = Self.path(forVault: vaultPath)
        guard !isEmpty else {
            guard unlink(path) == 0 || errno == ENOENT else {
                throw .io("cannot remove the settings file '\(path)': \(String(cString: strerror(errno)))")
            }
            return
        }
        guard !lines.contains(where: { Self.hasControl($0.value) }) else {
            throw .invalidInput("a setting holds a control character (a line break, say), which the settings file cannot keep")
        }
        var failure: VaultError?
        Array(text.utf8).withUnsafeBytes { bytes in
            do throws(VaultError) { try VaultLocation.publishPrivateFile(bytes, at: path, replacing: true) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
