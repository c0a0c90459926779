import Foundation
import GRDB
import OrderModel

extension StoreTransaction {
    /// Records a shipment of an order and its lines; returns its row ID.
    public func insertShipment(
        orderID: Int64,
        partnerID: String,
        shipmentID: String,
        shippedOn: String?,
        notice: String,
        outboundID: Int64?,
        lines: [(lineNumber: String, quantity: Decimal, sscc: String?)],
        at date: Date
    ) throws -> Int64 {
        try self.db.execute(
            sql: """
                INSERT INTO shipments (order_id, partner_id, shipment_id, shipped_on, notice, outbound_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [orderID, partnerID, shipmentID, shippedOn, notice, outboundID, Timestamp.text(date)]
        )
        let row = self.db.lastInsertedRowID
        for line in lines {
            try self.db.cachedStatement(
                sql: "INSERT INTO shipment_lines (shipment_row, line_number, quantity, sscc) VALUES (?, ?, ?, ?)"
            ).execute(
                arguments: [row, line.lineNumber, DecimalText.format(line.quantity), line.sscc]
            )
        }
        return row
    }

    /// The order has shipped whole: its active reservations become shipments, taken off the stock's reserved and
    /// on-hand figures.
    public func consumeReservations(orderID: Int64, at date: Date) throws {
        let now = Timestamp.text(date)
        let rows = try Row.fetchAll(
            self.db,
            sql: "SELECT id, node_id, sku, quantity FROM reservations WHERE order_id = ? AND state = 'active'",
            arguments: [orderID]
        )
        for row in rows {
            let quantity = BusinessText.decimal(row["quantity"])
            try self.db.execute(
                sql: "UPDATE reservations SET state = 'shipped', closed_at = ? WHERE id = ?",
                arguments: [now, row["id"] as Int64]
            )
            guard
                let stock = try Row.fetchOne(
                    self.db,
                    sql: "SELECT on_hand, reserved FROM stock WHERE node_id = ? AND sku = ?",
                    arguments: [row["node_id"] as String, row["sku"] as String]
                )
            else { continue }
            let onHand = max(0, BusinessText.decimal(stock["on_hand"]) - quantity)
            let reserved = max(0, BusinessText.decimal(stock["reserved"]) - quantity)
            try self.db.execute(
                sql: "UPDATE stock SET on_hand = ?, reserved = ?, updated_at = ? WHERE node_id = ? AND sku = ?",
                arguments: [
                    DecimalText.format(onHand), DecimalText.format(reserved), now, row["node_id"] as String,
                    row["sku"] as String,
                ]
            )
        }
    }
}

extension StoreReader {
    /// How much of each line (by line number) earlier shipments of the order shipped, in ordered units.
    public func shippedQuantities(orderID: Int64) throws -> [String: Decimal] {
        var result: [String: Decimal] = [:]
        let rows = try Row.fetchAll(
            self.db,
            sql: """
                SELECT l.line_number, l.quantity FROM shipment_lines l JOIN shipments s ON s.id = l.shipment_row
                WHERE s.order_id = ?
                """,
            arguments: [orderID]
        )
        for row in rows { result[row["line_number"], default: 0] += BusinessText.decimal(row["quantity"]) }
        return result
    }

    public func shipmentExists(orderID: Int64, shipmentID: String) throws -> Bool {
        try Bool.fetchOne(
            self.db,
            sql: "SELECT EXISTS (SELECT 1 FROM shipments WHERE order_id = ? AND shipment_id = ?)",
            arguments: [orderID, shipmentID]
        ) ?? false
    }
}
