/// The value of one element to write: one or more repetitions, each one or more components.
public struct ElementValue: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// Most elements are one text: it is kept as it is, without the arrays of repetitions and components (a document
    /// renders hundreds of elements, and the arrays were most of the cost).
    @usableFromInline var text: String?
    /// The repetitions when `text` is nil.
    @usableFromInline var nested: [[String]]

    public var repetitions: [[String]] {
        get { self.text.map { [[$0]] } ?? self.nested }
        set {
            self.text = nil
            self.nested = newValue
        }
    }

    @inlinable
    public init(_ text: String) {
        self.text = text
        self.nested = []
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public init(components: [String]) {
        self.text = nil
        self.nested = [components]
    }

    public init(repetitions: [[String]]) {
        self.text = nil
        self.nested = repetitions.isEmpty ? [[""]] : repetitions
    }

    /// The value of an element as read, release characters removed.
    public init(_ element: Element) {
        self.text = nil
        self.nested = element.repetitions.map { $0.components }
    }

    public var isEmpty: Bool {
        if let text { return text.isEmpty }
        return self.nested.allSatisfy { $0.allSatisfy(\.isEmpty) }
    }

    public var description: String {
        self.text ?? self.nested.map { $0.joined(separator: ":") }.joined(separator: "^")
    }

    /// Equal when the repetitions are, however the value was made (`"A"` and `components: ["A"]` are the same).
    public static func == (lhs: ElementValue, rhs: ElementValue) -> Bool {
        if let left = lhs.text, let right = rhs.text { return left == right }
        return lhs.repetitions == rhs.repetitions
    }

    public func hash(into hasher: inout Hasher) {
        guard let text else {
            hasher.combine(self.nested)
            return
        }
        hasher.combine([[text]])
    }
}

/// A segment to write: a tag and its elements, numbered from 1 as in the standards.
public struct SegmentValue: Hashable, Sendable, CustomStringConvertible {
    public var tag: String
    public var elements: [ElementValue]

    public init(_ tag: String, _ elements: [ElementValue]) {
        self.tag = tag
        self.elements = elements
    }

    /// The value of a segment as read. The ISA keeps its elements as written: ISA11 and ISA16 are delimiters.
    public init(_ segment: Segment) {
        self.tag = segment.tagText
        if segment.tag == "ISA" {
            self.elements = (0..<segment.elementCount).map {
                ElementValue(String(decoding: segment.element($0 + 1).rawBytes, as: UTF8.self))
            }
        } else {
            self.elements = (0..<segment.elementCount).map { ElementValue(segment.element($0 + 1)) }
        }
    }

    public var description: String { ([self.tag] + self.elements.map(\.description)).joined(separator: "*") }
}

/// Writing failed: a value cannot be written with the chosen delimiters.
public struct EDIWriterError: Error, Hashable, Sendable, CustomStringConvertible {
    public var segmentTag: String
    public var elementPosition: Int
    public var value: String
    public var message: String
    public var description: String {
        "\(self.segmentTag)\(self.elementPosition < 10 ? "0" : "")\(self.elementPosition): \(self.message)"
    }
}

/// Writes segments with chosen delimiters: EDIFACT data is escaped with the release character; X12, which has no
/// release character, refuses data that holds a delimiter. Trailing empty elements and components are omitted, as
/// the standards require.
public struct EDIWriter: Sendable {
    public let dialect: Dialect
    public let delimiters: Delimiters
    /// Written after each segment terminator (for example "\n"); not data.
    public let lineEnding: [UInt8]
    public private(set) var bytes: [UInt8] = []
    /// Segments written so far.
    public private(set) var segmentCount = 0

    /// A bit per byte value that data cannot hold as it is: the delimiters, and the bytes of a multi-byte
    /// terminator past ASCII.
    private let special: (UInt64, UInt64, UInt64, UInt64)

    public init(dialect: Dialect, delimiters: Delimiters, lineEnding: String = "\n") {
        self.dialect = dialect
        self.delimiters = delimiters
        self.lineEnding = Array(lineEnding.utf8)
        var special: [UInt64] = [0, 0, 0, 0]
        for byte in UInt8.min...UInt8.max
        where delimiters.isDelimiter(byte) || delimiters.segmentTerminator.contains(byte) && byte >= 0x80 {
            special[Int(byte >> 6)] |= 1 << (byte & 63)
        }
        self.special = (special[0], special[1], special[2], special[3])
    }

    @inline(__always)
    private func isSpecial(_ byte: UInt8) -> Bool {
        let word =
            byte < 128 ? (byte < 64 ? self.special.0 : self.special.1) : (byte < 192 ? self.special.2 : self.special.3)
        return word & (1 << (byte & 63)) != 0
    }

    /// Appends one segment. An ISA is written as given: fixed width, ISA11 and ISA16 being delimiters themselves.
    public mutating func write(_ segment: SegmentValue) throws {
        if segment.tag == "ISA" {
            return self.writeVerbatim(segment)
        }
        // Trailing empty elements are left out by counting them, not by removing them from a copy of the array.
        let elements = segment.elements
        var count = elements.count
        while count > 0, elements[count - 1].isEmpty { count -= 1 }
        self.bytes.append(contentsOf: segment.tag.utf8)
        for offset in 0..<count {
            let element = elements[offset]
            self.bytes.append(self.delimiters.element)
            if let text = element.text {
                try self.appendData(text, tag: segment.tag, position: offset + 1)
                continue
            }
            for (repetitionIndex, repetition) in element.nested.enumerated() {
                if repetitionIndex > 0 {
                    guard let separator = self.delimiters.repetition else {
                        throw EDIWriterError(
                            segmentTag: segment.tag,
                            elementPosition: offset + 1,
                            value: element.description,
                            message: "the element repeats but the interchange has no repetition separator"
                        )
                    }
                    self.bytes.append(separator)
                }
                var components = repetition.count
                while components > 1, repetition[components - 1].isEmpty { components -= 1 }
                for componentIndex in 0..<components {
                    if componentIndex > 0 { self.bytes.append(self.delimiters.component) }
                    try self.appendData(repetition[componentIndex], tag: segment.tag, position: offset + 1)
                }
            }
        }
        self.bytes.append(contentsOf: self.delimiters.segmentTerminator)
        self.bytes.append(contentsOf: self.lineEnding)
        self.segmentCount += 1
    }

    /// Makes room for about `count` more bytes at once (the buffer would otherwise grow, and be copied, several times).
    mutating func reserve(_ count: Int) {
        self.bytes.reserveCapacity(self.bytes.count + count)
    }

    /// Appends raw text that is not a segment (the EDIFACT UNA service string).
    mutating func appendRaw(_ text: [UInt8]) {
        self.bytes.append(contentsOf: text)
    }

    private mutating func appendData(_ text: String, tag: String, position: Int) throws {
        // Most values hold no delimiter: copied whole, from the text's own bytes.
        var copy = text
        let copied = copy.withUTF8 { utf8 in
            for byte in utf8 where self.isSpecial(byte) { return false }
            self.bytes.append(contentsOf: utf8)
            return true
        }
        if copied { return }
        for byte in text.utf8 {
            if self.isSpecial(byte) {
                if let release = self.delimiters.release {
                    self.bytes.append(release)
                } else {
                    throw EDIWriterError(
                        segmentTag: tag,
                        elementPosition: position,
                        value: text,
                        message: "\"\(text)\" holds the delimiter \"\(String(decoding: [byte], as: UTF8.self))\","
                            + " which X12 cannot escape"
                    )
                }
            }
            self.bytes.append(byte)
        }
    }
}

/// The interchange header values to write (ISA or UNB).
public struct InterchangeParameters: Hashable, Sendable {
    public var senderQualifier: String
    public var senderID: String
    public var receiverQualifier: String
    public var receiverID: String
    /// X12: YYMMDD; EDIFACT: YYMMDD (syntax 3) or CCYYMMDD (syntax 4).
    public var date: String
    /// HHMM.
    public var time: String
    public var controlNumber: Int
    /// X12 ISA12 (`00401`, `00501`); EDIFACT syntax identifier and version (`UNOC:3`).
    public var version: String
    public var isAcknowledgementRequested: Bool
    public var isTest: Bool

    public init(
        senderQualifier: String,
        senderID: String,
        receiverQualifier: String,
        receiverID: String,
        date: String,
        time: String,
        controlNumber: Int,
        version: String,
        isAcknowledgementRequested: Bool = false,
        isTest: Bool = false
    ) {
        self.senderQualifier = senderQualifier
        self.senderID = senderID
        self.receiverQualifier = receiverQualifier
        self.receiverID = receiverID
        self.date = date
        self.time = time
        self.controlNumber = controlNumber
        self.version = version
        self.isAcknowledgementRequested = isAcknowledgementRequested
        self.isTest = isTest
    }
}

/// The functional group header values to write (GS or UNG).
public struct GroupParameters: Hashable, Sendable {
    /// GS01 (`FA`, `PR`, `SH`, `IN`).
    public var functionalIdentifier: String
    public var senderID: String
    public var receiverID: String
    /// CCYYMMDD.
    public var date: String
    /// HHMM.
    public var time: String
    public var controlNumber: Int
    /// GS08 (`004010`, `005010X231A1`).
    public var version: String

    public init(
        functionalIdentifier: String,
        senderID: String,
        receiverID: String,
        date: String,
        time: String,
        controlNumber: Int,
        version: String
    ) {
        self.functionalIdentifier = functionalIdentifier
        self.senderID = senderID
        self.receiverID = receiverID
        self.date = date
        self.time = time
        self.controlNumber = controlNumber
        self.version = version
    }
}

/// Writes whole interchanges: headers and trailers with every count and control reference computed.
///
/// Call `beginInterchange`, then (X12) `beginGroup`, `addTransactionSet` for each set, `endGroup`, and finally
/// `endInterchange`. EDIFACT messages may be added directly to the interchange. Control numbers are the caller's
/// (they come from crash-safe counters); the builder only formats them and keeps the trailers consistent.
public struct EnvelopeBuilder: Sendable {
    public private(set) var writer: EDIWriter
    private var interchangeControl = ""
    private var groupControl = ""
    private var groupCount = 0
    private var setCountInGroup = 0
    private var messageCount = 0
    private var isInGroup = false

    public init(dialect: Dialect, delimiters: Delimiters? = nil, lineEnding: String = "\n") {
        let chosen = delimiters ?? (dialect == .edifact ? .edifactDefault : .x12Default)
        self.writer = EDIWriter(dialect: dialect, delimiters: chosen, lineEnding: lineEnding)
    }

    /// The bytes written so far.
    public var bytes: [UInt8] { self.writer.bytes }

    public mutating func beginInterchange(_ header: InterchangeParameters) throws {
        self.groupCount = 0
        self.messageCount = 0
        let delimiters = self.writer.delimiters
        if self.writer.dialect == .x12 {
            self.interchangeControl = Self.zeroPadded(header.controlNumber, width: 9)
            let versionNumber = Int(header.version) ?? 401
            let repetition =
                versionNumber >= 403 ? String(decoding: [delimiters.repetition ?? 0x55], as: UTF8.self) : "U"
            try self.writer.write(
                SegmentValue(
                    "ISA",
                    [
                        "00", ElementValue(Self.padded("", 10)), "00", ElementValue(Self.padded("", 10)),
                        ElementValue(Self.padded(header.senderQualifier, 2)),
                        ElementValue(Self.padded(header.senderID, 15)),
                        ElementValue(Self.padded(header.receiverQualifier, 2)),
                        ElementValue(Self.padded(header.receiverID, 15)),
                        ElementValue(header.date), ElementValue(header.time), ElementValue(repetition),
                        ElementValue(header.version), ElementValue(self.interchangeControl),
                        header.isAcknowledgementRequested ? "1" : "0", header.isTest ? "T" : "P",
                        ElementValue(String(decoding: [delimiters.component], as: UTF8.self)),
                    ]
                )
            )
        } else {
            self.interchangeControl = String(header.controlNumber)
            if delimiters != .edifactDefault {
                let una: [UInt8] =
                    Array("UNA".utf8) + [
                        delimiters.component, delimiters.element, delimiters.decimalMark, delimiters.release ?? 0x20,
                        delimiters.repetition ?? 0x20,
                    ] + delimiters.segmentTerminator + self.writer.lineEnding
                self.writer.appendRaw(una)
            }
            var elements: [ElementValue] = [
                ElementValue(components: header.version.split(separator: ":").map(String.init)),
                ElementValue(components: [header.senderID, header.senderQualifier]),
                ElementValue(components: [header.receiverID, header.receiverQualifier]),
                ElementValue(components: [header.date, header.time]),
                ElementValue(self.interchangeControl),
            ]
            if header.isAcknowledgementRequested || header.isTest {
                elements += ["", "", "", header.isAcknowledgementRequested ? "1" : "", "", header.isTest ? "1" : ""]
            }
            try self.writer.write(SegmentValue("UNB", elements))
        }
    }

    public mutating func beginGroup(_ header: GroupParameters) throws {
        self.groupCount += 1
        self.setCountInGroup = 0
        self.isInGroup = true
        self.groupControl = String(header.controlNumber)
        if self.writer.dialect == .x12 {
            try self.writer.write(
                SegmentValue(
                    "GS",
                    [
                        ElementValue(header.functionalIdentifier), ElementValue(header.senderID),
                        ElementValue(header.receiverID), ElementValue(header.date), ElementValue(header.time),
                        ElementValue(self.groupControl), "X", ElementValue(header.version),
                    ]
                )
            )
        } else {
            try self.writer.write(
                SegmentValue(
                    "UNG",
                    [
                        ElementValue(header.functionalIdentifier), ElementValue(header.senderID),
                        ElementValue(header.receiverID), ElementValue(components: [header.date, header.time]),
                        ElementValue(self.groupControl), "UN",
                        ElementValue(components: [String(header.version.prefix(1)), String(header.version.dropFirst())]
                        ),
                    ]
                )
            )
        }
    }

    /// Writes one transaction set (ST ... SE) or message (UNH ... UNT) around `body`.
    ///
    /// - Parameters:
    ///   - identifier: `997`, `855`; or the EDIFACT message type `ORDRSP`.
    ///   - version: EDIFACT directory (`D96A`); X12 sets take theirs from the group.
    ///   - implementationReference: X12 ST03 (5010) or the EDIFACT association code (`EAN008`).
    public mutating func addTransactionSet(
        identifier: String,
        controlNumber: String,
        version: String = "",
        implementationReference: String? = nil,
        body: [SegmentValue]
    ) throws {
        let start = self.writer.segmentCount
        // Room for the set and the trailers after it (outbound segments average about 45 bytes).
        self.writer.reserve((body.count + 4) * 48)
        if self.writer.dialect == .x12 {
            var header: [ElementValue] = [ElementValue(identifier), ElementValue(controlNumber)]
            if let implementationReference { header.append(ElementValue(implementationReference)) }
            try self.writer.write(SegmentValue("ST", header))
        } else {
            var messageIdentifier = [identifier, String(version.prefix(1)), String(version.dropFirst()), "UN"]
            if let implementationReference { messageIdentifier.append(implementationReference) }
            try self.writer.write(
                SegmentValue("UNH", [ElementValue(controlNumber), ElementValue(components: messageIdentifier)])
            )
        }
        for segment in body { try self.writer.write(segment) }
        let count = self.writer.segmentCount - start + 1
        try self.writer.write(
            SegmentValue(
                self.writer.dialect == .x12 ? "SE" : "UNT",
                [ElementValue(String(count)), ElementValue(controlNumber)]
            )
        )
        if self.isInGroup { self.setCountInGroup += 1 } else { self.messageCount += 1 }
    }

    public mutating func endGroup() throws {
        try self.writer.write(
            SegmentValue(
                self.writer.dialect == .x12 ? "GE" : "UNE",
                [ElementValue(String(self.setCountInGroup)), ElementValue(self.groupControl)]
            )
        )
        self.isInGroup = false
    }

    public mutating func endInterchange() throws {
        let count = self.groupCount > 0 ? self.groupCount : self.messageCount
        try self.writer.write(
            SegmentValue(
                self.writer.dialect == .x12 ? "IEA" : "UNZ",
                [ElementValue(String(count)), ElementValue(self.interchangeControl)]
            )
        )
    }

    static func padded(_ text: String, _ width: Int) -> String {
        let count = text.unicodeScalars.count
        return count >= width ? text : text + String(repeating: " ", count: width - count)
    }

    static func zeroPadded(_ number: Int, width: Int) -> String {
        let digits = String(number)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

extension EDIWriter {
    private mutating func writeVerbatim(_ segment: SegmentValue) {
        self.bytes.append(contentsOf: segment.tag.utf8)
        for element in segment.elements {
            self.bytes.append(self.delimiters.element)
            self.bytes.append(contentsOf: (element.repetitions.first?.first ?? "").utf8)
        }
        self.bytes.append(contentsOf: self.delimiters.segmentTerminator)
        self.bytes.append(contentsOf: self.lineEnding)
        self.segmentCount += 1
    }
}
