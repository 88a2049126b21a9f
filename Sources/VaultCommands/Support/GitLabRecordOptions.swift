import ArgumentParser
import TokenVault
import TokenVaultGitLab
import VaultCLICommon

/// The option of the commands that read tokens' records at GitLab (`vault gitlab verify`,
/// `vault check --online`): which admin token reads them.
struct GitLabRecordOptions: ParsableArguments {
    @Option(name: .customLong("admin-token"), help: ArgumentHelp(
        "Read the records of this entry's host's tokens with this entry's token (the owner's or an instance administrator's, same host), by their GitLab id: the token itself is not sent, so GitLab does not count the question as a use. Default: \(ProgramName.current) config gitlab-admin.HOST.",
        valueName: "entry"))
    var adminToken: String?

    /// Who reads each entry's record: the admin token given, for the entries of its host (for a
    /// named entry, always: another host is refused); the host's default for the others.
    func readers(_ vault: Vault, named: Bool) throws -> (Entry) -> GitLabRecordReader {
        guard let adminToken else { return { _ in .configured } }
        let admin = try withSuggestion(vault) { try vault.entry(named: adminToken) }
        return { entry in named || entry.host == admin.host ? .admin(admin.name) : .configured }
    }
}
