import Foundation
import OrderModel

extension OrderDecision {
    /// The purchase-order acknowledgement this decision answers the order with: the order-level status, and for
    /// each line what ships now (at which price), what is backordered to when, and what is rejected, held or
    /// cancelled, each with its reason. Quantities are in the units the partner ordered in.
    public func acknowledgement(of order: Order, number: String, date: DocumentDate) -> Acknowledgement {
        var acknowledgement = Acknowledgement()
        acknowledgement.acknowledgementNumber = number
        acknowledgement.date = date
        acknowledgement.status = self.status
        acknowledgement.purchaseOrderNumber = order.purchaseOrderNumber
        acknowledgement.orderDate = order.orderDate
        acknowledgement.currency = order.currency
        acknowledgement.parties = order.parties
        acknowledgement.references = order.references
        acknowledgement.source = order.source
        if self.status == .onHold { acknowledgement.notes = [Note(code: "GEN", text: self.credit.reason)] }
        for (line, decision) in zip(order.lines, self.lines) {
            var answered = AcknowledgedLine()
            answered.lineNumber = line.lineNumber
            answered.item = line.item
            if let sku = decision.sku, answered.item.sku == nil { answered.item.sku = sku }
            answered.description = line.description
            answered.orderedQuantity = line.quantity
            answered.orderedUnitPrice = line.unitPrice
            answered.dispositions = self.dispositions(of: decision, line: line, order: order)
            acknowledgement.lines.append(answered)
        }
        return acknowledgement
    }

    private func dispositions(of decision: LineDecision, line: OrderLine, order: Order) -> [LineDisposition] {
        let unit = line.quantity?.unit
        let perOrderedUnit = decision.baseQuantity > 0 ? decision.orderedQuantity / decision.baseQuantity : 1
        func quantity(_ base: Decimal) -> Quantity { Quantity(base * perOrderedUnit, unit: unit) }
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
                    unitPrice: price.map { Money($0.acceptedUnitPrice, currency: currency) },
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
                    unitPrice: price.map { Money($0.acceptedUnitPrice, currency: currency) },
                    scheduledShipDate: decision.backorderDate,
                    reason: decision.reasons.last
                )
            )
        }
        return result
    }
}
