/// What an interchange header says: identities, control number, dates and what the sender asks for.
public struct InterchangeHeader: Hashable, Sendable, Codable {
    public var dialect: Dialect
    /// ISA05 / UNB S002.0007.
    public var senderQualifier: String
    /// ISA06 / UNB S002.0004, padding removed.
    public var senderID: String
    public var receiverQualifier: String
    public var receiverID: String
    /// ISA09 (YYMMDD) / UNB S004.0017.
    public var date: String
    public var time: String
    /// ISA13 / UNB 0020.
    public var controlNumber: String
    /// ISA12 (`00401`) / UNB S001 (`UNOC:3`).
    public var syntaxVersion: String
    /// ISA14 = 1 / UNB 0031 = 1.
    public var isAcknowledgementRequested: Bool
    /// ISA15 = T / UNB 0035 = 1.
    public var isTest: Bool
    public var byteOffset: Int

    init(isa segment: Segment) {
        self.dialect = .x12
        self.senderQualifier = EDIReader.trimmed(segment[5])
        self.senderID = EDIReader.trimmed(segment[6])
        self.receiverQualifier = EDIReader.trimmed(segment[7])
        self.receiverID = EDIReader.trimmed(segment[8])
        self.date = segment[9]
        self.time = segment[10]
        self.controlNumber = EDIReader.trimmed(segment[13])
        self.syntaxVersion = segment[12]
        self.isAcknowledgementRequested = segment[14] == "1"
        self.isTest = segment[15] == "T"
        self.byteOffset = segment.byteOffset
    }

    init(unb segment: Segment) {
        self.dialect = .edifact
        let sender = segment.element(2)
        let receiver = segment.element(3)
        let dateTime = segment.element(4)
        self.senderQualifier = sender.component(2)
        self.senderID = sender.component(1)
        self.receiverQualifier = receiver.component(2)
        self.receiverID = receiver.component(1)
        self.date = dateTime.component(1)
        self.time = dateTime.component(2)
        self.controlNumber = segment[5]
        self.syntaxVersion = segment.element(1).components.joined(separator: ":")
        self.isAcknowledgementRequested = segment[9] == "1"
        self.isTest = segment[11] == "1"
        self.byteOffset = segment.byteOffset
    }
}

/// What a functional group header says (GS or UNG).
public struct GroupHeader: Hashable, Sendable, Codable {
    /// GS01 (`PO`) / UNG 0038.
    public var functionalIdentifier: String
    public var senderID: String
    public var receiverID: String
    public var date: String
    public var time: String
    /// GS06 / UNG 0048.
    public var controlNumber: String
    /// GS07 / UNG 0051.
    public var agency: String
    /// GS08 (`004010`, `005010X231A1`) / UNG S008 (`D:96A`).
    public var version: String
    public var byteOffset: Int

    init(gs segment: Segment) {
        self.functionalIdentifier = segment[1]
        self.senderID = segment[2]
        self.receiverID = segment[3]
        self.date = segment[4]
        self.time = segment[5]
        self.controlNumber = segment[6]
        self.agency = segment[7]
        self.version = segment[8]
        self.byteOffset = segment.byteOffset
    }

    init(ung segment: Segment) {
        self.functionalIdentifier = segment[1]
        self.senderID = segment.element(2).component(1)
        self.receiverID = segment.element(3).component(1)
        self.date = segment.element(4).component(1)
        self.time = segment.element(4).component(2)
        self.controlNumber = segment[5]
        self.agency = segment[6]
        self.version = segment.element(7).components.prefix(2).joined()
        self.byteOffset = segment.byteOffset
    }
}

/// The validation result of one transaction set or message.
public struct TransactionSetReport: Hashable, Sendable, Codable {
    /// ST01 (`850`) / UNH S009.0065 (`ORDERS`).
    public var identifier: String
    /// ST02 / UNH 0062.
    public var controlNumber: String
    /// The version its schema was looked up by (`004010`, `D96A`).
    public var version: String
    /// ST03 (5010) or the UNH association code (`EAN008`), when present.
    public var implementationReference: String?
    /// Segments from header to trailer inclusive, as received.
    public var segmentCount: Int
    public var byteOffset: Int
    /// False when no schema exists for the set (997 AK502 = 1).
    public var isSupported: Bool
    /// The schema version the set was checked against, when it differs from `version` (the nearest known one).
    public var checkedAgainstVersion: String?
    public var errors: [EDISyntaxError]

    /// No errors: the set is accepted (997 AK501 = A).
    public var isAccepted: Bool { self.errors.isEmpty }
}

/// The validation result of one functional group.
public struct GroupReport: Hashable, Sendable, Codable {
    /// nil for sets that arrived without a group header.
    public var header: GroupHeader?
    /// GE01 / UNE 0060 as written; nil when the trailer is missing.
    public var declaredSetCount: Int?
    public var receivedSetCount: Int
    public var acceptedSetCount: Int
    /// Errors of the group envelope itself (997 AK905).
    public var errors: [EDISyntaxError]
    /// The group's sets, when the validator collects them.
    public var sets: [TransactionSetReport]
}

/// The validation result of one interchange.
public struct InterchangeReport: Hashable, Sendable, Codable {
    /// nil for a bare EDIFACT message without UNB.
    public var header: InterchangeHeader?
    public var delimiters: String?
    /// Errors of the interchange envelope (TA1 note codes, CONTRL UCI).
    public var errors: [EDISyntaxError]
    /// The groups, when the validator collects them.
    public var groups: [GroupReport]
    /// EDIFACT messages directly inside UNB (no UNG), when the validator collects them.
    public var messages: [TransactionSetReport]
    public var groupCount: Int
    public var setCount: Int
}

/// Everything a validation pass found in one input.
public struct DocumentReport: Hashable, Sendable, Codable {
    public var dialect: Dialect?
    public var interchanges: [InterchangeReport]
    /// Errors that belong to no interchange (not EDI at all, empty input).
    public var errors: [EDISyntaxError]
    public var segmentCount: Int
    public var byteCount: Int

    /// Every error, in document order within each level.
    public var allErrors: [EDISyntaxError] {
        var result = self.errors
        for interchange in self.interchanges {
            result += interchange.errors
            for message in interchange.messages { result += message.errors }
            for group in interchange.groups {
                result += group.errors
                for set in group.sets { result += set.errors }
            }
        }
        return result.sorted { $0.location.byteOffset < $1.location.byteOffset }
    }

    public var isValid: Bool { self.allErrors.isEmpty }
}
