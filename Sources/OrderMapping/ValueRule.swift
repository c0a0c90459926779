import EDISyntax
import Foundation
import OrderModel
import XMLSyntax

/// Where a value comes from in a document. (Each case holds one reference, so that reading rules on the hot path
/// copies one pointer, not a payload of strings and arrays.)
enum ValueSource: Sendable {
    case edi(EDIPath)
    /// X12 qualifier/value pairs from an element on (`PO106`/`PO107`, `PO108`/`PO109`, ...).
    case pairs(PairSource)
    case xml(XMLPath)
    case constant(String)
}

/// X12 qualifier/value pairs from `start` on: the value whose qualifier is one of `qualifiers`.
final class PairSource: Sendable {
    let start: ElementReference
    let qualifiers: [String]

    init(start: ElementReference, qualifiers: [String]) {
        self.start = start
        self.qualifiers = qualifiers
    }
}

/// How a date or time is written in the source.
enum DateFormat: Hashable, Sendable {
    case ccyymmdd, yymmdd, ccyymmddhhmm, ccyymmddhhmmss, iso8601
    /// EDIFACT: the format code (2379) is the component after the value (`DTM+137:20261123:102`).
    case edifactQualified

    init?(name: String) {
        switch name.uppercased() {
        case "CCYYMMDD", "YYYYMMDD": self = .ccyymmdd
        case "YYMMDD": self = .yymmdd
        case "CCYYMMDDHHMM": self = .ccyymmddhhmm
        case "CCYYMMDDHHMMSS": self = .ccyymmddhhmmss
        case "ISO8601": self = .iso8601
        case "EDIFACT", "2379": self = .edifactQualified
        default: return nil
        }
    }

    static let names = "CCYYMMDD, YYMMDD, CCYYMMDDHHMM, CCYYMMDDHHMMSS, ISO8601, EDIFACT"

    /// Parses `text`; `code` is the EDIFACT format code for `.edifactQualified`.
    func parse(_ text: String, code: String?, time: String?) -> DocumentDate? {
        var format = self
        if self == .edifactQualified {
            switch code ?? "102" {
            case "102": format = .ccyymmdd
            case "101": format = .yymmdd
            case "203": format = .ccyymmddhhmm
            case "204": format = .ccyymmddhhmmss
            case "718", "711":
                // A range (`20261101-20261130`): its first date.
                return DocumentDate(compact: String(text.prefix(8)), time: time)
            default: return nil
            }
        }
        let count = text.utf8.count
        switch format {
        case .iso8601: return DocumentDate(iso8601: text)
        case .yymmdd: guard count == 6 else { return nil }
        // X12 before 004010 wrote dates as YYMMDD; a CCYYMMDD rule reads those too.
        case .ccyymmdd: guard count == 8 || count == 6 else { return nil }
        case .ccyymmddhhmm: guard count == 12 else { return nil }
        case .ccyymmddhhmmss: guard count == 14 else { return nil }
        case .edifactQualified: return nil
        }
        return DocumentDate(compact: text, time: time)
    }
}

/// A code table: source code → canonical value, with an optional fallback for codes not listed. (A class: rules
/// share tables, and the mapping hot path reads them without copying four references.)
final class CodeTable: @unchecked Sendable {
    let name: String
    var entries: [String: String] {
        didSet { self.reversed = Self.reversed(self.entries) }
    }
    var fallback: String?
    /// Canonical value → the first source code (in code order) that maps to it; kept with `entries` (they are set
    /// while the map compiles, and only read after).
    private var reversed: [String: String]
    /// Where each entry's value is written, for messages.
    var positions: [String: (line: Int, column: Int)]

    init(name: String, entries: [String: String], fallback: String?, positions: [String: (line: Int, column: Int)]) {
        self.name = name
        self.entries = entries
        self.fallback = fallback
        self.positions = positions
        self.reversed = Self.reversed(entries)
    }

    private static func reversed(_ entries: [String: String]) -> [String: String] {
        var result: [String: String] = [:]
        for (code, value) in entries where result[value].map({ code < $0 }) ?? true { result[value] = code }
        return result
    }

    func translate(_ code: String) -> String? {
        self.entries[code] ?? self.fallback
    }

    /// The reverse direction, for rendering: canonical value → the first source code that maps to it.
    func reverse(_ value: String) -> String? {
        self.reversed[value]
    }
}

/// How one canonical field is read from a scope of a document: where from, and how the text becomes a value.
final class ValueRule: @unchecked Sendable {
    var field: String
    var type: CanonicalFieldType
    /// Tried in order; the first that gives a non-empty value wins (`paths:`).
    var sources: [ValueSource]
    /// `concat:` — all values joined (each source may give several).
    var concatenation: (sources: [ValueSource], separator: String)?
    var codes: CodeTable?
    var dateFormat: DateFormat?
    var time: ValueSource?
    var impliedDecimals: Int?
    var unit: [ValueSource]
    var unitCodes: CodeTable?
    var currency: [ValueSource]
    var defaultValue: String?
    var isRequired: Bool
    /// Where the rule is written in its mapping file (for messages about documents that break it).
    var file: String
    var line: Int

    init(field: String, type: CanonicalFieldType, file: String, line: Int) {
        self.field = field
        self.type = type
        self.sources = []
        self.unit = []
        self.currency = []
        self.isRequired = false
        self.file = file
        self.line = line
    }
}

/// A document that cannot be mapped: a required value missing, a number or date that does not parse, a code that
/// has no canonical meaning. Names the field, the rule's place in the mapping file, and the place in the document.
public struct DocumentMappingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var origin: FieldOrigin?
    /// The rule, as `file:line`.
    public var rule: String

    public var description: String {
        (self.origin.map { "\($0): " } ?? "") + "\(self.field): \(self.message) (mapping \(self.rule))"
    }
}
