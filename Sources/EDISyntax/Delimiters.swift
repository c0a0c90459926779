/// The syntax family of a document, told from its first tag.
public enum Dialect: String, Hashable, Sendable, Codable {
    case x12
    case edifact
    case xml
}

/// The service characters of an interchange.
///
/// X12 reads them from the ISA's fixed positions; EDIFACT from the UNA service string or the syntax defaults.
/// The segment terminator may be several bytes (a UTF-8 character such as `…`); the other separators are one byte.
public struct Delimiters: Hashable, Sendable {
    public var element: UInt8
    public var component: UInt8
    /// X12 ISA11 from version 00403 on, EDIFACT UNA position 5 in syntax 4; `nil` where none is in use.
    public var repetition: UInt8?
    /// EDIFACT release character (`?`); X12 has none.
    public var release: UInt8?
    /// EDIFACT decimal mark (`.` or `,`); X12 always uses `.`.
    public var decimalMark: UInt8
    /// One to four bytes.
    public var segmentTerminator: [UInt8]

    public init(
        element: UInt8,
        component: UInt8,
        repetition: UInt8?,
        release: UInt8?,
        decimalMark: UInt8 = UInt8(ascii: "."),
        segmentTerminator: [UInt8]
    ) {
        self.element = element
        self.component = component
        self.repetition = repetition
        self.release = release
        self.decimalMark = decimalMark
        self.segmentTerminator = segmentTerminator
    }

    /// X12 as most partners send it: `*`, `>` (ISA16), `^` (ISA11), `~`.
    public static let x12Default = Delimiters(
        element: UInt8(ascii: "*"),
        component: UInt8(ascii: ">"),
        repetition: UInt8(ascii: "^"),
        release: nil,
        segmentTerminator: [UInt8(ascii: "~")]
    )

    /// EDIFACT defaults that apply when there is no UNA: `:` `+` `.` `?` (no repetition) `'`.
    public static let edifactDefault = Delimiters(
        element: UInt8(ascii: "+"),
        component: UInt8(ascii: ":"),
        repetition: nil,
        release: UInt8(ascii: "?"),
        segmentTerminator: [UInt8(ascii: "'")]
    )

    /// True when `byte` has a syntactic meaning and must be escaped (EDIFACT) or cannot appear (X12) in data.
    public func isDelimiter(_ byte: UInt8) -> Bool {
        byte == self.element || byte == self.component || byte == self.repetition || byte == self.release
            || byte == self.segmentTerminator.first
    }
}

extension Delimiters: CustomStringConvertible {
    public var description: String {
        func show(_ byte: UInt8?) -> String {
            guard let byte else { return "none" }
            switch byte {
            case 0x0A: return "\\n"
            case 0x0D: return "\\r"
            default: return String(decoding: [byte], as: UTF8.self)
            }
        }
        let terminator = String(decoding: self.segmentTerminator, as: UTF8.self)
            .replacingNewlines()
        return "element \(show(self.element)) component \(show(self.component)) repetition \(show(self.repetition))"
            + " release \(show(self.release)) terminator \(terminator)"
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        var result = ""
        for character in self.unicodeScalars {
            switch character {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }
}
