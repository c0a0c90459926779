import Foundation
import GRDB
import OrderModel

/// An invoice as stored: its figures, its canonical JSON, and the document it became.
public struct InvoiceRecord: Sendable, Hashable {
    public var id: Int64
    public var orderID: Int64
    public var invoiceNumber: String
    public var invoiceDate: String?
    public var currency: String?
    public var total: String
    /// The rendered document (810, INVOIC, ...), when the partner has a map.
    public var documentKind: String?
    public var outboundID: Int64?
    public var createdAt: String
}

/// A shipment of an order, for the order's detail.
public struct ShipmentSummary: Sendable, Hashable {
    public var id: Int64
    public var shipmentID: String
    public var shippedOn: String?
    public var trackingNumbers: [String]
    public var documentKind: String?
    public var createdAt: String
}

extension StoreTransaction {
    /// Records an invoice of an order and its lines; returns its row ID.
    public func insertInvoice(
        orderID: Int64,
        partnerID: String,
        invoice: Invoice,
        canonical: String,
        outboundID: Int64?,
        at date: Date
    ) throws -> Int64 {
        try self.db.execute(
            sql: """
                INSERT INTO invoices (order_id, partner_id, invoice_number, invoice_date, currency, total, invoice,
                    outbound_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                orderID, partnerID, invoice.invoiceNumber, invoice.invoiceDate?.description, invoice.currency,
                DecimalText.format(invoice.totalAmount?.amount ?? 0, places: 2), canonical, outboundID,
                Timestamp.text(date),
            ]
        )
        let row = self.db.lastInsertedRowID
        for line in invoice.lines {
            try self.db.cachedStatement(
                sql: "INSERT INTO invoice_lines (invoice_row, line_number, quantity, amount) VALUES (?, ?, ?, ?)"
            ).execute(
                arguments: [
                    row, line.lineNumber ?? "", DecimalText.format(line.quantity?.value ?? 0),
                    DecimalText.format(line.amount?.amount ?? 0, places: 2),
                ]
            )
        }
        return row
    }

    /// Invoicing moves value from the order's open (not yet invoiced) value to its account's open balance: the
    /// order's open value and the account's open orders go down by `orderValue` (never below zero), and the
    /// account's open balance goes up by `invoiced` (the ERP's next balance update replaces it with its own figure),
    /// so that the credit exposure stays whole between the invoice and the payment.
    public func invoiceOpenValue(orderID: Int64, orderValue: Decimal, invoiced: Decimal) throws {
        guard
            let row = try Row.fetchOne(
                self.db,
                sql: "SELECT credit_account, open_value FROM orders WHERE id = ?",
                arguments: [orderID]
            ), let account: String = row["credit_account"]
        else { return }
        let open = BusinessText.decimal(row["open_value"])
        let taken = min(open, max(0, orderValue))
        try self.db.execute(
            sql: "UPDATE orders SET open_value = ? WHERE id = ?",
            arguments: [open - taken == 0 ? nil : DecimalText.format(open - taken), orderID]
        )
        try self.changeAccount(account) { credit, openOrders in
            openOrders = max(0, openOrders - taken)
            credit.openBalance += invoiced
        }
    }
}

extension StoreReader {
    /// How much of each line (by line number) earlier invoices of the order invoiced, in ordered units.
    public func invoicedQuantities(orderID: Int64) throws -> [String: Decimal] {
        try self.quantitiesByLine(
            """
            SELECT l.line_number, l.quantity FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_row
            WHERE i.order_id = ?
            """,
            orderID: orderID
        )
    }

    /// Whether the partner was sent an invoice with this number before.
    public func invoiceExists(partnerID: String, invoiceNumber: String) throws -> Bool {
        try Bool.fetchOne(
            self.db,
            sql: "SELECT EXISTS (SELECT 1 FROM invoices WHERE partner_id = ? AND invoice_number = ?)",
            arguments: [partnerID, invoiceNumber]
        ) ?? false
    }

    /// An order's invoices, oldest first.
    public func invoices(orderID: Int64) throws -> [InvoiceRecord] {
        try Row.fetchAll(
            self.db.cachedStatement(
                sql: """
                    SELECT i.id, i.order_id, i.invoice_number, i.invoice_date, i.currency, i.total, o.kind,
                        i.outbound_id, i.created_at
                    FROM invoices i LEFT JOIN outbound o ON o.id = i.outbound_id WHERE i.order_id = ? ORDER BY i.id
                    """
            ),
            arguments: [orderID]
        ).map { row in
            InvoiceRecord(
                id: row[0],
                orderID: row[1],
                invoiceNumber: row[2],
                invoiceDate: row[3],
                currency: row[4],
                total: row[5],
                documentKind: row[6],
                outboundID: row[7],
                createdAt: row[8]
            )
        }
    }

    /// An order's shipments, oldest first, with their tracking numbers (from the stored notice).
    public func shipments(orderID: Int64) throws -> [ShipmentSummary] {
        try Row.fetchAll(
            self.db.cachedStatement(
                sql: """
                    SELECT s.id, s.shipment_id, s.shipped_on, s.notice, s.created_at, o.kind
                    FROM shipments s LEFT JOIN outbound o ON o.id = s.outbound_id WHERE s.order_id = ? ORDER BY s.id
                    """
            ),
            arguments: [orderID]
        ).map { row in
            let notice = try? CanonicalJSON.decode(ShipNotice.self, from: Array((row[3] as String).utf8))
            return ShipmentSummary(
                id: row[0],
                shipmentID: row[1],
                shippedOn: row[2],
                trackingNumbers: notice?.trackingNumbers ?? [],
                documentKind: row[5],
                createdAt: row[4]
            )
        }
    }
}
