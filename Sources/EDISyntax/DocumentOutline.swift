/// The envelope structure of a document with every segment and its byte offset: what `ordergate inspect` prints.
public struct DocumentOutline: Hashable, Sendable, Codable {
    public struct SegmentEntry: Hashable, Sendable, Codable {
        /// 1-based index in the whole input.
        public var index: Int
        /// Position in the transaction set (ST or UNH = 1); nil for envelope segments.
        public var position: Int?
        public var tag: String
        public var byteOffset: Int
        public var line: Int
        /// Element values, release characters removed; composites as their components, repeats as repetitions.
        public var elements: [[[String]]]

        init(_ segment: Segment, position: Int?) {
            self.index = segment.index
            self.position = position
            self.tag = segment.tagText
            self.byteOffset = segment.byteOffset
            self.line = segment.line
            self.elements = (0..<segment.elementCount).map { segment.element($0 + 1).repetitions.map(\.components) }
        }
    }

    public struct TransactionSetEntry: Hashable, Sendable, Codable {
        public var identifier: String
        public var controlNumber: String
        public var byteOffset: Int
        public var segments: [SegmentEntry]
    }

    public struct GroupEntry: Hashable, Sendable, Codable {
        public var header: SegmentEntry?
        public var sets: [TransactionSetEntry]
        public var trailer: SegmentEntry?
    }

    public struct InterchangeEntry: Hashable, Sendable, Codable {
        public var dialect: Dialect?
        public var delimiters: String?
        public var header: SegmentEntry?
        /// TA1 segments and other segments at interchange level.
        public var segments: [SegmentEntry]
        public var groups: [GroupEntry]
        /// EDIFACT messages directly in the interchange.
        public var messages: [TransactionSetEntry]
        public var trailer: SegmentEntry?
    }

    public var dialect: Dialect?
    public var interchanges: [InterchangeEntry] = []
    /// Envelope and syntax errors (schemas are not consulted).
    public var errors: [EDISyntaxError] = []
    public var summary: DocumentSummary

    /// Reads the whole input into an outline.
    public init(reader: EDIReader) throws {
        var summary = DocumentSummary()
        var interchanges: [InterchangeEntry] = []
        var errors: [EDISyntaxError] = []
        var group: GroupEntry?
        var set: TransactionSetEntry?
        func currentInterchange() -> InterchangeEntry {
            InterchangeEntry(
                dialect: reader.dialect,
                delimiters: reader.delimiters?.description,
                header: nil,
                segments: [],
                groups: [],
                messages: [],
                trailer: nil
            )
        }
        var interchange: InterchangeEntry?
        while let event = try reader.next() {
            switch event {
            case .interchangeStart(let header):
                interchange = InterchangeEntry(
                    dialect: reader.dialect,
                    delimiters: reader.delimiters?.description,
                    header: header.map { SegmentEntry($0, position: nil) },
                    segments: [],
                    groups: [],
                    messages: [],
                    trailer: nil
                )
                summary.interchanges += 1
                if header != nil { summary.segments += 1 }
            case .groupStart(let header):
                group = GroupEntry(header: header.map { SegmentEntry($0, position: nil) }, sets: [], trailer: nil)
                summary.groups += 1
                if header != nil { summary.segments += 1 }
            case .transactionSetStart(let header):
                let isX12 = header.tag == .st
                set = TransactionSetEntry(
                    identifier: isX12 ? header[1] : header.element(2).component(1),
                    controlNumber: isX12 ? header[2] : header[1],
                    byteOffset: header.byteOffset,
                    segments: [SegmentEntry(header, position: 1)]
                )
                summary.sets += 1
                summary.segments += 1
            case .segment(let segment):
                summary.segments += 1
                if set != nil {
                    set?.segments.append(SegmentEntry(segment, position: reader.setPosition))
                } else {
                    interchange?.segments.append(SegmentEntry(segment, position: nil))
                }
            case .transactionSetEnd(let trailer):
                if let trailer {
                    set?.segments.append(SegmentEntry(trailer, position: reader.setPosition))
                    summary.segments += 1
                }
                if let finished = set {
                    if group != nil { group?.sets.append(finished) } else { interchange?.messages.append(finished) }
                }
                set = nil
            case .groupEnd(let trailer):
                if let trailer {
                    group?.trailer = SegmentEntry(trailer, position: nil)
                    summary.segments += 1
                }
                if let finished = group { interchange?.groups.append(finished) }
                group = nil
            case .interchangeEnd(let trailer):
                if let trailer {
                    interchange?.trailer = SegmentEntry(trailer, position: nil)
                    summary.segments += 1
                }
                if let finished = interchange { interchanges.append(finished) }
                interchange = nil
            case .error(let error):
                errors.append(error)
            }
        }
        summary.bytes = reader.bytesConsumed
        summary.errors = errors.count
        self.dialect = reader.dialect
        self.interchanges = interchanges
        self.errors = errors
        self.summary = summary
    }
}

/// Counts of a document's envelopes and segments.
public struct DocumentSummary: Hashable, Sendable, Codable {
    public var interchanges = 0
    public var groups = 0
    public var sets = 0
    public var segments = 0
    public var bytes = 0
    /// Envelope and syntax errors found while counting.
    public var errors = 0
    /// The first of them (why a file that is not EDI was refused).
    public var firstError: EDISyntaxError?

    private enum CodingKeys: String, CodingKey {
        case interchanges, groups, sets, segments, bytes, errors
    }

    public init() {}

    /// Counts a document by reading its envelopes only: no outline is kept, so memory stays constant.
    public init(reader: EDIReader) throws {
        while let event = try reader.next() {
            switch event {
            case .interchangeStart(let header):
                self.interchanges += 1
                if header != nil { self.segments += 1 }
            case .groupStart(let header):
                self.groups += 1
                if header != nil { self.segments += 1 }
            case .transactionSetStart:
                self.sets += 1
                self.segments += 1
            case .segment:
                self.segments += 1
            case .transactionSetEnd(let trailer), .groupEnd(let trailer), .interchangeEnd(let trailer):
                if trailer != nil { self.segments += 1 }
            case .error(let error):
                self.errors += 1
                if self.firstError == nil { self.firstError = error }
            }
        }
        self.bytes = reader.bytesConsumed
    }
}
