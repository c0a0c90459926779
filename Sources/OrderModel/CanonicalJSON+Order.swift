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
    /// The text written so far.
    public var bytes: [UInt8] { self.output.array }

    /// The bytes, in a buffer of the writer's own: appending a byte is a store and an increment (an array checked
    /// its uniqueness and capacity on every append, most of the time of writing an order's 10-20 KB).
    private let output = Output()
    /// For each open container, whether nothing has been written into it yet: a bit per level (the first 64 levels),
    /// then an array for deeper ones.
    private var emptyBits: UInt64 = 0
    private var deeperEmpty: [Bool] = []
    private var depth = 0
    private let isCompact: Bool

    public init(compact: Bool = false) {
        self.isCompact = compact
        self.output.reserve(compact ? 8 * 1024 : 16 * 1024)
    }

    public mutating func beginObject() {
        self.output.append(UInt8(ascii: "{"))
        if !self.isCompact { self.output.append(UInt8(ascii: "\n")) }
        self.push()
    }

    public mutating func endObject() {
        self.close(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        self.output.append(UInt8(ascii: "["))
        if !self.isCompact { self.output.append(UInt8(ascii: "\n")) }
        self.push()
    }

    public mutating func endArray() {
        self.close(UInt8(ascii: "]"))
    }

    /// Starts an object member; a key must be plain ASCII with nothing to escape (the model's field names).
    public mutating func key(_ key: StaticString) {
        self.separate()
        self.output.append(UInt8(ascii: "\""))
        self.output.append(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        self.output.append(UInt8(ascii: "\""))
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
        self.output.append(UInt8(ascii: "\""))
        // A native string is read in place; anything else is made contiguous first.
        if text.utf8.withContiguousStorageIfAvailable({ self.escaped($0) }) == nil {
            var copy = text
            copy.withUTF8 { self.escaped($0) }
        }
        self.output.append(UInt8(ascii: "\""))
    }

    /// Writes UTF-8 text with `"`, `\\` and control characters escaped.
    private mutating func escaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var start = 0
        for index in utf8.indices {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            self.output.append(UnsafeBufferPointer(rebasing: utf8[start..<index]))
            start = index + 1
            self.output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): self.output.append(byte)
            case 0x0A: self.output.append(UInt8(ascii: "n"))
            case 0x0D: self.output.append(UInt8(ascii: "r"))
            case 0x09: self.output.append(UInt8(ascii: "t"))
            case 0x08: self.output.append(UInt8(ascii: "b"))
            case 0x0C: self.output.append(UInt8(ascii: "f"))
            default:
                self.output.append(UInt8(ascii: "u"))
                self.output.append(UInt8(ascii: "0"))
                self.output.append(UInt8(ascii: "0"))
                self.output.append(Self.hex[Int(byte >> 4)])
                self.output.append(Self.hex[Int(byte & 0x0F)])
            }
        }
        self.output.append(UnsafeBufferPointer(rebasing: utf8[start...]))
    }

    /// An integer, its digits written directly.
    public mutating func number(_ value: Int) {
        if value < 0 { self.output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // 20 digits: enough for any Int.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var position = digits.count
            repeat {
                position -= 1
                digits[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            self.output.append(UnsafeBufferPointer(rebasing: digits[position...]))
        }
    }

    /// A number, `true`, `false` or `null`, written as it is.
    public mutating func literal(_ text: String) {
        var text = text
        text.withUTF8 { self.output.append($0) }
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
            self.output.append(UInt8(ascii: ":"))
        } else {
            self.output.append(UInt8(ascii: " "))
            self.output.append(UInt8(ascii: ":"))
            self.output.append(UInt8(ascii: " "))
        }
    }

    /// Opens a container: nothing written into it yet.
    private mutating func push() {
        if self.depth < 64 {
            self.emptyBits |= 1 << UInt64(self.depth)
        } else {
            self.deeperEmpty.append(true)
        }
        self.depth += 1
    }

    /// Whether the innermost container is still empty; it is not, from now on.
    private mutating func takeEmpty() -> Bool {
        let level = self.depth - 1
        if level < 64 {
            let bit: UInt64 = 1 << UInt64(level)
            defer { self.emptyBits &= ~bit }
            return self.emptyBits & bit != 0
        }
        defer { self.deeperEmpty[level - 64] = false }
        return self.deeperEmpty[level - 64]
    }

    private mutating func separate() {
        if !self.takeEmpty() {
            self.output.append(UInt8(ascii: ","))
            if !self.isCompact { self.output.append(UInt8(ascii: "\n")) }
        }
        if !self.isCompact { self.pad(self.depth * 2) }
    }

    private mutating func close(_ bracket: UInt8) {
        self.depth -= 1
        if self.depth >= 64 { self.deeperEmpty.removeLast() }
        if !self.isCompact {
            self.output.append(UInt8(ascii: "\n"))
            self.pad(self.depth * 2)
        }
        self.output.append(bracket)
    }

    private mutating func pad(_ count: Int) {
        for _ in 0..<count { self.output.append(UInt8(ascii: " ")) }
    }

    /// A growable byte buffer, written only through its writer.
    private final class Output {
        private var base: UnsafeMutablePointer<UInt8>
        private var count = 0
        private var capacity = 0

        init() {
            self.base = UnsafeMutablePointer.allocate(capacity: 0)
        }

        deinit {
            self.base.deallocate()
        }

        var array: [UInt8] { Array(UnsafeBufferPointer(start: self.base, count: self.count)) }

        func reserve(_ capacity: Int) {
            guard capacity > self.capacity else { return }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            grown.update(from: self.base, count: self.count)
            self.base.deallocate()
            self.base = grown
            self.capacity = capacity
        }

        @inline(__always)
        func append(_ byte: UInt8) {
            if self.count == self.capacity { self.reserve(max(64, self.capacity * 2)) }
            self.base[self.count] = byte
            self.count += 1
        }

        func append(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let source = bytes.baseAddress, bytes.count > 0 else { return }
            if self.count + bytes.count > self.capacity {
                self.reserve(max(self.count + bytes.count, self.capacity * 2))
            }
            (self.base + self.count).update(from: source, count: bytes.count)
            self.count += bytes.count
        }
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
        self.storage.withUnsafeBufferPointer { entries in
            for index in Self.lastPerFieldByName(entries) {
                writer.key(entries[index].field)
                entries[index].origin.write(to: &writer)
            }
        }
        writer.endObject()
    }
}

extension CompactOrigin {
    /// As `FieldOrigin` writes itself, from the compact values.
    func write(to writer: inout CanonicalJSONWriter) {
        if let whole {
            whole.origin.write(to: &writer)
            return
        }
        func number(_ value: Int32) -> Int? { value == Self.none ? nil : Int(value) }
        writer.beginObject()
        writer.field("column", number(self.column))
        writer.field("component", number(self.component))
        writer.field("element", number(self.element))
        writer.field("line", number(self.line))
        writer.field("path", self.path)
        writer.field("segment", number(self.segment))
        writer.field("tag", self.tag == 0 ? nil : Self.unpack(self.tag))
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
