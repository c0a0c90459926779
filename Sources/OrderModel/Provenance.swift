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
///
/// Mapping records an origin for nearly every value a document gives, so each is kept compact (`CompactOrigin`: 64
/// bytes with its field name, where a `FieldOrigin` alone is 112); building, copying and freeing the full values was
/// about a seventh of translating an X12 file.
public struct FieldOrigins: Hashable, Sendable, Codable {
    /// Every origin recorded, in order.
    public var entries: [(field: String, origin: FieldOrigin)] {
        self.storage.map { ($0.field, $0.origin.value) }
    }
    // Inlinable appends: mapping records an origin for nearly every value a document gives.
    @usableFromInline var storage: [Entry] = []

    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var field: String
        @usableFromInline var origin: CompactOrigin

        @inlinable
        init(field: String, origin: CompactOrigin) {
            self.field = field
            self.origin = origin
        }
    }

    public init() {}

    public var isEmpty: Bool { self.storage.isEmpty }

    /// Makes room for `count` more origins (a mapping knows how many fields its rules can fill), so that a record's
    /// origins are not copied again and again as they grow.
    @inlinable
    public mutating func reserveCapacity(_ count: Int) {
        self.storage.reserveCapacity(self.storage.count + count)
    }

    /// Appends the origin of `field`. A list field (address lines) gets one per value; lookups and JSON keep the last.
    @inlinable
    public mutating func append(_ field: String, _ origin: FieldOrigin) {
        self.storage.append(Entry(field: field, origin: CompactOrigin(origin)))
    }

    /// Appends the origin of `field` in an EDI segment without building a `FieldOrigin`: `tagCode` is the segment
    /// tag as `tagCode(_:)` packs it.
    @inlinable
    public mutating func append(
        _ field: String,
        segment: Int,
        tagCode: UInt32,
        element: Int,
        component: Int?,
        line: Int,
        column: Int
    ) {
        self.storage.append(
            Entry(
                field: field,
                origin: CompactOrigin.edi(
                    segment: segment,
                    tagCode: tagCode,
                    element: element,
                    component: component,
                    line: line,
                    column: column
                )
            )
        )
    }

    /// A segment tag of one to four ASCII letters or digits packed into an integer (for `append(_:segment:...)`); nil
    /// for any other text.
    public static func tagCode(_ tag: String) -> UInt32? { CompactOrigin.pack(tag) }

    public subscript(field: String) -> FieldOrigin? {
        self.storage.last { $0.field == field }?.origin.value
    }

    public static func == (lhs: FieldOrigins, rhs: FieldOrigins) -> Bool {
        lhs.storage.count == rhs.storage.count
            && zip(lhs.storage, rhs.storage).allSatisfy { $0.field == $1.field && $0.origin.value == $1.origin.value }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in self.storage {
            hasher.combine(entry.field)
            hasher.combine(entry.origin.value)
        }
    }

    public init(from decoder: any Decoder) throws {
        let dictionary = try decoder.singleValueContainer().decode([String: FieldOrigin].self)
        self.storage = dictionary.sorted { $0.key < $1.key }.map {
            Entry(field: $0.key, origin: CompactOrigin($0.value))
        }
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
        self.lastPerFieldByName.sorted { $0.index < $1.index }.map {
            (self.storage[$0.index].field, self.storage[$0.index].origin.value)
        }
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
    static func lastPerFieldByName(_ entries: UnsafeBufferPointer<Entry>) -> [Int] {
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

/// A `FieldOrigin` in 48 bytes: its positions as 32-bit numbers, its tag packed into one (up to four ASCII letters
/// or digits), its path as it is. A value that does not fit (a number past 32 bits, another tag) is kept whole in a
/// box. Reading `value` gives back exactly the origin that was stored.
@usableFromInline
struct CompactOrigin: Sendable {
    /// `Int32.min` for none.
    @usableFromInline var segment: Int32
    @usableFromInline var element: Int32
    @usableFromInline var component: Int32
    @usableFromInline var line: Int32
    @usableFromInline var column: Int32
    /// 0 for none.
    @usableFromInline var tag: UInt32
    @usableFromInline var path: String?
    @usableFromInline var whole: Box?

    @usableFromInline
    final class Box: Sendable {
        let origin: FieldOrigin
        init(_ origin: FieldOrigin) { self.origin = origin }
    }

    @usableFromInline static let none = Int32.min

    @inlinable
    init(segment: Int32, element: Int32, component: Int32, line: Int32, column: Int32, tag: UInt32) {
        self.segment = segment
        self.element = element
        self.component = component
        self.line = line
        self.column = column
        self.tag = tag
        self.path = nil
        self.whole = nil
    }

    /// An EDI origin, kept whole when a number does not fit.
    @inlinable
    static func edi(
        segment: Int,
        tagCode: UInt32,
        element: Int,
        component: Int?,
        line: Int,
        column: Int
    ) -> CompactOrigin {
        guard tagCode != 0, let segment32 = Self.fit(segment), let element32 = Self.fit(element),
            let component32 = Self.fit(component), let line32 = Self.fit(line), let column32 = Self.fit(column)
        else {
            return CompactOrigin(
                FieldOrigin(
                    segment: segment,
                    tag: Self.unpack(tagCode),
                    element: element,
                    component: component,
                    line: line,
                    column: column
                )
            )
        }
        return CompactOrigin(
            segment: segment32,
            element: element32,
            component: component32,
            line: line32,
            column: column32,
            tag: tagCode
        )
    }

    @usableFromInline
    init(_ origin: FieldOrigin) {
        let tag = origin.tag.map(Self.pack) ?? 0
        guard let segment = Self.fit(origin.segment), let element = Self.fit(origin.element),
            let component = Self.fit(origin.component), let line = Self.fit(origin.line),
            let column = Self.fit(origin.column), let tag
        else {
            self.init(
                segment: Self.none,
                element: Self.none,
                component: Self.none,
                line: Self.none,
                column: Self.none,
                tag: 0
            )
            self.whole = Box(origin)
            return
        }
        self.init(segment: segment, element: element, component: component, line: line, column: column, tag: tag)
        self.path = origin.path
    }

    /// A position as stored: `none` for nil; nil when it does not fit (past 32 bits, or `none` itself).
    @inlinable
    static func fit(_ value: Int?) -> Int32? {
        guard let value else { return Self.none }
        guard let small = Int32(exactly: value), small != Self.none else { return nil }
        return small
    }

    /// The origin stored.
    @usableFromInline
    var value: FieldOrigin {
        if let whole { return whole.origin }
        func number(_ value: Int32) -> Int? { value == Self.none ? nil : Int(value) }
        return FieldOrigin(
            segment: number(self.segment),
            tag: self.tag == 0 ? nil : Self.unpack(self.tag),
            element: number(self.element),
            component: number(self.component),
            path: self.path,
            line: number(self.line),
            column: number(self.column)
        )
    }

    /// One to four ASCII letters or digits, first byte lowest; nil for any other text.
    static func pack(_ tag: String) -> UInt32? {
        var code: UInt32 = 0
        var count = 0
        for byte in tag.utf8 {
            guard count < 4, byte.isASCIILetterOrDigit else { return nil }
            code |= UInt32(byte) << (8 * count)
            count += 1
        }
        return count == 0 ? nil : code
    }

    @usableFromInline
    static func unpack(_ code: UInt32) -> String {
        var bytes: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &bytes) { raw in
            var rest = code
            while rest != 0 {
                raw[count] = UInt8(truncatingIfNeeded: rest)
                rest >>= 8
                count += 1
            }
        }
        return withUnsafeBytes(of: &bytes) { String(decoding: $0.prefix(count), as: UTF8.self) }
    }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
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
