import Foundation

/// The part a party plays in a document.
public enum PartyRole: String, Hashable, Sendable, Codable, CaseIterable {
    case buyer, seller, shipTo, billTo, shipFrom, markFor, remitTo, other
}

/// A postal address.
public struct Address: Hashable, Sendable, Codable {
    /// Street lines, in order.
    public var lines: [String] = []
    public var city: String?
    /// State, province or region code.
    public var region: String?
    public var postalCode: String?
    /// ISO 3166 country code (or the name, when the document gives only that).
    public var country: String?

    public init() {}
}

/// A person to contact.
public struct Contact: Hashable, Sendable, Codable {
    public var name: String?
    public var phone: String?
    public var email: String?

    public init() {}
}

/// A party of a document: buyer, seller, ship-to, bill-to, ship-from, mark-for, with identifiers and an address.
public struct Party: Hashable, Sendable, Codable {
    public var role: PartyRole = .other
    /// The qualifier the document used for the role (`ST`, `BY`, `DP`, `ShipTo`).
    public var roleCode: String?
    public var name: String?
    /// The party's identifier (a DUNS, GLN, store number, address ID) and the code saying what kind it is.
    public var identifier: String?
    public var identifierQualifier: String?
    public var address: Address?
    public var contact: Contact?
    public var references: [Reference] = []
    public var origins = FieldOrigins()

    public init() {}

    public init(role: PartyRole, name: String? = nil, identifier: String? = nil, identifierQualifier: String? = nil) {
        self.role = role
        self.name = name
        self.identifier = identifier
        self.identifierQualifier = identifierQualifier
    }
}

/// A reference: a qualifier saying what it is (`DP` department, `IA` vendor number, `CT` contract) and its value.
public struct Reference: Hashable, Sendable, Codable {
    public var qualifier: String = ""
    public var value: String = ""
    public var description: String?

    public init() {}

    public init(qualifier: String, value: String, description: String? = nil) {
        self.qualifier = qualifier
        self.value = value
        self.description = description
    }
}

/// A free-text note, with the code of its subject when the document gives one.
public struct Note: Hashable, Sendable, Codable {
    public var code: String?
    public var text: String = ""

    public init() {}

    public init(code: String? = nil, text: String) {
        self.code = code
        self.text = text
    }
}

/// Payment terms.
public struct PaymentTerms: Hashable, Sendable, Codable {
    /// The document's terms type code (X12 ITD01, EDIFACT PAT 4279).
    public var typeCode: String?
    public var basisDateCode: String?
    public var discountPercent: Decimal?
    public var discountDays: Int?
    public var netDays: Int?
    public var description: String?

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case typeCode, basisDateCode, discountPercent, discountDays, netDays, description
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.typeCode = try container.decodeIfPresent(String.self, forKey: .typeCode)
        self.basisDateCode = try container.decodeIfPresent(String.self, forKey: .basisDateCode)
        self.discountPercent = try container.decodeDecimalTextIfPresent(forKey: .discountPercent)
        self.discountDays = try container.decodeIfPresent(Int.self, forKey: .discountDays)
        self.netDays = try container.decodeIfPresent(Int.self, forKey: .netDays)
        self.description = try container.decodeIfPresent(String.self, forKey: .description)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(self.typeCode, forKey: .typeCode)
        try container.encodeIfPresent(self.basisDateCode, forKey: .basisDateCode)
        try container.encodeIfPresent(self.discountPercent.map(DecimalText.format), forKey: .discountPercent)
        try container.encodeIfPresent(self.discountDays, forKey: .discountDays)
        try container.encodeIfPresent(self.netDays, forKey: .netDays)
        try container.encodeIfPresent(self.description, forKey: .description)
    }
}

/// The carrier and service a buyer asks for, or a shipment used.
public struct Carrier: Hashable, Sendable, Codable {
    /// Standard Carrier Alpha Code.
    public var scac: String?
    /// Service level (`GROUND`, `ND`), as the document gives it.
    public var service: String?
    /// Transportation method code (X12 TD504, EDIFACT TDT 8067).
    public var transportMethod: String?
    /// Free-text routing.
    public var routing: String?

    public init() {}
}

/// Item identifiers of a line: the buyer's and our part numbers, the GTIN (UPC-A, EAN-13 or GTIN-14 as sent), our SKU.
public struct ItemIdentifiers: Hashable, Sendable, Codable {
    public var buyerPart: String?
    public var vendorPart: String?
    public var gtin: String?
    public var sku: String?
    public var manufacturerPart: String?

    public init() {}

    public var isEmpty: Bool {
        self.buyerPart == nil && self.vendorPart == nil && self.gtin == nil && self.sku == nil
            && self.manufacturerPart == nil
    }
}
