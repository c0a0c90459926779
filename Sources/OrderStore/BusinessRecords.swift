import Foundation
import GRDB
import OrderModel
import OrderRules

// Business data: items, prices, contracts, credit accounts, fulfilment nodes, stock and ship-to locations. Imports
// upsert by each table's key, so loading the same file twice changes nothing; stock `reserved` and a credit account's
// `open_orders` are Ordergate's own figures and are never overwritten by an import.

extension StoreTransaction {
    /// Inserts or updates items; each item's buyer-part references are replaced by the ones given for it.
    public func upsertItems(_ items: [Item], buyerParts: [BuyerPartReference], at date: Date) throws {
        let now = Timestamp.text(date)
        let partsBySKU = Dictionary(grouping: buyerParts, by: \.sku)
        for item in items {
            try self.db.cachedStatement(
                sql: """
                    INSERT INTO items (sku, description, gtin, vendor_part, base_unit, conversions, lead_time_days,
                        updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (sku) DO UPDATE SET description = excluded.description, gtin = excluded.gtin,
                        vendor_part = excluded.vendor_part, base_unit = excluded.base_unit,
                        conversions = excluded.conversions, lead_time_days = excluded.lead_time_days,
                        updated_at = excluded.updated_at
                    """
            ).execute(
                arguments: [
                    item.sku, item.description, item.gtin, item.vendorPart, item.baseUnit,
                    BusinessText.conversions(item.conversions), item.leadTimeDays, now,
                ]
            )
            try self.db.cachedStatement(sql: "DELETE FROM buyer_parts WHERE sku = ?").execute(arguments: [item.sku])
            for reference in partsBySKU[item.sku] ?? [] {
                try self.db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO buyer_parts (partner_id, buyer_part, sku) VALUES (?, ?, ?)"
                ).execute(
                    arguments: [reference.partnerID, reference.buyerPart, reference.sku]
                )
            }
        }
    }

    public func upsertPriceBreaks(_ breaks: [PriceBreak], at date: Date) throws {
        for price in breaks {
            try self.db.cachedStatement(
                sql: """
                    INSERT INTO price_breaks (price_list, sku, min_quantity, unit_price, currency, valid_from,
                        valid_to, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (price_list, sku, min_quantity, valid_from) DO UPDATE SET
                        unit_price = excluded.unit_price, currency = excluded.currency, valid_to = excluded.valid_to,
                        updated_at = excluded.updated_at
                    """
            ).execute(
                arguments: [
                    price.priceList, price.sku, DecimalText.format(price.minimumQuantity),
                    DecimalText.format(price.unitPrice), price.currency, price.validity.from?.description ?? "",
                    price.validity.to?.description, Timestamp.text(date),
                ]
            )
        }
    }

    public func upsertContracts(_ contracts: [ContractPrice], at date: Date) throws {
        for contract in contracts {
            try self.db.cachedStatement(
                sql: """
                    INSERT INTO contract_prices (partner_id, sku, unit_price, currency, valid_from, valid_to,
                        updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (partner_id, sku, valid_from) DO UPDATE SET unit_price = excluded.unit_price,
                        currency = excluded.currency, valid_to = excluded.valid_to, updated_at = excluded.updated_at
                    """
            ).execute(
                arguments: [
                    contract.partnerID, contract.sku, DecimalText.format(contract.unitPrice), contract.currency,
                    contract.validity.from?.description ?? "", contract.validity.to?.description,
                    Timestamp.text(date),
                ]
            )
        }
    }

    /// Inserts or updates credit accounts (limit, balances, terms); the open-orders figure stays Ordergate's.
    public func upsertCreditAccounts(_ accounts: [CreditAccount], at date: Date) throws {
        try self.settle(forgettingAccounts: true)
        for account in accounts {
            try self.db.cachedStatement(
                sql: """
                    INSERT INTO credit_accounts (id, credit_limit, open_balance, past_due, past_due_days,
                        allowed_past_due_days, currency, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET credit_limit = excluded.credit_limit,
                        open_balance = excluded.open_balance, past_due = excluded.past_due,
                        past_due_days = excluded.past_due_days, allowed_past_due_days = excluded.allowed_past_due_days,
                        currency = excluded.currency, updated_at = excluded.updated_at
                    """
            ).execute(
                arguments: [
                    account.id, DecimalText.format(account.limit), DecimalText.format(account.openBalance),
                    DecimalText.format(account.pastDue), account.pastDueDays, account.allowedPastDueDays,
                    account.currency, Timestamp.text(date),
                ]
            )
        }
    }

    public func upsertNodes(_ nodes: [FulfilmentNode], at date: Date) throws {
        for node in nodes {
            try self.db.cachedStatement(
                sql: """
                    INSERT INTO nodes (id, kind, latitude, longitude, partners, ship_from_store, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, latitude = excluded.latitude,
                        longitude = excluded.longitude, partners = excluded.partners,
                        ship_from_store = excluded.ship_from_store, updated_at = excluded.updated_at
                    """
            ).execute(
                arguments: [
                    node.id, node.kind.rawValue, node.location?.latitude, node.location?.longitude,
                    node.partners.sorted().joined(separator: ";"), node.shipFromStore, Timestamp.text(date),
                ]
            )
        }
    }

    /// Inserts or updates stock levels (on hand, safety stock, replenishment); `reserved` stays Ordergate's.
    public func upsertStock(_ levels: [StockLevel], at date: Date) throws {
        try self.settle(forgettingStock: true)
        for level in levels {
            try self.db.cachedStatement(
                sql: """
                    INSERT INTO stock (node_id, sku, on_hand, safety_stock, next_replenishment,
                        replenishment_quantity, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (node_id, sku) DO UPDATE SET on_hand = excluded.on_hand,
                        safety_stock = excluded.safety_stock, next_replenishment = excluded.next_replenishment,
                        replenishment_quantity = excluded.replenishment_quantity, updated_at = excluded.updated_at
                    """
            ).execute(
                arguments: [
                    level.nodeID, level.sku, DecimalText.format(level.onHand), DecimalText.format(level.safetyStock),
                    level.nextReplenishment?.description, level.replenishmentQuantity.map(DecimalText.format),
                    Timestamp.text(date),
                ]
            )
        }
    }

    public func upsertLocations(_ locations: [String: GeoPoint]) throws {
        for (key, point) in locations.sorted(by: { $0.key < $1.key }) {
            try self.db.cachedStatement(
                sql: """
                    INSERT INTO locations (key, latitude, longitude) VALUES (?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET latitude = excluded.latitude, longitude = excluded.longitude
                    """
            ).execute(
                arguments: [key, point.latitude, point.longitude]
            )
        }
    }

    /// Marks the catalogue changed, so that the daemon reads it again before its next decision. The new version is
    /// random, not a counter: a rolled-back import must not leave a version that a later one reuses.
    public func bumpDataVersion() throws {
        try self.db.cachedStatement(
            sql: "UPDATE data_version SET value = (SELECT abs(random()) FROM (SELECT 1)) WHERE id = 1"
        ).execute()
    }

    // MARK: Decisions, reservations, holds

    /// Stores a decision of the rules about an order: its JSON, and its readable explanation when given. Without one
    /// (what the desk does) the explanation column is empty and `decisions(orderID:)` computes it from the JSON when
    /// it is read: the decision names each line's number and item itself, so it needs nothing else.
    public func recordDecision(
        orderID: Int64,
        status: String,
        actor: String,
        decision: String,
        explanation: String? = nil,
        at date: Date
    ) throws {
        try self.db.run(
            """
            INSERT INTO order_decisions (order_id, status, actor, decision, explanation, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """
        ) {
            $0.bind(orderID)
            $0.bind(status)
            $0.bind(actor)
            $0.bind(decision)
            $0.bind(explanation ?? "")
            $0.bind(Timestamp.text(date))
        }
    }

    /// Reserves stock for an order: each reservation is recorded and added to its stock row's `reserved` (in the
    /// transaction's stock ledger, written at the commit).
    public func reserve(orderID: Int64, _ reservations: [Reservation], at date: Date) throws {
        let now = Timestamp.text(date)
        try self.db.runRows(reservations, row: "(?, ?, ?, ?, 'active', ?)") {
            "INSERT INTO reservations (order_id, node_id, sku, quantity, state, created_at) VALUES " + $0
        } bind: { binder, reservation in
            binder.bind(orderID)
            binder.bind(reservation.nodeID)
            binder.bind(reservation.sku)
            binder.bind(DecimalText.format(reservation.quantity))
            binder.bind(now)
        }
        for reservation in reservations {
            try self.changeStock(nodeID: reservation.nodeID, sku: reservation.sku, at: now) {
                let reserved = DecimalMath.sum($0.reserved, reservation.quantity)
                $0.reserved = DecimalMath.isLess(reserved, 0) ? 0 : reserved
            }
        }
    }

    /// Releases an order's active reservations (cancel, change, re-decision) and returns them.
    @discardableResult
    public func releaseReservations(orderID: Int64, at date: Date) throws -> [Reservation] {
        let now = Timestamp.text(date)
        let rows = try Row.fetchAll(
            self.db.cachedStatement(
                sql: "SELECT id, node_id, sku, quantity FROM reservations WHERE order_id = ? AND state = 'active'"
            ),
            arguments: [orderID]
        )
        var released: [Reservation] = []
        for row in rows {
            let quantity = BusinessText.decimal(row["quantity"])
            let reservation = Reservation(nodeID: row["node_id"], sku: row["sku"], quantity: quantity)
            try self.db.cachedStatement(
                sql: "UPDATE reservations SET state = 'released', closed_at = ? WHERE id = ?"
            ).execute(
                arguments: [now, row["id"] as Int64]
            )
            try self.changeStock(nodeID: reservation.nodeID, sku: reservation.sku, at: now) {
                $0.reserved = max(0, $0.reserved - quantity)
            }
            released.append(reservation)
        }
        return released
    }

    /// Sets the value an order adds to its credit account's open orders (nil or zero: none), adjusting the
    /// account's figure by the difference from what the order added before.
    public func setOpenValue(orderID: Int64, account: String?, value: Decimal?) throws {
        var previous: (account: String, value: String)?
        try self.db.query("SELECT credit_account, open_value FROM orders WHERE id = ?") {
            $0.bind(orderID)
        } row: {
            if let account = $0.text(0), let value = $0.text(1) { previous = (account, value) }
        }
        if let previous {
            try self.adjustOpenOrders(account: previous.account, by: -BusinessText.decimal(previous.value))
        }
        let stored = value.flatMap { $0 == 0 ? nil : $0 }
        try self.db.run("UPDATE orders SET credit_account = ?, open_value = ? WHERE id = ?") {
            $0.bind(stored == nil ? nil : account)
            $0.bind(stored.map(DecimalText.format))
            $0.bind(orderID)
        }
        if let account, let stored { try self.adjustOpenOrders(account: account, by: stored) }
    }

    private func adjustOpenOrders(account: String, by delta: Decimal) throws {
        try self.changeAccount(account) { _, openOrders in
            let adjusted = DecimalMath.sum(openOrders, delta)
            openOrders = DecimalMath.isLess(adjusted, 0) ? 0 : adjusted
        }
    }

    /// Opens a hold on an order (one open hold per order).
    public func openHold(orderID: Int64, creditAccount: String?, reason: String, at date: Date) throws {
        try self.db.cachedStatement(
            sql: """
                INSERT INTO holds (order_id, credit_account, reason, state, created_at) VALUES (?, ?, ?, 'open', ?)
                ON CONFLICT (order_id) WHERE state = 'open' DO UPDATE SET reason = excluded.reason
                """
        ).execute(
            arguments: [orderID, creditAccount, reason, Timestamp.text(date)]
        )
    }

    /// Closes an order's open hold: `released` by an actor (admin or the credit recheck), or `closed` when the order
    /// went away (cancelled, replaced). Returns whether there was one.
    @discardableResult
    public func closeHold(orderID: Int64, state: String, by actor: String, note: String?, at date: Date) throws -> Bool
    {
        try self.db.cachedStatement(
            sql: """
                UPDATE holds SET state = ?, released_at = ?, released_by = ?, note = ?
                WHERE order_id = ? AND state = 'open'
                """
        ).execute(
            arguments: [state, Timestamp.text(date), actor, note, orderID]
        )
        return self.db.changesCount > 0
    }
}

/// A hold on an order.
public struct HoldRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var orderID: Int64
    public var partnerID: String
    public var purchaseOrderNumber: String
    public var creditAccount: String?
    public var reason: String
    public var state: String
    public var createdAt: String
    public var releasedAt: String?
    public var releasedBy: String?
    public var note: String?
}

/// A decision as stored.
public struct DecisionRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var status: String
    public var actor: String
    public var decision: String
    public var explanation: String
    public var createdAt: String
}

/// One entry of an order's status history.
public struct StatusEntry: Sendable, Hashable, Codable {
    public var status: String
    public var note: String?
    public var at: String
}

/// An order in a list.
public struct OrderListEntry: Sendable, Hashable, Codable {
    public var id: Int64
    public var partnerID: String
    public var purchaseOrderNumber: String
    public var purpose: String
    public var status: String
    public var createdAt: String
}

extension OrderListEntry {
    /// From a row of `orders` (id, partner_id, po_number, purpose, status, created_at).
    init(row: Row) {
        // By position (the order above): a lookup by name hashes each column name, on the API's hottest path.
        self.init(
            id: row[0],
            partnerID: row[1],
            purchaseOrderNumber: row[2],
            purpose: row[3],
            status: row[4],
            createdAt: row[5]
        )
    }
}

/// A reservation as stored.
public struct ReservationRecord: Sendable, Hashable, Codable {
    public var nodeID: String
    public var sku: String
    public var quantity: Decimal
    public var state: String
}

extension StoreReader {
    /// The catalogue's version: it changes with every import.
    public func dataVersion() throws -> Int {
        Int(try self.db.firstInteger("SELECT value FROM data_version WHERE id = 1") { _ in } ?? 0)
    }

    /// The catalogue: items and buyer parts, price breaks, contracts, nodes and locations (no stock, no credit:
    /// those are read per decision).
    public func catalog() throws -> BusinessData {
        let items = try Row.fetchAll(self.db, sql: "SELECT * FROM items ORDER BY sku").map { row in
            Item(
                sku: row["sku"],
                description: row["description"],
                gtin: row["gtin"],
                vendorPart: row["vendor_part"],
                baseUnit: row["base_unit"],
                conversions: BusinessText.conversions(row["conversions"] as String),
                leadTimeDays: row["lead_time_days"]
            )
        }
        let buyerParts = try Row.fetchAll(self.db, sql: "SELECT * FROM buyer_parts ORDER BY partner_id, buyer_part")
            .map { BuyerPartReference(partnerID: $0["partner_id"], buyerPart: $0["buyer_part"], sku: $0["sku"]) }
        let breaks = try Row.fetchAll(self.db, sql: "SELECT * FROM price_breaks ORDER BY price_list, sku").map { row in
            PriceBreak(
                priceList: row["price_list"],
                sku: row["sku"],
                minimumQuantity: BusinessText.decimal(row["min_quantity"]),
                unitPrice: BusinessText.decimal(row["unit_price"]),
                currency: row["currency"],
                validity: BusinessText.validity(row["valid_from"], row["valid_to"])
            )
        }
        let contracts = try Row.fetchAll(self.db, sql: "SELECT * FROM contract_prices ORDER BY partner_id, sku").map {
            row in
            ContractPrice(
                partnerID: row["partner_id"],
                sku: row["sku"],
                unitPrice: BusinessText.decimal(row["unit_price"]),
                currency: row["currency"],
                validity: BusinessText.validity(row["valid_from"], row["valid_to"])
            )
        }
        let nodes = try Row.fetchAll(self.db, sql: "SELECT * FROM nodes ORDER BY id").map { row in
            let latitude: Double? = row["latitude"]
            let longitude: Double? = row["longitude"]
            return FulfilmentNode(
                id: row["id"],
                kind: FulfilmentNode.Kind(rawValue: row["kind"]) ?? .warehouse,
                location: latitude.flatMap { lat in longitude.map { GeoPoint(latitude: lat, longitude: $0) } },
                partners: Set((row["partners"] as String).split(separator: ";").map(String.init)),
                shipFromStore: row["ship_from_store"]
            )
        }
        var locations: [String: GeoPoint] = [:]
        for row in try Row.fetchAll(self.db, sql: "SELECT * FROM locations") {
            locations[row["key"]] = GeoPoint(latitude: row["latitude"], longitude: row["longitude"])
        }
        return BusinessData(
            items: items,
            buyerParts: buyerParts,
            priceBreaks: breaks,
            contracts: contracts,
            nodes: nodes,
            locations: locations
        )
    }

    /// A credit account and the value of its open orders (accepted, not yet invoiced or cancelled).
    public func creditAccount(id: String) throws -> (account: CreditAccount, openOrders: Decimal)? {
        // Inside a write transaction, as the transaction has changed it (read once: see `TransactionLedger`).
        if let ledger = self.ledger, let known = ledger.state.accounts[id] { return known }
        var found: (account: CreditAccount, openOrders: Decimal)?
        try self.db.query(
            """
            SELECT id, credit_limit, open_balance, past_due, past_due_days, allowed_past_due_days, currency, open_orders
            FROM credit_accounts WHERE id = ?
            """
        ) {
            $0.bind(id)
        } row: { row in
            let account = CreditAccount(
                id: row.text(0) ?? id,
                limit: BusinessText.decimal(row.text(1)),
                openBalance: BusinessText.decimal(row.text(2)),
                pastDue: BusinessText.decimal(row.text(3)),
                pastDueDays: row.int(4) ?? 0,
                allowedPastDueDays: row.int(5) ?? 0,
                currency: row.text(6) ?? ""
            )
            found = (account, BusinessText.decimal(row.text(7)))
        }
        self.ledger?.state.accounts[id] = .some(found)
        return found
    }

    /// Which SKUs and nodes exist (for checking imports that refer to them).
    public func knownKeys(_ table: String) throws -> Set<String> {
        let column =
            switch table {
            case "items": "sku"
            case "nodes": "id"
            default: preconditionFailure("known keys of \(table)")
            }
        return Set(try String.fetchAll(self.db, sql: "SELECT \(column) FROM \(table)"))
    }

    /// Holds, newest first; `state` nil: all.
    public func holds(state: String? = "open", account: String? = nil) throws -> [HoldRecord] {
        var sql = """
            SELECT h.*, o.partner_id, o.po_number FROM holds h JOIN orders o ON o.id = h.order_id WHERE 1 = 1
            """
        var arguments: StatementArguments = []
        if let state {
            sql += " AND h.state = ?"
            arguments += [state]
        }
        if let account {
            sql += " AND h.credit_account = ?"
            arguments += [account]
        }
        sql += " ORDER BY h.id"
        return try Row.fetchAll(self.db, sql: sql, arguments: arguments).map { row in
            HoldRecord(
                id: row["id"],
                orderID: row["order_id"],
                partnerID: row["partner_id"],
                purchaseOrderNumber: row["po_number"],
                creditAccount: row["credit_account"],
                reason: row["reason"],
                state: row["state"],
                createdAt: row["created_at"],
                releasedAt: row["released_at"],
                releasedBy: row["released_by"],
                note: row["note"]
            )
        }
    }

    /// The JSON of an order's latest decision, alone: what shipments and invoices check against (`decisions`
    /// explains every decision, which they do not need).
    public func latestDecisionJSON(orderID: Int64) throws -> String? {
        try String.fetchOne(
            self.db.cachedStatement(
                sql: "SELECT decision FROM order_decisions WHERE order_id = ? ORDER BY id DESC LIMIT 1"
            ),
            arguments: [orderID]
        )
    }

    public func decisions(orderID: Int64) throws -> [DecisionRecord] {
        try Row.fetchAll(
            self.db.cachedStatement(
                sql: """
                    SELECT id, status, actor, decision, explanation, created_at FROM order_decisions
                    WHERE order_id = ? ORDER BY id
                    """
            ),
            arguments: [orderID]
        ).map { row in
            let decision: String = row[3]
            var explanation: String = row[4]
            if explanation.isEmpty {
                // Stored without one: computed from the decision itself.
                explanation =
                    (try? JSONDecoder().decode(OrderDecision.self, from: Data(decision.utf8)))?.explanation()
                    ?? "(the decision could not be read: \(decision.prefix(200)))"
            }
            return DecisionRecord(
                id: row[0],
                status: row[1],
                actor: row[2],
                decision: decision,
                explanation: explanation,
                createdAt: row[5]
            )
        }
    }

    public func statusHistory(orderID: Int64) throws -> [StatusEntry] {
        try Row.fetchAll(
            self.db.cachedStatement(sql: "SELECT status, note, at FROM order_status WHERE order_id = ? ORDER BY id"),
            arguments: [orderID]
        ).map { StatusEntry(status: $0[0], note: $0[1], at: $0[2]) }
    }

    public func reservations(orderID: Int64) throws -> [ReservationRecord] {
        try Row.fetchAll(
            self.db,
            sql: "SELECT * FROM reservations WHERE order_id = ? ORDER BY id",
            arguments: [orderID]
        ).map { row in
            ReservationRecord(
                nodeID: row["node_id"],
                sku: row["sku"],
                quantity: BusinessText.decimal(row["quantity"]),
                state: row["state"]
            )
        }
    }

    /// Orders, newest first (the admin's list; the API's feed is `orderFeed`, oldest first after a cursor).
    public func orderSummaries(status: String?, partnerID: String?, limit: Int) throws -> [OrderListEntry] {
        try self.orders(after: 0, limit: limit, status: status, partnerID: partnerID, newestFirst: true)
    }

}

/// How business values are written as text in the database.
enum BusinessText {
    static func decimal(_ text: String?) -> Decimal { text.flatMap(DecimalText.parse) ?? 0 }

    static func validity(_ from: String?, _ to: String?) -> Validity {
        Validity(
            from: from.flatMap { $0.isEmpty ? nil : DocumentDate(iso8601: $0) },
            to: to.flatMap { $0.isEmpty ? nil : DocumentDate(iso8601: $0) }
        )
    }

    /// `CA=12;PL=480`, sorted by unit.
    static func conversions(_ values: [String: Decimal]) -> String {
        values.sorted { $0.key < $1.key }.map { "\($0.key)=\(DecimalText.format($0.value))" }.joined(separator: ";")
    }

    static func conversions(_ text: String) -> [String: Decimal] {
        var result: [String: Decimal] = [:]
        for pair in text.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let factor = DecimalText.parse(String(parts[1])) { result[String(parts[0])] = factor }
        }
        return result
    }
}
