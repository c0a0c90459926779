import Foundation
import OrderModel

extension OrderDecision {
    /// The decision in words, line by line: which item, at what price and why, from which nodes (and why those),
    /// what waits and what is cancelled, and the credit check with its numbers. `ordergate orders show` prints it.
    ///
    /// The daemon stores the decision alone and this is computed when it is read: each line names its number and item
    /// from the decision itself. `order` is only read for decisions stored before the lines recorded them.
    public func explanation(of order: Order? = nil) -> String {
        var text = "Decision: \(Self.words(self.status))"
        for reason in self.reasons { text += " (\(reason))" }
        text += "\nCredit: \(self.credit.reason)\n"
        for decision in self.lines {
            let line = order.flatMap { $0.lines.indices.contains(decision.index) ? $0.lines[decision.index] : nil }
            let number = decision.lineNumber ?? line?.lineNumber ?? String(decision.index + 1)
            let item = decision.item ?? line.map { OrderRules.describe($0.item) } ?? "no identifier"
            var ordered = DecimalText.format(decision.orderedQuantity)
            if let unit = decision.unit, !unit.isEmpty { ordered += " " + unit }
            while ordered.last == " " || ordered.last == "\t" { ordered.removeLast() }
            text += "Line \(number) (\(item)): "
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
