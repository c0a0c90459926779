import ArgumentParser
import Foundation
import OrderStore

/// `ordergate queue`: the documents waiting for (or held from) delivery to partners' HTTP endpoints. The running
/// daemon picks up a retry or a release within a second: the commands only change rows.
struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "List the delivery queue; retry, hold and release deliveries.",
        subcommands: [List.self, Retry.self, Hold.self, Release.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List deliveries, newest first: waiting and held ones unless --state says otherwise."
        )
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "waiting, held, delivered or all.") var state = "open"
        @Option(help: "Only this partner's.") var partner: String?
        @Option(help: "At most this many.") var limit = 100

        func validate() throws {
            guard ["open", "waiting", "held", "delivered", "all"].contains(self.state) else {
                throw ValidationError("--state is waiting, held, delivered, open (waiting and held) or all")
            }
        }

        func run() throws {
            let configuration = try self.options.load()
            let store = try OrderStore(path: configuration.databasePath)
            let rows = try store.read { reader in
                switch self.state {
                case "open":
                    try
                        (reader.deliveries(state: "held", partnerID: self.partner, limit: self.limit)
                        + reader.deliveries(state: "waiting", partnerID: self.partner, limit: self.limit))
                        .sorted { $0.outboundID > $1.outboundID }.prefix(self.limit).map { $0 }
                case "all": try reader.deliveries(state: nil, partnerID: self.partner, limit: self.limit)
                default: try reader.deliveries(state: self.state, partnerID: self.partner, limit: self.limit)
                }
            }
            let counts = try store.read { try $0.deliveryCounts() }
            print(
                "deliveries: "
                    + ["waiting", "held", "delivered"].map { "\(counts[$0] ?? 0) \($0)" }
                    .joined(separator: ", ")
            )
            for row in rows {
                var line = "\(row.outboundID)\t\(row.state)\t\(row.partnerID)\t\(row.kind)\t\(row.fileName)\t"
                line += "attempts \(row.attempts)"
                switch row.state {
                case "waiting": line += "\tnext \(row.dueAt)"
                case "delivered": line += "\t\(row.deliveredAt ?? "")\tHTTP \(row.lastStatus.map(String.init) ?? "-")"
                default: line += "\t\(row.heldReason ?? "")"
                }
                if row.state == "waiting", let error = row.lastError { line += "\tlast: \(error)" }
                print(line)
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Try deliveries again now (waiting or held ones); their lifetime starts again."
        )
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "Outbound row IDs (as queue list shows them).") var ids: [Int64] = []
        @Flag(help: "Every held delivery (with --partner, that partner's).") var allHeld = false
        @Option(help: "With --all-held: only this partner's.") var partner: String?

        func validate() throws {
            if self.ids.isEmpty == !self.allHeld { throw ValidationError("name row IDs, or --all-held") }
        }

        func run() throws {
            let configuration = try self.options.load()
            let store = try OrderStore(path: configuration.databasePath)
            let now = Date()
            var ids = self.ids
            if self.allHeld {
                ids = try store.read { try $0.deliveries(state: "held", partnerID: self.partner, limit: .max) }
                    .map(\.outboundID)
            }
            try QueueCommand.change(ids, store: store, action: "retried", audit: "delivery-retry") { tx, id in
                try tx.retryDelivery(outboundID: id, at: now)
            }
        }
    }

    struct Hold: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hold waiting deliveries until released.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "Outbound row IDs.") var ids: [Int64]
        @Option(help: "Why (kept with the row and in the audit log).") var note: String

        func run() throws {
            let configuration = try self.options.load()
            let store = try OrderStore(path: configuration.databasePath)
            let reason = "held by an admin: \(self.note)"
            try QueueCommand.change(self.ids, store: store, action: "held", audit: "delivery-hold") { tx, id in
                try tx.holdDelivery(outboundID: id, reason: reason)
            }
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release held deliveries: due now; their lifetime starts again."
        )
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "Outbound row IDs.") var ids: [Int64]

        func run() throws {
            let configuration = try self.options.load()
            let store = try OrderStore(path: configuration.databasePath)
            let now = Date()
            try QueueCommand.change(self.ids, store: store, action: "released", audit: "delivery-release") { tx, id in
                try tx.releaseDelivery(outboundID: id, at: now)
            }
        }
    }

    /// Applies `change` to each row in one transaction, audited; rows it cannot change are named, and make the exit
    /// status 65.
    static func change(
        _ ids: [Int64],
        store: OrderStore,
        action: String,
        audit: String,
        _ change: (StoreTransaction, Int64) throws -> Bool
    ) throws {
        let user = ProcessInfo.processInfo.environment["USER"] ?? "admin"
        let refused: [(Int64, String)] = try store.write { tx in
            var refused: [(Int64, String)] = []
            for id in ids {
                if try change(tx, id) {
                    try tx.audit(
                        actor: "admin:\(user)",
                        action: audit,
                        subject: "outbound:\(id)",
                        detail: nil,
                        at: Date()
                    )
                } else {
                    let state = try tx.reader.delivery(outboundID: id)?.state
                    refused.append((id, state.map { "it is \($0)" } ?? "no such delivery"))
                }
            }
            return refused
        }
        let changed = ids.count - refused.count
        print("\(changed) \(changed == 1 ? "delivery" : "deliveries") \(action)")
        for (id, reason) in refused { printError("ordergate: \(id) not \(action): \(reason)") }
        if !refused.isEmpty { throw ExitStatus.dataError }
    }
}
