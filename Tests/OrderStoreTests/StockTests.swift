import Foundation
import OrderModel
import OrderRules
import OrderStore
import Testing

@Suite("Stock and reservations")
struct StockTests {
    /// A received order (and the file it came in) to reserve stock for.
    static func insertOrder(_ number: String, tx: StoreTransaction, at now: Date) throws -> Int64 {
        let fileID = try tx.insertFile(
            FileRecord(
                partnerID: "acme",
                channel: "inbox",
                originalName: "\(number).edi",
                workName: "acme/\(number).edi",
                sha256: number,
                size: 1,
                format: "x12",
                state: .processed,
                storedPath: "archive/\(number).edi",
                receivedAt: now,
                processedAt: now
            )
        )
        var order = Order()
        order.purchaseOrderNumber = number
        return try tx.insertOrder(order, partnerID: "acme", fileID: fileID, setID: nil, status: .received, at: now)
    }

    /// Stock is read for all of an order's SKUs in one statement and reservations update each row once: levels come
    /// back by SKU then node, SKUs needing JSON escapes included, and two reservations of one row add up.
    @Test func reservationsOfOneStockRowAddUpAndLevelsComeBackBySKUThenNode() throws {
        let folder = try temporaryFolder("stock")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try OrderStore(path: folder + "/ordergate.sqlite")
        let odd = "WW-\"é\\1"
        let now = Date()
        try store.write { tx in
            try tx.upsertItems([Item(sku: "A"), Item(sku: "B"), Item(sku: odd)], buyerParts: [], at: now)
            try tx.upsertNodes([FulfilmentNode(id: "N2"), FulfilmentNode(id: "N1")], at: now)
            try tx.upsertStock(
                [
                    StockLevel(nodeID: "N2", sku: "A", onHand: 10), StockLevel(nodeID: "N1", sku: "A", onHand: 10),
                    // An import never sets `reserved` (Ordergate's own figure): this 1 is not stored.
                    StockLevel(nodeID: "N2", sku: "B", onHand: 10, reserved: 1),
                    StockLevel(nodeID: "N1", sku: odd, onHand: 10),
                ],
                at: now
            )
            let orderID = try Self.insertOrder("PO-1", tx: tx, at: now)
            try tx.reserve(
                orderID: orderID,
                [
                    Reservation(nodeID: "N1", sku: "A", quantity: 2), Reservation(nodeID: "N2", sku: "B", quantity: 3),
                    Reservation(nodeID: "N1", sku: "A", quantity: Decimal(string: "0.5")!),
                    Reservation(nodeID: "N1", sku: odd, quantity: 4),
                ],
                at: now
            )
        }
        let levels = try store.read { try $0.stock(skus: ["B", odd, "A", "missing"]) }
        #expect(levels.map { "\($0.sku)@\($0.nodeID)" } == ["A@N1", "A@N2", "B@N2", "\(odd)@N1"])
        #expect(levels.map(\.reserved) == [Decimal(string: "2.5")!, 0, 3, 4])
    }

    /// An order's reservations go in statements of many rows each: an order with more rows than one statement takes
    /// (150 reservations, one for each of 150 stock rows) reserves every one, and releasing them puts every figure
    /// back.
    @Test func anOrderWithMoreReservationsThanOneStatementHoldsReservesAndReleasesThemAll() throws {
        let folder = try temporaryFolder("stock-many")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try OrderStore(path: folder + "/ordergate.sqlite")
        let now = Date()
        let skus = (1...75).map { "SKU-\($0)" }
        let reservations = (0..<150).map {
            Reservation(nodeID: "N\($0 % 2)", sku: skus[$0 % 75], quantity: Decimal($0 + 1))
        }
        let orderID = try store.write { tx in
            try tx.upsertItems(skus.map { Item(sku: $0) }, buyerParts: [], at: now)
            try tx.upsertNodes([FulfilmentNode(id: "N0"), FulfilmentNode(id: "N1")], at: now)
            try tx.upsertStock(
                skus.flatMap {
                    [StockLevel(nodeID: "N0", sku: $0, onHand: 1000), StockLevel(nodeID: "N1", sku: $0, onHand: 1000)]
                },
                at: now
            )
            let orderID = try Self.insertOrder("PO-2", tx: tx, at: now)
            try tx.reserve(orderID: orderID, reservations, at: now)
            return orderID
        }
        var expected: [String: Decimal] = [:]
        for reservation in reservations {
            expected["\(reservation.sku)@\(reservation.nodeID)", default: 0] += reservation.quantity
        }
        let levels = try store.read { try $0.stock(skus: Set(skus)) }
        #expect(levels.count == 150)
        for level in levels {
            #expect(
                level.reserved == expected["\(level.sku)@\(level.nodeID)", default: 0],
                "\(level.sku)@\(level.nodeID)"
            )
        }
        #expect(try store.read { try $0.reservations(orderID: orderID) }.count == 150)
        let released = try store.write { try $0.releaseReservations(orderID: orderID, at: now) }
        #expect(released.count == 150)
        #expect(try store.read { try $0.stock(skus: Set(skus)) }.allSatisfy { $0.reserved == 0 })
    }

    /// Inside a transaction, stock is read once and changed in memory (the ledger): each read sees the
    /// reservations made before it in the same transaction, and the rows hold the sums once it commits.
    @Test func readsInATransactionSeeItsOwnReservationsAndTheCommitWritesThem() throws {
        try Self.withFiveOfAReserved("stock-ledger") { tx, now throws in
            #expect(try tx.reader.stock(skus: ["A", "B"]).map(\.reserved) == [5, 0])
            let second = try Self.insertOrder("PO-B", tx: tx, at: now)
            try tx.reserve(
                orderID: second,
                [Reservation(nodeID: "N1", sku: "A", quantity: 2), Reservation(nodeID: "N1", sku: "B", quantity: 3)],
                at: now
            )
            #expect(try tx.reader.allStock().map(\.reserved) == [7, 3])
        } then: { store throws in
            #expect(try store.read { try $0.stock(skus: ["A", "B"]) }.map(\.reserved) == [7, 3])
        }
    }

    /// A savepoint that rolls back takes its stock changes with it, also when an import inside it had already
    /// written the earlier ones out; the changes made before it still commit.
    @Test func aSavepointThatRollsBackTakesItsStockChangesWithIt() throws {
        struct Failure: Error {}
        try Self.withFiveOfAReserved("stock-savepoint") { tx, now throws in
            #expect(throws: Failure.self) {
                try tx.savepoint {
                    let second = try Self.insertOrder("PO-B", tx: tx, at: now)
                    try tx.reserve(orderID: second, [Reservation(nodeID: "N1", sku: "B", quantity: 3)], at: now)
                    try tx.upsertStock([StockLevel(nodeID: "N1", sku: "A", onHand: 1)], at: now)
                    throw Failure()
                }
            }
            #expect(try tx.reader.stock(skus: ["A", "B"]).map(\.reserved) == [5, 0])
            #expect(try tx.reader.stock(skus: ["A"]).map(\.onHand) == [100])
        } then: { store throws in
            let levels = try store.read { try $0.stock(skus: ["A", "B"]) }
            #expect(levels.map(\.reserved) == [5, 0])
            #expect(levels.map(\.onHand) == [100, 100])
        }
    }

    /// An account's open orders are kept in the transaction's ledger like stock: each order's value adds to what the
    /// transaction reads next, a rolled-back savepoint takes its part back, invoicing moves value to the balance, and
    /// the commit writes the sums.
    @Test func creditFiguresInATransactionSeeItsOwnChangesAndTheCommitWritesThem() throws {
        struct Failure: Error {}
        let folder = try temporaryFolder("credit-ledger")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try OrderStore(path: folder + "/ordergate.sqlite")
        let now = Date()
        try store.write { tx in
            try tx.upsertCreditAccounts(
                [CreditAccount(id: "ACME", limit: 1000, openBalance: 10, currency: "USD")],
                at: now
            )
        }
        try store.write { tx throws in
            let first = try Self.insertOrder("PO-1", tx: tx, at: now)
            try tx.setOpenValue(orderID: first, account: "ACME", value: 100)
            #expect(try tx.reader.creditAccount(id: "ACME")?.openOrders == 100)
            #expect(throws: Failure.self) {
                try tx.savepoint {
                    let second = try Self.insertOrder("PO-2", tx: tx, at: now)
                    try tx.setOpenValue(orderID: second, account: "ACME", value: 50)
                    throw Failure()
                }
            }
            #expect(try tx.reader.creditAccount(id: "ACME")?.openOrders == 100)
            try tx.invoiceOpenValue(orderID: first, orderValue: 40, invoiced: 42)
            let third = try Self.insertOrder("PO-3", tx: tx, at: now)
            try tx.setOpenValue(orderID: third, account: "ACME", value: 25)
        }
        let account = try store.read { try $0.creditAccount(id: "ACME") }
        #expect(account?.openOrders == 85)
        #expect(account?.account.openBalance == 52)
    }

    /// Items A and B with 100 each at node N1; then one transaction in which a first order reserves 5 of A before
    /// `transaction` goes on; then `check` on the committed store.
    private static func withFiveOfAReserved(
        _ name: String,
        _ transaction: (StoreTransaction, Date) throws -> Void,
        then check: (OrderStore) throws -> Void
    ) throws {
        let folder = try temporaryFolder(name)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try OrderStore(path: folder + "/ordergate.sqlite")
        let now = Date()
        try store.write { tx in
            try tx.upsertItems([Item(sku: "A"), Item(sku: "B")], buyerParts: [], at: now)
            try tx.upsertNodes([FulfilmentNode(id: "N1")], at: now)
            try tx.upsertStock(
                [StockLevel(nodeID: "N1", sku: "A", onHand: 100), StockLevel(nodeID: "N1", sku: "B", onHand: 100)],
                at: now
            )
        }
        try store.write { tx in
            let first = try Self.insertOrder("PO-A", tx: tx, at: now)
            try tx.reserve(orderID: first, [Reservation(nodeID: "N1", sku: "A", quantity: 5)], at: now)
            try transaction(tx, now)
        }
        try check(store)
    }

    /// Reservations at the edges of a statement's 64 rows: exactly 64, and 65 where the first and the 65th name the
    /// same stock row (in different statements), add up on that row; none reserves nothing.
    @Test(arguments: [0, 64, 65])
    func reservationsAtTheEdgesOfAStatementAddUp(_ count: Int) throws {
        let folder = try temporaryFolder("stock-edges")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try OrderStore(path: folder + "/ordergate.sqlite")
        let now = Date()
        let skus = (0..<64).map { "E-\($0)" }
        let reservations = (0..<count).map { Reservation(nodeID: "N1", sku: skus[$0 % 64], quantity: Decimal($0 + 1)) }
        let orderID = try store.write { tx in
            try tx.upsertItems(skus.map { Item(sku: $0) }, buyerParts: [], at: now)
            try tx.upsertNodes([FulfilmentNode(id: "N1")], at: now)
            try tx.upsertStock(skus.map { StockLevel(nodeID: "N1", sku: $0, onHand: 1000) }, at: now)
            let orderID = try Self.insertOrder("PO-E\(count)", tx: tx, at: now)
            try tx.reserve(orderID: orderID, reservations, at: now)
            return orderID
        }
        #expect(try store.read { try $0.reservations(orderID: orderID) }.count == count)
        let reserved = Dictionary(
            uniqueKeysWithValues: try store.read { try $0.stock(skus: Set(skus)) }.map { ($0.sku, $0.reserved) }
        )
        let first: Decimal = count == 0 ? 0 : count == 65 ? 1 + 65 : 1
        let last: Decimal = count >= 64 ? 64 : 0
        #expect(reserved["E-0"] == first)
        #expect(reserved["E-63"] == last)
        #expect(reserved.values.reduce(0, +) == Decimal(count * (count + 1) / 2))
    }

    /// A decision stored without its explanation (as the desk stores them) is explained when read, from the decision
    /// alone; one stored with an explanation (as earlier versions did) reads back as it was stored.
    @Test func aDecisionStoredWithoutItsExplanationIsExplainedWhenRead() throws {
        let folder = try temporaryFolder("decisions")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try OrderStore(path: folder + "/ordergate.sqlite")
        let now = Date()
        let json = """
            {"credit":{"exposure":0,"isHeld":false,"openBalance":0,"openOrders":0,"orderValue":0,"pastDue":0,\
            "pastDueDays":0,"reason":"no credit account in the partner's rules"},"lines":[{"allocations":{"DC-EAST":12},\
            "backordered":0,"baseQuantity":12,"cancelled":0,"index":0,"item":"vendor part WW-1001","lineNumber":"7",\
            "nodes":[],"orderedQuantity":12,"reasons":["item WW-1001 by vendor part"],"sku":"WW-1001","unit":"EA"}],\
            "reasons":[],"reservations":[],"status":"accepted"}
            """
        let decision = try JSONDecoder().decode(OrderDecision.self, from: Data(json.utf8))
        let records = try store.write { tx in
            let orderID = try Self.insertOrder("PO-1", tx: tx, at: now)
            try tx.recordDecision(orderID: orderID, status: "accepted", actor: "rules", decision: json, at: now)
            try tx.recordDecision(
                orderID: orderID,
                status: "accepted",
                actor: "rules",
                decision: json,
                explanation: "as stored",
                at: now
            )
            return try tx.reader.decisions(orderID: orderID)
        }
        #expect(records.map(\.explanation) == [decision.explanation(), "as stored"])
        #expect(records[0].explanation.contains("Line 7 (vendor part WW-1001): 12 EA ordered -> WW-1001"))
        #expect(records[0].explanation.contains("ships now: 12 from DC-EAST"))
    }
}
