// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "TokenVault",
    products: [
        .library(name: "TokenVault", targets: ["TokenVault"]),
        .library(name: "TokenVaultGitLab", targets: ["TokenVaultGitLab"]),
        .library(name: "TokenVaultHTTP", targets: ["TokenVaultHTTP"]),
        .executable(name: "vault", targets: ["vault"]),
        .executable(name: "tokenvault-cli", targets: ["tokenvault-cli"]),
        .executable(name: "git-credential-vault", targets: ["git-credential-vault"]),
        .executable(name: "tokenvault-git-helper", targets: ["tokenvault-git-helper"]),
        .executable(name: "tokenvault-gitlab", targets: ["tokenvault-gitlab"]),
        .executable(name: "auth-header", targets: ["AuthHeaderExample"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation`: scripts/test.sh builds the library's DocC
        // catalog with warnings as errors, so a broken symbol link fails CI. A command plugin
        // only: nothing of it is linked into a product.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // C at the edge: the two system libraries, a hardening shim for the library and a
        // terminal shim for the CLI (prctl and signal handlers are not safe to write in Swift).
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // libcurl, for GitLab's API: URLSession on Linux cannot trust a private CA (--ca-file).
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CHardening"),
        // The agent protocol's numbers and names (version, opcodes, limits, socket rules), in one
        // header: the library imports it, and the C front ends (git-credential-vault, vault)
        // include it, with agent_client.h and agent_frames.h, the C they share.
        .target(name: "CAgentProtocol"),
        .target(name: "CTerminal"),
        // `vault exec`'s child (posix_spawn and the forwarding of signals) and `vault get --clip`'s
        // clipboard programs and clearer (spawned in a session of their own), in C.
        .target(name: "CExec"),

        // The library: crypto in Crypto/, storage in Storage/, the vault on top.
        .target(
            name: "TokenVault",
            dependencies: ["CSodium", "CSQLite", "CHardening", "CTerminal", "CAgentProtocol"]
        ),

        // GitLab's API for a token acting on itself (verify, rotate, revoke), over a transport
        // it does not link; TokenVaultHTTP carries it on libcurl. Tools that only read tokens
        // link neither.
        .target(
            name: "TokenVaultGitLab",
            dependencies: ["TokenVault"]
        ),
        // OpenBao's API (a team's entries in its KV engine), over the same transport as GitLab's.
        .target(
            name: "TokenVaultOpenBao",
            dependencies: ["TokenVault", "TokenVaultGitLab"]
        ),
        .target(
            name: "TokenVaultHTTP",
            dependencies: ["TokenVaultGitLab", "TokenVault", "CCurl"]
        ),

        // What the CLI and the git helper have in common: the environment, passphrase sources,
        // prompts on the terminal, output, exit codes, and starting the agent.
        .target(
            name: "VaultCLICommon",
            dependencies: ["TokenVault", "CTerminal"]
        ),

        // The git credential helper (get, store, erase on git's description): run by
        // tokenvault-git-helper and by `vault git-credential`.
        .target(
            name: "VaultGitHelper",
            dependencies: ["TokenVault", "TokenVaultGitLab", "TokenVaultOpenBao", "VaultCLICommon"]
        ),

        // The CLI: one file per subcommand under Commands/; tokenvault-cli runs it.
        .target(
            name: "VaultCommands",
            dependencies: [
                "TokenVault",
                "TokenVaultGitLab",
                "TokenVaultOpenBao",
                "VaultCLICommon",
                "VaultGitHelper",
                "CExec",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "tokenvault-cli",
            dependencies: ["VaultCommands"]
        ),
        // `vault`'s front end, in C for the same reason as git-credential-vault's: it answers
        // `vault get NAME` through the agent and runs tokenvault-cli for everything else (see
        // its main.c). `make install` builds it with the C compiler alone.
        .executableTarget(
            name: "vault",
            dependencies: ["CSodium", "CAgentProtocol"]
        ),
        // The same command line with GitLab's API reachable (HTTPS on libcurl).
        .executableTarget(
            name: "tokenvault-gitlab",
            dependencies: ["VaultCommands", "TokenVaultHTTP"]
        ),

        // The git credential helper's front end, in C so that git's calls start as fast as git's
        // own credential-cache: it answers `get` through the agent and hands everything else to
        // the helper in Swift (see its main.c). `make install` builds it with the C compiler
        // alone: SwiftPM would link Swift's runtime into it (a millisecond more at each start).
        .executableTarget(
            name: "git-credential-vault",
            dependencies: ["CSodium", "CAgentProtocol"]
        ),
        .executableTarget(
            name: "tokenvault-git-helper",
            dependencies: ["TokenVault", "TokenVaultHTTP", "VaultCLICommon", "VaultGitHelper"]
        ),

        // Examples/: programs that use the library as another tool would.
        .executableTarget(
            name: "AuthHeaderExample",
            dependencies: ["TokenVault"],
            path: "Examples/AuthHeader"
        ),

        // bench/: a filler for benchmarks at 10,000 entries (bench/run.sh).
        .executableTarget(
            name: "vault-bench-fill",
            dependencies: ["TokenVault"],
            path: "bench/Fill"
        ),

        .testTarget(
            name: "TokenVaultTests",
            // TokenVaultOpenBao: FuzzRegressionTests feeds the OpenBao client what its fuzz target found.
            dependencies: ["TokenVault", "CAgentProtocol", "TokenVaultGitLab", "TokenVaultOpenBao"]
        ),
        .target(name: "CTestSupport", path: "Tests/CTestSupport"),
        .testTarget(
            name: "VaultCLITests",
            // TokenVaultGitLab and its HTTPS transport: GitLabRotationAPITests calls the library
            // against the same stand-in GitLab as the CLI's tests.
            dependencies: ["TokenVault", "TokenVaultGitLab", "TokenVaultHTTP", "TokenVaultOpenBao", "CTestSupport", "CAgentProtocol"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzz targets (Tests/Fuzz/README.md): scripts/fuzz.sh sets TOKENVAULT_FUZZ_TARGETS to the
// directories of Tests/Fuzz/Targets (one executable each, built with libFuzzer in .build-fuzz;
// the list is in the environment so that a new directory makes SwiftPM read this file again).
// Without it they do not exist: `swift build` and `swift test` neither build them nor link
// libFuzzer.
if let fuzzTargets = Context.environment["TOKENVAULT_FUZZ_TARGETS"] {
    package.targets.append(.target(name: "CFuzzDriver", path: "Tests/Fuzz/CSupport"))
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["CFuzzDriver"], path: "Tests/Fuzz/Support"))
    for name in fuzzTargets.split(separator: " ").map(String.init) {
        package.targets.append(.executableTarget(
            name: "fuzz-\(name)",
            dependencies: ["TokenVault", "TokenVaultGitLab", "TokenVaultOpenBao", "FuzzSupport"],
            path: "Tests/Fuzz/Targets/\(name)"
        ))
        package.products.append(.executable(name: "fuzz-\(name)", targets: ["fuzz-\(name)"]))
    }
}
