import EDISyntax
import Foundation
import OrderModel

/// Values that come from the rendering call rather than the record: our identity and the partner's, control and
/// document numbers, the time of rendering. Pure code takes time as a parameter, never from the clock.
public struct RenderContext: Sendable {
    public var now: DocumentDate
    /// Named values a map can read with `{context: name}` (`senderID`, `receiverID`, `payloadID`, ...).
    public var values: [String: String]

    public init(now: DocumentDate, values: [String: String] = [:]) {
        self.now = now
        self.values = values
    }
}

/// A record that cannot be rendered: a required value is missing, or a value does not fit.
public struct RenderError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    /// The rule, as `file:line`.
    public var rule: String

    public var description: String { "\(self.message) (mapping \(self.rule))" }
}

/// How one output value is made: from a field of the record, a constant, the context, an aggregate or the HL counter.
/// A class: rendering reads each spec of a layout once per record, and a struct this size was copied every time.
/// It is set up while its map compiles and never changed after.
final class OutputSpec<Root>: @unchecked Sendable {
    enum Source: Sendable {
        case field(FieldSlot<Root>, index: Int?)
        /// A field of an enclosing record (`^purchaseOrderNumber` inside `each: packs`).
        case parent(@Sendable (RenderState) -> [CanonicalValue], index: Int?)
        case constant(String)
        case context(String)
        case now
        case aggregate(@Sendable (Root) -> [CanonicalValue], isCount: Bool)
        case hierarchy(HierarchyValue)
    }

    enum HierarchyValue: String, Sendable { case id, parent, children, count }

    var source: Source
    /// The value is written only when this field of the record has a value (a qualifier before its value).
    var condition: FieldSlot<Root>?
    var format: OutputFormat?
    var codes: CodeTable?
    var impliedDecimals: Int?
    var places: Int?
    var defaultValue: String?
    var isRequired: Bool
    /// For free-text EDI elements (AN, A): the schema's maximum length; longer text is cut to it, as EDI
    /// translators do (a description longer than EDIFACT's 35 characters would otherwise make the document invalid).
    var maximumLength: Int?
    /// An X12 hash total (`hash:`, CTT02): the values summed without regard to decimal points or signs, and cut on
    /// the left to `hashDigits` (the element's maximum length), as X12 defines it.
    var isHashTotal = false
    var hashDigits: Int?
    var file: String
    var line: Int

    init(source: Source, file: String, line: Int) {
        self.source = source
        self.condition = nil
        self.format = nil
        self.codes = nil
        self.impliedDecimals = nil
        self.places = nil
        self.defaultValue = nil
        self.isRequired = false
        self.maximumLength = nil
        self.file = file
        self.line = line
    }

    /// Whether the value comes from the record (so an empty value can make its segment or element disappear).
    var readsRecord: Bool {
        if self.condition != nil { return true }
        switch self.source {
        case .field, .parent, .aggregate, .context: return true
        default: return false
        }
    }

    func render(_ record: Root, _ state: RenderState) throws(RenderError) -> String {
        if let condition = self.condition {
            // A field stored in place holds one value at most; others may hold several (a list).
            let isEmpty =
                condition.offset != nil
                ? condition.firstValue(of: record)?.isEmptyText ?? true
                : condition.get(record).allSatisfy(\.isEmptyText)
            if isEmpty { return "" }
        }
        var value: CanonicalValue?
        switch self.source {
        case .field(let slot, let index) where index == nil || index == 1:
            value = slot.firstValue(of: record)
        case .field(let slot, let index):
            let values = slot.get(record)
            if let index { value = index <= values.count ? values[index - 1] : nil } else { value = values.first }
        case .parent(let read, let index):
            let values = read(state)
            if let index { value = index <= values.count ? values[index - 1] : nil } else { value = values.first }
        case .constant(let text): value = .text(text)
        case .context(let name): value = state.context.values[name].map { .text($0) }
        case .now: value = .date(state.context.now)
        case .aggregate(let compute, let isCount):
            let values = compute(record)
            if isCount {
                value = .integer(values.count)
            } else if self.isHashTotal {
                value = .text(Self.hashTotal(values, digits: self.hashDigits))
            } else {
                value = .decimal(values.reduce(Decimal(0)) { DecimalMath.sum($0, $1.decimalValue ?? 0) })
            }
        case .hierarchy(let which):
            switch which {
            case .id: value = .integer(state.hierarchyID)
            case .count: value = .integer(state.nextHierarchyID - 1)
            case .parent: value = state.hierarchyParent.map { .integer($0) }
            case .children: value = .text(state.hasHierarchyChildren ? "1" : "0")
            }
        }
        var text = value.map { self.formatted($0) } ?? ""
        if text.isEmpty, let defaultValue { text = defaultValue }
        if let codes, !text.isEmpty {
            text = codes.reverse(text) ?? codes.fallback ?? text
        }
        // Characters are counted only when the bytes might be too many (counting them walks the text).
        if let maximumLength, text.utf8.count > maximumLength, text.count > maximumLength {
            text = String(text.prefix(maximumLength))
        }
        if text.isEmpty && self.isRequired {
            throw RenderError(message: "a required value is missing (\(self.label))", rule: "\(self.file):\(self.line)")
        }
        return text
    }

    /// An X12 hash total: each value's digits as one whole number (1.5 counts 15, -2 counts 2), summed, and only
    /// the last `digits` digits kept ("truncation will occur on the left most digits").
    static func hashTotal(_ values: [CanonicalValue], digits: Int?) -> String {
        var total: Decimal = 0
        for value in values {
            guard let number = value.decimalValue else { continue }
            let text = DecimalText.format(number).filter { $0 != "." && $0 != "-" }
            total = DecimalMath.sum(total, DecimalText.parse(text) ?? 0)
        }
        var text = DecimalText.format(total)
        if let digits, digits > 0, text.count > digits {
            text = String(text.suffix(digits).drop { $0 == "0" })
            if text.isEmpty { text = "0" }
        }
        return text
    }

    /// What the value is, for messages.
    private var label: String {
        switch self.source {
        case .field(let slot, _): return "field \(slot.name)"
        case .parent: return "a field of an enclosing record"
        case .context(let name): return "context value \(name)"
        case .aggregate: return "a count or sum"
        case .hierarchy(let which): return "hl \(which.rawValue)"
        case .constant, .now: return "a constant"
        }
    }

    private func formatted(_ value: CanonicalValue) -> String {
        switch value {
        case .date(let date):
            return (self.format ?? .ccyymmdd).render(date)
        case .decimal(let number), .quantity(let number, _), .money(let number, _):
            if let implied = self.impliedDecimals {
                var scaled = number
                for _ in 0..<implied { scaled *= 10 }
                return DecimalText.format(scaled, places: 0)
            }
            if let places = self.places { return DecimalText.format(number, places: places) }
            return DecimalText.format(number)
        case .integer(let number):
            return String(number)
        case .text(let text):
            return text
        }
    }
}

/// How a date is written in an outbound document.
enum OutputFormat: Sendable {
    case ccyymmdd, yymmdd, ccyymmddhhmm, hhmm, hhmmss, iso8601, isoDate

    init?(name: String) {
        switch name.uppercased() {
        case "CCYYMMDD", "YYYYMMDD": self = .ccyymmdd
        case "YYMMDD": self = .yymmdd
        case "CCYYMMDDHHMM": self = .ccyymmddhhmm
        case "HHMM": self = .hhmm
        case "HHMMSS": self = .hhmmss
        case "ISO8601": self = .iso8601
        case "DATE", "ISODATE": self = .isoDate
        default: return nil
        }
    }

    static let names = "CCYYMMDD, YYMMDD, CCYYMMDDHHMM, HHMM, HHMMSS, ISO8601, DATE"

    func render(_ date: DocumentDate) -> String {
        let time = date.time ?? (0, 0, 0)
        switch self {
        case .ccyymmdd: return Self.digits([(date.year, 4), (date.month, 2), (date.day, 2)])
        case .yymmdd: return Self.digits([(date.year % 100, 2), (date.month, 2), (date.day, 2)])
        case .ccyymmddhhmm:
            return Self.digits([(date.year, 4), (date.month, 2), (date.day, 2), (time.hour, 2), (time.minute, 2)])
        case .hhmm: return Self.digits([(time.hour, 2), (time.minute, 2)])
        case .hhmmss: return Self.digits([(time.hour, 2), (time.minute, 2), (time.second, 2)])
        case .iso8601: return date.description
        case .isoDate: return date.dateOnly.description
        }
    }

    /// The numbers zero-padded to their widths, one after the other (a negative number or one wider than its width,
    /// which no valid date has, is written as `String` writes it).
    private static func digits(_ parts: [(value: Int, width: Int)]) -> String {
        guard parts.allSatisfy({ $0.value >= 0 && String($0.value).utf8.count <= $0.width }) else {
            return parts.map { part in
                let text = String(part.value)
                return String(repeating: "0", count: max(0, part.width - text.utf8.count)) + text
            }.joined()
        }
        return String(unsafeUninitializedCapacity: parts.reduce(0) { $0 + $1.width }) { buffer in
            var end = 0
            for (value, width) in parts {
                end += width
                var rest = value
                for index in stride(from: end - 1, through: end - width, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
            }
            return end
        }
    }
}

/// Mutable state of one rendering: the context and the hierarchical-level counter.
final class RenderState {
    let context: RenderContext
    var nextHierarchyID = 1
    var hierarchyID = 0
    var hierarchyParent: Int?
    var hasHierarchyChildren = false
    /// The records enclosing the one being rendered, outermost first (read by `^field`).
    var parents: [Any] = []
    /// The HL/CPS ID of the level being rendered, for its children's parent references.
    var currentLevel: Int?

    init(context: RenderContext) {
        self.context = context
    }
}
