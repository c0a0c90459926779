/// Where one canonical field came from in its source document, so that a later rule can point at the source:
/// a segment position, element and component for EDI, an element path with line and column for XML.
public struct FieldOrigin: Hashable, Sendable, Codable, CustomStringConvertible {
    /// 1-based position of the segment in its transaction set (ST or UNH is 1).
    public var segment: Int?
    public var tag: String?
    /// 1-based element position within the segment.
    public var element: Int?
    /// 1-based component position within the element, for composites.
    public var component: Int?
    /// The XML element path (`OrderRequest/ItemOut[2]/ItemDetail/UnitPrice/Money`).
    public var path: String?
    /// Line and column in the file.
    public var line: Int?
    public var column: Int?

    @inlinable
    public init(
        segment: Int? = nil,
        tag: String? = nil,
        element: Int? = nil,
        component: Int? = nil,
        path: String? = nil,
        line: Int? = nil,
        column: Int? = nil
    ) {
        self.segment = segment
        self.tag = tag
        self.element = element
        self.component = component
        self.path = path
        self.line = line
        self.column = column
    }

    public var description: String {
        if let tag, let segment {
            var text = "segment \(segment) (\(tag))"
            if let element { text += ", element \(element)" }
            if let component { text += ", component \(component)" }
            return text
        }
        var text = self.path ?? "document"
        if let line { text += " (line \(line)" + (self.column.map { ", column \($0)" } ?? "") + ")" }
        return text
    }
}

/// The origins of one record's fields, by canonical field name. Kept as a list (cheap to append while mapping) and
/// encoded as a JSON object with sorted keys.
public struct FieldOrigins: Hashable, Sendable, Codable {
    /// Every origin recorded, in order.
    public var entries: [(field: String, origin: FieldOrigin)] { self.storage }
    // Inlinable appends: mapping records an origin for nearly every value a document gives.
    @usableFromInline var storage: [(field: String, origin: FieldOrigin)] = []

    public init() {}

    public var isEmpty: Bool { self.entries.isEmpty }

    /// Makes room for `count` more origins (a mapping knows how many fields its rules can fill), so that a record's
    /// origins are not copied again and again as they grow.
    @inlinable
    public mutating func reserveCapacity(_ count: Int) {
        self.storage.reserveCapacity(self.storage.count + count)
    }

    /// Appends the origin of `field`. A list field (address lines) gets one per value; lookups and JSON keep the last.
    @inlinable
    public mutating func append(_ field: String, _ origin: FieldOrigin) {
        self.storage.append((field, origin))
    }

    public subscript(field: String) -> FieldOrigin? {
        self.entries.last { $0.field == field }?.origin
    }

    public static func == (lhs: FieldOrigins, rhs: FieldOrigins) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.field == $1.field && $0.origin == $1.origin }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in self.entries {
            hasher.combine(entry.field)
            hasher.combine(entry.origin)
        }
    }

    public init(from decoder: any Decoder) throws {
        let dictionary = try decoder.singleValueContainer().decode([String: FieldOrigin].self)
        self.storage = dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// A JSON object keyed by field; a field recorded more than once keeps its last origin.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        for entry in self.lastPerField {
            try container.encode(entry.origin, forKey: FieldKey(stringValue: entry.field))
        }
    }

    /// One entry per field, the last recorded (what JSON keeps), in recording order.
    var lastPerField: [(field: String, origin: FieldOrigin)] {
        self.lastPerFieldByName.sorted { $0.index < $1.index }.map { self.entries[$0.index] }
    }

    /// One entry per field, the last recorded, as positions in `entries`, sorted by field name (UTF-8 byte order).
    var lastPerFieldByName: [(field: String, index: Int)] {
        self.storage.withUnsafeBufferPointer { entries in
            Self.lastPerFieldByName(entries).map { (entries[$0].field, $0) }
        }
    }

    /// The positions of the last entry of each field, sorted by field name (UTF-8 byte order): a sort and one pass,
    /// where comparing every entry with every later one cost a line's JSON more than the rest of it. Names are
    /// compared by their first eight bytes as one integer, and in full only when those are equal; the entries are
    /// read in place (a copy of an entry retains its strings).
    static func lastPerFieldByName(_ entries: UnsafeBufferPointer<(field: String, origin: FieldOrigin)>) -> [Int] {
        var order = entries.indices.map { (prefix: Self.prefix(entries[$0].field), index: $0) }
        order.sort { left, right in
            if left.prefix != right.prefix { return left.prefix < right.prefix }
            if entries[left.index].field == entries[right.index].field { return left.index < right.index }
            return entries[left.index].field.utf8.lexicographicallyPrecedes(entries[right.index].field.utf8)
        }
        var kept: [Int] = []
        kept.reserveCapacity(order.count)
        for position in order.indices {
            let index = order[position].index
            if position + 1 < order.count, order[position + 1].prefix == order[position].prefix,
                entries[order[position + 1].index].field == entries[index].field
            {
                continue
            }
            kept.append(index)
        }
        return kept
    }

    /// The first eight UTF-8 bytes of `name`, big-endian, zero-padded: integers that order as the names' prefixes do.
    private static func prefix(_ name: String) -> UInt64 {
        var result: UInt64 = 0
        var count = 0
        for byte in name.utf8 {
            guard count < 8 else { break }
            result = result << 8 | UInt64(byte)
            count += 1
        }
        return count == 8 ? result : result << UInt64(8 * (8 - count))
    }

    private struct FieldKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }

        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// The document a canonical value was read from: envelope identities and control numbers, the set's position in the
/// file, and the mapping (and its version) that produced it.
public struct DocumentSource: Hashable, Sendable, Codable {
    /// `x12`, `edifact` or `xml`.
    public var format: String
    /// `850`, `ORDERS`, `OrderRequest`, `Order`.
    public var documentType: String?
    /// `004010`, `D96A`, `1.2.050`, `2.1`.
    public var version: String?
    public var senderQualifier: String?
    public var senderID: String?
    public var receiverQualifier: String?
    public var receiverID: String?
    public var interchangeControlNumber: String?
    public var groupControlNumber: String?
    public var transactionSetControlNumber: String?
    /// Byte offset of the set (or XML record) in the file.
    public var byteOffset: Int?
    /// Line of the set header (or XML record start tag).
    public var line: Int?
    /// The mapping file that produced the value (`x12/850-004010`) and a hash of its effective content.
    public var mapping: String?
    public var mappingVersion: String?

    public init(format: String) {
        self.format = format
    }
}
