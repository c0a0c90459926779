import ArgumentParser
import Foundation
import Gateway
import OrderMapping
import OrderModel
import OrderStore

extension ConfigurationOptions {
    /// The store and the mapping set, for commands that decide or render (import, holds release).
    func openStoreAndMappings() throws -> (Configuration, OrderStore, MappingSet) {
        let configuration = try self.load()
        let mappings = try Self.reportingMappingErrors {
            try MappingFolder.load(configuration.resolve(configuration.mappings))
        }
        try FileManager.default.createDirectory(
            atPath: configuration.resolve(configuration.data),
            withIntermediateDirectories: true
        )
        return (configuration, try OrderStore(path: configuration.databasePath), mappings)
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load business data (items, prices, contracts, credit, nodes, stock, locations) from CSV or JSON.",
        discussion: """
            Every record is checked first; any problem is reported with its line and nothing is loaded (exit 65). \
            Records are upserted by their key, so importing a file twice changes nothing. A credit import releases \
            held orders whose exposure is now within the terms, and queues their updated acknowledgements. The \
            columns of each kind are in README.md ("Business data").
            """
    )

    @OptionGroup var options: ConfigurationOptions
    @Argument(help: "What the file holds: \(ImportKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: String
    @Argument(help: "The CSV or JSON file.") var file: String

    func run() throws {
        guard let kind = ImportKind(rawValue: self.kind) else {
            printError(
                "ordergate: unknown kind \(self.kind) (\(ImportKind.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
            throw ExitCode.validationFailure
        }
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: self.file)))
        } catch {
            printError("ordergate: cannot read \(self.file): \(error.localizedDescription)")
            throw ExitStatus.noInput
        }
        let (configuration, store, mappings) = try self.options.openStoreAndMappings()
        let loader = BusinessImport(store: store, desk: OrderDesk(configuration: configuration), mappings: mappings)
        do {
            let summary = try loader.load(kind, bytes: bytes, file: self.file)
            print("imported \(summary.records) \(kind.rawValue) records from \(self.file)")
            for order in summary.releasedHolds {
                print("released the credit hold of order \(order) (its updated acknowledgement is queued)")
            }
        } catch let errors as ImportErrors {
            printError(errors.description)
            printError("ordergate: nothing imported (\(errors.issues.count) problems)")
            throw ExitStatus.dataError
        }
    }
}

struct OrdersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "List orders and explain what was decided about them.",
        subcommands: [List.self, Show.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List orders, newest first.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "Only orders in this status (received, accepted, held, ...).") var status: String?
        @Option(help: "Only this partner's orders.") var partner: String?
        @Option(help: "At most this many.") var limit = 50

        func run() throws {
            let configuration = try self.options.load()
            let store = try OrderStore(path: configuration.databasePath)
            let orders = try store.read {
                try $0.orderSummaries(status: self.status, partnerID: self.partner, limit: self.limit)
            }
            for order in orders {
                print(
                    "\(order.id)\t\(order.status)\t\(order.partnerID)\t\(order.purchaseOrderNumber)\t"
                        + "\(order.purpose)\t\(order.createdAt)"
                )
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an order: its lines, status history, decisions with their reasons, reservations, holds."
        )
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The order ID.") var id: Int64
        @Flag(help: "Print the canonical order as JSON instead.") var json = false

        func run() throws {
            let configuration = try self.options.load()
            let store = try OrderStore(path: configuration.databasePath)
            let found = try store.read { reader in
                try reader.order(id: self.id).map { order in
                    (
                        order, try reader.orderHeader(id: self.id), try reader.statusHistory(orderID: self.id),
                        try reader.decisions(orderID: self.id), try reader.reservations(orderID: self.id),
                        try reader.holds(state: nil).filter { $0.orderID == self.id }
                    )
                }
            }
            guard let (order, header, history, decisions, reservations, holds) = found else {
                printError("ordergate: no order \(self.id)")
                throw ExitStatus.noInput
            }
            if self.json {
                print(try CanonicalJSON.encode(order))
                return
            }
            print("Order \(self.id): PO \(order.purchaseOrderNumber) from \(header?.partnerID ?? "?")")
            print("Status: \(header?.status ?? "?")")
            var dates: [String] = []
            if let date = order.orderDate { dates.append("ordered \(date)") }
            if let date = order.requestedShipDate { dates.append("ship \(date)") }
            if let date = order.requestedDeliveryDate { dates.append("deliver \(date)") }
            if !dates.isEmpty { print("Dates: " + dates.joined(separator: ", ")) }
            if let shipTo = order.party(.shipTo) {
                print("Ship to: \([shipTo.name, shipTo.identifier].compactMap { $0 }.joined(separator: ", "))")
            }
            print("\nHistory:")
            for entry in history {
                print("  \(entry.at)  \(entry.status)" + (entry.note.map { "  \($0)" } ?? ""))
            }
            for decision in decisions {
                print("\nDecision \(decision.id) by \(decision.actor) at \(decision.createdAt):")
                for line in decision.explanation.split(separator: "\n", omittingEmptySubsequences: false) {
                    print("  \(line)")
                }
            }
            if !reservations.isEmpty {
                print("Reservations:")
                for reservation in reservations {
                    print(
                        "  \(reservation.state)  \(DecimalText.format(reservation.quantity)) \(reservation.sku) "
                            + "at \(reservation.nodeID)"
                    )
                }
            }
            for hold in holds {
                var text = "Hold \(hold.id) (\(hold.state)) since \(hold.createdAt): \(hold.reason)"
                if let by = hold.releasedBy {
                    text += "\n  released by \(by) at \(hold.releasedAt ?? "?"): \(hold.note ?? "")"
                }
                print(text)
            }
        }
    }
}

struct HoldsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "holds",
        abstract: "List held orders and release them.",
        subcommands: [List.self, Release.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List open holds (or every hold with --all).")
        @OptionGroup var options: ConfigurationOptions
        @Flag(help: "Also released and closed holds.") var all = false

        func run() throws {
            let configuration = try self.options.load()
            let store = try OrderStore(path: configuration.databasePath)
            let holds = try store.read { try $0.holds(state: self.all ? nil : "open") }
            if holds.isEmpty { print("no \(self.all ? "" : "open ")holds") }
            for hold in holds {
                print(
                    "order \(hold.orderID)\t\(hold.state)\t\(hold.partnerID)\tPO \(hold.purchaseOrderNumber)\t"
                        + "\(hold.createdAt)\t\(hold.reason)"
                )
            }
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release an order's hold: decide it again without the credit hold and send the update."
        )
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The order ID.") var id: Int64
        @Option(help: "Why (kept in the order's history and the audit log).") var note: String
        @Option(help: "Who releases it.") var by = ProcessInfo.processInfo.environment["USER"] ?? "admin"

        func run() throws {
            let (configuration, store, mappings) = try self.options.openStoreAndMappings()
            let desk = OrderDesk(configuration: configuration)
            do {
                let decision = try store.write { tx in
                    try desk.release(
                        orderID: self.id,
                        actor: "admin:\(self.by)",
                        note: self.note,
                        mappings: mappings,
                        tx: tx,
                        now: Date()
                    )
                }
                print("order \(self.id) released: \(decision.status.rawValue); the updated acknowledgement is queued")
            } catch let error as OrderDeskError {
                printError("ordergate: \(error)")
                throw ExitStatus.dataError
            }
        }
    }
}
