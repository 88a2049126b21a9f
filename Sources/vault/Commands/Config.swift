import ArgumentParser
import TokenVault
import VaultSupport

extension VaultCommand {
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or change the vault's settings.",
            discussion: """
                Settings: rotate-every (how often tokens should be replaced when an entry names no \
                period; default 90d) and trash-days (how long `vault rm` keeps an entry; default \
                30). They are stored encrypted in the vault.

                Examples:
                  vault config
                  vault config rotate-every 60d
                  vault config trash-days 14
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "rotate-every or trash-days.")
        var key: String?

        @Argument(help: "The new value.")
        var value: String?

        func validate() throws {
            if let key, !["rotate-every", "trash-days"].contains(key) {
                throw ValidationError("unknown setting '\(key)': rotate-every or trash-days")
            }
            if let value {
                if key == "rotate-every", (Span(argument: value)?.seconds ?? 0) < 86_400 {
                    throw ValidationError("rotate-every takes a span of at least 1d, such as 90d")
                }
                if key == "trash-days", (Int64(value) ?? -1) < 0 { throw ValidationError("trash-days takes a number of days") }
            }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            if let key, let value {
                try vault.updateSettings { settings in
                    if key == "rotate-every" { settings.rotateEvery = Span(argument: value)!.seconds }
                    else { settings.trashDays = Int64(value)! }
                }
                Output.note("\(key) set to \(value)")
                return
            }
            let settings = try vault.settings()
            let all = [("rotate-every", "\(settings.rotateEvery / 86_400)d"), ("trash-days", "\(settings.trashDays)")]
            for (name, shown) in all where key == nil || key == name {
                try Output.out(key == nil ? "\(name) \(shown)\n" : "\(shown)\n")
            }
        }
    }
}
