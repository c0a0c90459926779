import Foundation
import OrderModel
import OrderRules
import OrderStore
import Testing

@Suite("Stock and reservations")
struct StockTests {
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
            let fileID = try tx.insertFile(
                FileRecord(
                    partnerID: "acme",
                    channel: "inbox",
                    originalName: "a.edi",
                    workName: "acme/a.edi",
                    sha256: "abc",
                    size: 1,
                    format: "x12",
                    state: .processed,
                    storedPath: "archive/a.edi",
                    receivedAt: now,
                    processedAt: now
                )
            )
            var order = Order()
            order.purchaseOrderNumber = "PO-1"
            let orderID = try tx.insertOrder(
                order,
                partnerID: "acme",
                fileID: fileID,
                setID: nil,
                status: .received,
                at: now
            )
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
}
