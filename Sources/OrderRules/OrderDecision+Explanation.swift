import Foundation
import OrderModel

extension OrderDecision {
    /// The decision in words, line by line: which item, at what price and why, from which nodes (and why those),
    /// what waits and what is cancelled, and the credit check with its numbers. `ordergate orders show` prints it.
    public func explanation(of order: Order) -> String {
        var text = "Decision: \(Self.words(self.status))"
        for reason in self.reasons { text += " (\(reason))" }
        text += "\nCredit: \(self.credit.reason)\n"
        for (line, decision) in zip(order.lines, self.lines) {
            var ordered = DecimalText.format(decision.orderedQuantity)
            if let unit = decision.unit, !unit.isEmpty { ordered += " " + unit }
            while ordered.last == " " || ordered.last == "\t" { ordered.removeLast() }
            text += "Line \(line.lineNumber ?? String(decision.index + 1)) (\(OrderRules.describe(line.item))): "
            text += "\(ordered) ordered"
            if let sku = decision.sku { text += " -> \(sku)" }
            text += "\n"
            for reason in decision.reasons { text += "  - \(reason)\n" }
            if let rejection = decision.rejection, !decision.reasons.contains(rejection) {
                text += "  - rejected: \(rejection)\n"
            }
            let allocated = decision.allocations.sorted { $0.key < $1.key }.filter { $0.value > 0 }
            if !allocated.isEmpty {
                let parts = allocated.map { "\(DecimalText.format($0.value)) from \($0.key)" }
                text += "  ships now: \(parts.joined(separator: ", "))\n"
            }
            if decision.backordered > 0 {
                text += "  backordered: \(DecimalText.format(decision.backordered))"
                if let date = decision.backorderDate { text += " to \(date)" }
                text += "\n"
            }
            if decision.cancelled > 0 { text += "  cancelled: \(DecimalText.format(decision.cancelled))\n" }
            for node in decision.nodes {
                var figures = "available \(DecimalText.format(node.availableToPromise))"
                if let kilometres = node.kilometres { figures += ", \(Int(kilometres.rounded())) km" }
                text += "  node \(node.nodeID) (\(figures)): \(node.reason)\n"
            }
        }
        return text
    }

    static func words(_ status: AcknowledgementStatus) -> String {
        switch status {
        case .accepted: "accepted"
        case .acceptedWithChanges: "accepted with changes"
        case .rejected: "rejected"
        case .onHold: "on hold"
        }
    }
}
