import Foundation
import GRDB
import OrderModel
import OrderRules

/// What one write transaction keeps in memory until it commits: the stock rows and credit accounts it has read, with
/// its changes to them, and the control-number counters it has taken numbers from.
///
/// Deciding orders reads the stock of each order's items and then reserves some of it, and every acknowledgement takes
/// control numbers: a chunk of files that commits in one transaction would read and update the same rows once per
/// order. Instead, a row is read once per transaction, every change (reservations, releases, shipments, numbers
/// taken) is made to the copy, and each changed row is written once, just before the commit
/// (`StoreTransaction.settle`). Savepoints keep their part: a savepoint that rolls back restores the ledger as it was
/// when it began, with the rows it wrote (so numbers taken inside it are given back).
///
/// Everything in a transaction that reads or writes the `stock`, `credit_accounts` or `control_numbers` tables goes
/// through the ledger; a write that the ledger does not model (an import's upsert) settles it first and starts that
/// table afresh.
final class TransactionLedger {
    struct StockKey: Hashable, Comparable {
        var nodeID: String
        var sku: String

        static func < (a: Self, b: Self) -> Bool { (a.sku, a.nodeID) < (b.sku, b.nodeID) }
    }

    struct State {
        /// The rows read, as changed in this transaction.
        var levels: [StockKey: StockLevel] = [:]
        /// The rows of each SKU read, in node order (none: the SKU has no stock rows).
        var skus: [String: [StockKey]] = [:]
        /// The rows changed and not yet written, with the time of their last change.
        var changedStock: [StockKey: String] = [:]
        /// Credit accounts read, with their open orders (nil: no such account), as changed in this transaction.
        var accounts: [String: (account: CreditAccount, openOrders: Decimal)?] = [:]
        /// The accounts changed and not yet written.
        var changedAccounts: Set<String> = []
        /// Control-number counters read, by partner and kind, with the last number taken.
        var counters: [CounterKey: Int] = [:]
        /// The counters that took a number and are not yet written.
        var changedCounters: Set<CounterKey> = []
    }

    struct CounterKey: Hashable, Comparable {
        var partnerID: String
        var kind: String

        static func < (a: Self, b: Self) -> Bool { (a.partnerID, a.kind) < (b.partnerID, b.kind) }
    }

    var state = State()
}

extension StoreReader {
    /// Stock levels of the given SKUs at every node, by SKU then node: inside a write transaction, as that
    /// transaction has changed them.
    public func stock(skus: Set<String>) throws -> [StockLevel] {
        let sorted = skus.sorted()
        guard let ledger = self.ledger else {
            let read = try self.readStock(skus: sorted)
            return sorted.flatMap { read[$0] ?? [] }
        }
        let missing = sorted.filter { ledger.state.skus[$0] == nil }
        if !missing.isEmpty {
            let read = try self.readStock(skus: missing)
            for sku in missing {
                let levels = read[sku] ?? []
                ledger.state.skus[sku] = levels.map { StockKey(nodeID: $0.nodeID, sku: sku) }
                for level in levels { ledger.state.levels[StockKey(nodeID: level.nodeID, sku: sku)] = level }
            }
        }
        return sorted.flatMap { sku in (ledger.state.skus[sku] ?? []).compactMap { ledger.state.levels[$0] } }
    }

    private typealias StockKey = TransactionLedger.StockKey

    /// Every stock level, by node and SKU (inside a write transaction, with its changes).
    public func allStock() throws -> [StockLevel] {
        var levels = try Row.fetchAll(self.db, sql: "SELECT * FROM stock ORDER BY node_id, sku").map(Self.stockLevel)
        if let ledger = self.ledger {
            for index in levels.indices {
                levels[index] =
                    ledger.state.levels[StockKey(nodeID: levels[index].nodeID, sku: levels[index].sku)]
                    ?? levels[index]
            }
        }
        return levels
    }

    /// The stored levels of the given SKUs, by SKU, each in node order (one statement: the SKUs' JSON array).
    private func readStock(skus: [String]) throws -> [String: [StockLevel]] {
        var bySKU: [String: [StockLevel]] = [:]
        try self.db.query(
            """
            SELECT node_id, sku, on_hand, reserved, safety_stock, next_replenishment, replenishment_quantity
            FROM stock WHERE sku IN (SELECT value FROM json_each(?)) ORDER BY node_id
            """
        ) {
            $0.bindText(DirectBinder.jsonArray(skus))
        } row: { row in
            let level = StockLevel(
                nodeID: row.text(0) ?? "",
                sku: row.text(1) ?? "",
                onHand: BusinessText.decimal(row.text(2)),
                reserved: BusinessText.decimal(row.text(3)),
                safetyStock: BusinessText.decimal(row.text(4)),
                nextReplenishment: row.text(5).flatMap { DocumentDate(iso8601: $0) },
                replenishmentQuantity: row.text(6).flatMap(DecimalText.parse)
            )
            bySKU[level.sku, default: []].append(level)
        }
        return bySKU
    }

    private static func stockLevel(_ row: Row) -> StockLevel {
        StockLevel(
            nodeID: row["node_id"],
            sku: row["sku"],
            onHand: BusinessText.decimal(row["on_hand"]),
            reserved: BusinessText.decimal(row["reserved"]),
            safetyStock: BusinessText.decimal(row["safety_stock"]),
            nextReplenishment: (row["next_replenishment"] as String?).flatMap { DocumentDate(iso8601: $0) },
            replenishmentQuantity: (row["replenishment_quantity"] as String?).flatMap(DecimalText.parse)
        )
    }
}

extension StoreTransaction {
    /// Changes one stock row in the ledger (read first if this transaction has not read it); does nothing when the
    /// row does not exist.
    func changeStock(nodeID: String, sku: String, at now: String, _ change: (inout StockLevel) -> Void) throws {
        let key = TransactionLedger.StockKey(nodeID: nodeID, sku: sku)
        if self.ledger.state.skus[sku] == nil { _ = try self.reader.stock(skus: [sku]) }
        guard var level = self.ledger.state.levels[key] else { return }
        change(&level)
        self.ledger.state.levels[key] = level
        self.ledger.state.changedStock[key] = now
    }

    /// Writes the stock rows, credit accounts and counters the transaction changed (each once). `forgettingStock`,
    /// `forgettingAccounts`: also drop what the ledger read of them, before a write it does not model.
    public func settle(forgettingStock: Bool = false, forgettingAccounts: Bool = false) throws {
        for (key, now) in self.ledger.state.changedStock.sorted(by: { $0.key < $1.key }) {
            guard let level = self.ledger.state.levels[key] else { continue }
            try self.db.run("UPDATE stock SET on_hand = ?, reserved = ?, updated_at = ? WHERE node_id = ? AND sku = ?")
            {
                $0.bind(DecimalText.format(level.onHand))
                $0.bind(DecimalText.format(level.reserved))
                $0.bind(now)
                $0.bind(key.nodeID)
                $0.bind(key.sku)
            }
        }
        for id in self.ledger.state.changedAccounts.sorted() {
            guard case .some(.some(let (account, openOrders))) = self.ledger.state.accounts[id] else { continue }
            try self.db.run("UPDATE credit_accounts SET open_orders = ?, open_balance = ? WHERE id = ?") {
                $0.bind(DecimalText.format(openOrders))
                $0.bind(DecimalText.format(account.openBalance))
                $0.bind(id)
            }
        }
        for key in self.ledger.state.changedCounters.sorted() {
            guard let value = self.ledger.state.counters[key] else { continue }
            try self.db.run(
                """
                INSERT INTO control_numbers (partner_id, kind, value) VALUES (?, ?, ?)
                ON CONFLICT (partner_id, kind) DO UPDATE SET value = excluded.value
                """
            ) {
                $0.bind(key.partnerID)
                $0.bind(key.kind)
                $0.bind(value)
            }
        }
        self.ledger.state.changedStock = [:]
        self.ledger.state.changedAccounts = []
        self.ledger.state.changedCounters = []
        if forgettingAccounts { self.ledger.state.accounts = [:] }
        if forgettingStock {
            self.ledger.state.levels = [:]
            self.ledger.state.skus = [:]
        }
    }

    /// Changes a credit account in the ledger (read first if this transaction has not read it); does nothing when the
    /// account does not exist.
    func changeAccount(_ id: String, _ change: (inout CreditAccount, inout Decimal) -> Void) throws {
        guard var (account, openOrders) = try self.reader.creditAccount(id: id) else { return }
        change(&account, &openOrders)
        self.ledger.state.accounts[id] = (account, openOrders)
        self.ledger.state.changedAccounts.insert(id)
    }

    /// The next control number of a partner's counter (1 after `maximum`), taken in the ledger.
    func nextNumber(partnerID: String, kind: String, maximum: Int) throws -> Int {
        let key = TransactionLedger.CounterKey(partnerID: partnerID, kind: kind)
        var current = self.ledger.state.counters[key]
        if current == nil {
            current = Int(
                try self.db.firstInteger("SELECT value FROM control_numbers WHERE partner_id = ? AND kind = ?") {
                    $0.bind(partnerID)
                    $0.bind(kind)
                } ?? 0
            )
        }
        let next = current! >= maximum ? 1 : current! + 1
        self.ledger.state.counters[key] = next
        self.ledger.state.changedCounters.insert(key)
        return next
    }
}
