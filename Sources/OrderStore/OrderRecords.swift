import Foundation
import GRDB
import OrderModel

/// The lifecycle states an order goes through (DESIGN.md).
public enum OrderStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case received, validated, accepted, acceptedWithChanges, held, rejected, allocated, shipped, delivered, returned
    case cancelled, duplicate
}

extension StoreTransaction {
    /// Stores a canonical order with its lines and its first status, and returns its ID. `duplicateOf` marks a
    /// second original of a PO number already stored: it is recorded, never processed.
    public func insertOrder(
        _ order: Order,
        partnerID: String,
        fileID: Int64,
        setID: Int64?,
        status: OrderStatus,
        duplicateOf: Int64? = nil,
        note: String? = nil,
        at date: Date
    ) throws -> Int64 {
        let now = Timestamp.text(date)
        try self.db.execute(
            sql: """
                INSERT INTO orders (partner_id, po_number, purpose, order_type, status, file_id, set_id, currency,
                    ordered_on, line_count, mapping, mapping_version, canonical, duplicate_of, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)
                """,
            arguments: [
                partnerID, order.purchaseOrderNumber, order.purpose.rawValue, order.orderType, status.rawValue,
                fileID, setID, order.currency, order.orderDate?.description, order.lines.count,
                order.source?.mapping, order.source?.mappingVersion, duplicateOf, now, now,
            ]
        )
        let id = self.db.lastInsertedRowID
        var stored = order
        stored.id = String(id)
        stored.partnerID = partnerID
        try self.db.execute(
            sql: "UPDATE orders SET canonical = ? WHERE id = ?",
            arguments: [try CanonicalJSON.encode(stored), id]
        )
        for (position, line) in order.lines.enumerated() {
            try self.db.execute(
                sql: """
                    INSERT INTO order_lines (order_id, position, line_number, buyer_part, vendor_part, gtin,
                        description, quantity, unit, unit_price)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    id, position + 1, line.lineNumber, line.item.buyerPart, line.item.vendorPart, line.item.gtin,
                    line.description, line.quantity.map { DecimalText.format($0.value) } ?? "0",
                    line.quantity?.unit, line.unitPrice.map { DecimalText.format($0.amount) },
                ]
            )
        }
        try self.recordStatus(orderID: id, status, note: note, at: date)
        return id
    }

    /// Appends to an order's status history and sets its current status.
    public func recordStatus(orderID: Int64, _ status: OrderStatus, note: String?, at date: Date) throws {
        let now = Timestamp.text(date)
        try self.db.execute(
            sql: "INSERT INTO order_status (order_id, status, note, at) VALUES (?, ?, ?, ?)",
            arguments: [orderID, status.rawValue, note, now]
        )
        try self.db.execute(
            sql: "UPDATE orders SET status = ?, updated_at = ? WHERE id = ?",
            arguments: [status.rawValue, now, orderID]
        )
    }
}
