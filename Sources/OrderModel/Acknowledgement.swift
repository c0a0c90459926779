import Foundation

/// The order-level answer of a purchase-order acknowledgement (X12 BAK02, EDIFACT BGM 1225, cXML/UBL status).
public enum AcknowledgementStatus: String, Hashable, Sendable, Codable, CaseIterable {
    /// Every line accepted as ordered.
    case accepted
    /// Accepted, with changes to some lines (price, quantity, date, substitution, backorder).
    case acceptedWithChanges
    case rejected
    /// Held (credit, review); lines are on hold until released.
    case onHold
}

/// What will happen to (part of) one line.
public enum LineDispositionStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case accepted, priceChanged, quantityChanged, backordered, rejected, onHold, substituted, dateChanged
}

/// One part of a line's answer: a quantity, with its price and date, and why it differs from the order.
public struct LineDisposition: Hashable, Sendable, Codable {
    public var status: LineDispositionStatus = .accepted
    public var quantity: Quantity?
    public var unitPrice: Money?
    /// When this quantity will ship (for backorders: the replenishment date).
    public var scheduledShipDate: DocumentDate?
    /// The rule's reason, in words.
    public var reason: String?
    /// The item shipped instead, for a substitution.
    public var substitute: ItemIdentifiers?
    public var origins = FieldOrigins()

    public init() {}

    public init(
        status: LineDispositionStatus,
        quantity: Quantity?,
        unitPrice: Money? = nil,
        scheduledShipDate: DocumentDate? = nil,
        reason: String? = nil
    ) {
        self.status = status
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.scheduledShipDate = scheduledShipDate
        self.reason = reason
    }
}

/// A line of an acknowledgement: the ordered line as the buyer sent it and the dispositions that answer it.
public struct AcknowledgedLine: Hashable, Sendable, Codable {
    public var lineNumber: String?
    /// In the answer to a change document (865 POC02): what the change did to the line.
    public var change: LineChange?
    public var item = ItemIdentifiers()
    public var description: String?
    public var orderedQuantity: Quantity?
    /// The price on the purchase order, and what it is per (X12 PO105: `PE` per each, `CT` per carton...).
    public var orderedUnitPrice: Money?
    public var orderedPriceBasis: String?
    /// The line's answer as a whole, from its dispositions (EDIFACT ORDRSP LIN 1229): accepted as ordered, accepted
    /// with changes, rejected, on hold. Nil for a line deleted by a change, and in acknowledgements read in.
    public var status: AcknowledgementStatus?
    public var dispositions: [LineDisposition] = []
    public var origins = FieldOrigins()

    public init() {}
}

/// A purchase-order acknowledgement: 855, ORDRSP, cXML ConfirmationRequest, UBL OrderResponse.
public struct Acknowledgement: Hashable, Sendable, Codable {
    /// Our number for this acknowledgement.
    public var acknowledgementNumber: String?
    public var date: DocumentDate?
    public var status: AcknowledgementStatus = .accepted
    /// What the answer confirms when it is not an order or a change: `cancel` for the buyer's cancellation (865
    /// BCA01 01). Nil otherwise.
    public var purpose: OrderPurpose?
    public var purchaseOrderNumber: String = ""
    public var orderDate: DocumentDate?
    public var currency: String?
    public var parties: [Party] = []
    public var references: [Reference] = []
    public var notes: [Note] = []
    public var lines: [AcknowledgedLine] = []
    public var source: DocumentSource?
    public var origins = FieldOrigins()

    public init() {}
}
