import Foundation

// The direct JSON writer for orders, the values the daemon encodes for every file it stores. It writes the same
// text as the Codable path (keys sorted by their UTF-8 bytes, pretty printed), field by field with the keys listed
// here already in that order, without building a tree: several times faster. CanonicalJSONTests prove that both
// paths agree on fully populated values and on the corpus.

/// A value the direct writer can write. `CanonicalJSON.encode` uses it instead of the Codable path when a value
/// conforms (orders here; the rules' decisions in OrderRules).
public protocol CanonicalJSONWritable {
    func write(to writer: inout CanonicalJSONWriter)
}

/// Writes pretty-printed JSON in JSONEncoder's layout (two spaces per level, `"key" : value`, an empty container
/// as an opening and closing bracket with a blank line between them), or the same members compact (no white space:
/// what the database stores, half the bytes).
public struct CanonicalJSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// For each open container: whether nothing has been written into it yet.
    private var isEmpty: [Bool] = []
    private let isCompact: Bool

    public init(compact: Bool = false) {
        self.isCompact = compact
        self.bytes.reserveCapacity(compact ? 8 * 1024 : 16 * 1024)
    }

    public mutating func beginObject() {
        self.bytes.append(UInt8(ascii: "{"))
        if !self.isCompact { self.bytes.append(UInt8(ascii: "\n")) }
        self.isEmpty.append(true)
    }

    public mutating func endObject() {
        self.close(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        self.bytes.append(UInt8(ascii: "["))
        if !self.isCompact { self.bytes.append(UInt8(ascii: "\n")) }
        self.isEmpty.append(true)
    }

    public mutating func endArray() {
        self.close(UInt8(ascii: "]"))
    }

    /// Starts an object member; a key must be plain ASCII with nothing to escape (the model's field names).
    public mutating func key(_ key: StaticString) {
        self.separate()
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        self.bytes.append(UInt8(ascii: "\""))
        self.colon()
    }

    /// Starts an object member with a key from data (escaped).
    public mutating func key(_ key: String) {
        self.separate()
        self.string(key)
        self.colon()
    }

    /// Starts an array element.
    public mutating func element() {
        self.separate()
    }

    public mutating func string(_ text: String) {
        self.bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for (index, byte) in utf8.enumerated()
            where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                self.bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): self.bytes.append(byte)
                case 0x0A: self.bytes.append(UInt8(ascii: "n"))
                case 0x0D: self.bytes.append(UInt8(ascii: "r"))
                case 0x09: self.bytes.append(UInt8(ascii: "t"))
                case 0x08: self.bytes.append(UInt8(ascii: "b"))
                case 0x0C: self.bytes.append(UInt8(ascii: "f"))
                default:
                    self.bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    self.bytes.append(Self.hex[Int(byte >> 4)])
                    self.bytes.append(Self.hex[Int(byte & 0x0F)])
                }
            }
            self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    public mutating func number(_ value: Int) {
        self.literal(String(value))
    }

    /// A number, `true`, `false` or `null`, written as it is.
    public mutating func literal(_ text: String) {
        var text = text
        text.withUTF8 { self.bytes.append(contentsOf: $0) }
    }

    // MARK: Members, skipped when nil (as `encodeIfPresent` does)

    public mutating func field(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        self.string(value)
    }

    public mutating func field(_ key: StaticString, _ value: Int?) {
        guard let value else { return }
        self.key(key)
        self.number(value)
    }

    /// Money and quantities: decimal text, as a JSON string.
    public mutating func field(_ key: StaticString, _ value: Decimal?) {
        guard let value else { return }
        self.key(key)
        self.string(DecimalText.format(value))
    }

    public mutating func field<Value: CanonicalJSONWritable>(_ key: StaticString, _ value: Value?) {
        guard let value else { return }
        self.key(key)
        value.write(to: &self)
    }

    public mutating func field(_ key: StaticString, _ values: [String]) {
        self.key(key)
        self.beginArray()
        for value in values {
            self.element()
            self.string(value)
        }
        self.endArray()
    }

    /// A decimal as a JSON number (plain notation), as `JSONEncoder` writes a `Decimal`; skipped when nil.
    public mutating func number(_ key: StaticString, _ value: Decimal?) {
        guard let value else { return }
        self.key(key)
        self.literal(DecimalText.format(value))
    }

    public mutating func field(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        self.literal(value ? "true" : "false")
    }

    public mutating func field(_ key: StaticString, _ value: Double?) {
        guard let value else { return }
        self.key(key)
        self.literal(value.isFinite ? "\(value)" : "null")
    }

    // MARK: Layout

    private static let hex = Array("0123456789abcdef".utf8)

    private mutating func colon() {
        if self.isCompact {
            self.bytes.append(UInt8(ascii: ":"))
        } else {
            self.bytes.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")])
        }
    }

    private mutating func separate() {
        if self.isEmpty[self.isEmpty.count - 1] {
            self.isEmpty[self.isEmpty.count - 1] = false
        } else {
            self.bytes.append(UInt8(ascii: ","))
            if !self.isCompact { self.bytes.append(UInt8(ascii: "\n")) }
        }
        if !self.isCompact { self.pad(self.isEmpty.count * 2) }
    }

    private mutating func close(_ bracket: UInt8) {
        self.isEmpty.removeLast()
        if !self.isCompact {
            self.bytes.append(UInt8(ascii: "\n"))
            self.pad(self.isEmpty.count * 2)
        }
        self.bytes.append(bracket)
    }

    private mutating func pad(_ count: Int) {
        for _ in 0..<count { self.bytes.append(UInt8(ascii: " ")) }
    }
}

extension Array: CanonicalJSONWritable where Element: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginArray()
        for value in self {
            writer.element()
            value.write(to: &writer)
        }
        writer.endArray()
    }
}

extension DocumentDate: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.string(self.description)
    }
}

extension FieldOrigins: CanonicalJSONWritable {
    /// An object keyed by field name, sorted; a field recorded more than once keeps its last origin.
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        for (field, index) in self.lastPerFieldByName {
            writer.key(field)
            self.entries[index].origin.write(to: &writer)
        }
        writer.endObject()
    }
}

// MARK: The model's records (keys in UTF-8 byte order)

extension Order: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("cancelAfter", self.cancelAfter)
        writer.field("carrier", self.carrier)
        writer.field("currency", self.currency)
        writer.field("declaredAmount", self.declaredAmount)
        writer.field("declaredLineCount", self.declaredLineCount)
        writer.field("declaredQuantityTotal", self.declaredQuantityTotal)
        writer.field("id", self.id)
        writer.field("lines", self.lines)
        writer.field("notes", self.notes)
        writer.field("orderDate", self.orderDate)
        writer.field("orderType", self.orderType)
        writer.field("origins", self.origins)
        writer.field("parties", self.parties)
        writer.field("partnerID", self.partnerID)
        writer.field("paymentTerms", self.paymentTerms)
        writer.field("purchaseOrderNumber", self.purchaseOrderNumber)
        writer.field("purpose", self.purpose.rawValue)
        writer.field("references", self.references)
        writer.field("releaseNumber", self.releaseNumber)
        writer.field("requestedDeliveryDate", self.requestedDeliveryDate)
        writer.field("requestedShipDate", self.requestedShipDate)
        writer.field("source", self.source)
        writer.endObject()
    }
}

extension OrderLine: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("change", self.change?.rawValue)
        writer.field("description", self.description)
        writer.field("item", self.item)
        writer.field("lineNumber", self.lineNumber)
        writer.field("notes", self.notes)
        writer.field("origins", self.origins)
        writer.field("parties", self.parties)
        writer.field("priceBasis", self.priceBasis)
        writer.field("quantity", self.quantity)
        writer.field("references", self.references)
        writer.field("requestedDeliveryDate", self.requestedDeliveryDate)
        writer.field("requestedShipDate", self.requestedShipDate)
        writer.field("unitPrice", self.unitPrice)
        writer.endObject()
    }
}

extension Address: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("city", self.city)
        writer.field("country", self.country)
        writer.field("lines", self.lines)
        writer.field("postalCode", self.postalCode)
        writer.field("region", self.region)
        writer.endObject()
    }
}

extension Contact: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("email", self.email)
        writer.field("name", self.name)
        writer.field("phone", self.phone)
        writer.endObject()
    }
}

extension Party: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("address", self.address)
        writer.field("contact", self.contact)
        writer.field("identifier", self.identifier)
        writer.field("identifierQualifier", self.identifierQualifier)
        writer.field("name", self.name)
        writer.field("origins", self.origins)
        writer.field("references", self.references)
        writer.field("role", self.role.rawValue)
        writer.field("roleCode", self.roleCode)
        writer.endObject()
    }
}

extension Reference: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("description", self.description)
        writer.field("qualifier", self.qualifier)
        writer.field("value", self.value)
        writer.endObject()
    }
}

extension Note: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("code", self.code)
        writer.field("text", self.text)
        writer.endObject()
    }
}

extension PaymentTerms: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("basisDateCode", self.basisDateCode)
        writer.field("description", self.description)
        writer.field("discountDays", self.discountDays)
        writer.field("discountPercent", self.discountPercent)
        writer.field("netDays", self.netDays)
        writer.field("typeCode", self.typeCode)
        writer.endObject()
    }
}

extension Carrier: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("routing", self.routing)
        writer.field("scac", self.scac)
        writer.field("service", self.service)
        writer.field("transportMethod", self.transportMethod)
        writer.endObject()
    }
}

extension ItemIdentifiers: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("buyerPart", self.buyerPart)
        writer.field("gtin", self.gtin)
        writer.field("manufacturerPart", self.manufacturerPart)
        writer.field("sku", self.sku)
        writer.field("vendorPart", self.vendorPart)
        writer.endObject()
    }
}

extension FieldOrigin: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("column", self.column)
        writer.field("component", self.component)
        writer.field("element", self.element)
        writer.field("line", self.line)
        writer.field("path", self.path)
        writer.field("segment", self.segment)
        writer.field("tag", self.tag)
        writer.endObject()
    }
}

extension DocumentSource: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("byteOffset", self.byteOffset)
        writer.field("documentType", self.documentType)
        writer.field("format", self.format)
        writer.field("groupControlNumber", self.groupControlNumber)
        writer.field("interchangeControlNumber", self.interchangeControlNumber)
        writer.field("line", self.line)
        writer.field("mapping", self.mapping)
        writer.field("mappingVersion", self.mappingVersion)
        writer.field("receiverID", self.receiverID)
        writer.field("receiverQualifier", self.receiverQualifier)
        writer.field("senderID", self.senderID)
        writer.field("senderQualifier", self.senderQualifier)
        writer.field("transactionSetControlNumber", self.transactionSetControlNumber)
        writer.field("version", self.version)
        writer.endObject()
    }
}

extension Money: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("amount", self.amount)
        writer.field("currency", self.currency)
        writer.endObject()
    }
}

extension Quantity: CanonicalJSONWritable {
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.beginObject()
        writer.field("unit", self.unit)
        writer.field("value", self.value)
        writer.endObject()
    }
}
