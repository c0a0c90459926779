import Foundation
import OrderModel
import OrderRules
import Testing

/// The direct JSON writer of decisions: what it writes reads back into the same decision.
@Suite("Decision JSON")
struct OrderDecisionJSONTests {
    static func decisions() -> [OrderDecision] {
        let lines = [
            Supplier.line(vendorPart: "WW-1001", quantity: 2, unit: "CA", price: 51),  // conversion, price
            Supplier.line(vendorPart: "WW-1002", quantity: 700, price: 9.99),  // split, backorder
            Supplier.line(vendorPart: "NOPE", quantity: 1),  // rejected
            Supplier.line(gtin: "00614141100019", quantity: 5),  // no price given
        ]
        let order = Supplier.order(lines)
        return [
            Supplier.decide(order),
            Supplier.decide(order, settings: Supplier.settings(fulfilment: .fillOrKill)),
            Supplier.decide(
                order,
                data: Supplier.data(
                    account: CreditAccount(id: "ACME", limit: 10, pastDue: 5, pastDueDays: 90, currency: "USD")
                )
            ),
            Supplier.decide(Supplier.order([])),
        ]
    }

    @Test func theDirectWriterReadsBackIntoTheSameDecision() throws {
        for decision in Self.decisions() {
            let text = try CanonicalJSON.encodeBytes(decision)
            let read = try JSONDecoder().decode(OrderDecision.self, from: Data(text))
            #expect(read == decision, "\(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test func keysAreInByteOrderAndNumbersAreNumbers() throws {
        let decision = Self.decisions()[0]
        let text = String(decoding: try CanonicalJSON.encodeBytes(decision), as: UTF8.self)
        #expect(text.contains("\"baseQuantity\" : 24"))
        #expect(text.contains("\"isHeld\" : false"))
        let credit = try #require(text.range(of: "\"credit\""))
        let lines = try #require(text.range(of: "\"lines\""))
        #expect(credit.lowerBound < lines.lowerBound)
    }

    /// The daemon decides an order's lines while preparing its file and hands them to `evaluate(lines:)` on the
    /// writer: with the same data, settings and day that gives exactly the decision `evaluate` makes alone.
    @Test func linesDecidedAheadGiveTheSameDecision() {
        let lines = [
            Supplier.line(vendorPart: "WW-1001", quantity: 2, unit: "CA", price: 51),
            Supplier.line(vendorPart: "WW-1002", quantity: 700, price: 9.99),
            Supplier.line(vendorPart: "NOPE", quantity: 1),
            Supplier.line(gtin: "00614141100019", quantity: 5),
        ]
        let order = Supplier.order(lines)
        let data = Supplier.data()
        for settings in [Supplier.settings(), Supplier.settings(fulfilment: .fillOrKill)] {
            let rules = OrderRules(data: data)
            let ahead = rules.decideLines(order, partnerID: "acme", settings: settings, today: Supplier.today)
            let decided = rules.evaluate(
                order,
                partnerID: "acme",
                settings: settings,
                openOrders: 0,
                today: Supplier.today,
                lines: ahead
            )
            #expect(decided == Supplier.decide(order, data: data, settings: settings))
        }
    }
}
