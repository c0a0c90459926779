import EDISyntax
import Foundation
import OrderModel
import XMLSyntax

/// Where a value comes from in a document.
enum ValueSource: Sendable {
    case edi(EDIPath)
    /// X12 qualifier/value pairs from an element on (`PO106`/`PO107`, `PO108`/`PO109`, ...): the value whose qualifier
    /// is one of `qualifiers`.
    case pairs(ElementReference, qualifiers: [String])
    case xml(XMLPath)
    case constant(String)
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
        let bytes = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[from..<(from + count)] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        func timeParts(_ time: String?) -> (Int, Int, Int)? {
            guard let time, !time.isEmpty else { return nil }
            let digits = Array(time.utf8)
            guard digits.count >= 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            let value = digits.map { Int($0 - 0x30) }
            let second = digits.count >= 6 ? value[4] * 10 + value[5] : 0
            return (value[0] * 10 + value[1], value[2] * 10 + value[3], second)
        }
        var format = self
        if self == .edifactQualified {
            switch code ?? "102" {
            case "102": format = .ccyymmdd
            case "101": format = .yymmdd
            case "203": format = .ccyymmddhhmm
            case "204": format = .ccyymmddhhmmss
            case "718", "711": format = .ccyymmdd  // a range: its first date
            default: return nil
            }
        }
        switch format {
        case .iso8601:
            return DocumentDate(iso8601: text)
        case .yymmdd:
            guard bytes.count == 6, let year = number(0, 2), let month = number(2, 2), let day = number(4, 2) else {
                return nil
            }
            let parts = timeParts(time)
            return DocumentDate(
                year: year < 50 ? 2000 + year : 1900 + year,
                month: month,
                day: day,
                hour: parts?.0,
                minute: parts?.1 ?? 0,
                second: parts?.2 ?? 0
            )
        case .ccyymmdd where bytes.count == 6:
            // X12 before 004010 wrote dates as YYMMDD; a CCYYMMDD rule reads those too.
            return DateFormat.yymmdd.parse(text, code: nil, time: time)
        default:
            let expected = format == .ccyymmdd ? 8 : format == .ccyymmddhhmm ? 12 : 14
            let isRange = self == .edifactQualified && (code == "718" || code == "711")
            guard bytes.count == expected || (isRange && bytes.count >= 8), let year = number(0, 4),
                let month = number(4, 2), let day = number(6, 2)
            else { return nil }
            if format == .ccyymmdd {
                let parts = timeParts(time)
                return DocumentDate(
                    year: year,
                    month: month,
                    day: day,
                    hour: parts?.0,
                    minute: parts?.1 ?? 0,
                    second: parts?.2 ?? 0
                )
            }
            guard let hour = number(8, 2), let minute = number(10, 2) else { return nil }
            let second = expected == 14 ? number(12, 2) : 0
            guard let second else { return nil }
            return DocumentDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        }
    }
}

/// A code table: source code → canonical value, with an optional fallback for codes not listed.
struct CodeTable: Sendable {
    var name: String
    var entries: [String: String]
    var fallback: String?
    /// Where each entry's value is written, for messages.
    var positions: [String: (line: Int, column: Int)]

    func translate(_ code: String) -> String? {
        self.entries[code] ?? self.fallback
    }

    /// The reverse direction, for rendering: canonical value → the first source code that maps to it.
    func reverse(_ value: String) -> String? {
        self.entries.sorted { $0.key < $1.key }.first { $0.value == value }?.key ?? nil
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
