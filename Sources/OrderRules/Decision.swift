import Foundation
import OrderModel

/// A partner's rule settings (its profile's `rules:`).
public struct RuleSettings: Hashable, Sendable {
    /// What to do when the order's price is outside the tolerance.
    public enum PricePolicy: String, Hashable, Sendable, CaseIterable {
        /// Accept the line at our price (855 ACK `IP`).
        case acceptOurPrice
        /// Reject the line (`IR`).
        case reject
    }

    /// How an order may be fulfilled when no single node has everything.
    public enum Fulfilment: String, Hashable, Sendable, CaseIterable {
        /// One node ships the whole order now, or the whole order is rejected.
        case fillOrKill
        /// One node ships the order; what it lacks is cancelled.
        case noSplits
        /// Lines may ship from several nodes; what no node has is cancelled.
        case splitsAllowed
        /// Lines may ship from several nodes; what no node has is backordered to the next replenishment.
        case backordersAllowed
    }

    public var priceList: String
    /// How far (percent of our price) the order's price may be from ours and still be accepted as ordered.
    public var priceTolerancePercent: Decimal
    public var pricePolicy: PricePolicy
    public var creditAccount: String?
    public var fulfilment: Fulfilment

    public init(
        priceList: String,
        priceTolerancePercent: Decimal = 0,
        pricePolicy: PricePolicy = .acceptOurPrice,
        creditAccount: String? = nil,
        fulfilment: Fulfilment = .backordersAllowed
    ) {
        self.priceList = priceList
        self.priceTolerancePercent = priceTolerancePercent
        self.pricePolicy = pricePolicy
        self.creditAccount = creditAccount
        self.fulfilment = fulfilment
    }

    /// Reads the `rules:` map of a partner profile; a missing or unknown setting is reported by name.
    public init(profileRules rules: [String: String]) throws(RuleSettingsError) {
        let known = ["priceList", "priceTolerancePercent", "pricePolicy", "creditAccount", "fulfilment"]
        if let unknown = rules.keys.sorted().first(where: { !known.contains($0) }) {
            throw RuleSettingsError(
                setting: unknown,
                message: "is not a rule setting (\(known.joined(separator: ", ")))"
            )
        }
        guard let priceList = rules["priceList"], !priceList.isEmpty else {
            throw RuleSettingsError(setting: "priceList", message: "is required")
        }
        self.priceList = priceList
        let tolerance = rules["priceTolerancePercent"] ?? "0"
        guard let percent = DecimalText.parse(tolerance), percent >= 0 else {
            throw RuleSettingsError(setting: "priceTolerancePercent", message: "\"\(tolerance)\" is not a percentage")
        }
        self.priceTolerancePercent = percent
        let policy = rules["pricePolicy"] ?? PricePolicy.acceptOurPrice.rawValue
        guard let pricePolicy = PricePolicy(rawValue: policy) else {
            throw RuleSettingsError(
                setting: "pricePolicy",
                message: "\"\(policy)\" is not one of \(PricePolicy.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self.pricePolicy = pricePolicy
        self.creditAccount = rules["creditAccount"]
        let fulfilment = rules["fulfilment"] ?? Fulfilment.backordersAllowed.rawValue
        guard let value = Fulfilment(rawValue: fulfilment) else {
            throw RuleSettingsError(
                setting: "fulfilment",
                message:
                    "\"\(fulfilment)\" is not one of \(Fulfilment.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self.fulfilment = value
    }
}

public struct RuleSettingsError: Error, Hashable, Sendable, CustomStringConvertible {
    public var setting: String
    public var message: String
    public var description: String { "rules.\(self.setting): \(self.message)" }
}

/// Where a line's price came from.
public struct PriceDecision: Hashable, Sendable, Codable {
    public enum Source: String, Hashable, Sendable, Codable { case contract, priceList }

    public var source: Source
    /// Our price per base unit, and per ordered unit.
    public var basePrice: Decimal
    public var ourUnitPrice: Decimal
    /// The order's price per ordered unit, when it gave one.
    public var orderedUnitPrice: Decimal?
    /// The price the line is accepted at (per ordered unit).
    public var acceptedUnitPrice: Decimal
    public var currency: String
    /// The quantity break used (base units), for a price-list price.
    public var breakQuantity: Decimal?
    public var reason: String
}

/// One node looked at for a line, and what was decided about it.
public struct NodeConsideration: Hashable, Sendable, Codable {
    public var nodeID: String
    public var availableToPromise: Decimal
    public var kilometres: Double?
    /// How much it ships of the line (base units); zero when not chosen.
    public var allocated: Decimal
    public var reason: String
}

/// What was decided about one order line.
public struct LineDecision: Hashable, Sendable, Codable {
    /// The line's position in the order (0-based).
    public var index: Int
    public var sku: String?
    /// The ordered quantity, in the order's unit and in base units.
    public var orderedQuantity: Decimal
    public var unit: String?
    public var baseQuantity: Decimal
    public var price: PriceDecision?
    /// Base units per node shipped now.
    public var allocations: [String: Decimal]
    /// Base units that wait for the replenishment date.
    public var backordered: Decimal
    public var backorderDate: DocumentDate?
    /// Base units that will not be shipped (cancelled short quantity, or the whole line when rejected).
    public var cancelled: Decimal
    /// Why the line is rejected (nil: it is not).
    public var rejection: String?
    public var nodes: [NodeConsideration]
    public var reasons: [String]
    /// The order line's own number (PO101, LIN 1082, cXML lineNumber), and its item as ordered in words (`buyer part
    /// 20457397, GTIN 614141100996`): kept so that the decision explains itself without the order, which a later
    /// change rewrites. Nil in decisions stored before they were recorded.
    public var lineNumber: String? = nil
    public var item: String? = nil

    public var allocated: Decimal {
        // The usual line ships from one node: no addition.
        if self.allocations.count == 1, let only = self.allocations.first { return only.value }
        return self.allocations.values.reduce(0, +)
    }
}

/// The credit check of an order.
public struct CreditDecision: Hashable, Sendable, Codable {
    public var account: String?
    public var limit: Decimal?
    public var openBalance: Decimal
    public var pastDue: Decimal
    public var pastDueDays: Int
    public var openOrders: Decimal
    public var orderValue: Decimal
    public var exposure: Decimal
    public var isHeld: Bool
    public var reason: String
}

/// A reservation the decision makes: base units of an item at a node.
public struct Reservation: Hashable, Sendable, Codable {
    public var nodeID: String
    public var sku: String
    public var quantity: Decimal

    public init(nodeID: String, sku: String, quantity: Decimal) {
        self.nodeID = nodeID
        self.sku = sku
        self.quantity = quantity
    }
}

/// Everything the rules decided about an order.
public struct OrderDecision: Hashable, Sendable, Codable {
    public var lines: [LineDecision]
    public var credit: CreditDecision
    public var status: AcknowledgementStatus
    /// Stock to reserve (none when the order is held or rejected).
    public var reservations: [Reservation]
    public var reasons: [String]
}
