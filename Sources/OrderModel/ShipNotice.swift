import Foundation

/// A ship notice (856, DESADV, cXML ShipNoticeRequest, UBL DespatchAdvice): shipment → orders → packs → items.
public struct ShipNotice: Hashable, Sendable, Codable {
    /// Our shipment identifier (X12 BSN02, EDIFACT BGM 1004).
    public var shipmentID: String = ""
    /// When the notice was made.
    public var date: DocumentDate?
    public var shippedDate: DocumentDate?
    public var estimatedDeliveryDate: DocumentDate?
    public var carrier: Carrier?
    public var trackingNumbers: [String] = []
    public var billOfLading: String?
    public var grossWeight: Quantity?
    public var packageCount: Int?
    public var parties: [Party] = []
    public var orders: [ShippedOrder] = []
    public var source: DocumentSource?
    public var origins = FieldOrigins()

    public init() {}
}

/// One purchase order's part of a shipment.
public struct ShippedOrder: Hashable, Sendable, Codable {
    public var purchaseOrderNumber: String = ""
    public var orderDate: DocumentDate?
    public var packs: [Pack] = []
    public var origins = FieldOrigins()

    public init() {}
}

/// A carton, pallet or tare, identified by its SSCC-18.
public struct Pack: Hashable, Sendable, Codable {
    public var sscc: String?
    /// Packaging code (X12 PO4/TD1 `CTN25`, EDIFACT PAC 7065).
    public var packaging: String?
    public var grossWeight: Quantity?
    public var items: [ShippedItem] = []
    public var origins = FieldOrigins()

    public init() {}

    /// Whether `code` is an 18-digit SSCC whose GS1 mod-10 check digit is right.
    public static func isValidSSCC(_ code: String) -> Bool {
        let digits = code.utf8.map { Int($0) - 0x30 }
        guard digits.count == 18, digits.allSatisfy({ (0...9).contains($0) }) else { return false }
        return GS1.checkDigit(digits.dropLast()) == digits[17]
    }
}

/// An item packed in a pack.
public struct ShippedItem: Hashable, Sendable, Codable {
    public var lineNumber: String?
    public var item = ItemIdentifiers()
    public var description: String?
    public var quantity: Quantity?
    public var orderedQuantity: Quantity?
    public var origins = FieldOrigins()

    public init() {}
}

/// GS1 check digits (GTIN, SSCC): mod 10 with weights 3 and 1 from the right.
public enum GS1 {
    /// The check digit for `digits` (all but the check digit).
    public static func checkDigit<C: Collection>(_ digits: C) -> Int where C.Element == Int {
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() { sum += digit * (offset % 2 == 0 ? 3 : 1) }
        return (10 - sum % 10) % 10
    }

    /// Whether `code` is a GTIN-8, -12, -13 or -14 with a correct check digit.
    public static func isValidGTIN(_ code: String) -> Bool {
        let digits = code.utf8.map { Int($0) - 0x30 }
        guard [8, 12, 13, 14].contains(digits.count), digits.allSatisfy({ (0...9).contains($0) }) else { return false }
        return self.checkDigit(digits.dropLast()) == digits.last
    }
}
