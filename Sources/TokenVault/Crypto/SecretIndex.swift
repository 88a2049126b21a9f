/// Finds which of many secrets are equal without comparing each pair: values are filed under
/// each secret's keyed BLAKE2b (`crypto_generichash`) under a random key made for this index and
/// wiped with it. A digest says nothing about the secret without the key, which never leaves
/// the index; two different secrets share a digest with negligible probability (256 bits).
///
/// For whole-vault passes (`vault check`'s duplicated tokens, `vault import`'s repeated lines),
/// where comparing every secret with every other grows with the square of their number.
package struct SecretIndex<Value> {
    private let key = SymmetricKey.random()
    private var buckets: [[UInt8]: [Value]] = [:]

    package init() {}

    /// Files `value` under `secret`.
    package mutating func insert(_ value: Value, holding secret: Secret) {
        buckets[digest(secret), default: []].append(value)
    }

    /// The values filed under a secret equal to `secret`, in the order they were inserted.
    package func values(holding secret: Secret) -> [Value] {
        buckets[digest(secret)] ?? []
    }

    /// The values filed under one secret, for every secret filed more than once.
    package var repeated: [[Value]] { buckets.values.filter { $0.count > 1 } }

    private func digest(_ secret: Secret) -> [UInt8] {
        secret.withUnsafeBytes { KeyedHash.hash($0, key: key) }
    }
}
