/// The data type of an element, as the standards define them.
public enum ElementType: Hashable, Sendable {
    /// X12 AN, EDIFACT an: any printable characters.
    case alphanumeric
    /// EDIFACT a: no digits.
    case alphabetic
    /// X12 ID: a code from a list.
    case identifier
    /// X12 R: a decimal number with an optional decimal point and sign.
    case decimal
    /// X12 N0..N9 (implied decimal places) and EDIFACT n (a number, decimal mark allowed).
    case numeric(impliedDecimals: Int)
    /// X12 DT: CCYYMMDD or YYMMDD.
    case date
    /// X12 TM: HHMM[SS[d[d]]].
    case time
    case binary
    case composite

    init?(code: String) {
        switch code {
        case "AN": self = .alphanumeric
        case "A": self = .alphabetic
        case "ID": self = .identifier
        case "R": self = .decimal
        case "N": self = .numeric(impliedDecimals: -1)
        case "DT": self = .date
        case "TM": self = .time
        case "B": self = .binary
        case "composite": self = .composite
        default:
            guard code.hasPrefix("N"), code.count == 2, let places = Int(code.dropFirst()) else { return nil }
            self = .numeric(impliedDecimals: places)
        }
    }
}

/// One element (or one component of a composite) of a segment.
public struct ElementDefinition: Sendable {
    /// 1-based position in the segment, or in the composite for a component.
    public var position: Int
    /// `BEG03`, `C002.1001`, `0062`.
    public var name: String
    public var isMandatory: Bool
    public var minimumLength: Int
    /// 0 when the standard gives no maximum.
    public var maximumLength: Int
    public var type: ElementType
    /// The components of a composite, in order.
    public var components: [ElementDefinition]
    /// The allowed codes of an identifier whose list is closed; nil when any value of the right form is accepted.
    public var codes: Set<String>?
    /// How many repetitions are allowed (1: the element does not repeat).
    public var maximumRepetitions = 1
}

/// An X12 syntax note: a relation between elements of one segment (X12.6).
public struct SyntaxRule: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Character, Hashable, Sendable {
        /// All or none.
        case paired = "P"
        /// At least one.
        case required = "R"
        /// At most one.
        case exclusion = "E"
        /// If the first, then all the others.
        case conditional = "C"
        /// If the first, then at least one of the others.
        case listConditional = "L"
    }

    public var kind: Kind
    /// 1-based element positions, in the order the note names them.
    public var positions: [Int]

    /// Parses `P0607`, `R020305`.
    public init?(_ note: String) {
        guard let first = note.first, let kind = Kind(rawValue: first) else { return nil }
        let digits = Array(note.dropFirst())
        guard digits.count >= 4, digits.count % 2 == 0 else { return nil }
        var positions: [Int] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let position = Int(String(digits[index...index + 1])) else { return nil }
            positions.append(position)
        }
        self.kind = kind
        self.positions = positions
    }

    public var description: String {
        String(self.kind.rawValue) + self.positions.map { $0 < 10 ? "0\($0)" : "\($0)" }.joined()
    }
}

/// The elements of one segment.
public struct SegmentDefinition: Sendable {
    public var tag: SegmentTag
    public var elements: [ElementDefinition]
    /// X12 syntax notes.
    public var rules: [SyntaxRule] = []
}

/// A loop of a transaction set's structure: the segment that starts it and what it holds.
public final class LoopDefinition: Sendable {
    /// The loop's name: its first segment's tag (997 AK303, for example `N1` or `PO1`).
    public let identifier: String
    public let isMandatory: Bool
    /// Most iterations allowed; `Int.max` when unbounded.
    public let maximumUse: Int
    public let children: [StructureNode]

    init(identifier: String, isMandatory: Bool, maximumUse: Int, children: [StructureNode]) {
        self.identifier = identifier
        self.isMandatory = isMandatory
        self.maximumUse = maximumUse
        self.children = children
    }

    /// The tag that starts the loop.
    public var firstTag: SegmentTag { self.children[0].tag }
}

/// One position of a structure: a segment or a nested loop.
public enum StructureNode: Sendable {
    case segment(tag: SegmentTag, isMandatory: Bool, maximumUse: Int)
    case loop(LoopDefinition)

    /// The tag that a segment at this position has (a loop's first tag).
    public var tag: SegmentTag {
        switch self {
        case .segment(let tag, _, _): return tag
        case .loop(let loop): return loop.firstTag
        }
    }

    public var isMandatory: Bool {
        switch self {
        case .segment(_, let isMandatory, _): return isMandatory
        case .loop(let loop): return loop.isMandatory
        }
    }

    public var maximumUse: Int {
        switch self {
        case .segment(_, _, let maximumUse): return maximumUse
        case .loop(let loop): return loop.maximumUse
        }
    }
}

/// The schema of one transaction set or message in one version: structure plus element dictionary.
public struct TransactionSetSchema: Sendable {
    public let dialect: Dialect
    /// `004010`, `005010`, `D96A`, `D01B`, or `CONTRL` for the service message.
    public let version: String
    /// `850`, `ORDERS`.
    public let identifier: String
    public let structure: LoopDefinition
    public let segments: [SegmentTag: SegmentDefinition]
    /// Every tag the structure uses.
    public let tagsInStructure: Set<SegmentTag>
    /// The same schema as plain-value tables, for the validator.
    let compiled: CompiledSchema

    init(
        dialect: Dialect,
        version: String,
        identifier: String,
        structure: LoopDefinition,
        segments: [SegmentTag: SegmentDefinition],
        tagsInStructure: Set<SegmentTag>
    ) {
        self.dialect = dialect
        self.version = version
        self.identifier = identifier
        self.structure = structure
        self.segments = segments
        self.tagsInStructure = tagsInStructure
        self.compiled = CompiledSchema(structure: structure, segments: segments, tagsInStructure: tagsInStructure)
    }
}

/// A schema file could not be read: names the file, line and what is wrong.
public struct SchemaError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { "\(self.file):\(self.line): \(self.message)" }
}

/// Reads the `.schema` format that `scripts/make-schemas.py` writes (tab-separated records: `schema`, `set`,
/// `element`, `codes`; `#` starts a comment).
enum SchemaFileParser {
    static func parse(_ text: String, file: String) throws -> [TransactionSetSchema] {
        var dialect: Dialect?
        var version = ""
        var sets: [(String, String, Int)] = []
        var rows: [(fields: [String], line: Int)] = []
        var codes: [String: Set<String>] = [:]
        var rules: [(String, SyntaxRule)] = []
        var repeats: [String: Int] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if rawLine.isEmpty || rawLine.hasPrefix("#") { continue }
            let fields = rawLine.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            func fail(_ message: String) -> SchemaError { SchemaError(file: file, line: lineNumber, message: message) }
            switch fields[0] {
            case "schema":
                guard fields.count == 3, let parsed = Dialect(rawValue: fields[1]) else {
                    throw fail("expected `schema<TAB>x12|edifact<TAB>version`")
                }
                dialect = parsed
                version = fields[2]
            case "set":
                guard fields.count == 3 else { throw fail("expected `set<TAB>id<TAB>(structure)`") }
                sets.append((fields[1], fields[2], lineNumber))
            case "element":
                guard fields.count == 8 else { throw fail("an element record has 8 fields, this one \(fields.count)") }
                rows.append((Array(fields.dropFirst()), lineNumber))
            case "codes":
                guard fields.count == 3 else { throw fail("expected `codes<TAB>element<TAB>code code ...`") }
                codes[fields[1], default: []].formUnion(fields[2].split(separator: " ").map(String.init))
            case "rule":
                guard fields.count == 3, let rule = SyntaxRule(fields[2]) else {
                    throw fail("expected `rule<TAB>segment<TAB>P0607` (kinds P, R, E, C, L)")
                }
                rules.append((fields[1], rule))
            case "repeat":
                guard fields.count == 3, let maximum = Int(fields[2]), maximum > 0 else {
                    throw fail("expected `repeat<TAB>element<TAB>maximum`")
                }
                repeats[fields[1]] = maximum
            default:
                throw fail("unknown record `\(fields[0])`")
            }
        }
        guard let dialect else { throw SchemaError(file: file, line: 1, message: "no `schema` record") }
        var segments = try self.segments(from: rows, codes: codes, file: file)
        for (tag, rule) in rules {
            guard segments[SegmentTag(tag)] != nil else {
                throw SchemaError(
                    file: file,
                    line: 1,
                    message: "rule \(rule) names segment \(tag), which has no elements"
                )
            }
            segments[SegmentTag(tag)]?.rules.append(rule)
        }
        for (name, maximum) in repeats {
            for (tag, segment) in segments {
                for index in segment.elements.indices where segment.elements[index].name == name {
                    segments[tag]?.elements[index].maximumRepetitions = maximum
                }
            }
        }
        return try sets.map { identifier, notation, line in
            var parser = StructureParser(text: notation, file: file, line: line)
            let structure = try parser.parseRoot()
            var tags = Set<SegmentTag>()
            func collect(_ loop: LoopDefinition) {
                for child in loop.children {
                    switch child {
                    case .segment(let tag, _, _): tags.insert(tag)
                    case .loop(let inner): collect(inner)
                    }
                }
            }
            collect(structure)
            for tag in tags where segments[tag] == nil {
                throw SchemaError(
                    file: file,
                    line: line,
                    message: "segment \(tag) of set \(identifier) has no elements"
                )
            }
            return TransactionSetSchema(
                dialect: dialect,
                version: version,
                identifier: identifier,
                structure: structure,
                segments: segments,
                tagsInStructure: tags
            )
        }
    }

    private static func segments(
        from rows: [(fields: [String], line: Int)],
        codes: [String: Set<String>],
        file: String
    ) throws -> [SegmentTag: SegmentDefinition] {
        var result: [SegmentTag: SegmentDefinition] = [:]
        for (fields, line) in rows {
            // segment, position, name, requirement, min, max, type
            let tag = SegmentTag(fields[0])
            let positionParts = fields[1].split(separator: ".").compactMap { Int($0) }
            guard !positionParts.isEmpty, positionParts.count <= 2, let type = ElementType(code: fields[6]) else {
                throw SchemaError(file: file, line: line, message: "bad position `\(fields[1])` or type `\(fields[6])`")
            }
            let baseName = String(fields[2].split(separator: "#").first ?? "")
            let definition = ElementDefinition(
                position: positionParts.last!,
                name: fields[2],
                isMandatory: fields[3] == "M",
                minimumLength: Int(fields[4]) ?? 0,
                maximumLength: Int(fields[5]) ?? 0,
                type: type,
                components: [],
                codes: codes[baseName] ?? codes[fields[2]] ?? self.dataElementCodes(baseName, codes)
            )
            var segment = result[tag] ?? SegmentDefinition(tag: tag, elements: [])
            if positionParts.count == 1 {
                guard positionParts[0] == segment.elements.count + 1 else {
                    throw SchemaError(file: file, line: line, message: "element \(fields[2]) is out of order")
                }
                segment.elements.append(definition)
            } else {
                let parent = positionParts[0]
                guard parent == segment.elements.count, segment.elements[parent - 1].type == .composite else {
                    throw SchemaError(file: file, line: line, message: "component \(fields[2]) has no composite")
                }
                segment.elements[parent - 1].components.append(definition)
            }
            result[tag] = segment
        }
        return result
    }

    /// EDIFACT code lists are keyed by data element number (`0083`), which appears inside composite names
    /// (`S011.0098`).
    private static func dataElementCodes(_ name: String, _ codes: [String: Set<String>]) -> Set<String>? {
        guard let dot = name.lastIndex(of: ".") else { return nil }
        return codes[String(name[name.index(after: dot)...])]
    }
}

/// Parses the structure notation: `TAG` mandatory once, `TAG?` optional, `[n]` at most n, `*` unbounded,
/// `(A B C)` a loop that A starts.
struct StructureParser {
    private let bytes: [UInt8]
    private var index = 0
    private let file: String
    private let line: Int

    init(text: String, file: String, line: Int) {
        self.bytes = Array(text.utf8)
        self.file = file
        self.line = line
    }

    mutating func parseRoot() throws -> LoopDefinition {
        self.skipSpaces()
        guard self.peek() == UInt8(ascii: "(") else { throw self.fail("a structure starts with `(`") }
        let root = try self.parseLoop(isRoot: true)
        self.skipSpaces()
        guard self.index == self.bytes.count else { throw self.fail("text after the structure's closing `)`") }
        return root
    }

    private mutating func parseLoop(isRoot: Bool) throws -> LoopDefinition {
        self.index += 1  // "("
        var children: [StructureNode] = []
        var loopMandatory = true
        var loopMaximum = 1
        while true {
            self.skipSpaces()
            guard let byte = self.peek() else { throw self.fail("missing `)`") }
            if byte == UInt8(ascii: ")") {
                self.index += 1
                break
            }
            if byte == UInt8(ascii: "(") {
                children.append(.loop(try self.parseLoop(isRoot: false)))
                continue
            }
            let (tag, isMandatory, maximum) = try self.parseSegment()
            if children.isEmpty && !isRoot {
                loopMandatory = isMandatory
                loopMaximum = maximum
                children.append(.segment(tag: tag, isMandatory: true, maximumUse: 1))
            } else {
                children.append(.segment(tag: tag, isMandatory: isMandatory, maximumUse: maximum))
            }
        }
        guard let first = children.first, case .segment = first else {
            throw self.fail("a loop must start with a segment")
        }
        return LoopDefinition(
            identifier: first.tag.description,
            isMandatory: isRoot ? true : loopMandatory,
            maximumUse: isRoot ? 1 : loopMaximum,
            children: children
        )
    }

    private mutating func parseSegment() throws -> (SegmentTag, Bool, Int) {
        let start = self.index
        while let byte = self.peek(), (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte) {
            self.index += 1
        }
        guard self.index > start else { throw self.fail("expected a segment tag at column \(start + 1)") }
        let tag = SegmentTag(String(decoding: self.bytes[start..<self.index], as: UTF8.self))
        var isMandatory = true
        var maximum = 1
        if self.peek() == UInt8(ascii: "?") {
            isMandatory = false
            self.index += 1
        }
        if self.peek() == UInt8(ascii: "*") {
            maximum = Int.max
            self.index += 1
        } else if self.peek() == UInt8(ascii: "[") {
            self.index += 1
            let numberStart = self.index
            while let byte = self.peek(), (0x30...0x39).contains(byte) { self.index += 1 }
            guard let value = Int(String(decoding: self.bytes[numberStart..<self.index], as: UTF8.self)),
                self.peek() == UInt8(ascii: "]")
            else { throw self.fail("bad repeat count at column \(numberStart + 1)") }
            self.index += 1
            maximum = value
        }
        return (tag, isMandatory, maximum)
    }

    private func peek() -> UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    private mutating func skipSpaces() {
        while self.peek() == 0x20 { self.index += 1 }
    }

    private func fail(_ message: String) -> SchemaError {
        SchemaError(file: self.file, line: self.line, message: message)
    }
}

/// The transaction-set schemas the validator knows, looked up by dialect, set identifier and version.
public struct SchemaLibrary: Sendable {
    private struct Key: Hashable {
        var dialect: Dialect
        var identifier: String
        var version: String
    }

    private var schemas: [Key: TransactionSetSchema] = [:]

    /// Loads schema files given as (file name, text) pairs.
    public init(files: [(name: String, text: String)]) throws {
        for (name, text) in files {
            for schema in try SchemaFileParser.parse(text, file: name) {
                self.schemas[Key(dialect: schema.dialect, identifier: schema.identifier, version: schema.version)] =
                    schema
            }
        }
    }

    /// The schemas shipped with Ordergate: X12 850, 855, 856, 810, 860, 865, 846, 997 (004010, 005010) and 999
    /// (005010); EDIFACT ORDERS, ORDRSP, DESADV, INVOIC, ORDCHG, APERAK (D.96A, D.01B) and CONTRL.
    public static let standard: SchemaLibrary = {
        do {
            return try SchemaLibrary(files: EmbeddedSchemas.files)
        } catch {
            fatalError("the embedded schemas do not parse: \(error)")  // caught by the test suite
        }
    }()

    /// Adds (or replaces) the schemas of another library.
    public mutating func merge(_ other: SchemaLibrary) {
        self.schemas.merge(other.schemas) { _, new in new }
    }

    /// The schema for a set; `version` is GS08's first six characters (X12) or version and release (`D96A`).
    public func schema(dialect: Dialect, identifier: String, version: String) -> TransactionSetSchema? {
        if let schema = self.schemas[Key(dialect: dialect, identifier: identifier, version: version)] {
            return schema
        }
        if dialect == .edifact && identifier == "CONTRL" {
            return self.schemas[Key(dialect: dialect, identifier: identifier, version: "CONTRL")]
        }
        return nil
    }

    /// The schema of the same set in the known version closest to `version`, for checking sets of a version that
    /// has no schema of its own (`INVOIC D97B` against `D96A`, `850 003010` against `004010`).
    public func nearestSchema(dialect: Dialect, identifier: String, version: String) -> TransactionSetSchema? {
        guard let wanted = Self.versionOrder(version, dialect: dialect) else { return nil }
        var best: (distance: Int, schema: TransactionSetSchema)?
        for (key, schema) in self.schemas where key.dialect == dialect && key.identifier == identifier {
            guard let order = Self.versionOrder(key.version, dialect: dialect) else { continue }
            let distance = abs(order - wanted)
            if best == nil || distance < best!.distance { best = (distance, schema) }
        }
        return best?.schema
    }

    /// A number that orders versions: X12 `004010` as is; EDIFACT `D96A` as 1996 * 10 + release letter.
    private static func versionOrder(_ version: String, dialect: Dialect) -> Int? {
        if dialect == .x12 { return Int(version.prefix(6)) }
        let characters = Array(version.utf8)
        guard characters.count == 4, let year = Int(String(decoding: characters[1...2], as: UTF8.self)) else {
            return nil
        }
        let fullYear = year >= 90 ? 1900 + year : 2000 + year
        return fullYear * 10 + Int(characters[3]) - 0x41
    }

    /// Every (dialect, identifier, version) known, sorted.
    public var available: [(dialect: Dialect, identifier: String, version: String)] {
        self.schemas.keys.map { ($0.dialect, $0.identifier, $0.version) }.sorted {
            ($0.dialect.rawValue, $0.identifier, $0.version) < ($1.dialect.rawValue, $1.identifier, $1.version)
        }
    }
}
