import Foundation
import OrderMapping
import OrderModel
import OrderRules
import OrderStore

/// An invoice as the ERP reports it: which shipped quantities of an order it bills, at which prices, with which
/// allowances, charges and tax. Without `lines`, it bills everything shipped and not yet invoiced.
public struct InvoiceRequest: Decodable, Sendable {
    public struct LineInfo: Decodable, Sendable {
        public var lineNumber: String
        /// In the unit the line was ordered in.
        public var quantity: Decimal
        /// Per ordered unit; default: the price the line was accepted at (or the order's price).
        public var unitPrice: Decimal?
    }

    public struct AllowanceChargeInfo: Decodable, Sendable {
        /// `allowance` or `charge`.
        public var kind: String
        /// The code of what it is (X12 SAC02 `D240` freight, EDIFACT 7161).
        public var code: String?
        public var amount: Decimal
        public var description: String?
    }

    public var invoiceNumber: String
    public var invoiceDate: String?
    /// The shipment it bills (default: the order's latest shipment).
    public var shipmentID: String?
    public var lines: [LineInfo]?
    public var allowancesAndCharges: [AllowanceChargeInfo]?
    public var taxAmount: Decimal?
}

/// What recording an invoice did.
public struct InvoiceOutcome: Sendable, Encodable {
    public var invoiceNumber: String
    /// Subtotal, allowances and charges, tax: what is owed (decimal text, two places).
    public var total: String
    public var currency: String?
    /// The invoice queued for the partner (`810`, `INVOIC`, `InvoiceDetailRequest`), when its profile has a map.
    public var document: String?
    public var outboundID: Int64?
}

extension OrderDesk {
    /// Records an invoice of an order and queues it, in the caller's transaction. The invoice is checked first: an
    /// invoice number new for the partner, known lines, quantities above zero and never more than shipped (with
    /// earlier invoices), a price for every line. Its value leaves the account's open orders for its open balance.
    public func invoice(
        orderID: Int64,
        _ request: InvoiceRequest,
        visibleTo partnerScope: String?,
        mappings: MappingSet,
        tx: StoreTransaction,
        now: Date,
        actor: String = "erp"
    ) throws -> InvoiceOutcome? {
        guard let header = try tx.reader.orderHeader(id: orderID, visibleTo: partnerScope),
            let order = try tx.reader.order(id: orderID)
        else { return nil }
        let invoiceable = Self.shippableStatuses.union([OrderStatus.shipped.rawValue, OrderStatus.delivered.rawValue])
        guard invoiceable.contains(header.status) else {
            throw ReportRefused(
                subject: "Invoice",
                problems: ["order \(orderID) is \(header.status): it cannot be invoiced"]
            )
        }
        var problems: [String] = []
        let number = request.invoiceNumber.trimmingCharacters(in: .whitespaces)
        if number.isEmpty { problems.append("invoiceNumber: required") }
        if try tx.reader.invoiceExists(partnerID: header.partnerID, invoiceNumber: number) {
            problems.append("invoiceNumber: \(number) was already sent to \(header.partnerID)")
        }
        let invoiceDate: DocumentDate
        if let text = request.invoiceDate {
            guard let date = DocumentDate(iso8601: text) else {
                throw ReportRefused(subject: "Invoice", problems: ["invoiceDate: \(text) is not an ISO 8601 date"])
            }
            invoiceDate = date
        } else {
            invoiceDate = Self.documentDate(now).dateOnly
        }
        let shipped = try tx.reader.shippedQuantities(orderID: orderID)
        let invoicedBefore = try tx.reader.invoicedQuantities(orderID: orderID)
        let accepted = try Self.acceptedPrices(orderID: orderID, order: order, tx: tx)
        let requested =
            request.lines
            ?? order.lines.compactMap { line in
                guard let number = line.lineNumber else { return nil }
                let left = (shipped[number] ?? 0) - (invoicedBefore[number] ?? 0)
                return left > 0 ? InvoiceRequest.LineInfo(lineNumber: number, quantity: left, unitPrice: nil) : nil
            }
        if requested.isEmpty {
            problems.append("lines: nothing shipped on order \(orderID) is left to invoice")
        }
        var invoicedNow: [String: Decimal] = [:]
        var lines: [InvoiceLine] = []
        // What the invoiced quantities were worth at the accepted prices: what leaves the order's open value (the
        // invoice's own prices may differ; regression, review: one unit invoiced at 1,000 cleared an open value of 303).
        var acceptedValue: Decimal = 0
        let currency = order.currency ?? accepted.currency
        for (index, entry) in requested.enumerated() {
            guard let line = order.lines.first(where: { $0.lineNumber == entry.lineNumber }) else {
                problems.append("lines[\(index)]: line \(entry.lineNumber) is not a line of order \(orderID)")
                continue
            }
            if entry.quantity <= 0 {
                problems.append("lines[\(index)]: line \(entry.lineNumber) quantity must be greater than zero")
            }
            invoicedNow[entry.lineNumber, default: 0] += entry.quantity
            guard let price = entry.unitPrice ?? accepted.prices[entry.lineNumber] ?? line.unitPrice?.amount else {
                problems.append("lines[\(index)]: line \(entry.lineNumber) has no price; give unitPrice")
                continue
            }
            if price <= 0 {
                problems.append("lines[\(index)]: line \(entry.lineNumber) price must be greater than zero")
            }
            var invoiceLine = InvoiceLine()
            invoiceLine.lineNumber = line.lineNumber
            invoiceLine.item = line.item
            invoiceLine.description = line.description
            invoiceLine.quantity = Quantity(entry.quantity, unit: line.quantity?.unit)
            invoiceLine.unitPrice = Money(price, currency: currency)
            invoiceLine.amount = Money(Self.money(entry.quantity * price), currency: currency)
            lines.append(invoiceLine)
            acceptedValue += entry.quantity * (accepted.prices[entry.lineNumber] ?? price)
        }
        for (number, quantity) in invoicedNow.sorted(by: { $0.key < $1.key }) {
            let before = invoicedBefore[number] ?? 0
            let ship = shipped[number] ?? 0
            if before + quantity > ship {
                problems.append(
                    "line \(number): invoicing \(DecimalText.format(quantity)) would invoice more than the "
                        + "\(DecimalText.format(ship)) shipped (\(DecimalText.format(before)) invoiced before)"
                )
            }
        }
        var charges: [AllowanceCharge] = []
        for (index, info) in (request.allowancesAndCharges ?? []).enumerated() {
            guard let kind = AllowanceCharge.Kind(rawValue: info.kind) else {
                problems.append("allowancesAndCharges[\(index)].kind: allowance or charge, not \(info.kind)")
                continue
            }
            if info.amount < 0 { problems.append("allowancesAndCharges[\(index)].amount: not negative") }
            var charge = AllowanceCharge()
            charge.kind = kind
            charge.code = info.code
            charge.amount = Money(Self.money(info.amount), currency: currency)
            charge.description = info.description
            charges.append(charge)
        }
        if let tax = request.taxAmount, tax < 0 { problems.append("taxAmount: not negative") }
        let shipments = try tx.reader.shipments(orderID: orderID)
        if let shipmentID = request.shipmentID, !shipments.contains(where: { $0.shipmentID == shipmentID }) {
            problems.append("shipmentID: \(shipmentID) is not a shipment of order \(orderID)")
        }
        guard problems.isEmpty else { throw ReportRefused(subject: "Invoice", problems: problems) }

        var invoice = Invoice()
        invoice.invoiceNumber = number
        invoice.invoiceDate = invoiceDate
        invoice.purchaseOrderNumber = order.purchaseOrderNumber
        invoice.orderDate = order.orderDate
        invoice.shipmentID = request.shipmentID ?? shipments.last?.shipmentID
        invoice.currency = currency
        // The seller too (regression, review: INVOIC had no NAD+SU, the 810 no vendor N1).
        invoice.parties = order.parties.filter { [.billTo, .buyer, .shipTo, .remitTo, .seller].contains($0.role) }
        invoice.paymentTerms = order.paymentTerms
        invoice.references = order.references
        invoice.lines = lines
        invoice.allowancesAndCharges = charges
        let subtotal = lines.reduce(Decimal(0)) { $0 + ($1.amount?.amount ?? 0) }
        let adjustments = charges.reduce(Decimal(0)) { sum, charge in
            let amount = charge.amount?.amount ?? 0
            return charge.kind == .charge ? sum + amount : sum - amount
        }
        let tax = Self.money(request.taxAmount ?? 0)
        if subtotal + adjustments + tax < 0 {
            throw ReportRefused(subject: "Invoice", problems: ["allowancesAndCharges: the total would be negative"])
        }
        invoice.subtotal = Money(subtotal, currency: currency)
        invoice.taxAmount = Money(tax, currency: currency)
        invoice.totalAmount = Money(subtotal + adjustments + tax, currency: currency)

        let queued = try self.queueDocument(
            .invoice(invoice),
            record: .invoice,
            subject: "Invoice",
            partnerID: header.partnerID,
            orderID: orderID,
            mappings: mappings,
            tx: tx,
            now: now
        )
        _ = try tx.insertInvoice(
            orderID: orderID,
            partnerID: header.partnerID,
            invoice: invoice,
            canonical: try CanonicalJSON.encode(invoice, compact: true),
            outboundID: queued?.outboundID,
            at: now
        )
        try tx.invoiceOpenValue(
            orderID: orderID,
            orderValue: Self.money(acceptedValue),
            invoiced: subtotal + adjustments + tax
        )
        let total = DecimalText.format(subtotal + adjustments + tax, places: 2)
        try tx.audit(
            actor: actor,
            action: "invoice",
            subject: "order:\(orderID)",
            detail: "invoice \(number): \(lines.count) lines, total \(total) \(currency ?? "")",
            at: now
        )
        return InvoiceOutcome(
            invoiceNumber: number,
            total: total,
            currency: currency,
            document: queued?.document,
            outboundID: queued?.outboundID
        )
    }

    /// The price each line (by number) was accepted at, per ordered unit, from the order's latest decision, and
    /// the decision's currency.
    private static func acceptedPrices(
        orderID: Int64,
        order: Order,
        tx: StoreTransaction
    ) throws -> (prices: [String: Decimal], currency: String?) {
        guard let decision = try Self.latestDecision(orderID: orderID, tx: tx) else { return ([:], nil) }
        var prices: [String: Decimal] = [:]
        var currency: String?
        for line in decision.lines {
            guard let price = line.price, order.lines.indices.contains(line.index),
                let number = order.lines[line.index].lineNumber
            else { continue }
            prices[number] = price.acceptedUnitPrice
            currency = currency ?? price.currency
        }
        return (prices, currency)
    }

    /// The rules' latest decision about an order, as stored (nil: the order was never decided, the rules are
    /// off). A stored decision that cannot be read is an error, not "no decision".
    static func latestDecision(orderID: Int64, tx: StoreTransaction) throws -> OrderDecision? {
        guard let latest = try tx.reader.latestDecisionJSON(orderID: orderID) else { return nil }
        return try JSONDecoder().decode(OrderDecision.self, from: Data(latest.utf8))
    }

    /// Money rounded half-up to cents.
    static func money(_ value: Decimal) -> Decimal {
        var value = value
        var result = Decimal()
        NSDecimalRound(&result, &value, 2, .plain)
        return result
    }
}
