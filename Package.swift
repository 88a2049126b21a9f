// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "TokenVault",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TokenVault", targets: ["TokenVault"]),
        .executable(name: "vault", targets: ["vault"]),
        .executable(name: "auth-header", targets: ["AuthHeaderExample"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C at the edge: the two system libraries and one small hardening shim.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        .target(name: "CHardening"),

        // The library: crypto in Crypto/, storage in Storage/, the vault on top.
        .target(
            name: "TokenVault",
            dependencies: ["CSodium", "CSQLite", "CHardening"]
        ),

        // The CLI: one file per subcommand under Commands/.
        .executableTarget(
            name: "vault",
            dependencies: [
                "TokenVault",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Examples/: programs that use the library as another tool would.
        .executableTarget(
            name: "AuthHeaderExample",
            dependencies: ["TokenVault"],
            path: "Examples/AuthHeader"
        ),

        .testTarget(
            name: "TokenVaultTests",
            dependencies: ["TokenVault"]
        ),
        .testTarget(
            name: "VaultCLITests",
            dependencies: ["TokenVault"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
