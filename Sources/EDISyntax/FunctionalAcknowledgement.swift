/// The acknowledgement written for one inbound interchange: TA1, 997 or 999 (X12) or CONTRL (EDIFACT), with a
/// summary of what it says.
///
/// An acknowledgement is built from the validator's report alone (`EDIValidator().validate(bytes:)`): every
/// `EDISyntaxError` carries its location and the code of each acknowledgement standard (`AckCodes`), so the inbound
/// bytes are never read again. Building is pure: control numbers, date and time are parameters, and every policy
/// (send a TA1 or not, 997 or 999, a detailed CONTRL or a receipt) is the caller's.
///
/// How results are judged:
/// - A transaction set or message with any error is rejected (AK501/IK501 `R`, UCM 0083 `4`): everything the
///   validator reports is a syntax error.
/// - An X12 group is rejected (AK901 `R`) when its envelope is unusable (AK905 1, 2 or 6; no AK2 is written then) or
///   when every set in it is; partially accepted (`P`) when some sets are rejected; accepted with errors noted (`E`)
///   when every set is accepted but the envelope has errors (GE01 count, GE02 reference, GE missing).
/// - An X12 interchange is rejected (TA104 `R`) when its ISA is unusable (a header field or the delimiters are
///   invalid); only a TA1 can answer it then. Other envelope errors (IEA count or reference, IEA missing, segments
///   outside the envelope) are noted (`E`) and the groups are still acknowledged. Sets that arrived without a GS
///   cannot be named in a 997 and are only counted (`AcknowledgementSummary.unacknowledgedGroupCount`).
/// - An EDIFACT interchange with an envelope error (UNA, UNB, UNZ) is rejected (UCI 0083 `4`) with all its messages.
public struct FunctionalAcknowledgement: Hashable, Sendable {
    /// The acknowledgement interchange, ready to send.
    public var bytes: [UInt8]
    /// What the acknowledgement says, for the record.
    public var summary: AcknowledgementSummary
}

/// The X12 transaction set that acknowledges functional groups.
public enum X12AcknowledgementType: String, Hashable, Sendable, Codable {
    /// 997 functional acknowledgement (AK3, AK4, AK5), in the version of the group it answers.
    case functional = "997"
    /// 999 implementation acknowledgement (IK3, IK4, IK5), always 005010X231A1.
    case implementation = "999"
}

/// How much of an inbound interchange an acknowledgement can answer.
public enum AcknowledgementScope: Hashable, Sendable {
    /// Nothing: the interchange has no readable header (ISA or UNB), so there is no one to answer.
    case nothing
    /// Only the interchange itself: a TA1 (the ISA is unusable, or no group has a GS header) or a CONTRL with a UCI
    /// alone (no message arrived).
    case interchangeOnly
    /// The groups (997 or 999) or messages (CONTRL UCM) can be acknowledged.
    case functionalGroups
}

/// What the caller decides for an acknowledgement interchange: control numbers, date and time, and syntax.
public struct AcknowledgementParameters: Hashable, Sendable {
    /// ISA13 or UNB 0020 of the acknowledgement (1 to 999999999).
    public var interchangeControlNumber: Int
    /// X12 GS06 of the first acknowledgement group. Groups of other versions (one group per inbound GS08 for 997s)
    /// take the numbers after it; `AcknowledgementSummary.groupControlNumbers` lists those used.
    public var groupControlNumber: Int
    /// EDIFACT UNH 0062 of the CONTRL message.
    public var messageReference: String
    /// CCYYMMDD (written as YYMMDD where the syntax wants it: ISA09, UNB in syntax 1 to 3).
    public var date: String
    /// HHMM.
    public var time: String
    /// nil: `*` `>` `^` `~` for X12, the UNOA defaults (no UNA) for EDIFACT.
    public var delimiters: Delimiters?
    /// Written after each segment terminator.
    public var lineEnding: String

    public init(
        interchangeControlNumber: Int,
        groupControlNumber: Int = 1,
        messageReference: String = "1",
        date: String,
        time: String,
        delimiters: Delimiters? = nil,
        lineEnding: String = "\n"
    ) {
        self.interchangeControlNumber = interchangeControlNumber
        self.groupControlNumber = groupControlNumber
        self.messageReference = messageReference
        self.date = date
        self.time = time
        self.delimiters = delimiters
        self.lineEnding = lineEnding
    }
}

/// What an acknowledgement says, in a form to store beside the interchange it answers.
public struct AcknowledgementSummary: Hashable, Sendable, Codable {
    /// The X12 codes of an outcome; EDIFACT uses `accepted` (7) and `rejected` (4) only.
    public enum Status: String, Hashable, Sendable, Codable {
        case accepted = "A"
        case acceptedWithErrors = "E"
        /// At least one set was rejected and at least one accepted.
        case partiallyAccepted = "P"
        case rejected = "R"
    }

    /// The answer for one transaction set or message.
    public struct SetOutcome: Hashable, Sendable, Codable {
        /// ST01 (`850`) or UNH S009.0065 (`ORDERS`).
        public var identifier: String
        /// ST02 or UNH 0062.
        public var controlNumber: String
        public var status: Status
        /// AK502 to AK506 (IK502...) or the CONTRL 0085 codes of its errors.
        public var codes: [String]
    }

    /// The answer for one functional group (X12 GS, EDIFACT UNG).
    public struct GroupOutcome: Hashable, Sendable, Codable {
        /// GS01 / UNG 0038.
        public var functionalIdentifier: String
        /// GS06 / UNG 0048.
        public var controlNumber: String
        /// AK901; for EDIFACT UCF `accepted` or `rejected`.
        public var status: Status
        /// AK905 to AK909, or the UCF 0085 code.
        public var codes: [String]
        /// GE01 / UNE 0060 as written; nil when the trailer is missing or unreadable.
        public var declaredSetCount: Int?
        public var receivedSetCount: Int
        public var acceptedSetCount: Int
        public var sets: [SetOutcome]
    }

    public var dialect: Dialect
    /// What the acknowledgement holds, in order: `TA1`, `997`, `999`, `CONTRL`.
    public var contents: [String]
    /// The inbound interchange's control number (ISA13, UNB 0020).
    public var acknowledgedControlNumber: String
    /// The acknowledgement's own ISA13 or UNB 0020.
    public var interchangeControlNumber: Int
    /// The GS06 numbers the acknowledgement used (X12).
    public var groupControlNumbers: [Int]
    /// The overall outcome: the interchange, its groups and its sets taken together.
    public var status: Status
    /// TA104 (`A`, `E`, `R`) or UCI 0083 (`7`, `4`, `8`).
    public var interchangeCode: String
    /// TA105 or UCI 0085; nil when the interchange envelope has no error.
    public var interchangeNoteCode: String?
    /// The groups acknowledged (X12 groups with a GS header, EDIFACT UNG groups).
    public var groups: [GroupOutcome]
    /// EDIFACT messages directly inside UNB.
    public var messages: [SetOutcome]
    /// X12 groups that could not be acknowledged: sets without a GS, or every group when the ISA is unusable.
    public var unacknowledgedGroupCount: Int

    /// Every set or message answered.
    public var sets: [SetOutcome] { self.messages + self.groups.flatMap(\.sets) }
    public var acceptedSetCount: Int { self.sets.count { $0.status == .accepted || $0.status == .acceptedWithErrors } }
    public var rejectedSetCount: Int { self.sets.count { $0.status == .rejected } }
}

/// Why an acknowledgement could not be written.
public struct AcknowledgementError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong. Opaque: new codes can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// The interchange has no readable header (ISA or UNB): there is no one to answer.
        public static let missingInterchangeHeader = Self("missingInterchangeHeader")
        /// An X12 acknowledgement was asked for an EDIFACT interchange, or the reverse.
        public static let wrongDialect = Self("wrongDialect")
        /// A control number, date, time or reference given by the caller is malformed or out of range.
        public static let invalidParameter = Self("invalidParameter")
        /// A value copied from the inbound interchange cannot be written with the chosen delimiters.
        public static let unwritableValue = Self("unwritableValue")
    }

    public var code: Code
    public var message: String
    public var description: String { self.message }

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

// MARK: - Public entry points

extension FunctionalAcknowledgement {
    /// The implementation convention of the 999 (ST03 and GS08 of every 999).
    public static let implementationConvention999 = "005010X231A1"

    /// Whether the acknowledgement rejects the whole interchange, with every set or message in it: an X12 ISA that
    /// is unusable (TA1 `R`), an EDIFACT envelope error (UCI 0083 `4`). A gateway processes none of its documents.
    public static func rejectsInterchange(_ interchange: InterchangeReport) -> Bool {
        switch interchange.header?.dialect {
        case .x12: Self.unusableHeaderError(in: interchange) != nil
        case .edifact: Self.edifactEnvelopeError(in: interchange) != nil
        default: false
        }
    }

    /// Whether the acknowledgement rejects a group with every set in it: an X12 group whose envelope is unusable
    /// (AK905 1, 2 or 6), an EDIFACT group with an error of its own (UCF 0083 `4`). Other X12 group errors (GE01,
    /// GE02, GE missing) are noted (AK9 `E`) and the accepted sets stand.
    public static func rejectsGroup(_ group: GroupReport, dialect: Dialect) -> Bool {
        switch dialect {
        case .edifact: !group.errors.isEmpty
        default: group.errors.contains { ["1", "2", "6"].contains($0.ackCodes.ak905 ?? "") }
        }
    }

    /// The error of an EDIFACT interchange's own envelope (UNA, UNB, UNZ) that rejects it, if any.
    static func edifactEnvelopeError(in interchange: InterchangeReport) -> EDISyntaxError? {
        // Only errors of the interchange envelope answer in the UCI (a message's error filed here belongs to its UCM).
        interchange.errors.first { ($0.ackCodes.contrlLevel ?? "UCI") == "UCI" }
    }

    /// How much of `interchange` an acknowledgement can answer.
    public static func scope(of interchange: InterchangeReport) -> AcknowledgementScope {
        guard let header = interchange.header else { return .nothing }
        switch header.dialect {
        case .x12:
            if Self.unusableHeaderError(in: interchange) != nil { return .interchangeOnly }
            return interchange.groups.contains { $0.header != nil } ? .functionalGroups : .interchangeOnly
        case .edifact:
            let hasMessages = !interchange.messages.isEmpty || interchange.groups.contains { !$0.sets.isEmpty }
            return hasMessages ? .functionalGroups : .interchangeOnly
        case .xml:
            return .nothing
        }
    }

    /// Answers an inbound X12 interchange: one interchange holding an optional TA1 and, in a GS `FA` group, one 997
    /// or 999 per inbound functional group.
    ///
    /// - Parameters:
    ///   - includesInterchangeAcknowledgement: write a TA1 (the partner's TA1 policy, decided by the caller).
    /// - Returns: nil when there is nothing to send: no TA1 was asked for and no group can be acknowledged (see
    ///   `scope(of:)`).
    /// - Throws: `AcknowledgementError` when the interchange has no ISA, is not X12, or a parameter or an echoed
    ///   value cannot be written.
    public static func makeX12(
        for interchange: InterchangeReport,
        type: X12AcknowledgementType = .functional,
        includesInterchangeAcknowledgement: Bool,
        parameters: AcknowledgementParameters
    ) throws -> FunctionalAcknowledgement? {
        let header = try Self.header(of: interchange, dialect: .x12)
        try parameters.check(dialect: .x12)
        let answer = Self.interchangeAnswer(interchange)
        var acknowledged: [X12GroupAssessment] = []
        var unacknowledged = 0
        for group in interchange.groups {
            if answer.isUsable, let groupHeader = group.header {
                acknowledged.append(X12GroupAssessment(group, header: groupHeader))
            } else {
                unacknowledged += 1
            }
        }
        if acknowledged.isEmpty && !includesInterchangeAcknowledgement { return nil }

        let delimiters = parameters.delimiters ?? .x12Default
        let outboundGroups = Self.outboundGroups(acknowledged, type: type, header: header, delimiters: delimiters)
        let lastGroupNumber = parameters.groupControlNumber + max(outboundGroups.count, 1) - 1
        guard lastGroupNumber <= 999_999_999 else {
            throw AcknowledgementError(
                .invalidParameter,
                "group control numbers \(parameters.groupControlNumber) to \(lastGroupNumber) exceed 999999999"
            )
        }
        var groupNumbers: [Int] = []
        let bytes = try Self.writing {
            var builder = EnvelopeBuilder(dialect: .x12, delimiters: delimiters, lineEnding: parameters.lineEnding)
            try builder.beginInterchange(Self.x12InterchangeParameters(header, parameters, delimiters))
            let headerEnd = builder.bytes.count
            for (offset, outbound) in outboundGroups.enumerated() {
                let number = parameters.groupControlNumber + offset
                groupNumbers.append(number)
                try builder.beginGroup(
                    GroupParameters(
                        functionalIdentifier: "FA",
                        senderID: outbound.senderID,
                        receiverID: outbound.receiverID,
                        date: parameters.date,
                        time: parameters.time,
                        controlNumber: number,
                        version: outbound.version
                    )
                )
                for (index, group) in outbound.members.enumerated() {
                    try builder.addTransactionSet(
                        identifier: type.rawValue,
                        controlNumber: Self.zeroPadded(index + 1, width: 4),
                        implementationReference: type == .implementation ? Self.implementationConvention999 : nil,
                        body: group.segments(type: type, version: outbound.version, delimiters: delimiters)
                    )
                }
                try builder.endGroup()
            }
            try builder.endInterchange()
            var bytes = builder.bytes
            if includesInterchangeAcknowledgement {
                var writer = EDIWriter(dialect: .x12, delimiters: delimiters, lineEnding: parameters.lineEnding)
                try writer.write(Self.ta1(header, answer, delimiters))
                bytes.insert(contentsOf: writer.bytes, at: headerEnd)
            }
            return bytes
        }

        let groups = acknowledged.map(\.outcome)
        let contents = (includesInterchangeAcknowledgement ? ["TA1"] : []) + (groups.isEmpty ? [] : [type.rawValue])
        return FunctionalAcknowledgement(
            bytes: bytes,
            summary: AcknowledgementSummary(
                dialect: .x12,
                contents: contents,
                acknowledgedControlNumber: header.controlNumber,
                interchangeControlNumber: parameters.interchangeControlNumber,
                groupControlNumbers: groupNumbers,
                status: Self.combined(answer.status, groups.map(\.status)),
                interchangeCode: answer.status.rawValue,
                interchangeNoteCode: answer.noteCode == "000" ? nil : answer.noteCode,
                groups: groups,
                messages: [],
                unacknowledgedGroupCount: unacknowledged
            )
        )
    }

    /// Answers an inbound X12 interchange with a TA1 alone (ISA, TA1, IEA with no group): for partners whose TA1
    /// policy is "always" but who take no 997, or to reject an interchange whose ISA is unusable.
    public static func makeInterchangeAcknowledgement(
        for interchange: InterchangeReport,
        parameters: AcknowledgementParameters
    ) throws -> FunctionalAcknowledgement {
        var copy = interchange
        copy.groups = []
        var result = try Self.makeX12(
            for: copy,
            includesInterchangeAcknowledgement: true,
            parameters: parameters
        )!
        result.summary.unacknowledgedGroupCount = interchange.groups.count
        return result
    }

    /// Answers an inbound EDIFACT interchange with a CONTRL interchange: UCI for the interchange, then (unless
    /// `isReceiptOnly`) one UCM per message with UCS and UCD for its segment and element errors, and a UCF before
    /// the messages of each UNG group.
    ///
    /// - Parameters:
    ///   - isReceiptOnly: answer with UCI 0083 = 8 (interchange received) and no detail; a rejected interchange is
    ///     still answered with 4.
    ///   - associationAssignedCode: UNH S009.0057 of the CONTRL (`EAN002`), when a guide asks for one.
    public static func makeCONTRL(
        for interchange: InterchangeReport,
        isReceiptOnly: Bool = false,
        associationAssignedCode: String? = nil,
        parameters: AcknowledgementParameters
    ) throws -> FunctionalAcknowledgement {
        let header = try Self.header(of: interchange, dialect: .edifact)
        try parameters.check(dialect: .edifact)
        let syntax = Self.syntaxIdentifier(header.syntaxVersion)
        let envelopeError = Self.edifactEnvelopeError(in: interchange)
        let isRejected = envelopeError != nil
        let interchangeAction = isRejected ? "4" : isReceiptOnly ? "8" : "7"

        var messages: [AcknowledgementSummary.SetOutcome] = []
        var groups: [AcknowledgementSummary.GroupOutcome] = []
        var body: [SegmentValue] = [
            SegmentValue(
                "UCI",
                [
                    ElementValue(header.controlNumber),
                    ElementValue(components: [header.senderID, header.senderQualifier]),
                    ElementValue(components: [header.receiverID, header.receiverQualifier]),
                    ElementValue(interchangeAction),
                ] + Self.contrlErrorElements(envelopeError, serviceTags: ["UNA", "UNB", "UNZ"])
            )
        ]
        for message in interchange.messages {
            let answer = Self.contrlMessage(message, isRejected: isRejected)
            messages.append(answer.outcome)
            if !isReceiptOnly { body += answer.segments }
        }
        for group in interchange.groups {
            let groupError = group.errors.first { $0.ackCodes.contrl0085 != nil } ?? group.errors.first
            let isGroupRejected = isRejected || Self.rejectsGroup(group, dialect: .edifact)
            var sets: [AcknowledgementSummary.SetOutcome] = []
            var segments: [SegmentValue] = []
            for message in group.sets {
                let answer = Self.contrlMessage(message, isRejected: isGroupRejected)
                sets.append(answer.outcome)
                segments += answer.segments
            }
            let accepted = sets.count { $0.status == .accepted }
            groups.append(
                AcknowledgementSummary.GroupOutcome(
                    functionalIdentifier: group.header?.functionalIdentifier ?? "",
                    controlNumber: group.header?.controlNumber ?? "",
                    status: isGroupRejected ? .rejected : Self.combined(.accepted, sets.map(\.status)),
                    codes: groupError?.ackCodes.contrl0085.map { [$0] } ?? [],
                    declaredSetCount: group.declaredSetCount,
                    receivedSetCount: group.receivedSetCount,
                    acceptedSetCount: accepted,
                    sets: sets
                )
            )
            guard !isReceiptOnly, let groupHeader = group.header else { continue }
            body.append(
                SegmentValue(
                    "UCF",
                    [
                        ElementValue(groupHeader.controlNumber), ElementValue(components: [groupHeader.senderID]),
                        ElementValue(components: [groupHeader.receiverID]), isGroupRejected ? "4" : "7",
                    ] + Self.contrlErrorElements(groupError, serviceTags: ["UNG", "UNE"])
                )
            )
            body += segments
        }

        let isSyntax4 = syntax.hasSuffix(":4")
        let bytes = try Self.writing {
            var builder = EnvelopeBuilder(
                dialect: .edifact,
                delimiters: parameters.delimiters,
                lineEnding: parameters.lineEnding
            )
            try builder.beginInterchange(
                InterchangeParameters(
                    senderQualifier: header.receiverQualifier,
                    senderID: header.receiverID,
                    receiverQualifier: header.senderQualifier,
                    receiverID: header.senderID,
                    date: isSyntax4 ? parameters.date : String(parameters.date.dropFirst(2)),
                    time: parameters.time,
                    controlNumber: parameters.interchangeControlNumber,
                    version: syntax,
                    isTest: header.isTest
                )
            )
            try builder.addTransactionSet(
                identifier: "CONTRL",
                controlNumber: parameters.messageReference,
                version: isSyntax4 ? "41" : "D3",
                implementationReference: associationAssignedCode,
                body: body
            )
            try builder.endInterchange()
            return builder.bytes
        }

        let interchangeStatus: AcknowledgementSummary.Status = isRejected ? .rejected : .accepted
        return FunctionalAcknowledgement(
            bytes: bytes,
            summary: AcknowledgementSummary(
                dialect: .edifact,
                contents: ["CONTRL"],
                acknowledgedControlNumber: header.controlNumber,
                interchangeControlNumber: parameters.interchangeControlNumber,
                groupControlNumbers: [],
                status: Self.combined(interchangeStatus, groups.map(\.status) + messages.map(\.status)),
                interchangeCode: interchangeAction,
                interchangeNoteCode: envelopeError?.ackCodes.contrl0085,
                groups: groups,
                messages: messages,
                unacknowledgedGroupCount: 0
            )
        )
    }
}

// MARK: - X12

/// One inbound group judged for a 997 or 999.
private struct X12GroupAssessment {
    struct SetAssessment {
        var report: TransactionSetReport
        var isAccepted: Bool
        /// AK502 to AK506.
        var codes: [String]
    }

    let report: GroupReport
    let header: GroupHeader
    let sets: [SetAssessment]
    /// The group envelope itself cannot be accepted (AK905 1, 2 or 6).
    let isEnvelopeRejected: Bool
    let status: AcknowledgementSummary.Status
    /// AK905 to AK909.
    let codes: [String]
    let acceptedCount: Int

    init(_ report: GroupReport, header: GroupHeader) {
        self.report = report
        self.header = header
        self.codes = Array(FunctionalAcknowledgement.distinct(report.errors.compactMap(\.ackCodes.ak905)).prefix(5))
        self.isEnvelopeRejected = FunctionalAcknowledgement.rejectsGroup(report, dialect: .x12)
        self.sets = report.sets.map { set in
            SetAssessment(
                report: set,
                isAccepted: set.errors.isEmpty,
                codes: Array(FunctionalAcknowledgement.distinct(set.errors.compactMap(\.ackCodes.ak502)).prefix(5))
            )
        }
        self.acceptedCount = self.isEnvelopeRejected ? 0 : self.sets.count { $0.isAccepted }
        let received = report.receivedSetCount
        if self.isEnvelopeRejected || (received > 0 && self.acceptedCount == 0) {
            self.status = .rejected
        } else if self.acceptedCount < received {
            self.status = .partiallyAccepted
        } else {
            self.status = report.errors.isEmpty ? .accepted : .acceptedWithErrors
        }
    }

    var outcome: AcknowledgementSummary.GroupOutcome {
        AcknowledgementSummary.GroupOutcome(
            functionalIdentifier: self.header.functionalIdentifier,
            controlNumber: self.header.controlNumber,
            status: self.status,
            codes: self.codes,
            declaredSetCount: self.report.declaredSetCount,
            receivedSetCount: self.report.receivedSetCount,
            acceptedSetCount: self.acceptedCount,
            sets: self.sets.map {
                AcknowledgementSummary.SetOutcome(
                    identifier: $0.report.identifier,
                    controlNumber: $0.report.controlNumber,
                    status: $0.isAccepted && !self.isEnvelopeRejected ? .accepted : .rejected,
                    codes: $0.codes
                )
            }
        )
    }

    /// The 997 or 999 body (AK1 ... AK9) that answers this group; `version` is the acknowledgement's GS08.
    func segments(type: X12AcknowledgementType, version: String, delimiters: Delimiters) -> [SegmentValue] {
        let isVersion5 = version >= "005010"
        let is999 = type == .implementation
        func copy(_ text: String) -> ElementValue { ElementValue(FunctionalAcknowledgement.cleaned(text, delimiters)) }
        var result: [SegmentValue] = []
        var ak1 = [copy(self.header.functionalIdentifier), copy(self.header.controlNumber)]
        if isVersion5 { ak1.append(copy(self.header.version)) }
        result.append(SegmentValue("AK1", ak1))
        if !self.isEnvelopeRejected {
            for set in self.sets {
                var ak2 = [copy(set.report.identifier), copy(set.report.controlNumber)]
                if isVersion5, let reference = set.report.implementationReference {
                    ak2.append(copy(reference))
                }
                result.append(SegmentValue("AK2", ak2))
                for note in FunctionalAcknowledgement.segmentNotes(set.report.errors) {
                    let segmentCode = note.error.flatMap { is999 ? $0.ackCodes.ik304 : $0.ackCodes.ak304 } ?? "8"
                    result.append(
                        SegmentValue(
                            is999 ? "IK3" : "AK3",
                            [
                                // AK301 is an ID of 2 or 3: a longer tag (the fault itself) is cut to 3.
                                copy(String(note.tag.prefix(3))), ElementValue(String(note.position)),
                                copy(note.loop ?? ""),
                                ElementValue(segmentCode),
                            ]
                        )
                    )
                    for error in note.elements.prefix(is999 ? Int.max : 99) {
                        guard let code = is999 ? error.ackCodes.ik403 : error.ackCodes.ak403,
                            let position = error.location.elementPosition
                        else { continue }
                        var reference = [String(position)]
                        let repetition = isVersion5 ? error.location.repetition : nil
                        if error.location.componentPosition != nil || repetition != nil {
                            reference.append(error.location.componentPosition.map(String.init) ?? "")
                        }
                        if let repetition { reference.append(String(repetition)) }
                        result.append(
                            SegmentValue(
                                is999 ? "IK4" : "AK4",
                                [
                                    ElementValue(components: reference), "", ElementValue(code),
                                    ElementValue(
                                        FunctionalAcknowledgement.copyOfBadData(error.badData, delimiters) ?? ""
                                    ),
                                ]
                            )
                        )
                    }
                }
                let setStatus = set.isAccepted ? "A" : "R"
                result.append(
                    SegmentValue(is999 ? "IK5" : "AK5", [ElementValue(setStatus)] + set.codes.map { ElementValue($0) })
                )
            }
        }
        let declared = self.report.declaredSetCount ?? self.report.receivedSetCount
        result.append(
            SegmentValue(
                "AK9",
                [
                    ElementValue(self.status.rawValue), ElementValue(String(declared)),
                    ElementValue(String(self.report.receivedSetCount)), ElementValue(String(self.acceptedCount)),
                ] + self.codes.map { ElementValue($0) }
            )
        )
        return result
    }
}

/// The acknowledgement groups of one X12 interchange: one per acknowledgement version and pair of IDs.
private struct X12OutboundGroup {
    var version: String
    var senderID: String
    var receiverID: String
    var members: [X12GroupAssessment]
}

extension FunctionalAcknowledgement {
    /// The answer to the interchange envelope: TA104, TA105 and whether the ISA can be used at all.
    fileprivate struct InterchangeAnswer {
        var status: AcknowledgementSummary.Status
        var noteCode: String
        var isUsable: Bool
    }

    fileprivate static func interchangeAnswer(_ interchange: InterchangeReport) -> InterchangeAnswer {
        if let unusable = Self.unusableHeaderError(in: interchange) {
            return InterchangeAnswer(status: .rejected, noteCode: unusable.ackCodes.ta105 ?? "024", isUsable: false)
        }
        let noted = interchange.errors.filter { $0.ackCodes.ta105 != nil }
            .min { $0.location.byteOffset < $1.location.byteOffset }
        guard let noted, let note = noted.ackCodes.ta105 else {
            return InterchangeAnswer(status: .accepted, noteCode: "000", isUsable: true)
        }
        return InterchangeAnswer(status: .acceptedWithErrors, noteCode: note, isUsable: true)
    }

    /// The first error that rejects the whole interchange: one of the ISA's fields or the delimiters are invalid, or
    /// the gateway found the interchange to be a duplicate (TA105 025) and the partner's policy rejects duplicates.
    fileprivate static func unusableHeaderError(in interchange: InterchangeReport) -> EDISyntaxError? {
        interchange.errors.filter {
            $0.code == .invalidInterchangeHeader || $0.code == .invalidDelimiters
                || ($0.code == .duplicateControlNumber && $0.level == .interchange)
        }
        .min { $0.location.byteOffset < $1.location.byteOffset }
    }

    fileprivate static func ta1(
        _ header: InterchangeHeader,
        _ answer: InterchangeAnswer,
        _ delimiters: Delimiters
    ) -> SegmentValue {
        let control = header.controlNumber
        let isDigits =
            !control.isEmpty && control.utf8.count <= 9 && control.utf8.allSatisfy { (0x30...0x39).contains($0) }
        return SegmentValue(
            "TA1",
            [
                ElementValue(
                    isDigits ? Self.zeroPadded(Int(control) ?? 0, width: 9) : Self.cleaned(control, delimiters)
                ),
                ElementValue(Self.cleaned(header.date, delimiters)),
                ElementValue(Self.cleaned(header.time, delimiters)),
                ElementValue(answer.status.rawValue),
                ElementValue(answer.noteCode),
            ]
        )
    }

    fileprivate static func x12InterchangeParameters(
        _ header: InterchangeHeader,
        _ parameters: AcknowledgementParameters,
        _ delimiters: Delimiters
    ) -> InterchangeParameters {
        InterchangeParameters(
            senderQualifier: Self.cleaned(header.receiverQualifier, delimiters),
            senderID: Self.cleaned(header.receiverID, delimiters),
            receiverQualifier: Self.cleaned(header.senderQualifier, delimiters),
            receiverID: Self.cleaned(header.senderID, delimiters),
            date: String(parameters.date.dropFirst(2)),
            time: parameters.time,
            controlNumber: parameters.interchangeControlNumber,
            version: Self.isDigits(header.syntaxVersion, count: 5) ? header.syntaxVersion : "00401",
            isAcknowledgementRequested: false,
            isTest: header.isTest
        )
    }

    /// Groups the inbound groups by the acknowledgement group that answers them: 997s echo each group's GS08, so
    /// groups of different versions (or ID pairs) need groups of their own; 999s are all 005010X231A1.
    fileprivate static func outboundGroups(
        _ groups: [X12GroupAssessment],
        type: X12AcknowledgementType,
        header: InterchangeHeader,
        delimiters: Delimiters
    ) -> [X12OutboundGroup] {
        let interchangeVersion =
            Self.isDigits(header.syntaxVersion, count: 5) ? header.syntaxVersion + "0" : "004010"
        var result: [X12OutboundGroup] = []
        for group in groups {
            let version: String
            switch type {
            case .functional:
                let echoed = Self.cleaned(group.header.version, delimiters)
                version = echoed.isEmpty ? interchangeVersion : echoed
            case .implementation:
                version = Self.implementationConvention999
            }
            let senderID = Self.cleaned(group.header.receiverID, delimiters)
            let receiverID = Self.cleaned(group.header.senderID, delimiters)
            if let index = result.firstIndex(where: {
                $0.version == version && $0.senderID == senderID && $0.receiverID == receiverID
            }) {
                result[index].members.append(group)
            } else {
                result.append(
                    X12OutboundGroup(version: version, senderID: senderID, receiverID: receiverID, members: [group])
                )
            }
        }
        return result
    }
}

// MARK: - EDIFACT

extension FunctionalAcknowledgement {
    /// `UNOC:3` from the inbound S001, keeping the character set and a syntax version from 1 to 4.
    fileprivate static func syntaxIdentifier(_ inbound: String) -> String {
        let components = inbound.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let identifier = components.first.flatMap { $0.isEmpty ? nil : $0 } ?? "UNOC"
        let version = components.count > 1 && ["1", "2", "3", "4"].contains(components[1]) ? components[1] : "3"
        return identifier + ":" + version
    }

    /// 0085, 0013 and S011 of a UCI, UCF or UCM for `error`; the segment tag only when it names a service segment.
    fileprivate static func contrlErrorElements(_ error: EDISyntaxError?, serviceTags: Set<String>) -> [ElementValue] {
        guard let error else { return [] }
        var result: [ElementValue] = [ElementValue(error.ackCodes.contrl0085 ?? "18")]
        if let tag = error.location.segmentTag, serviceTags.contains(tag) {
            result.append(ElementValue(tag))
            if let element = error.location.elementPosition {
                result.append(
                    ElementValue(
                        components: [String(element)] + (error.location.componentPosition.map { [String($0)] } ?? [])
                    )
                )
            }
        }
        return result
    }

    /// The UCM (and its UCS and UCD) answering one message; `isRejected` when a level above rejects it anyway.
    fileprivate static func contrlMessage(
        _ message: TransactionSetReport,
        isRejected: Bool
    ) -> (outcome: AcknowledgementSummary.SetOutcome, segments: [SegmentValue]) {
        let isAccepted = message.errors.isEmpty && !isRejected
        let messageError =
            message.errors.first { $0.level == .set && $0.ackCodes.contrl0085 != nil }
            ?? message.errors.first { $0.level == .set }
        let version = message.version
        var identifier = [
            message.identifier, String(version.prefix(1)), String(version.dropFirst()), "UN",
        ]
        // S009.0057 is an..6: a longer association code is not echoed.
        if let association = message.implementationReference, association.count <= 6 { identifier.append(association) }
        var segments = [
            SegmentValue(
                "UCM",
                [
                    ElementValue(message.controlNumber), ElementValue(components: identifier),
                    ElementValue(isAccepted ? "7" : "4"),
                ] + Self.contrlErrorElements(messageError, serviceTags: ["UNH", "UNT"])
            )
        ]
        for note in Self.segmentNotes(message.errors).prefix(999) {
            segments.append(
                SegmentValue(
                    "UCS",
                    [ElementValue(String(note.position)), ElementValue(note.error?.ackCodes.contrl0085 ?? "")]
                )
            )
            for error in note.elements.prefix(99) {
                guard let position = error.location.elementPosition else { continue }
                segments.append(
                    SegmentValue(
                        "UCD",
                        [
                            ElementValue(error.ackCodes.contrl0085 ?? "18"),
                            ElementValue(
                                components: [String(position)]
                                    + (error.location.componentPosition.map { [String($0)] } ?? [])
                            ),
                        ]
                    )
                )
            }
        }
        let outcome = AcknowledgementSummary.SetOutcome(
            identifier: message.identifier,
            controlNumber: message.controlNumber,
            status: isAccepted ? .accepted : .rejected,
            codes: Self.distinct(message.errors.compactMap(\.ackCodes.contrl0085))
        )
        return (outcome, segments)
    }
}

// MARK: - Shared

extension FunctionalAcknowledgement {
    /// The errors of one segment of a set: the first segment-level error (AK304, IK304, UCS 0085) and the element
    /// errors (AK4, IK4, UCD).
    fileprivate struct SegmentNote {
        var position: Int
        var tag: String
        var loop: String?
        var error: EDISyntaxError?
        var elements: [EDISyntaxError]
    }

    /// The segment and element errors of a set, one note per segment in order of position (ST or UNH = 1).
    fileprivate static func segmentNotes(_ errors: [EDISyntaxError]) -> [SegmentNote] {
        var notes: [SegmentNote] = []
        var slots: [String: Int] = [:]
        for error in errors where error.level == .segment || error.level == .element {
            guard let position = error.location.segmentPosition else { continue }
            let tag = error.location.segmentTag ?? ""
            let key = "\(position) \(tag)"
            let slot: Int
            if let existing = slots[key] {
                slot = existing
            } else {
                slot = notes.count
                slots[key] = slot
                notes.append(
                    SegmentNote(
                        position: position,
                        tag: tag,
                        loop: error.location.loopIdentifier,
                        error: nil,
                        elements: []
                    )
                )
            }
            if error.level == .element {
                notes[slot].elements.append(error)
            } else if notes[slot].error == nil {
                notes[slot].error = error
            }
        }
        return notes.enumerated().sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }
            .map(\.element)
    }

    /// The combined outcome of a level whose own answer is `own` and whose parts answered `parts`.
    fileprivate static func combined(
        _ own: AcknowledgementSummary.Status,
        _ parts: [AcknowledgementSummary.Status]
    ) -> AcknowledgementSummary.Status {
        if own == .rejected { return .rejected }
        if parts.isEmpty || parts.allSatisfy({ $0 == .accepted }) { return own }
        if parts.allSatisfy({ $0 == .rejected }) { return .rejected }
        if parts.contains(where: { $0 == .rejected || $0 == .partiallyAccepted }) { return .partiallyAccepted }
        return .acceptedWithErrors
    }

    fileprivate static func header(of interchange: InterchangeReport, dialect: Dialect) throws -> InterchangeHeader {
        guard let header = interchange.header else {
            throw AcknowledgementError(
                .missingInterchangeHeader,
                "the interchange has no readable \(dialect == .x12 ? "ISA" : "UNB"): there is no one to acknowledge"
            )
        }
        guard header.dialect == dialect else {
            throw AcknowledgementError(
                .wrongDialect,
                "a \(dialect == .x12 ? "TA1/997/999" : "CONTRL") cannot answer a \(header.dialect.rawValue) interchange"
            )
        }
        return header
    }

    /// Runs `body`, turning a writer error (an echoed value holding a delimiter) into an `AcknowledgementError`.
    fileprivate static func writing(_ body: () throws -> [UInt8]) throws -> [UInt8] {
        do {
            return try body()
        } catch let error as EDIWriterError {
            throw AcknowledgementError(.unwritableValue, "the acknowledgement cannot be written: \(error)")
        }
    }

    /// Text copied into a mandatory X12 element, without the bytes that the delimiters or the syntax forbid.
    fileprivate static func cleaned(_ text: String, _ delimiters: Delimiters) -> String {
        String(
            decoding: text.utf8.filter {
                !delimiters.isDelimiter($0) && !delimiters.segmentTerminator.contains($0) && $0 >= 0x20 && $0 != 0x7F
            },
            as: UTF8.self
        )
    }

    /// AK404/IK404: the bad data, at most 99 characters; nil when it is empty or holds a delimiter or a control
    /// character (a changed copy would mislead more than none).
    fileprivate static func copyOfBadData(_ data: String?, _ delimiters: Delimiters) -> String? {
        guard let data, !data.isEmpty, Self.cleaned(data, delimiters) == data else { return nil }
        return String(String.UnicodeScalarView(data.unicodeScalars.prefix(99)))
    }

    /// The distinct values of `codes`, in order of first appearance.
    static func distinct(_ codes: [String]) -> [String] {
        var seen: Set<String> = []
        return codes.filter { seen.insert($0).inserted }
    }

    fileprivate static func zeroPadded(_ number: Int, width: Int) -> String {
        let digits = String(number)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    fileprivate static func isDigits(_ text: String, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }
}

extension AcknowledgementParameters {
    fileprivate func check(dialect: Dialect) throws {
        func fail(_ message: String) -> AcknowledgementError { AcknowledgementError(.invalidParameter, message) }
        let numbers =
            [("interchange", self.interchangeControlNumber)]
            + (dialect == .x12 ? [("group", self.groupControlNumber)] : [])
        for (name, number) in numbers where !(1...999_999_999).contains(number) {
            throw fail("the \(name) control number \(number) is not between 1 and 999999999")
        }
        guard FunctionalAcknowledgement.isDigits(self.date, count: 8) else {
            throw fail("the date \"\(self.date)\" is not CCYYMMDD")
        }
        guard FunctionalAcknowledgement.isDigits(self.time, count: 4) else {
            throw fail("the time \"\(self.time)\" is not HHMM")
        }
        if dialect == .edifact && (self.messageReference.isEmpty || self.messageReference.count > 14) {
            throw fail("the message reference \"\(self.messageReference)\" must be 1 to 14 characters")
        }
    }
}
