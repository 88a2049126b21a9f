// Fills a vault with N generated entries in one transaction, for benchmarks:
//   vault-bench-fill PATH N        (TOKENVAULT_PASSPHRASE must be set; KDF at minimum cost)
import TokenVault
import Glibc

let arguments = CommandLine.arguments
guard arguments.count == 3, let count = Int(arguments[2]), let passphrase = getenv("TOKENVAULT_PASSPHRASE") else {
    print("usage: TOKENVAULT_PASSPHRASE=... vault-bench-fill PATH N")
    exit(64)
}
do {
    let vault = try Vault.create(at: arguments[1], passphrase: Secret(String(cString: passphrase)), kdf: .minimum)
    let batch = (0..<count).map { i in
        Token(entry: Entry(name: "entry-\(i)", url: CredentialURL(scheme: "https", host: "host-\(i % 50).example.com"),
                           username: "user-\(i)", kind: .gitlab, scopes: ["read_api"]),
              secret: Secret("glpat-bench-\(i)-0000000000"))
    }
    try vault.add(batch)
} catch {
    print("vault-bench-fill: \(error)")
    exit(1)
}
