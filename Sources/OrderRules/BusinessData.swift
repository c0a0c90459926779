// OrderRules: the supplier's business rules, pure. An order and the business data it is judged against go in; a
// decision comes out for every line (which item, at what price, from which node, how much now and how much later,
// or why not) and for the order (credit), each with its reason and numbers. Nothing here reads a clock, a file or
// the database: the caller passes the date, the data and the open-order exposure, and stores what comes out.

import Foundation
import OrderModel

/// An item we sell, with the identifiers partners use for it and its units.
public struct Item: Hashable, Sendable, Codable {
    public var sku: String
    public var description: String?
    public var gtin: String?
    /// Our part number as partners quote it (X12 VP, EDIFACT SA).
    public var vendorPart: String?
    /// The unit stock and prices are kept in (`EA`).
    public var baseUnit: String
    /// How many base units one of another unit holds (`CA: 12`).
    public var conversions: [String: Decimal]
    /// Days from order to shipment when the item has to be made or bought.
    public var leadTimeDays: Int?

    public init(
        sku: String,
        description: String? = nil,
        gtin: String? = nil,
        vendorPart: String? = nil,
        baseUnit: String = "EA",
        conversions: [String: Decimal] = [:],
        leadTimeDays: Int? = nil
    ) {
        self.sku = sku
        self.description = description
        self.gtin = gtin
        self.vendorPart = vendorPart
        self.baseUnit = baseUnit
        self.conversions = conversions
        self.leadTimeDays = leadTimeDays
    }

    /// How many base units one `unit` holds; nil for a unit the item is not sold in. No unit means the base unit.
    public func factor(of unit: String?) -> Decimal? {
        guard let unit, !unit.isEmpty, unit != self.baseUnit else { return 1 }
        return self.conversions[unit]
    }
}

/// A partner's own part number for one of our items.
public struct BuyerPartReference: Hashable, Sendable, Codable {
    public var partnerID: String
    public var buyerPart: String
    public var sku: String

    public init(partnerID: String, buyerPart: String, sku: String) {
        self.partnerID = partnerID
        self.buyerPart = buyerPart
        self.sku = sku
    }
}

/// A days-inclusive validity period; an open end is unbounded.
public struct Validity: Hashable, Sendable, Codable {
    public var from: DocumentDate?
    public var to: DocumentDate?

    public init(from: DocumentDate? = nil, to: DocumentDate? = nil) {
        self.from = from
        self.to = to
    }

    public func contains(_ date: DocumentDate) -> Bool {
        let day = Validity.day(date)
        if let from = self.from, day < Validity.day(from) { return false }
        if let to = self.to, day > Validity.day(to) { return false }
        return true
    }

    private static func day(_ date: DocumentDate) -> Int { date.year * 10_000 + date.month * 100 + date.day }
}

/// One price of a price list: an item's price per base unit from a quantity (in base units) up.
public struct PriceBreak: Hashable, Sendable, Codable {
    public var priceList: String
    public var sku: String
    /// The smallest order quantity, in base units, this price applies to (1 for the first break).
    public var minimumQuantity: Decimal
    public var unitPrice: Decimal
    public var currency: String
    public var validity: Validity

    public init(
        priceList: String,
        sku: String,
        minimumQuantity: Decimal = 1,
        unitPrice: Decimal,
        currency: String,
        validity: Validity = Validity()
    ) {
        self.priceList = priceList
        self.sku = sku
        self.minimumQuantity = minimumQuantity
        self.unitPrice = unitPrice
        self.currency = currency
        self.validity = validity
    }
}

/// A price agreed with one partner for one item; it overrides the price list while it is valid.
public struct ContractPrice: Hashable, Sendable, Codable {
    public var partnerID: String
    public var sku: String
    public var unitPrice: Decimal
    public var currency: String
    public var validity: Validity

    public init(partnerID: String, sku: String, unitPrice: Decimal, currency: String, validity: Validity = Validity()) {
        self.partnerID = partnerID
        self.sku = sku
        self.unitPrice = unitPrice
        self.currency = currency
        self.validity = validity
    }
}

/// A customer's credit: what they may owe, what they owe, and how late.
public struct CreditAccount: Hashable, Sendable, Codable {
    public var id: String
    public var limit: Decimal
    /// Invoiced and unpaid, not yet due.
    public var openBalance: Decimal
    /// What is unpaid and past its due date (not part of `openBalance`: exposure adds the two).
    public var pastDue: Decimal
    /// Days the oldest unpaid past-due invoice is past due.
    public var pastDueDays: Int
    /// Days past due the terms tolerate before orders are held.
    public var allowedPastDueDays: Int
    public var currency: String

    public init(
        id: String,
        limit: Decimal,
        openBalance: Decimal = 0,
        pastDue: Decimal = 0,
        pastDueDays: Int = 0,
        allowedPastDueDays: Int = 30,
        currency: String
    ) {
        self.id = id
        self.limit = limit
        self.openBalance = openBalance
        self.pastDue = pastDue
        self.pastDueDays = pastDueDays
        self.allowedPastDueDays = allowedPastDueDays
        self.currency = currency
    }
}

/// A point on the earth, for "nearest node".
public struct GeoPoint: Hashable, Sendable, Codable {
    public var latitude: Double
    public var longitude: Double

    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }

    /// Great-circle distance in kilometres.
    public func kilometres(to other: GeoPoint) -> Double {
        let radians = Double.pi / 180
        let dLatitude = (other.latitude - self.latitude) * radians
        let dLongitude = (other.longitude - self.longitude) * radians
        let a =
            sin(dLatitude / 2) * sin(dLatitude / 2)
            + cos(self.latitude * radians) * cos(other.latitude * radians) * sin(dLongitude / 2) * sin(dLongitude / 2)
        return 6371 * 2 * atan2(a.squareRoot(), (1 - a).squareRoot())
    }
}

/// A warehouse or a store we ship from.
public struct FulfilmentNode: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable { case warehouse, store }

    public var id: String
    public var kind: Kind
    public var location: GeoPoint?
    /// The partners it serves; empty: every partner.
    public var partners: Set<String>
    /// A store ships to customers only when this is set.
    public var shipFromStore: Bool

    public init(
        id: String,
        kind: Kind = .warehouse,
        location: GeoPoint? = nil,
        partners: Set<String> = [],
        shipFromStore: Bool = false
    ) {
        self.id = id
        self.kind = kind
        self.location = location
        self.partners = partners
        self.shipFromStore = shipFromStore
    }

    /// Whether the node may ship this partner's orders.
    public func serves(_ partnerID: String) -> Bool {
        (self.partners.isEmpty || self.partners.contains(partnerID)) && (self.kind == .warehouse || self.shipFromStore)
    }
}

/// Stock of one item at one node, in base units.
public struct StockLevel: Hashable, Sendable, Codable {
    public var nodeID: String
    public var sku: String
    public var onHand: Decimal
    public var reserved: Decimal
    public var safetyStock: Decimal
    /// When more arrives, and how much.
    public var nextReplenishment: DocumentDate?
    public var replenishmentQuantity: Decimal?

    public init(
        nodeID: String,
        sku: String,
        onHand: Decimal,
        reserved: Decimal = 0,
        safetyStock: Decimal = 0,
        nextReplenishment: DocumentDate? = nil,
        replenishmentQuantity: Decimal? = nil
    ) {
        self.nodeID = nodeID
        self.sku = sku
        self.onHand = onHand
        self.reserved = reserved
        self.safetyStock = safetyStock
        self.nextReplenishment = nextReplenishment
        self.replenishmentQuantity = replenishmentQuantity
    }

    /// Available to promise: on hand − reserved − safety stock, never below zero.
    public var availableToPromise: Decimal {
        let available = DecimalMath.difference(DecimalMath.difference(self.onHand, self.reserved), self.safetyStock)
        return DecimalMath.isLess(available, 0) ? 0 : available
    }
}

/// Everything the rules judge an order against.
///
/// Lookups go through indexes built when a collection is set (by SKU, GTIN, vendor part, buyer part, price list and
/// contract), so that deciding a line costs the same with ten items or a hundred thousand. The catalogue part (items,
/// prices, contracts, nodes, locations) changes rarely and is shared; stock and credit are set per decision.
public struct BusinessData: Sendable {
    public var items: [String: Item] { didSet { self.indexItems() } }
    public var buyerParts: [BuyerPartReference] { didSet { self.indexBuyerParts() } }
    public var priceBreaks: [PriceBreak] { didSet { self.indexPrices() } }
    public var contracts: [ContractPrice] { didSet { self.indexContracts() } }
    public var creditAccounts: [String: CreditAccount]
    public var nodes: [FulfilmentNode]
    public var stock: [StockLevel] { didSet { self.indexStock() } }
    /// Where ship-to parties are: `<partner>:<party identifier>` or `postal:<country>:<postal code>`.
    public var locations: [String: GeoPoint]

    /// SKUs by GTIN without leading zeros, by vendor part, and by `<partner> <buyer part>`.
    private(set) var skusByGTIN: [Substring: [String]] = [:]
    private(set) var skusByVendorPart: [String: [String]] = [:]
    private(set) var skusByBuyerPart: [String: [String]] = [:]
    /// Price breaks by `<price list> <sku>`, contracts by `<partner> <sku>`, stock by SKU.
    private(set) var breaksByListAndSKU: [String: [PriceBreak]] = [:]
    private(set) var contractsByPartnerAndSKU: [String: [ContractPrice]] = [:]
    private(set) var stockBySKU: [String: [StockLevel]] = [:]
    /// Available to promise per SKU and node, computed once (two `Decimal` subtractions per level per decision
    /// were a tenth of the rules' time).
    private(set) var availableBySKU: [String: [(nodeID: String, available: Decimal)]] = [:]

    public init(
        items: [Item] = [],
        buyerParts: [BuyerPartReference] = [],
        priceBreaks: [PriceBreak] = [],
        contracts: [ContractPrice] = [],
        creditAccounts: [CreditAccount] = [],
        nodes: [FulfilmentNode] = [],
        stock: [StockLevel] = [],
        locations: [String: GeoPoint] = [:]
    ) {
        self.items = Dictionary(items.map { ($0.sku, $0) }, uniquingKeysWith: { $1 })
        self.buyerParts = buyerParts
        self.priceBreaks = priceBreaks
        self.contracts = contracts
        self.creditAccounts = Dictionary(creditAccounts.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        self.nodes = nodes
        self.stock = stock
        self.locations = locations
        self.indexItems()
        self.indexBuyerParts()
        self.indexPrices()
        self.indexContracts()
        self.indexStock()
    }

    static func key(_ first: String, _ second: String) -> String { first + "\u{1F}" + second }

    /// A GTIN without its leading zeros: a UPC-A and its GTIN-14 are one item.
    static func gtinKey(_ gtin: String) -> Substring { gtin.drop { $0 == "0" } }

    private mutating func indexItems() {
        var byGTIN: [Substring: [String]] = [:]
        var byVendorPart: [String: [String]] = [:]
        for item in self.items.values.sorted(by: { $0.sku < $1.sku }) {
            if let gtin = item.gtin { byGTIN[Self.gtinKey(gtin), default: []].append(item.sku) }
            if let vendorPart = item.vendorPart { byVendorPart[vendorPart, default: []].append(item.sku) }
        }
        self.skusByGTIN = byGTIN
        self.skusByVendorPart = byVendorPart
    }

    private mutating func indexBuyerParts() {
        var index: [String: [String]] = [:]
        for reference in self.buyerParts {
            index[Self.key(reference.partnerID, reference.buyerPart), default: []].append(reference.sku)
        }
        self.skusByBuyerPart = index
    }

    private mutating func indexPrices() {
        // Best first (largest quantity, then latest valid-from): the first valid break that the quantity reaches is
        // the price.
        self.breaksByListAndSKU = Dictionary(grouping: self.priceBreaks) { Self.key($0.priceList, $0.sku) }
            .mapValues { $0.sorted { OrderRules.breakOrder($1, $0) } }
    }

    private mutating func indexContracts() {
        // Latest valid-from first: the first valid contract is the one that applies.
        self.contractsByPartnerAndSKU = Dictionary(grouping: self.contracts) { Self.key($0.partnerID, $0.sku) }
            .mapValues { contracts in
                contracts.sorted { left, right in
                    switch (left.validity.from, right.validity.from) {
                    case let (l?, r?): return l > r
                    case (.some, nil): return true
                    default: return false
                    }
                }
            }
    }

    private mutating func indexStock() {
        self.stockBySKU = Dictionary(grouping: self.stock, by: \.sku)
        self.availableBySKU = self.stockBySKU.mapValues { levels in
            levels.map { (nodeID: $0.nodeID, available: $0.availableToPromise) }
        }
    }

    /// Where a ship-to party is: by the partner's identifier for it (a store number), else by postal code.
    public func location(of party: Party?, partnerID: String) -> GeoPoint? {
        guard let party else { return nil }
        if let identifier = party.identifier, let point = self.locations["\(partnerID):\(identifier)"] {
            return point
        }
        if let address = party.address, let postalCode = address.postalCode {
            return self.locations["postal:\(address.country ?? ""):\(postalCode)"]
        }
        return nil
    }
}
