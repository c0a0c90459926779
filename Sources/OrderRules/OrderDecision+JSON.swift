import Foundation
import OrderModel

// The direct JSON writer for decisions, which the daemon stores with every order it decides. The generic Codable
// path took a sixth of the daemon's time with the rules on. Keys are listed in UTF-8 byte order; decimals are JSON
// numbers and absent values are left out, as JSONEncoder writes them, so `JSONDecoder` reads the text back into the
// same value (OrderDecisionJSONTests prove it).

extension OrderDecision: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("credit", self.credit)
        writer.field("lines", self.lines)
        writer.field("reasons", self.reasons)
        writer.field("reservations", self.reservations)
        writer.field("status", self.status.rawValue)
        writer.endObject()
    }
}

extension LineDecision: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.key("allocations")
        writer.beginObject()
        for (node, quantity) in self.allocations.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            writer.key(node)
            writer.literal(DecimalText.format(quantity))
        }
        writer.endObject()
        writer.field("backorderDate", self.backorderDate)
        writer.number("backordered", self.backordered)
        writer.number("baseQuantity", self.baseQuantity)
        writer.number("cancelled", self.cancelled)
        writer.field("index", self.index)
        writer.field("item", self.item)
        writer.field("lineNumber", self.lineNumber)
        writer.field("nodes", self.nodes)
        writer.number("orderedQuantity", self.orderedQuantity)
        writer.field("price", self.price)
        writer.field("reasons", self.reasons)
        writer.field("rejection", self.rejection)
        writer.field("sku", self.sku)
        writer.field("unit", self.unit)
        writer.endObject()
    }
}

extension PriceDecision: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.number("acceptedUnitPrice", self.acceptedUnitPrice)
        writer.number("basePrice", self.basePrice)
        writer.number("breakQuantity", self.breakQuantity)
        writer.field("currency", self.currency)
        writer.number("orderedUnitPrice", self.orderedUnitPrice)
        writer.number("ourUnitPrice", self.ourUnitPrice)
        writer.field("reason", self.reason)
        writer.field("source", self.source.rawValue)
        writer.endObject()
    }
}

extension NodeConsideration: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.number("allocated", self.allocated)
        writer.number("availableToPromise", self.availableToPromise)
        writer.field("kilometres", self.kilometres)
        writer.field("nodeID", self.nodeID)
        writer.field("reason", self.reason)
        writer.endObject()
    }
}

extension CreditDecision: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("account", self.account)
        writer.number("exposure", self.exposure)
        writer.field("isHeld", self.isHeld)
        writer.number("limit", self.limit)
        writer.number("openBalance", self.openBalance)
        writer.number("openOrders", self.openOrders)
        writer.number("orderValue", self.orderValue)
        writer.number("pastDue", self.pastDue)
        writer.field("pastDueDays", self.pastDueDays)
        writer.field("reason", self.reason)
        writer.endObject()
    }
}

extension Reservation: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("nodeID", self.nodeID)
        writer.number("quantity", self.quantity)
        writer.field("sku", self.sku)
        writer.endObject()
    }
}
