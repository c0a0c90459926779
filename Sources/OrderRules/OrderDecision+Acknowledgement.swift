import Foundation
import OrderModel

extension Acknowledgement {
    /// The header of an answer to `order`: its PO number, date, currency, parties and references, and ours.
    init(answering order: Order, number: String, date: DocumentDate, status: AcknowledgementStatus) {
        self.init()
        self.acknowledgementNumber = number
        self.date = date
        self.status = status
        self.purchaseOrderNumber = order.purchaseOrderNumber
        self.orderDate = order.orderDate
        self.currency = order.currency
        self.parties = order.parties
        self.references = order.references
        self.source = order.source
    }

    /// The answer to the buyer's cancellation of `order`: accepted, every line confirmed deleted (865 BCA01 01,
    /// POC02 DI).
    public static func confirmingCancel(_ order: Order, number: String, date: DocumentDate) -> Acknowledgement {
        var acknowledgement = Acknowledgement(answering: order, number: number, date: date, status: .accepted)
        acknowledgement.purpose = .cancel
        acknowledgement.lines = order.lines.map { AcknowledgedLine(deleted: $0) }
        return acknowledgement
    }

    /// An answer that rejects the whole order, every line with `reason` (a duplicate PO, an order we cannot take).
    public static func rejecting(_ order: Order, number: String, date: DocumentDate, reason: String) -> Acknowledgement
    {
        var acknowledgement = Acknowledgement(answering: order, number: number, date: date, status: .rejected)
        acknowledgement.notes = [Note(code: "GEN", text: reason)]
        for line in order.lines {
            var answered = AcknowledgedLine(answering: line)
            answered.dispositions = [LineDisposition(status: .rejected, quantity: line.quantity, reason: reason)]
            acknowledgement.lines.append(answered)
        }
        return acknowledgement
    }
}

extension AcknowledgedLine {
    /// The ordered line, as the answer repeats it.
    init(answering line: OrderLine) {
        self.init()
        self.lineNumber = line.lineNumber
        self.item = line.item
        self.description = line.description
        self.orderedQuantity = line.quantity
        self.orderedUnitPrice = line.unitPrice
        self.orderedPriceBasis = line.priceBasis
    }

    /// A stored line that a change deleted, as the answer to the change confirms it (865 POC02 `DI`): its number and
    /// item, a zero quantity, nothing to ship.
    public init(deleted line: OrderLine) {
        self.init(answering: line)
        self.change = .delete
        self.orderedQuantity = Quantity(0, unit: line.quantity?.unit)
    }
}

extension OrderDecision {
    /// The purchase-order acknowledgement this decision answers the order with: the order-level status, and for
    /// each line what ships now (at which price), what is backordered to when, and what is rejected, held or
    /// cancelled, each with its reason. Quantities are in the units the partner ordered in.
    public func acknowledgement(of order: Order, number: String, date: DocumentDate) -> Acknowledgement {
        var acknowledgement = Acknowledgement(answering: order, number: number, date: date, status: self.status)
        if self.status == .onHold { acknowledgement.notes = [Note(code: "GEN", text: self.credit.reason)] }
        for (line, decision) in zip(order.lines, self.lines) {
            var answered = AcknowledgedLine(answering: line)
            if let sku = decision.sku, answered.item.sku == nil { answered.item.sku = sku }
            answered.dispositions = self.dispositions(of: decision, line: line, order: order)
            answered.status = Self.status(of: answered.dispositions)
            acknowledgement.lines.append(answered)
        }
        return acknowledgement
    }

    /// A line's answer as a whole: rejected or held when its one disposition is; accepted when everything ships
    /// as ordered; else accepted with changes (a price, a quantity, a backorder).
    static func status(of dispositions: [LineDisposition]) -> AcknowledgementStatus {
        switch dispositions.map(\.status) {
        case [.rejected]: .rejected
        case [.onHold]: .onHold
        case [.accepted]: .accepted
        default: .acceptedWithChanges
        }
    }

    private func dispositions(of decision: LineDecision, line: OrderLine, order: Order) -> [LineDisposition] {
        let unit = line.quantity?.unit
        // Quantities decided in base units are stated in the ordered unit. Most lines are ordered in the base unit;
        // they skip the division, which is the slowest Decimal operation on Linux.
        let converts = decision.baseQuantity > 0 && decision.baseQuantity != decision.orderedQuantity
        func quantity(_ base: Decimal) -> Quantity {
            guard converts else { return Quantity(base, unit: unit) }
            // base × ordered ÷ base quantity, multiplied first: exact whenever the figure is a whole number of
            // ordered units (the quotient first is rounded: 60 × (5 ÷ 60) gave 4.999…9, which no 855 can carry), and
            // at most six places when it is not (7 EA of a 12 EA case).
            var value = DecimalMath.product(base, decision.orderedQuantity) / decision.baseQuantity
            var rounded = Decimal()
            NSDecimalRound(&rounded, &value, 6, .plain)
            return Quantity(rounded, unit: unit)
        }
        let currency = decision.price?.currency ?? order.currency
        if let rejection = decision.rejection, decision.allocated == 0 && decision.backordered == 0 {
            return [LineDisposition(status: .rejected, quantity: line.quantity ?? quantity(0), reason: rejection)]
        }
        if self.status == .onHold {
            return [
                LineDisposition(
                    status: .onHold,
                    quantity: line.quantity ?? quantity(decision.baseQuantity),
                    unitPrice: decision.price.map { Money($0.acceptedUnitPrice, currency: currency) },
                    reason: self.credit.reason
                )
            ]
        }
        var result: [LineDisposition] = []
        let price = decision.price
        let priceChanged = price.map { $0.acceptedUnitPrice != $0.orderedUnitPrice && $0.orderedUnitPrice != nil }
        // A price is stated where it is news to the buyer: it differs from theirs, or they gave none.
        let statedPrice = price.flatMap { price in
            price.orderedUnitPrice == nil || priceChanged == true
                ? Money(price.acceptedUnitPrice, currency: currency) : nil
        }
        let shipDate = line.requestedShipDate ?? order.requestedShipDate
        if decision.allocated > 0 {
            var status: LineDispositionStatus = .accepted
            var reason: String?
            if decision.cancelled > 0 {
                status = .quantityChanged
                reason = decision.reasons.last
            } else if priceChanged == true {
                status = .priceChanged
                reason = price?.reason
            }
            result.append(
                LineDisposition(
                    status: status,
                    quantity: quantity(decision.allocated),
                    unitPrice: statedPrice,
                    scheduledShipDate: shipDate,
                    reason: reason
                )
            )
        }
        if decision.backordered > 0 {
            result.append(
                LineDisposition(
                    status: .backordered,
                    quantity: quantity(decision.backordered),
                    unitPrice: statedPrice,
                    scheduledShipDate: decision.backorderDate,
                    reason: decision.reasons.last
                )
            )
        }
        return result
    }
}
