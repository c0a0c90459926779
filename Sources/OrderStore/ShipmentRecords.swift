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

    /// Part of an order's reservation of `sku` has shipped: up to `quantity` base units are taken from its active
    /// reservations of the SKU, oldest first (a reservation taken in part keeps the rest active, and the part becomes
    /// a shipped row), and taken off each node's reserved and on-hand figures. Returns what was taken.
    @discardableResult
    public func consumeReservations(orderID: Int64, sku: String, quantity: Decimal, at date: Date) throws -> Decimal {
        let now = Timestamp.text(date)
        var left = quantity
        let rows = try Row.fetchAll(
            self.db,
            sql: """
                SELECT id, node_id, quantity, created_at FROM reservations
                WHERE order_id = ? AND sku = ? AND state = 'active' ORDER BY id
                """,
            arguments: [orderID, sku]
        )
        for row in rows where left > 0 {
            let reserved = BusinessText.decimal(row["quantity"])
            let taken = min(reserved, left)
            left -= taken
            let id: Int64 = row["id"]
            if taken == reserved {
                try self.db.execute(
                    sql: "UPDATE reservations SET state = 'shipped', closed_at = ? WHERE id = ?",
                    arguments: [now, id]
                )
            } else {
                try self.db.execute(
                    sql: "UPDATE reservations SET quantity = ? WHERE id = ?",
                    arguments: [DecimalText.format(reserved - taken), id]
                )
                try self.db.execute(
                    sql: """
                        INSERT INTO reservations (order_id, node_id, sku, quantity, state, created_at, closed_at)
                        VALUES (?, ?, ?, ?, 'shipped', ?, ?)
                        """,
                    arguments: [
                        orderID, row["node_id"] as String, sku, DecimalText.format(taken), row["created_at"] as String,
                        now,
                    ]
                )
            }
            try self.takeShipped(nodeID: row["node_id"], sku: sku, quantity: taken, at: now)
        }
        return quantity - left
    }

    /// Takes shipped units off a node's reserved and on-hand figures.
    private func takeShipped(nodeID: String, sku: String, quantity: Decimal, at now: String) throws {
        try self.changeStock(nodeID: nodeID, sku: sku, at: now) {
            $0.onHand = max(0, $0.onHand - quantity)
            $0.reserved = max(0, $0.reserved - quantity)
        }
    }
}

extension StoreReader {
    /// How much of each line (by line number) earlier shipments of the order shipped, in ordered units.
    public func shippedQuantities(orderID: Int64) throws -> [String: Decimal] {
        try self.quantitiesByLine(
            """
            SELECT l.line_number, l.quantity FROM shipment_lines l JOIN shipments s ON s.id = l.shipment_row
            WHERE s.order_id = ?
            """,
            orderID: orderID
        )
    }

    /// The sums of `quantity` by `line_number` over the rows `sql` selects for an order.
    func quantitiesByLine(_ sql: String, orderID: Int64) throws -> [String: Decimal] {
        var result: [String: Decimal] = [:]
        for row in try Row.fetchAll(self.db, sql: sql, arguments: [orderID]) {
            result[row["line_number"], default: 0] += BusinessText.decimal(row["quantity"])
        }
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

/// A ship notice as stored: the shipment, its canonical notice, and the document it became.
public struct ShipNoticeRecord: Sendable, Hashable {
    public var id: Int64
    public var orderID: Int64
    public var partnerID: String
    public var shipmentID: String
    public var shippedOn: String?
    /// The canonical ShipNotice JSON.
    public var notice: String
    public var createdAt: String
    /// The rendered document (856, DESADV, ...) and its kind, when the partner has a map.
    public var documentKind: String?
    public var document: [UInt8]?
}

extension StoreReader {
    /// Ship notices after a cursor (their row ID, in commit order), a partner's only when `partnerID` is given.
    public func shipNoticeFeed(after: Int64, limit: Int, partnerID: String?) throws -> [ShipNoticeRecord] {
        var sql = """
            SELECT s.*, o.kind AS document_kind, o.content AS document FROM shipments s
            LEFT JOIN outbound o ON o.id = s.outbound_id WHERE s.id > ?
            """
        var arguments: StatementArguments = [after]
        if let partnerID {
            sql += " AND s.partner_id = ?"
            arguments += [partnerID]
        }
        sql += " ORDER BY s.id LIMIT ?"
        arguments += [limit]
        return try Row.fetchAll(self.db, sql: sql, arguments: arguments).map(Self.shipNotice)
    }

    /// One ship notice, when it is `partnerID`'s (nil: any partner's).
    public func shipNotice(id: Int64, visibleTo partnerID: String?) throws -> ShipNoticeRecord? {
        var sql = """
            SELECT s.*, o.kind AS document_kind, o.content AS document FROM shipments s
            LEFT JOIN outbound o ON o.id = s.outbound_id WHERE s.id = ?
            """
        var arguments: StatementArguments = [id]
        if let partnerID {
            sql += " AND s.partner_id = ?"
            arguments += [partnerID]
        }
        return try Row.fetchOne(self.db, sql: sql, arguments: arguments).map(Self.shipNotice)
    }

    private static func shipNotice(_ row: Row) -> ShipNoticeRecord {
        ShipNoticeRecord(
            id: row["id"],
            orderID: row["order_id"],
            partnerID: row["partner_id"],
            shipmentID: row["shipment_id"],
            shippedOn: row["shipped_on"],
            notice: row["notice"],
            createdAt: row["created_at"],
            documentKind: row["document_kind"],
            document: (row["document"] as Data?).map { Array($0) }
        )
    }
}
