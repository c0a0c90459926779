/// Where in a document something was found.
///
/// Segment positions count the way acknowledgements count them: the `ST` (or `UNH`) of a transaction set is
/// position 1. Envelope segments outside a set carry their position in the file instead (`fileSegmentIndex`).
public struct Location: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Byte offset of the segment (or of the offending byte) from the start of the input.
    public var byteOffset: Int
    /// 1-based line and column of the segment's first byte.
    public var line: Int
    public var column: Int
    /// 1-based index of the segment in the whole input.
    public var fileSegmentIndex: Int?
    /// 1-based position of the segment inside its transaction set (ST or UNH = 1).
    public var segmentPosition: Int?
    public var segmentTag: String?
    /// The loop the segment belongs to, named by the loop's first segment (997 AK303).
    public var loopIdentifier: String?
    /// 1-based element position in the segment.
    public var elementPosition: Int?
    /// 1-based component position inside a composite element.
    public var componentPosition: Int?
    /// 1-based repetition of a repeated element.
    public var repetition: Int?

    public init(
        byteOffset: Int,
        line: Int = 0,
        column: Int = 0,
        fileSegmentIndex: Int? = nil,
        segmentPosition: Int? = nil,
        segmentTag: String? = nil,
        loopIdentifier: String? = nil,
        elementPosition: Int? = nil,
        componentPosition: Int? = nil,
        repetition: Int? = nil
    ) {
        self.byteOffset = byteOffset
        self.line = line
        self.column = column
        self.fileSegmentIndex = fileSegmentIndex
        self.segmentPosition = segmentPosition
        self.segmentTag = segmentTag
        self.loopIdentifier = loopIdentifier
        self.elementPosition = elementPosition
        self.componentPosition = componentPosition
        self.repetition = repetition
    }

    /// `segment 14 (PO1), element 04, component 2` or, outside a set, `line 3 (GE)`.
    public var description: String {
        var parts: [String] = []
        if let position = self.segmentPosition {
            parts.append("segment \(position)" + (self.segmentTag.map { " (\($0))" } ?? ""))
        } else if let tag = self.segmentTag, self.line > 0 {
            parts.append("line \(self.line) (\(tag))")
        } else if let tag = self.segmentTag {
            parts.append("byte \(self.byteOffset) (\(tag))")
        } else {
            parts.append("byte \(self.byteOffset)")
        }
        if let element = self.elementPosition {
            parts.append("element " + (element < 10 ? "0\(element)" : "\(element)"))
        }
        if let component = self.componentPosition {
            parts.append("component \(component)")
        }
        if let repetition = self.repetition, repetition > 1 {
            parts.append("repetition \(repetition)")
        }
        return parts.joined(separator: ", ")
    }
}

/// The acknowledgement codes an error maps to, so that acknowledgements can be built without re-parsing.
///
/// Each field is the code of one standard's acknowledgement element; `nil` where that standard has no code for the
/// error at that level.
public struct AckCodes: Hashable, Sendable, Codable {
    /// TA1 interchange note code (TA105), for errors in the X12 interchange envelope.
    public var ta105: String?
    /// 997/999 group-level code (AK905), for errors in a functional group's envelope.
    public var ak905: String?
    /// 997 set-level code (AK502), 999 IK502 uses the same value.
    public var ak502: String?
    /// 997 segment error (AK304).
    public var ak304: String?
    /// 997 element error (AK403).
    public var ak403: String?
    /// 999 segment error (IK304).
    public var ik304: String?
    /// 999 element error (IK403).
    public var ik403: String?
    /// CONTRL syntax error code (0085), reported at the level in `contrlLevel`.
    public var contrl0085: String?
    /// Which CONTRL segment carries the error: UCI, UCF, UCM, UCS or UCD.
    public var contrlLevel: String?

    public init(
        ta105: String? = nil,
        ak905: String? = nil,
        ak502: String? = nil,
        ak304: String? = nil,
        ak403: String? = nil,
        ik304: String? = nil,
        ik403: String? = nil,
        contrl0085: String? = nil,
        contrlLevel: String? = nil
    ) {
        self.ta105 = ta105
        self.ak905 = ak905
        self.ak502 = ak502
        self.ak304 = ak304
        self.ak403 = ak403
        self.ik304 = ik304
        self.ik403 = ik403
        self.contrl0085 = contrl0085
        self.contrlLevel = contrlLevel
    }

    /// `997 AK403=6`, `TA1 TA105=001`, `CONTRL 0085=13`: the codes that apply to a document of `dialect`.
    public func summary(for dialect: Dialect) -> String {
        var parts: [String] = []
        switch dialect {
        case .edifact:
            if let code = self.contrl0085 { parts.append("CONTRL \(self.contrlLevel ?? "UCI") 0085=\(code)") }
        default:
            if let code = self.ta105 { parts.append("TA1 TA105=\(code)") }
            if let code = self.ak905 { parts.append("997 AK905=\(code)") }
            if let code = self.ak502 { parts.append("997 AK502=\(code)") }
            if let code = self.ak304 { parts.append("997 AK304=\(code)") }
            if let code = self.ak403 { parts.append("997 AK403=\(code)") }
        }
        return parts.joined(separator: ", ")
    }
}

/// An error found while reading or validating an X12 or EDIFACT document.
///
/// Errors are values: the reader and the validator collect them and go on, so that one pass yields every error an
/// acknowledgement must report. Only failures of the input itself (an unreadable source) are thrown.
public struct EDISyntaxError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    /// What went wrong. Opaque: new codes can be added without breaking callers.
    public struct Code: Hashable, Sendable, Codable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }

        public var description: String { self.name }

        public init(from decoder: any Decoder) throws {
            self.name = try decoder.singleValueContainer().decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(self.name)
        }

        // Input and interchange
        public static let unknownDialect = Self("unknownDialect")
        public static let xmlDocument = Self("xmlDocument")
        public static let emptyInput = Self("emptyInput")
        public static let invalidInterchangeHeader = Self("invalidInterchangeHeader")
        public static let invalidDelimiters = Self("invalidDelimiters")
        public static let unsupportedSyntaxVersion = Self("unsupportedSyntaxVersion")
        public static let interchangeControlMismatch = Self("interchangeControlMismatch")
        public static let interchangeCountMismatch = Self("interchangeCountMismatch")
        public static let missingInterchangeTrailer = Self("missingInterchangeTrailer")
        public static let missingInterchangeHeader = Self("missingInterchangeHeader")
        public static let segmentOutsideEnvelope = Self("segmentOutsideEnvelope")
        public static let truncated = Self("truncated")
        public static let segmentTooLong = Self("segmentTooLong")
        public static let invalidControlNumber = Self("invalidControlNumber")
        // Group
        public static let groupControlMismatch = Self("groupControlMismatch")
        public static let groupCountMismatch = Self("groupCountMismatch")
        public static let missingGroupTrailer = Self("missingGroupTrailer")
        public static let missingGroupHeader = Self("missingGroupHeader")
        // Transaction set
        public static let setControlMismatch = Self("setControlMismatch")
        public static let segmentCountMismatch = Self("segmentCountMismatch")
        public static let missingSetTrailer = Self("missingSetTrailer")
        public static let setNotSupported = Self("setNotSupported")
        public static let invalidSetIdentifier = Self("invalidSetIdentifier")
        // Segment
        public static let unrecognizedSegment = Self("unrecognizedSegment")
        public static let unexpectedSegment = Self("unexpectedSegment")
        public static let mandatorySegmentMissing = Self("mandatorySegmentMissing")
        public static let loopOverMaximum = Self("loopOverMaximum")
        public static let segmentOverMaximum = Self("segmentOverMaximum")
        public static let segmentNotInSet = Self("segmentNotInSet")
        public static let segmentOutOfSequence = Self("segmentOutOfSequence")
        // Element
        public static let mandatoryElementMissing = Self("mandatoryElementMissing")
        public static let conditionalElementMissing = Self("conditionalElementMissing")
        public static let exclusionViolated = Self("exclusionViolated")
        public static let duplicateControlNumber = Self("duplicateControlNumber")
        public static let invalidGroupHeader = Self("invalidGroupHeader")
        public static let tooManyElements = Self("tooManyElements")
        public static let tooManyComponents = Self("tooManyComponents")
        public static let tooManyRepetitions = Self("tooManyRepetitions")
        public static let elementTooShort = Self("elementTooShort")
        public static let elementTooLong = Self("elementTooLong")
        public static let invalidCharacter = Self("invalidCharacter")
        public static let invalidNumber = Self("invalidNumber")
        public static let invalidCodeValue = Self("invalidCodeValue")
        public static let invalidDate = Self("invalidDate")
        public static let invalidTime = Self("invalidTime")
    }

    /// The envelope level an error belongs to: it decides which acknowledgement segment reports it.
    public enum Level: String, Hashable, Sendable, Codable {
        case input, interchange, group, set, segment, element
    }

    public var code: Code
    public var level: Level
    public var message: String
    public var location: Location
    public var ackCodes: AckCodes
    /// A copy of the offending data (997 AK404, 999 IK404), when there is one.
    public var badData: String?

    public init(
        _ code: Code,
        level: Level,
        _ message: String,
        at location: Location,
        ackCodes: AckCodes = AckCodes(),
        badData: String? = nil
    ) {
        self.code = code
        self.level = level
        self.message = message
        self.location = location
        self.ackCodes = ackCodes
        self.badData = badData
    }

    public var description: String { "\(self.location): \(self.message)" }
}
