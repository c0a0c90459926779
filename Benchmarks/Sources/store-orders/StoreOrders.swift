// The writer's cost per order, without the daemon around it: COUNT orders of 20 lines stored through
// `StoreTransaction.insertOrder` (with their file rows), 256 to a transaction as the daemon commits them, then the same
// orders' 20 reservations each through `StoreTransaction.reserve` against 20 stock rows, after reading those levels as
// the rules read them (`StoreReader.stock(skus:)`; each row is read once per transaction, then from its ledger, and
// the changed rows are written once at the end, counted with reserving). Prints microseconds per order for each,
// measured around those calls only (commits apart).
//
//   store-orders [COUNT]
import Foundation
import OrderModel
import OrderRules
import OrderStore

@main
struct StoreOrders {
    static func main() throws {
        let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 5000 : 5000
        let folder = NSTemporaryDirectory() + "store-orders-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try OrderStore(path: folder + "/ordergate.sqlite", backgroundCheckpoints: false)
        let now = Date()
        let skus = (1...20).map { "SKU-\($0)" }
        try store.write { tx in
            try tx.upsertItems(skus.map { Item(sku: $0) }, buyerParts: [], at: now)
            try tx.upsertNodes([FulfilmentNode(id: "DC-1")], at: now)
            try tx.upsertStock(skus.map { StockLevel(nodeID: "DC-1", sku: $0, onHand: 1_000_000_000) }, at: now)
        }
        var order = Order()
        order.purchaseOrderNumber = "PO"
        order.currency = "USD"
        order.lines = skus.enumerated().map { index, sku in
            var line = OrderLine()
            line.lineNumber = String(index + 1)
            line.item.vendorPart = sku
            line.item.gtin = "0061414110\(String(format: "%04d", index))"
            line.description = "STANDARD WIDGET ZINC-PLATED STEEL \(index) MM"
            line.quantity = Quantity(Decimal(10 + index), unit: "EA")
            line.unitPrice = Money(Decimal(string: "4.25")!, currency: "USD")
            return line
        }
        let reservations = skus.map { Reservation(nodeID: "DC-1", sku: $0, quantity: 3) }
        let canonical = try CanonicalJSON.encodeBytes(order, compact: true)
        let clock = ContinuousClock()
        var inserting = Duration.zero
        var reserving = Duration.zero
        var readingStock = Duration.zero
        var orderIDs: [Int64] = []
        for start in stride(from: 0, to: count, by: 256) {
            try store.write { tx in
                for number in start..<min(start + 256, count) {
                    let began = clock.now
                    let fileID = try tx.insertFile(
                        FileRecord(
                            partnerID: "acme",
                            channel: "inbox",
                            originalName: "po-\(number).edi",
                            workName: "acme/po-\(number).edi",
                            sha256: String(number),
                            size: 1,
                            format: "x12",
                            state: .processed,
                            storedPath: "archive/po-\(number).edi",
                            receivedAt: now,
                            processedAt: now
                        )
                    )
                    var numbered = order
                    numbered.purchaseOrderNumber = "PO-\(number)"
                    orderIDs.append(
                        try tx.insertOrder(
                            numbered,
                            canonical: canonical,
                            partnerID: "acme",
                            fileID: fileID,
                            setID: nil,
                            status: .received,
                            at: now
                        )
                    )
                    inserting += clock.now - began
                }
            }
        }
        for start in stride(from: 0, to: count, by: 256) {
            try store.write { tx in
                for orderID in orderIDs[start..<min(start + 256, count)] {
                    // The levels the rules read before deciding (from the transaction's ledger after the first).
                    let reading = clock.now
                    _ = try tx.reader.stock(skus: Set(skus))
                    let began = clock.now
                    readingStock += began - reading
                    try tx.reserve(orderID: orderID, reservations, at: now)
                    reserving += clock.now - began
                }
                // The stock rows the ledger changed are written once per transaction: counted with reserving.
                let settling = clock.now
                try tx.settle()
                reserving += clock.now - settling
            }
        }
        func microseconds(_ duration: Duration) -> Double {
            (Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12)
                / Double(max(count, 1))
        }
        print(
            String(
                format:
                    "%d orders of 20 lines: insert (file row, order, lines, history) %.1f µs, read stock (20 SKUs) %.1f µs, reserve (20 rows) %.1f µs per order",
                count,
                microseconds(inserting),
                microseconds(readingStock),
                microseconds(reserving)
            )
        )
    }
}
