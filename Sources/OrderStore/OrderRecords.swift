import Foundation
import GRDB
import OrderModel

/// The lifecycle states an order goes through (DESIGN.md).
public enum OrderStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case received, validated, accepted, acceptedWithChanges, held, rejected, allocated, shipped, delivered, returned
    case cancelled, duplicate
    /// The order was replaced or changed by a later document (its history says what changed).
    case changed
    /// A replace, change or cancel document that was applied to the order it names.
    case applied
    /// Some lines (or part of them) have shipped; the rest is still to come.
    case partiallyShipped
}

extension StoreTransaction {
    /// Stores a canonical order with its lines and its first status, and returns its ID. `duplicateOf` marks a
    /// second original of a PO number already stored: it is recorded, never processed. `canonical` is the order's
    /// canonical JSON when the caller encoded it already (off the writer's thread); the stored JSON is the order as
    /// mapped, with its partner, and without its ID (the row's key, which readers set).
    public func insertOrder(
        _ order: Order,
        canonical: [UInt8]? = nil,
        partnerID: String,
        fileID: Int64,
        setID: Int64?,
        status: OrderStatus,
        duplicateOf: Int64? = nil,
        note: String? = nil,
        at date: Date
    ) throws -> Int64 {
        let now = Timestamp.text(date)
        var json: String?
        if canonical == nil {
            var stored = order
            stored.id = nil
            stored.partnerID = partnerID
            json = try CanonicalJSON.encode(stored, compact: true)
        }
        try self.db.run(
            """
            INSERT INTO orders (partner_id, po_number, purpose, order_type, status, file_id, set_id, currency,
                ordered_on, line_count, mapping, mapping_version, duplicate_of, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ) {
            $0.bind(partnerID)
            $0.bind(order.purchaseOrderNumber)
            $0.bind(order.purpose.rawValue)
            $0.bind(order.orderType)
            $0.bind(status.rawValue)
            $0.bind(fileID)
            $0.bind(setID)
            $0.bind(order.currency)
            $0.bind(order.orderDate?.description)
            $0.bind(order.lines.count)
            $0.bind(order.source?.mapping)
            $0.bind(order.source?.mappingVersion)
            $0.bind(duplicateOf)
            $0.bind(now)
            $0.bind(now)
        }
        let id = self.db.lastInsertedRowID
        try self.db.run("INSERT INTO order_documents (order_id, canonical) VALUES (?, ?)") {
            $0.bind(id)
            if let canonical { $0.bindText(canonical) } else { $0.bind(json) }
        }
        try self.insertLines(orderID: id, order)
        // The row already has its status: only the history needs the entry.
        try self.appendStatusHistory(orderID: id, status, note: note, at: now)
        return id
    }

    /// Rewrites a stored order's content after a replace or change: its canonical JSON, header columns and lines.
    public func replaceOrderContent(orderID: Int64, _ order: Order, canonical: [UInt8], at date: Date) throws {
        try self.db.run("UPDATE order_documents SET canonical = ? WHERE order_id = ?") {
            $0.bindText(canonical)
            $0.bind(orderID)
        }
        try self.db.run("UPDATE orders SET currency = ?, ordered_on = ?, line_count = ?, updated_at = ? WHERE id = ?") {
            $0.bind(order.currency)
            $0.bind(order.orderDate?.description)
            $0.bind(order.lines.count)
            $0.bind(Timestamp.text(date))
            $0.bind(orderID)
        }
        try self.db.cachedStatement(sql: "DELETE FROM order_lines WHERE order_id = ?").execute(arguments: [orderID])
        try self.insertLines(orderID: orderID, order)
    }

    private func insertLines(orderID id: Int64, _ order: Order) throws {
        try self.db.runRows(order.lines.enumerated(), row: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") {
            """
            INSERT INTO order_lines (order_id, position, line_number, buyer_part, vendor_part, gtin,
                description, quantity, unit, unit_price)
            VALUES \($0)
            """
        } bind: { binder, entry in
            let (position, line) = entry
            binder.bind(id)
            binder.bind(position + 1)
            binder.bind(line.lineNumber)
            binder.bind(line.item.buyerPart)
            binder.bind(line.item.vendorPart)
            binder.bind(line.item.gtin)
            binder.bind(line.description)
            binder.bind(line.quantity.map { DecimalText.format($0.value) } ?? "0")
            binder.bind(line.quantity?.unit)
            binder.bind(line.unitPrice.map { DecimalText.format($0.amount) })
        }
    }

    /// Appends to an order's status history and sets its current status.
    public func recordStatus(orderID: Int64, _ status: OrderStatus, note: String?, at date: Date) throws {
        try self.recordStatuses(orderID: orderID, [(status, note)], at: date)
    }

    /// Appends statuses to an order's history, in order, and sets its current status to the last (one write of the
    /// order's row for a decision's `accepted` and `allocated`).
    public func recordStatuses(orderID: Int64, _ statuses: [(status: OrderStatus, note: String?)], at date: Date) throws
    {
        guard let last = statuses.last else { return }
        let now = Timestamp.text(date)
        for (status, note) in statuses { try self.appendStatusHistory(orderID: orderID, status, note: note, at: now) }
        try self.db.run("UPDATE orders SET status = ?, updated_at = ? WHERE id = ?") {
            $0.bind(last.status.rawValue)
            $0.bind(now)
            $0.bind(orderID)
        }
    }

    private func appendStatusHistory(orderID: Int64, _ status: OrderStatus, note: String?, at now: String) throws {
        try self.db.run("INSERT INTO order_status (order_id, status, note, at) VALUES (?, ?, ?, ?)") {
            $0.bind(orderID)
            $0.bind(status.rawValue)
            $0.bind(note)
            $0.bind(now)
        }
    }
}
