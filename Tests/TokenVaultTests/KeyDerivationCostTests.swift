import Testing
@testable import TokenVault

/// The library refuses a header costlier than `sensitive` before deriving anything, unless the
/// caller allows it.
@Suite struct KeyDerivationCostTests {
    @Test func thePresetsAreNotCostlierThanSensitive() {
        for preset in [KDFParameters.minimum, .interactive, .moderate, .sensitive] {
            #expect(!preset.isCostlierThanSensitive, "\(preset)")
        }
        #expect(KDFParameters(opsLimit: KDFParameters.sensitive.opsLimit + 1, memLimit: KDFParameters.minimum.memLimit).isCostlierThanSensitive)
        #expect(KDFParameters(opsLimit: 1, memLimit: KDFParameters.sensitive.memLimit + 1024).isCostlierThanSensitive)
    }

    @Test func unlockRefusesACostlyHeaderUnlessAllowed() throws {
        let folder = TempFolder()
        let costly = KDFParameters(opsLimit: KDFParameters.sensitive.opsLimit + 1, memLimit: KDFParameters.minimum.memLimit)
        _ = try Vault.create(at: folder.vaultPath, passphrase: Secret("correct horse"), kdf: costly)
        let vault = try Vault.open(at: folder.vaultPath)
        let refusal = VaultError.costlyKeyDerivation(opsLimit: costly.opsLimit, memLimit: costly.memLimit)
        #expect(throws: refusal) { try vault.checkKDFCost() }
        #expect(throws: refusal) { try vault.unlock(passphrase: Secret("correct horse")) }
        #expect(!vault.isUnlocked)
        try vault.checkKDFCost(allowingCostly: true)
        try vault.unlock(passphrase: Secret("correct horse"), allowingCostlyKDF: true)
        #expect(vault.isUnlocked)
    }
}
