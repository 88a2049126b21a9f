extension Vault {
    /// For each of `secrets`, the names of the entries among `names` that hold it (compared
    /// through a ``SecretIndex``). One read transaction, each entry's token opened once however
    /// many secrets are asked about; like ``holds(_:secret:)``, not a read (no token leaves the
    /// library): no event, no last-used time.
    package func holders(of secrets: [Secret], among names: Set<String>) throws(VaultError) -> [Set<String>] {
        guard !names.isEmpty, !secrets.isEmpty else { return secrets.map { _ in [] } }
        let index = try read { db, keys, manifest throws(VaultError) -> SecretIndex<String> in
            var index = SecretIndex<String>()
            for name in names {
                index.insert(name, holding: try Self.openSecret(Self.loadRow(db, name: name, keys: keys, manifest: manifest), keys: keys).current)
            }
            return index
        }
        return secrets.map { Set(index.values(holding: $0)) }
    }
}
