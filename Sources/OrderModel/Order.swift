// OrderModel: the canonical values every format maps to and renders from.
//
// One model serves X12, EDIFACT and XML. An inbound purchase order of any format becomes an `Order`; the documents we
// send back are rendered from an `Acknowledgement`, a `ShipNotice` or an `Invoice`. The types are plain values:
// no I/O, no clock. Money and quantities are `Decimal` and encode as decimal strings; dates are `DocumentDate`
// (ISO 8601 text); enumerations encode as their names. Every record that a mapping fills keeps `origins`: for each
// canonical field, the segment and element (or XML path) it came from, so that a rule that rejects a value can say
// where the value was. `source` says which interchange, group and set (control numbers, byte offset) an order came
// from and which mapping file, at which version, produced it.

import Foundation

/// Why a purchase order was sent: a new order, a replacement of an earlier one, a change, a cancellation.
public enum OrderPurpose: String, Hashable, Sendable, Codable, CaseIterable {
    case original, replace, change, cancel, confirmation
}

/// A purchase order, whatever format it arrived in.
public struct Order: Hashable, Sendable, Codable {
    /// Ordergate's own ID, assigned when the order is stored.
    public var id: String?
    /// The trading partner it came from.
    public var partnerID: String?
    public var purchaseOrderNumber: String = ""
    public var releaseNumber: String?
    public var purpose: OrderPurpose = .original
    /// The document's order type code (X12 BEG02 `SA`, EDIFACT BGM `220`, cXML `type`).
    public var orderType: String?
    public var orderDate: DocumentDate?
    public var requestedShipDate: DocumentDate?
    public var requestedDeliveryDate: DocumentDate?
    public var cancelAfter: DocumentDate?
    /// ISO 4217 code of the order's prices.
    public var currency: String?
    public var parties: [Party] = []
    public var paymentTerms: PaymentTerms?
    public var carrier: Carrier?
    public var references: [Reference] = []
    public var notes: [Note] = []
    public var lines: [OrderLine] = []
    /// Totals the document declares (X12 CTT, EDIFACT CNT, cXML Total), kept to check against the lines.
    public var declaredLineCount: Int?
    public var declaredQuantityTotal: Decimal?
    public var declaredAmount: Money?
    public var source: DocumentSource?
    public var origins = FieldOrigins()

    public init() {}

    /// The first party with `role`.
    public func party(_ role: PartyRole) -> Party? {
        self.parties.first { $0.role == role }
    }

    /// The value of the first reference with `qualifier`.
    public func reference(_ qualifier: String) -> String? {
        self.references.first { $0.qualifier == qualifier }?.value
    }

    private enum CodingKeys: String, CodingKey {
        case id, partnerID, purchaseOrderNumber, releaseNumber, purpose, orderType, orderDate, requestedShipDate
        case requestedDeliveryDate, cancelAfter, currency, parties, paymentTerms, carrier, references, notes, lines
        case declaredLineCount, declaredQuantityTotal, declaredAmount, source, origins
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decodeIfPresent(String.self, forKey: .id)
        self.partnerID = try container.decodeIfPresent(String.self, forKey: .partnerID)
        self.purchaseOrderNumber = try container.decode(String.self, forKey: .purchaseOrderNumber)
        self.releaseNumber = try container.decodeIfPresent(String.self, forKey: .releaseNumber)
        self.purpose = try container.decodeIfPresent(OrderPurpose.self, forKey: .purpose) ?? .original
        self.orderType = try container.decodeIfPresent(String.self, forKey: .orderType)
        self.orderDate = try container.decodeIfPresent(DocumentDate.self, forKey: .orderDate)
        self.requestedShipDate = try container.decodeIfPresent(DocumentDate.self, forKey: .requestedShipDate)
        self.requestedDeliveryDate = try container.decodeIfPresent(DocumentDate.self, forKey: .requestedDeliveryDate)
        self.cancelAfter = try container.decodeIfPresent(DocumentDate.self, forKey: .cancelAfter)
        self.currency = try container.decodeIfPresent(String.self, forKey: .currency)
        self.parties = try container.decodeIfPresent([Party].self, forKey: .parties) ?? []
        self.paymentTerms = try container.decodeIfPresent(PaymentTerms.self, forKey: .paymentTerms)
        self.carrier = try container.decodeIfPresent(Carrier.self, forKey: .carrier)
        self.references = try container.decodeIfPresent([Reference].self, forKey: .references) ?? []
        self.notes = try container.decodeIfPresent([Note].self, forKey: .notes) ?? []
        self.lines = try container.decodeIfPresent([OrderLine].self, forKey: .lines) ?? []
        self.declaredLineCount = try container.decodeIfPresent(Int.self, forKey: .declaredLineCount)
        self.declaredQuantityTotal = try container.decodeDecimalTextIfPresent(forKey: .declaredQuantityTotal)
        self.declaredAmount = try container.decodeIfPresent(Money.self, forKey: .declaredAmount)
        self.source = try container.decodeIfPresent(DocumentSource.self, forKey: .source)
        self.origins = try container.decodeIfPresent(FieldOrigins.self, forKey: .origins) ?? FieldOrigins()
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(self.id, forKey: .id)
        try container.encodeIfPresent(self.partnerID, forKey: .partnerID)
        try container.encode(self.purchaseOrderNumber, forKey: .purchaseOrderNumber)
        try container.encodeIfPresent(self.releaseNumber, forKey: .releaseNumber)
        try container.encode(self.purpose, forKey: .purpose)
        try container.encodeIfPresent(self.orderType, forKey: .orderType)
        try container.encodeIfPresent(self.orderDate, forKey: .orderDate)
        try container.encodeIfPresent(self.requestedShipDate, forKey: .requestedShipDate)
        try container.encodeIfPresent(self.requestedDeliveryDate, forKey: .requestedDeliveryDate)
        try container.encodeIfPresent(self.cancelAfter, forKey: .cancelAfter)
        try container.encodeIfPresent(self.currency, forKey: .currency)
        try container.encode(self.parties, forKey: .parties)
        try container.encodeIfPresent(self.paymentTerms, forKey: .paymentTerms)
        try container.encodeIfPresent(self.carrier, forKey: .carrier)
        try container.encode(self.references, forKey: .references)
        try container.encode(self.notes, forKey: .notes)
        try container.encode(self.lines, forKey: .lines)
        try container.encodeIfPresent(self.declaredLineCount, forKey: .declaredLineCount)
        try container.encodeIfPresent(
            self.declaredQuantityTotal.map(DecimalText.format),
            forKey: .declaredQuantityTotal
        )
        try container.encodeIfPresent(self.declaredAmount, forKey: .declaredAmount)
        try container.encodeIfPresent(self.source, forKey: .source)
        try container.encode(self.origins, forKey: .origins)
    }
}

/// One line of a purchase order.
/// What a change document (X12 860 POC02, EDIFACT ORDCHG LIN 1229) does to one line of the order it changes.
public enum LineChange: String, Hashable, Sendable, Codable, CaseIterable {
    /// A new line.
    case add
    /// The line goes.
    case delete
    /// The line's quantity, price, dates or item change to the values given.
    case change
    /// Repeated for reference; nothing changes.
    case unchanged
}

public struct OrderLine: Hashable, Sendable, Codable {
    /// The buyer's line number (X12 PO101, EDIFACT LIN 1082, cXML lineNumber), as text.
    public var lineNumber: String?
    /// In a change document: what it does to the line with this number (nil in an order).
    public var change: LineChange?
    public var item = ItemIdentifiers()
    public var description: String?
    public var quantity: Quantity?
    public var unitPrice: Money?
    /// What the price is per (X12 PO105 `PE` each, `CA` case), as the document says.
    public var priceBasis: String?
    public var requestedShipDate: DocumentDate?
    public var requestedDeliveryDate: DocumentDate?
    /// Per-line parties: a ship-to per store for store distribution, a mark-for.
    public var parties: [Party] = []
    public var references: [Reference] = []
    public var notes: [Note] = []
    public var origins = FieldOrigins()

    public init() {}
}
