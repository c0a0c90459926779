import ArgumentParser
import Foundation
import Gateway
import GatewayHTTP
import OrderStore

struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it (once: only its SHA-256 is stored)."
        )
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "admin, erp, or partner:<id>.") var role: String
        @Option(help: "A name to recognise it by.") var name: String

        func run() throws {
            let (configuration, store, mappings) = try self.options.openStoreAndMappings()
            _ = configuration
            guard let (role, partnerID) = APITokens.role(self.role) else {
                printError("ordergate: --role must be admin, erp or partner:<id>")
                throw ExitCode.validationFailure
            }
            if let partnerID, mappings.partners[partnerID] == nil {
                printError("ordergate: no partner profile \(partnerID) in the mappings")
                throw ExitStatus.dataError
            }
            let token = APITokens.generate()
            let id = try store.write { tx in
                let id = try tx.insertToken(
                    name: self.name,
                    role: role,
                    partnerID: partnerID,
                    hash: APITokens.hash(token),
                    at: Date()
                )
                try tx.audit(
                    actor: "cli",
                    action: "token-created",
                    subject: "token:\(id)",
                    detail: self.role,
                    at: Date()
                )
                return id
            }
            printError("token \(id) (\(self.role), \(self.name)); it is shown only now:")
            print(token)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var options: ConfigurationOptions

        func run() throws {
            let configuration = try self.options.load()
            let store = try OrderStore(path: configuration.databasePath)
            for token in try store.read({ try $0.tokens() }) {
                let role = token.partnerID.map { "partner:\($0)" } ?? token.role.rawValue
                print(
                    "\(token.id)\t\(role)\t\(token.name)\t\(token.createdAt)\t\(token.revokedAt.map { "revoked \($0)" } ?? "live")"
                )
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: it is refused from now on.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The token ID.") var id: Int64

        func run() throws {
            let configuration = try self.options.load()
            let store = try OrderStore(path: configuration.databasePath)
            let revoked = try store.write { tx in
                let done = try tx.revokeToken(id: self.id, at: Date())
                if done {
                    try tx.audit(
                        actor: "cli",
                        action: "token-revoked",
                        subject: "token:\(self.id)",
                        detail: nil,
                        at: Date()
                    )
                }
                return done
            }
            guard revoked else {
                printError("ordergate: no live token \(self.id)")
                throw ExitStatus.dataError
            }
            print("token \(self.id) revoked")
        }
    }
}
