/// A validation result, delivered as soon as the level it describes is complete.
public indirect enum ValidationEvent: Sendable {
    case transactionSet(TransactionSetReport)
    /// A group; its `sets` are filled only when the validator collects.
    case group(GroupReport)
    /// An interchange; its `groups` and `messages` are filled only when the validator collects.
    case interchange(InterchangeReport)
    /// An error outside every interchange.
    case inputError(EDISyntaxError)
}

/// Validates X12 and EDIFACT documents: the envelope (from `EDIReader`) and every transaction set against its
/// schema, producing reports that acknowledgements can be built from without reading the document again.
///
/// `validate(_:onEvent:)` streams: it keeps one set's state at a time and hands each report to the caller as it
/// completes, so a file of gigabytes validates in constant memory. `validate(bytes:)` collects everything into one
/// `DocumentReport` for documents of ordinary size.
public struct EDIValidator: Sendable {
    public var schemas: SchemaLibrary
    /// When a set's version has no schema, check it against the nearest known version of the same set instead of
    /// reporting it unsupported. Right for an admin checking a file; a gateway that must answer AK502 = 1 for
    /// versions it does not trade turns it off.
    public var checksAgainstNearestVersion: Bool

    public init(schemas: SchemaLibrary = .standard, checksAgainstNearestVersion: Bool = true) {
        self.schemas = schemas
        self.checksAgainstNearestVersion = checksAgainstNearestVersion
    }

    /// Validates everything `reader` reads, calling `onEvent` with each completed set, group and interchange.
    /// Returns the number of segments read.
    @discardableResult
    public func validate(
        _ reader: EDIReader,
        collectChildren: Bool = false,
        onEvent: (ValidationEvent) throws -> Void
    ) throws -> Int {
        var state = ValidationState(
            schemas: self.schemas,
            collectChildren: collectChildren,
            checksAgainstNearestVersion: self.checksAgainstNearestVersion
        )
        var segments = 0
        while let event = try reader.next() {
            switch event {
            case .interchangeStart(let header):
                if header != nil { segments += 1 }
                state.startInterchange(header, delimiters: reader.delimiters)
            case .groupStart(let header):
                if header != nil { segments += 1 }
                state.startGroup(header)
            case .transactionSetStart(let header):
                segments += 1
                state.startSet(header, group: state.groupHeader)
            case .segment(let segment):
                segments += 1
                state.segment(segment, position: reader.setPosition)
            case .transactionSetEnd(let trailer):
                if trailer != nil { segments += 1 }
                try state.endSet(trailer, position: reader.setPosition, onEvent)
            case .groupEnd(let trailer):
                if trailer != nil { segments += 1 }
                try state.endGroup(trailer, onEvent)
            case .interchangeEnd(let trailer):
                if trailer != nil { segments += 1 }
                try state.endInterchange(onEvent)
            case .error(let error):
                try state.record(error, onEvent)
            }
        }
        return segments
    }

    /// Validates a whole document in memory and returns every result.
    public func validate(bytes: [UInt8]) -> DocumentReport {
        let reader = EDIReader(bytes: bytes)
        var report = DocumentReport(
            dialect: nil,
            interchanges: [],
            errors: [],
            segmentCount: 0,
            byteCount: bytes.count
        )
        do {
            report.segmentCount = try self.validate(reader, collectChildren: true) { event in
                switch event {
                case .interchange(let interchange): report.interchanges.append(interchange)
                case .inputError(let error): report.errors.append(error)
                case .transactionSet, .group: break
                }
            }
        } catch {
            // A BufferByteSource cannot fail.
            preconditionFailure("reading from memory failed: \(error)")
        }
        report.dialect = reader.dialect
        return report
    }
}

/// The validator's bookkeeping between reader events.
private struct ValidationState {
    let schemas: SchemaLibrary
    let collectChildren: Bool
    let checksAgainstNearestVersion: Bool
    var interchange: InterchangeReport?
    var group: GroupReport?
    var groupHeader: GroupHeader?
    var set: TransactionSetReport?
    var setValidator: TransactionSetValidator?
    var interchangeVersion = ""
    /// Position of the last segment of the open set (the set's report is filled in when it ends).
    var lastPosition = 1

    init(schemas: SchemaLibrary, collectChildren: Bool, checksAgainstNearestVersion: Bool) {
        self.schemas = schemas
        self.collectChildren = collectChildren
        self.checksAgainstNearestVersion = checksAgainstNearestVersion
    }

    mutating func startInterchange(_ header: Segment?, delimiters: Delimiters?) {
        var parsed: InterchangeHeader?
        if let header {
            parsed = header.tag == .isa ? InterchangeHeader(isa: header) : InterchangeHeader(unb: header)
        }
        self.interchangeVersion = parsed?.syntaxVersion ?? ""
        self.interchange = InterchangeReport(
            header: parsed,
            delimiters: delimiters?.description,
            errors: [],
            groups: [],
            messages: [],
            groupCount: 0,
            setCount: 0
        )
    }

    mutating func startGroup(_ header: Segment?) {
        if let header {
            self.groupHeader = header.tag == .gs ? GroupHeader(gs: header) : GroupHeader(ung: header)
        } else {
            self.groupHeader = nil
        }
        self.group = GroupReport(
            header: self.groupHeader,
            declaredSetCount: nil,
            receivedSetCount: 0,
            acceptedSetCount: 0,
            errors: [],
            sets: []
        )
    }

    mutating func startSet(_ header: Segment, group: GroupHeader?) {
        let isX12 = header.tag == .st
        let identifier: String
        let version: String
        let reference: String?
        if isX12 {
            identifier = header[1]
            // GS08 names the version; without a group, ISA12 (00401 -> 004010).
            if let groupVersion = group?.version, groupVersion.utf8.count >= 6 {
                version = String(groupVersion.prefix(6))
            } else {
                version = String(self.interchangeVersion.prefix(5)) + "0"
            }
            reference = header[3].isEmpty ? nil : header[3]
        } else {
            let messageIdentifier = header.element(2)
            identifier = messageIdentifier.component(1)
            version = messageIdentifier.component(2) + messageIdentifier.component(3)
            let association = messageIdentifier.component(5)
            reference = association.isEmpty ? nil : association
        }
        let dialect: Dialect = isX12 ? .x12 : .edifact
        var schema = self.schemas.schema(dialect: dialect, identifier: identifier, version: version)
        if schema == nil && self.checksAgainstNearestVersion {
            schema = self.schemas.nearestSchema(dialect: dialect, identifier: identifier, version: version)
        }
        self.set = TransactionSetReport(
            identifier: identifier,
            controlNumber: isX12 ? header[2] : header[1],
            version: version,
            implementationReference: reference,
            segmentCount: 1,
            byteOffset: header.byteOffset,
            isSupported: schema != nil,
            checkedAgainstVersion: schema.flatMap { $0.version == version ? nil : $0.version },
            errors: []
        )
        self.lastPosition = 1
        if let schema {
            let validator = TransactionSetValidator(schema: schema)
            validator.accept(header, position: 1)
            self.setValidator = validator
        } else {
            self.setValidator = nil
            let what = isX12 ? "transaction set \(identifier) version \(version)" : "message \(identifier) \(version)"
            self.set?.errors.append(
                EDISyntaxError(
                    .setNotSupported,
                    level: .set,
                    "\(what) is not supported (no schema)",
                    at: Location(
                        byteOffset: header.byteOffset,
                        line: header.line,
                        column: header.column,
                        fileSegmentIndex: header.index,
                        segmentPosition: 1,
                        segmentTag: header.tagText,
                        elementPosition: isX12 ? 1 : 2
                    ),
                    ackCodes: AckCodes(ak502: "1", contrl0085: "14", contrlLevel: "UCM"),
                    badData: identifier
                )
            )
        }
    }

    mutating func segment(_ segment: Segment, position: Int?) {
        guard let position else { return }
        self.setValidator?.accept(segment, position: position)
        self.lastPosition = position
    }

    mutating func endSet(_ trailer: Segment?, position: Int?, _ onEvent: (ValidationEvent) throws -> Void) throws {
        guard var set = self.set else { return }
        set.segmentCount = self.lastPosition
        if let trailer, let position {
            set.segmentCount = position
            self.setValidator?.accept(trailer, position: position)
        }
        if let validator = self.setValidator {
            validator.finish(trailer: trailer, position: set.segmentCount)
            set.errors += validator.errors
        }
        set.errors.sort {
            ($0.location.segmentPosition ?? 0, $0.location.byteOffset) < (
                $1.location.segmentPosition ?? 0, $1.location.byteOffset
            )
        }
        self.set = nil
        self.setValidator = nil
        self.interchange?.setCount += 1
        if self.group != nil {
            self.group?.receivedSetCount += 1
            if set.isAccepted { self.group?.acceptedSetCount += 1 }
            if self.collectChildren { self.group?.sets.append(set) }
        } else if self.collectChildren {
            self.interchange?.messages.append(set)
        }
        try onEvent(.transactionSet(set))
    }

    mutating func endGroup(_ trailer: Segment?, _ onEvent: (ValidationEvent) throws -> Void) throws {
        guard var group = self.group else { return }
        if let trailer { group.declaredSetCount = Int(trailer[1]) }
        self.group = nil
        self.groupHeader = nil
        self.interchange?.groupCount += 1
        if self.collectChildren { self.interchange?.groups.append(group) }
        try onEvent(.group(group))
    }

    mutating func endInterchange(_ onEvent: (ValidationEvent) throws -> Void) throws {
        guard let interchange = self.interchange else { return }
        self.interchange = nil
        try onEvent(.interchange(interchange))
    }

    /// Files an error with the level it belongs to.
    mutating func record(_ error: EDISyntaxError, _ onEvent: (ValidationEvent) throws -> Void) throws {
        let belongsToSet = error.level == .set || error.level == .segment || error.level == .element
        if belongsToSet && self.set != nil {
            self.set?.errors.append(error)
        } else if error.level == .group && self.group != nil {
            self.group?.errors.append(error)
        } else if error.level == .input {
            try onEvent(.inputError(error))
        } else {
            if self.interchange != nil {
                self.interchange?.errors.append(error)
            } else if self.group != nil {
                self.group?.errors.append(error)
            } else {
                try onEvent(.inputError(error))
            }
        }
    }
}
