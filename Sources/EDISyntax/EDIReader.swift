/// What the reader found next in a document.
public enum EDIEvent: Sendable {
    /// An interchange header (ISA or UNB); nil when segments arrive without one (a bare EDIFACT message).
    case interchangeStart(Segment?)
    /// A functional group header (GS or UNG); nil for an X12 set that arrived outside any group.
    case groupStart(Segment?)
    /// A transaction set or message header (ST or UNH).
    case transactionSetStart(Segment)
    /// A segment inside a transaction set (or a TA1 at interchange level).
    case segment(Segment)
    /// The set's trailer (SE or UNT); nil when it is missing.
    case transactionSetEnd(Segment?)
    case groupEnd(Segment?)
    case interchangeEnd(Segment?)
    /// An envelope or syntax error, in document order with the events around it. (Boxed: errors are large and rare,
    /// and every other event is copied on the hot path.)
    indirect case error(EDISyntaxError)
}

/// A streaming pull reader for X12 and EDIFACT: segments in document order, with the envelope checked as it goes.
///
/// The reader tracks the interchange, group and transaction-set envelopes (ISA/GS/ST ... SE/GE/IEA, UNB/UNG/UNH ...
/// UNT/UNE/UNZ) and reports every count, reference and structure problem as an `.error` event carrying the
/// acknowledgement codes it maps to. It never throws for bad input; it throws only when its `ByteSource` fails.
/// Memory is bounded by the longest segment. Schema validation is a layer above (`EDIValidator`).
public final class EDIReader {
    private struct InterchangeState {
        var header: Segment?
        var controlNumber: String
        var groupCount = 0
        var messageCount = 0
        /// EDIFACT messages directly in UNB: hashes of their references.
        var messageReferences: Set<UInt64> = []
        /// X12 groups: hashes of the GS06 control numbers seen, to find duplicates (997 AK905 = 19).
        var groupControlNumbers: Set<UInt64> = []
    }

    private struct GroupState {
        var header: Segment?
        var controlNumber: String
        var setCount = 0
        /// Hashes of the set control numbers seen, to find duplicates (997 AK502 = 23).
        var setControlNumbers: Set<UInt64> = []
    }

    private struct SetState {
        var header: Segment
        var controlNumber: String
        var segmentCount = 1
    }

    private let tokenizer: SegmentTokenizer
    @exclusivity(unchecked) private var storage = SegmentStorage()
    @exclusivity(unchecked) private var pending: [EDIEvent] = []
    @exclusivity(unchecked) private var pendingIndex = 0
    @exclusivity(unchecked) private var interchange: InterchangeState?
    @exclusivity(unchecked) private var group: GroupState?
    @exclusivity(unchecked) private var transactionSet: SetState?
    private var lastSegment: (offset: Int, line: Int, column: Int, index: Int) = (0, 1, 1, 0)
    @exclusivity(unchecked) private var isFinished = false
    @exclusivity(unchecked) private var sawAnySegment = false
    /// Set after a segment outside every envelope was reported, so that a run of them is reported once.
    @exclusivity(unchecked) private var isOutsideEnvelope = false

    /// The syntax of the document, once its first segment has been read.
    public var dialect: Dialect? { self.tokenizer.dialect }
    /// The delimiters of the current interchange.
    public var delimiters: Delimiters? { self.tokenizer.delimiters }
    /// Position of the last segment in its transaction set (ST or UNH = 1); nil outside a set.
    @exclusivity(unchecked) public private(set) var setPosition: Int?
    /// Bytes of input consumed so far (for progress).
    public var bytesConsumed: Int { self.tokenizer.bytesConsumed }

    public init(source: any ByteSource, bufferSize: Int = 1 << 20, maximumSegmentLength: Int = 16 << 20) {
        self.tokenizer = SegmentTokenizer(
            source: source,
            bufferSize: bufferSize,
            maximumSegmentLength: maximumSegmentLength
        )
    }

    public convenience init(bytes: [UInt8]) {
        self.init(source: BufferByteSource(bytes), bufferSize: max(4096, min(bytes.count + 16, 1 << 20)))
    }

    /// The next event, or nil at the end of the input.
    public func next() throws -> EDIEvent? {
        while true {
            if self.pendingIndex < self.pending.count {
                let event = self.pending[self.pendingIndex]
                self.pendingIndex += 1
                if self.pendingIndex == self.pending.count {
                    self.pending.removeAll(keepingCapacity: true)
                    self.pendingIndex = 0
                }
                return event
            }
            if self.isFinished { return nil }
            if let event = try self.advance() { return event }
        }
    }

    // MARK: - Reading

    /// Reads one segment. A segment inside a set, the common case, is returned directly; everything else goes
    /// through `pending` (one segment can close several envelopes and raise errors).
    private func advance() throws -> EDIEvent? {
        if !isKnownUniquelyReferenced(&self.storage) {
            self.storage = SegmentStorage()
        }
        // The storage is passed at +0: `self.storage` stays put while the tokenizer fills it, and a retain and
        // release around every segment cost EDIFACT validation (4.5 million segments per 100 MB) several per cent.
        let raw = try Unmanaged.passUnretained(self.storage)._withUnsafeGuaranteedRef { storage in
            try self.tokenizer.next(into: storage)
        }
        if !self.tokenizer.problems.isEmpty { self.reportTokenizerProblems() }
        guard let raw else {
            self.finish()
            return nil
        }
        self.sawAnySegment = true
        if raw.startsInterchange || raw.tag == .unh || raw.tag == .st || raw.tag == .gs {
            self.isOutsideEnvelope = false
        }
        let segment = Segment(
            tag: raw.tag,
            byteOffset: raw.byteOffset,
            line: raw.line,
            column: raw.column,
            index: raw.index,
            storage: self.storage
        )
        self.lastSegment = (raw.byteOffset, raw.line, raw.column, raw.index)
        if !raw.isTerminated {
            self.emitError(
                .truncated,
                level: .interchange,
                "the input ends inside segment \(segment.tagText) (no segment terminator)",
                at: segment,
                codes: AckCodes(ta105: "023", contrl0085: "13", contrlLevel: "UCI")
            )
        }
        if raw.isTerminated, self.pending.isEmpty, self.transactionSet != nil, !Self.isEnvelopeTag(raw.tag) {
            self.transactionSet!.segmentCount += 1
            self.setPosition = self.transactionSet!.segmentCount
            return .segment(segment)
        }
        switch self.tokenizer.dialect {
        case .edifact: self.handleEDIFACT(segment)
        default: self.handleX12(segment)
        }
        return nil
    }

    private static func isEnvelopeTag(_ tag: SegmentTag) -> Bool {
        switch tag {
        case .isa, .iea, .gs, .ge, .st, .se, .unb, .unz, .ung, .une, .unh, .unt: return true
        default: return false
        }
    }

    private func reportTokenizerProblems() {
        for problem in self.tokenizer.takeProblems() {
            let location: Location
            let error: EDISyntaxError
            switch problem {
            case .unknownDialect(let offset, let sample):
                location = Location(byteOffset: offset)
                error = EDISyntaxError(
                    .unknownDialect,
                    level: .input,
                    "not an X12 or EDIFACT document (it starts with \"\(sample)\"; expected ISA, UNA or UNB)",
                    at: location
                )
            case .xml(let offset):
                location = Location(byteOffset: offset)
                error = EDISyntaxError(
                    .xmlDocument,
                    level: .input,
                    "this is an XML document, not X12 or EDIFACT",
                    at: location
                )
            case .invalidDelimiters(let offset, let message, let note):
                location = Location(byteOffset: offset, segmentTag: self.tokenizer.dialect == .x12 ? "ISA" : "UNA")
                error = EDISyntaxError(
                    .invalidDelimiters,
                    level: .interchange,
                    message,
                    at: location,
                    ackCodes: AckCodes(ta105: note, contrl0085: "20", contrlLevel: "UCI")
                )
            case .segmentTooLong(let offset, let limit):
                location = Location(byteOffset: offset)
                error = EDISyntaxError(
                    .segmentTooLong,
                    level: .interchange,
                    "segment longer than \(limit) bytes; skipped to its terminator",
                    at: location,
                    ackCodes: AckCodes(ta105: "024", contrl0085: "18", contrlLevel: "UCI")
                )
            }
            self.pending.append(.error(error))
        }
    }

    private func finish() {
        self.isFinished = true
        let at = Location(
            byteOffset: self.tokenizer.bytesConsumed,
            line: self.lastSegment.line,
            column: self.lastSegment.column,
            fileSegmentIndex: self.lastSegment.index
        )
        let dialect = self.tokenizer.dialect
        if self.transactionSet != nil {
            let trailer = dialect == .edifact ? "UNT" : "SE"
            self.closeSet(missing: trailer, at: at, reason: "the input ends")
        }
        if self.group != nil {
            self.closeGroup(missing: dialect == .edifact ? "UNE" : "GE", at: at, reason: "the input ends")
        }
        if let interchange = self.interchange {
            if interchange.header != nil {
                let trailer = dialect == .edifact ? "UNZ" : "IEA"
                self.pending.append(
                    .error(
                        EDISyntaxError(
                            .missingInterchangeTrailer,
                            level: .interchange,
                            "the input ends before the interchange's \(trailer) trailer",
                            at: at,
                            ackCodes: AckCodes(ta105: "023", contrl0085: "13", contrlLevel: "UCI")
                        )
                    )
                )
            }
            self.pending.append(.interchangeEnd(nil))
            self.interchange = nil
        }
        // Nothing read and nothing else reported (an empty file, white space, or a UNA service string alone).
        if !self.sawAnySegment && self.pending.isEmpty {
            let message = self.tokenizer.dialect == nil ? "the input is empty" : "the input holds no segment"
            self.pending.append(
                .error(EDISyntaxError(.emptyInput, level: .input, message, at: Location(byteOffset: 0)))
            )
        }
    }

    // MARK: - X12 envelopes

    private func handleX12(_ segment: Segment) {
        switch segment.tag {
        case .isa:
            self.closeAll(before: segment, reason: "a new ISA starts")
            // Each envelope level starts before its header's own errors, so that the validator files them there.
            self.interchange = InterchangeState(header: segment, controlNumber: Self.trimmed(segment[13]))
            self.setPosition = nil
            self.pending.append(.interchangeStart(segment))
            self.checkISA(segment)
        case .iea:
            guard let interchange = self.interchange else {
                self.outsideEnvelope(segment, expected: "ISA")
                return
            }
            if self.transactionSet != nil { self.closeSet(missing: "SE", at: self.location(segment), reason: "IEA") }
            if self.group != nil { self.closeGroup(missing: "GE", at: self.location(segment), reason: "IEA") }
            if interchange.header != nil {
                self.checkCount(
                    segment,
                    element: 1,
                    expected: interchange.groupCount,
                    code: .interchangeCountMismatch,
                    what: "functional groups",
                    level: .interchange,
                    codes: AckCodes(ta105: "021")
                )
                self.checkReference(
                    segment,
                    element: 2,
                    expected: interchange.controlNumber,
                    headerName: "ISA13",
                    code: .interchangeControlMismatch,
                    level: .interchange,
                    codes: AckCodes(ta105: "001")
                )
            }
            self.interchange = nil
            self.setPosition = nil
            self.pending.append(.interchangeEnd(segment))
        case .gs:
            self.ensureInterchange(segment, headerName: "ISA")
            if self.transactionSet != nil { self.closeSet(missing: "SE", at: self.location(segment), reason: "GS") }
            if self.group != nil { self.closeGroup(missing: "GE", at: self.location(segment), reason: "a new GS") }
            self.interchange?.groupCount += 1
            self.group = GroupState(header: segment, controlNumber: segment[6])
            self.setPosition = nil
            // The group starts before its header's errors, so that the validator files them under this group.
            self.pending.append(.groupStart(segment))
            for (position, isValid, what) in [
                (4, DateTimeRules.isValidDate(segment[4]) && segment[4].utf8.count == 8, "a date (CCYYMMDD)"),
                (5, DateTimeRules.isValidTime(segment[5]), "a time (HHMM[SS])"),
            ] where !isValid {
                self.emitError(
                    .invalidGroupHeader,
                    level: .group,
                    "GS0\(position) \"\(segment[position])\" is not \(what)",
                    at: segment,
                    element: position,
                    codes: AckCodes(ta105: "024"),
                    badData: segment[position]
                )
            }
            if !Self.isDigits(segment[6], length: 1...9) {
                self.emitError(
                    .invalidControlNumber,
                    level: .group,
                    "GS06 group control number \"\(segment[6])\" must be 1 to 9 digits",
                    at: segment,
                    element: 6,
                    codes: AckCodes(ak905: "6"),
                    badData: segment[6]
                )
            }
            if self.interchange?.groupControlNumbers.insert(Self.fingerprint(segment[6])).inserted == false {
                self.emitError(
                    .duplicateControlNumber,
                    level: .group,
                    "GS06 group control number \"\(segment[6])\" is used twice in this interchange",
                    at: segment,
                    element: 6,
                    codes: AckCodes(ak905: "19"),
                    badData: segment[6]
                )
            }
        case .ge:
            guard let group = self.group else {
                self.outsideEnvelope(segment, expected: "GS")
                return
            }
            if self.transactionSet != nil { self.closeSet(missing: "SE", at: self.location(segment), reason: "GE") }
            if group.header != nil {
                self.checkCount(
                    segment,
                    element: 1,
                    expected: group.setCount,
                    code: .groupCountMismatch,
                    what: "transaction sets",
                    level: .group,
                    codes: AckCodes(ak905: "5")
                )
                self.checkReference(
                    segment,
                    element: 2,
                    expected: group.controlNumber,
                    headerName: "GS06",
                    code: .groupControlMismatch,
                    level: .group,
                    codes: AckCodes(ak905: "4")
                )
            }
            self.group = nil
            self.setPosition = nil
            self.pending.append(.groupEnd(segment))
        case .st:
            self.ensureInterchange(segment, headerName: "ISA")
            if self.transactionSet != nil {
                self.closeSet(missing: "SE", at: self.location(segment), reason: "a new ST")
            }
            if self.group == nil {
                self.emitError(
                    .missingGroupHeader,
                    level: .interchange,
                    "ST outside a functional group (no GS before it)",
                    at: segment,
                    codes: AckCodes(ta105: "024")
                )
                self.group = GroupState(header: nil, controlNumber: "")
                self.pending.append(.groupStart(nil))
            }
            self.group?.setCount += 1
            self.transactionSet = SetState(header: segment, controlNumber: segment[2])
            self.setPosition = 1
            self.pending.append(.transactionSetStart(segment))
            if self.group?.setControlNumbers.insert(Self.fingerprint(segment[2])).inserted == false {
                self.emitError(
                    .duplicateControlNumber,
                    level: .set,
                    "ST02 control number \"\(segment[2])\" is used twice in this group",
                    at: segment,
                    element: 2,
                    codes: AckCodes(ak502: "23", contrl0085: "26", contrlLevel: "UCM"),
                    badData: segment[2]
                )
            }
        case .se:
            guard var set = self.transactionSet else {
                self.outsideEnvelope(segment, expected: "ST")
                return
            }
            set.segmentCount += 1
            self.setPosition = set.segmentCount
            self.checkCount(
                segment,
                element: 1,
                expected: set.segmentCount,
                code: .segmentCountMismatch,
                what: "segments",
                level: .set,
                codes: AckCodes(ak502: "4")
            )
            self.checkReference(
                segment,
                element: 2,
                expected: set.controlNumber,
                headerName: "ST02",
                code: .setControlMismatch,
                level: .set,
                codes: AckCodes(ak502: "3")
            )
            self.transactionSet = nil
            self.pending.append(.transactionSetEnd(segment))
        default:
            if self.transactionSet != nil {
                self.transactionSet!.segmentCount += 1
                self.setPosition = self.transactionSet!.segmentCount
                self.pending.append(.segment(segment))
            } else if segment.tag == .ta1 && self.interchange != nil && self.group == nil {
                self.setPosition = nil
                self.pending.append(.segment(segment))
            } else {
                self.outsideEnvelope(segment, expected: self.interchange == nil ? "ISA" : "ST")
            }
        }
    }

    /// X12 I01 authorization information qualifiers (ISA01).
    static let authorizationQualifiers: Set<String> = ["00", "01", "02", "03", "04", "05", "06"]
    /// X12 I05 interchange ID qualifiers (ISA05, ISA07), as the 004010 and 005010 schemas list them.
    static let interchangeIDQualifiers: Set<String> = [
        "01", "02", "03", "04", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20",
        "24",
        "27", "28", "29", "30", "33", "34", "NR", "SA", "SN", "ZZ",
    ]

    /// ISA fields that decide how the interchange is handled; padding is not checked (partners get it wrong and
    /// the values are still unambiguous).
    private func checkISA(_ segment: Segment) {
        let checks: [(Int, String, (String) -> Bool, (String) -> String)] = [
            (
                12, "017", { Self.isDigits($0, length: 5...5) },
                { "ISA12 interchange version \"\($0)\" must be 5 digits" }
            ),
            (13, "018", { Self.isDigits($0, length: 9...9) }, { "ISA13 control number \"\($0)\" must be 9 digits" }),
            (14, "019", { $0 == "0" || $0 == "1" }, { "ISA14 acknowledgment requested \"\($0)\" must be 0 or 1" }),
            (15, "020", { ["P", "T", "I"].contains($0) }, { "ISA15 usage indicator \"\($0)\" must be P, T or I" }),
            (
                9, "014", { DateTimeRules.isValidDate($0) },
                { "ISA09 interchange date \"\($0)\" is not a date (YYMMDD)" }
            ),
            (10, "015", { DateTimeRules.isValidTime($0) }, { "ISA10 interchange time \"\($0)\" is not a time (HHMM)" }),
            // The qualifiers' code lists (X12 I01, I03, I05; regression, review: ISA01 99 was taken as valid).
            (1, "010", { Self.authorizationQualifiers.contains($0) }, { "ISA01 \"\($0)\" is not an I01 qualifier" }),
            (3, "012", { $0 == "00" || $0 == "01" }, { "ISA03 \"\($0)\" is not an I03 qualifier (00 or 01)" }),
            (5, "005", { Self.interchangeIDQualifiers.contains($0) }, { "ISA05 \"\($0)\" is not an I05 qualifier" }),
            (7, "007", { Self.interchangeIDQualifiers.contains($0) }, { "ISA07 \"\($0)\" is not an I05 qualifier" }),
        ]
        if segment.elementCount < 16 {
            self.emitError(
                .invalidInterchangeHeader,
                level: .interchange,
                "ISA has \(segment.elementCount) elements; it must have 16",
                at: segment,
                codes: AckCodes(ta105: "024")
            )
        }
        for (position, note, isValid, message) in checks {
            let value = Self.trimmed(segment[position])
            if !isValid(value) {
                self.emitError(
                    .invalidInterchangeHeader,
                    level: .interchange,
                    message(value),
                    at: segment,
                    element: position,
                    codes: AckCodes(ta105: note),
                    badData: value
                )
            }
        }
    }

    // MARK: - EDIFACT envelopes

    private func handleEDIFACT(_ segment: Segment) {
        switch segment.tag {
        case .unb:
            self.closeAll(before: segment, reason: "a new UNB starts")
            let syntax = segment.element(1).component(2)
            if syntax != "4" { self.tokenizer.disableRepetition() }
            self.interchange = InterchangeState(header: segment, controlNumber: segment[5])
            self.setPosition = nil
            self.pending.append(.interchangeStart(segment))
            if !["1", "2", "3", "4"].contains(syntax) {
                self.emitError(
                    .unsupportedSyntaxVersion,
                    level: .interchange,
                    "UNB syntax version \"\(syntax)\" is not supported (1 to 4)",
                    at: segment,
                    element: 1,
                    component: 2,
                    codes: AckCodes(contrl0085: "2", contrlLevel: "UCI"),
                    badData: syntax
                )
            }
        case .unz:
            guard let interchange = self.interchange else {
                self.outsideEnvelope(segment, expected: "UNB")
                return
            }
            if self.transactionSet != nil { self.closeSet(missing: "UNT", at: self.location(segment), reason: "UNZ") }
            if self.group != nil { self.closeGroup(missing: "UNE", at: self.location(segment), reason: "UNZ") }
            if interchange.header != nil {
                let countsGroups = interchange.groupCount > 0
                self.checkCount(
                    segment,
                    element: 1,
                    expected: countsGroups ? interchange.groupCount : interchange.messageCount,
                    code: .interchangeCountMismatch,
                    what: countsGroups ? "groups" : "messages",
                    level: .interchange,
                    codes: AckCodes(contrl0085: "29", contrlLevel: "UCI")
                )
                self.checkReference(
                    segment,
                    element: 2,
                    expected: interchange.controlNumber,
                    headerName: "UNB 0020",
                    code: .interchangeControlMismatch,
                    level: .interchange,
                    codes: AckCodes(contrl0085: "28", contrlLevel: "UCI")
                )
            }
            self.interchange = nil
            self.setPosition = nil
            self.pending.append(.interchangeEnd(segment))
        case .ung:
            self.ensureInterchange(segment, headerName: "UNB")
            if self.transactionSet != nil { self.closeSet(missing: "UNT", at: self.location(segment), reason: "UNG") }
            if self.group != nil { self.closeGroup(missing: "UNE", at: self.location(segment), reason: "a new UNG") }
            self.interchange?.groupCount += 1
            self.group = GroupState(header: segment, controlNumber: segment[5])
            self.setPosition = nil
            self.pending.append(.groupStart(segment))
        case .une:
            guard let group = self.group else {
                self.outsideEnvelope(segment, expected: "UNG")
                return
            }
            if self.transactionSet != nil { self.closeSet(missing: "UNT", at: self.location(segment), reason: "UNE") }
            self.checkCount(
                segment,
                element: 1,
                expected: group.setCount,
                code: .groupCountMismatch,
                what: "messages",
                level: .group,
                codes: AckCodes(contrl0085: "29", contrlLevel: "UCF")
            )
            self.checkReference(
                segment,
                element: 2,
                expected: group.controlNumber,
                headerName: "UNG 0048",
                code: .groupControlMismatch,
                level: .group,
                codes: AckCodes(contrl0085: "28", contrlLevel: "UCF")
            )
            self.group = nil
            self.setPosition = nil
            self.pending.append(.groupEnd(segment))
        case .unh:
            if self.interchange == nil {
                self.emitError(
                    .missingInterchangeHeader,
                    level: .interchange,
                    "UNH outside an interchange (no UNB before it)",
                    at: segment,
                    codes: AckCodes(contrl0085: "13", contrlLevel: "UCI")
                )
                self.interchange = InterchangeState(header: nil, controlNumber: "")
                self.pending.append(.interchangeStart(nil))
            }
            if self.transactionSet != nil {
                self.closeSet(missing: "UNT", at: self.location(segment), reason: "a new UNH")
            }
            if self.group != nil {
                self.group?.setCount += 1
            } else {
                self.interchange?.messageCount += 1
            }
            self.transactionSet = SetState(header: segment, controlNumber: segment[1])
            self.setPosition = 1
            self.pending.append(.transactionSetStart(segment))
            let fingerprint = Self.fingerprint(segment[1])
            let isNew =
                self.group != nil
                ? self.group!.setControlNumbers.insert(fingerprint).inserted
                : self.interchange!.messageReferences.insert(fingerprint).inserted
            if !isNew {
                self.emitError(
                    .duplicateControlNumber,
                    level: .set,
                    "UNH message reference \"\(segment[1])\" is used twice in this "
                        + (self.group != nil ? "group" : "interchange"),
                    at: segment,
                    element: 1,
                    codes: AckCodes(contrl0085: "26", contrlLevel: "UCM"),
                    badData: segment[1]
                )
            }
        case .unt:
            guard var set = self.transactionSet else {
                self.outsideEnvelope(segment, expected: "UNH")
                return
            }
            set.segmentCount += 1
            self.setPosition = set.segmentCount
            self.checkCount(
                segment,
                element: 1,
                expected: set.segmentCount,
                code: .segmentCountMismatch,
                what: "segments",
                level: .set,
                codes: AckCodes(contrl0085: "29", contrlLevel: "UCM")
            )
            self.checkReference(
                segment,
                element: 2,
                expected: set.controlNumber,
                headerName: "UNH 0062",
                code: .setControlMismatch,
                level: .set,
                codes: AckCodes(contrl0085: "28", contrlLevel: "UCM")
            )
            self.transactionSet = nil
            self.pending.append(.transactionSetEnd(segment))
        default:
            if self.transactionSet != nil {
                self.transactionSet!.segmentCount += 1
                self.setPosition = self.transactionSet!.segmentCount
                self.pending.append(.segment(segment))
            } else {
                self.outsideEnvelope(segment, expected: self.interchange == nil ? "UNB" : "UNH")
            }
        }
    }

    // MARK: - Shared envelope handling

    private func ensureInterchange(_ segment: Segment, headerName: String) {
        guard self.interchange == nil else { return }
        self.emitError(
            .missingInterchangeHeader,
            level: .interchange,
            "\(segment.tagText) outside an interchange (no \(headerName) before it)",
            at: segment,
            codes: AckCodes(ta105: "024", contrl0085: "13", contrlLevel: "UCI")
        )
        self.interchange = InterchangeState(header: nil, controlNumber: "")
        self.pending.append(.interchangeStart(nil))
    }

    private func closeAll(before segment: Segment, reason: String) {
        let at = self.location(segment)
        let edifact = self.tokenizer.dialect == .edifact
        if self.transactionSet != nil { self.closeSet(missing: edifact ? "UNT" : "SE", at: at, reason: reason) }
        if self.group != nil { self.closeGroup(missing: edifact ? "UNE" : "GE", at: at, reason: reason) }
        if let interchange = self.interchange {
            if interchange.header != nil {
                let trailer = edifact ? "UNZ" : "IEA"
                self.pending.append(
                    .error(
                        EDISyntaxError(
                            .missingInterchangeTrailer,
                            level: .interchange,
                            "\(trailer) missing: \(reason) before the interchange ends",
                            at: at,
                            ackCodes: AckCodes(ta105: "023", contrl0085: "13", contrlLevel: "UCI")
                        )
                    )
                )
            }
            self.pending.append(.interchangeEnd(nil))
            self.interchange = nil
        }
    }

    private func closeSet(missing trailer: String, at location: Location, reason: String) {
        var location = location
        location.segmentPosition = nil
        self.pending.append(
            .error(
                EDISyntaxError(
                    .missingSetTrailer,
                    level: .set,
                    "\(trailer) missing: \(reason) before the transaction set "
                        + "\(self.transactionSet?.controlNumber ?? "") ends",
                    at: location,
                    ackCodes: AckCodes(ak502: "2", contrl0085: "13", contrlLevel: "UCM")
                )
            )
        )
        self.transactionSet = nil
        self.setPosition = nil
        self.pending.append(.transactionSetEnd(nil))
    }

    private func closeGroup(missing trailer: String, at location: Location, reason: String) {
        var location = location
        location.segmentPosition = nil
        if self.group?.header != nil {
            self.pending.append(
                .error(
                    EDISyntaxError(
                        .missingGroupTrailer,
                        level: .group,
                        "\(trailer) missing: \(reason) before group \(self.group?.controlNumber ?? "") ends",
                        at: location,
                        ackCodes: AckCodes(ak905: "3", contrl0085: "13", contrlLevel: "UCF")
                    )
                )
            )
        }
        self.group = nil
        self.pending.append(.groupEnd(nil))
    }

    private func outsideEnvelope(_ segment: Segment, expected: String) {
        self.setPosition = nil
        if self.isOutsideEnvelope { return }
        self.isOutsideEnvelope = true
        self.emitError(
            .segmentOutsideEnvelope,
            level: .interchange,
            "\(segment.tagText) is outside its envelope (no \(expected) before it)",
            at: segment,
            codes: AckCodes(ta105: "022", contrl0085: "33", contrlLevel: "UCI")
        )
    }

    private func checkCount(
        _ segment: Segment,
        element: Int,
        expected: Int,
        code: EDISyntaxError.Code,
        what: String,
        level: EDISyntaxError.Level,
        codes: AckCodes
    ) {
        let declared = Self.trimmed(segment[element])
        guard Int(declared) != expected else { return }
        let name = "\(segment.tagText)0\(element)"
        self.emitError(
            code,
            level: level,
            "\(name) says \(declared.isEmpty ? "nothing" : declared) \(what), the \(level == .set ? "set" : "envelope")"
                + " has \(expected)",
            at: segment,
            element: element,
            codes: codes,
            badData: declared
        )
    }

    private func checkReference(
        _ segment: Segment,
        element: Int,
        expected: String,
        headerName: String,
        code: EDISyntaxError.Code,
        level: EDISyntaxError.Level,
        codes: AckCodes
    ) {
        let declared = Self.trimmed(segment[element])
        guard declared != Self.trimmed(expected) else { return }
        self.emitError(
            code,
            level: level,
            "\(segment.tagText)0\(element) control number \"\(declared)\" does not match \(headerName) \"\(expected)\"",
            at: segment,
            element: element,
            codes: codes,
            badData: declared
        )
    }

    private func location(_ segment: Segment, element: Int? = nil, component: Int? = nil) -> Location {
        Location(
            byteOffset: segment.byteOffset,
            line: segment.line,
            column: segment.column,
            fileSegmentIndex: segment.index,
            segmentPosition: self.transactionSet != nil ? self.setPosition : nil,
            segmentTag: segment.tagText,
            elementPosition: element,
            componentPosition: component
        )
    }

    private func emitError(
        _ code: EDISyntaxError.Code,
        level: EDISyntaxError.Level,
        _ message: String,
        at segment: Segment,
        element: Int? = nil,
        component: Int? = nil,
        codes: AckCodes,
        badData: String? = nil
    ) {
        var location = self.location(segment, element: element, component: component)
        location.segmentPosition = level == .set ? self.setPosition : nil
        self.pending.append(
            .error(EDISyntaxError(code, level: level, message, at: location, ackCodes: codes, badData: badData))
        )
    }

    /// FNV-1a, so that control numbers seen can be remembered in 8 bytes each.
    static func fingerprint(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    static func trimmed(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        while let first = scalars.first, first == " " || first == "\u{A0}" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\u{A0}" { scalars.removeLast() }
        return String(scalars)
    }

    static func isDigits(_ text: String, length: ClosedRange<Int>) -> Bool {
        length.contains(text.utf8.count) && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }
}
