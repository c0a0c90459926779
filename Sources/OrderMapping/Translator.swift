import EDISyntax
import OrderModel
import XMLSyntax

/// One canonical value read from a document, with the partner it belongs to.
public struct TranslatedDocument: Sendable {
    public var partnerID: String?
    public var value: MappedDocument
    public var source: DocumentSource
}

/// Why (part of) a document could not be translated: no map, an unknown partner, a mapping error, a syntax error.
public struct TranslationIssue: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    /// Control numbers of the set or the XML record the issue is about, when it is about one.
    public var transactionSetControlNumber: String?
    public var byteOffset: Int?

    public init(message: String, transactionSetControlNumber: String? = nil, byteOffset: Int? = nil) {
        self.message = message
        self.transactionSetControlNumber = transactionSetControlNumber
        self.byteOffset = byteOffset
    }

    public var description: String { self.message }
}

/// Turns documents into canonical values with a `MappingSet`: detects the format, finds the partner from the
/// envelope (or takes the one given), picks the partner's map for each set or record, and maps it. Memory is bounded
/// by one transaction set (EDI) or one record (XML): values are handed to `body` one at a time.
public struct Translator: Sendable {
    public let mappings: MappingSet

    public init(mappings: MappingSet) {
        self.mappings = mappings
    }

    /// Translates an X12 or EDIFACT document read from `source`. Issues that concern one set do not stop the others;
    /// they are returned. Errors thrown by `body` stop the translation.
    public func translateEDI(
        source: any ByteSource,
        partnerID: String? = nil,
        _ body: (TranslatedDocument) throws -> Void
    ) throws -> [TranslationIssue] {
        let reader = EDIReader(source: source)
        var issues: [TranslationIssue] = []
        var interchange: Segment?
        var group: Segment?
        var setHeader: Segment?
        var builder: SegmentTreeBuilder?
        var partner = partnerID.flatMap { self.mappings.partners[$0] }
        var map: InboundMap?
        var mapMissing = false
        var sawSet = false
        var readerErrors: [EDISyntaxError] = []
        // One arena for every set of the document: it grows to the largest and is reused.
        let arena = SetArena()
        // Scopes hold the arena unowned: it must outlive every mapping call.
        defer { withExtendedLifetime(arena) {} }
        var choices: [ChoiceKey: (map: InboundMap, shape: LoopShape)?] = [:]
        while let event = try reader.next() {
            switch event {
            case .interchangeStart(let header):
                interchange = header
                group = nil
                if partnerID == nil, let header {
                    if reader.dialect == .x12 {
                        partner = self.mappings.partner(x12Qualifier: header[5], id: header[6])
                    } else {
                        let sender = header.element(2)
                        partner = self.mappings.partner(edifactID: sender.component(1), qualifier: sender.component(2))
                    }
                }
            case .groupStart(let header):
                group = header
            case .transactionSetStart(let header):
                sawSet = true
                setHeader = header
                builder = nil
                map = nil
                mapMissing = false
                let dialect = reader.dialect ?? .x12
                let identifier: String
                let version: String
                if dialect == .x12 {
                    identifier = header[1]
                    version = String((group?[8] ?? "").prefix(6))
                } else {
                    let type = header.element(2)
                    identifier = type.component(1)
                    version = type.component(2) + type.component(3)
                }
                // Sets of one document mostly share partner, type and version: the choice is made once for each.
                let key = ChoiceKey(partner: partner?.id, dialect: dialect, identifier: identifier, version: version)
                let choice: (map: InboundMap, shape: LoopShape)?
                if let known = choices[key] {
                    choice = known
                } else {
                    choice = self.map(dialect: dialect, document: identifier, version: version, partner: partner)
                        .flatMap { chosen in
                            SchemaLibrary.standard.nearestSchema(
                                dialect: dialect,
                                identifier: identifier,
                                version: chosen.versions.first ?? version
                            ).map { (chosen, LoopShapeCache.shape(for: $0)) }
                        }
                    choices[key] = choice
                }
                guard let (chosen, shape) = choice else {
                    mapMissing = true
                    issues.append(
                        TranslationIssue(
                            message: "no inbound map for \(dialect.rawValue) \(identifier) \(version)"
                                + (partner.map { " for partner \($0.id)" } ?? ""),
                            transactionSetControlNumber: header[dialect == .x12 ? 2 : 1],
                            byteOffset: header.byteOffset
                        )
                    )
                    continue
                }
                map = chosen
                builder = SegmentTreeBuilder(arena: arena, shape: shape, header: header)
            case .segment(let segment):
                builder?.append(segment)
            case .transactionSetEnd(let trailer):
                defer {
                    builder = nil
                    setHeader = nil
                }
                guard !mapMissing, builder != nil, let map, let header = setHeader else { continue }
                if let trailer { builder!.append(trailer) }
                builder!.finish()
                let dialect = reader.dialect ?? .x12
                var source = DocumentSource(format: dialect.rawValue)
                source.documentType = map.document
                if let interchange {
                    if dialect == .x12 {
                        source.senderQualifier = interchange[5].trimmed().description
                        source.senderID = interchange[6].trimmed().description
                        source.receiverQualifier = interchange[7].trimmed().description
                        source.receiverID = interchange[8].trimmed().description
                        source.interchangeControlNumber = interchange[13]
                    } else {
                        source.senderID = interchange.element(2).component(1)
                        source.senderQualifier = interchange.element(2).component(2)
                        source.receiverID = interchange.element(3).component(1)
                        source.receiverQualifier = interchange.element(3).component(2)
                        source.interchangeControlNumber = interchange[5]
                    }
                }
                if dialect == .x12 {
                    source.version = group.map { String($0[8].prefix(6)) }
                    source.groupControlNumber = group?[6]
                    source.transactionSetControlNumber = header[2]
                } else {
                    let type = header.element(2)
                    source.version = type.component(2) + type.component(3)
                    source.groupControlNumber = group?[5]
                    source.transactionSetControlNumber = header[1]
                }
                source.byteOffset = header.byteOffset
                source.line = header.line
                source.mapping = map.id
                source.mappingVersion = map.version
                do {
                    let value = try map.map(.edi(EDIScope(arena: arena)))
                    try body(Self.stamp(value, source: source, partnerID: partner?.id))
                } catch let error as DocumentMappingError {
                    issues.append(
                        TranslationIssue(
                            message: error.description,
                            transactionSetControlNumber: source.transactionSetControlNumber,
                            byteOffset: header.byteOffset
                        )
                    )
                }
            case .error(let error):
                readerErrors.append(error)
            case .groupEnd, .interchangeEnd:
                break
            }
        }
        // Envelope errors in a document whose sets map are the validator's and the acknowledgements' business; a
        // document in which no set could be found at all (not EDI, truncated before ST/UNH) must not look like an
        // empty success.
        if !sawSet {
            issues += readerErrors.map { TranslationIssue(message: "\($0)", byteOffset: $0.location.byteOffset) }
            if readerErrors.isEmpty { issues.append(TranslationIssue(message: "no transaction set in the document")) }
        }
        return issues
    }

    /// Translates an XML document (cXML, UBL, or a batch of UBL records) read by `read`.
    public func translateXML(
        documentName: String,
        partnerID: String? = nil,
        limits: XMLLimits = .default,
        read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int,
        _ body: (TranslatedDocument) throws -> Void
    ) throws -> [TranslationIssue] {
        let fixedPartner = partnerID.flatMap { self.mappings.partners[$0] }
        let candidates = self.mappings.inboundMaps(for: fixedPartner?.id).filter { $0.format == .xml }
        guard !candidates.isEmpty else {
            return [TranslationIssue(message: "no inbound XML map" + (partnerID.map { " for partner \($0)" } ?? ""))]
        }
        var readerLimits = limits
        readerLimits.allowedDoctypes.formUnion(candidates.flatMap(\.allowedDoctypes))
        let reader = XMLStreamReader(limits: readerLimits, documentName: documentName, read: read)
        var issues: [TranslationIssue] = []
        var records = 0
        do {
            records = try self.readRecords(
                reader,
                candidates: candidates,
                fixedPartner: fixedPartner,
                issues: &issues,
                body
            )
        } catch let error as XMLSyntaxError {
            // Records before the error were delivered; the error says where the document broke.
            issues.append(TranslationIssue(message: "\(documentName): \(error)"))
        }
        if records == 0 && issues.isEmpty { issues.append(TranslationIssue(message: "no record in the document")) }
        return issues
    }

    private func readRecords(
        _ reader: XMLStreamReader,
        candidates: [InboundMap],
        fixedPartner: PartnerProfile?,
        issues: inout [TranslationIssue],
        _ body: (TranslatedDocument) throws -> Void
    ) throws -> Int {
        var index = 0
        return try reader.readRecords(named: Set(candidates.map(\.document))) { record in
            index += 1
            var partner = fixedPartner
            var candidatesForRecord = candidates
            if partner == nil {
                for map in candidates where map.matches(record) {
                    if let sender = map.senderPath?.values(from: record).first?.value,
                        let found = self.mappings.partner(xmlIdentity: sender)
                    {
                        partner = found
                        candidatesForRecord = self.mappings.inboundMaps(for: found.id).filter { $0.format == .xml }
                        break
                    }
                }
            }
            guard let map = candidatesForRecord.first(where: { $0.matches(record) }) else {
                issues.append(
                    TranslationIssue(
                        message: "record \(index) (<\(record.localName)>, line \(record.line)): no inbound map applies"
                    )
                )
                return
            }
            var source = DocumentSource(format: "xml")
            source.documentType = map.document
            source.version = record.attribute("version") ?? record.firstChild("UBLVersionID")?.text
            source.senderID = map.senderPath?.values(from: record).first?.value
            source.receiverID = map.receiverPath?.values(from: record).first?.value
            source.interchangeControlNumber = record.attribute("payloadID") ?? record.firstChild("ID")?.text
            source.line = record.line
            source.mapping = map.id
            source.mappingVersion = map.version
            do {
                let value = try map.map(.xml(XMLScope(record: record, path: record.localName)))
                try body(Self.stamp(value, source: source, partnerID: partner?.id))
            } catch let error as DocumentMappingError {
                issues.append(TranslationIssue(message: "record \(index): \(error.description)"))
            }
        }
    }

    /// What the choice of a set's map depends on.
    private struct ChoiceKey: Hashable {
        var partner: String?
        var dialect: Dialect
        var identifier: String
        var version: String
    }

    /// Chooses the inbound map for a set: the partner's map for the document and version, else its nearest version.
    func map(dialect: Dialect, document: String, version: String, partner: PartnerProfile?) -> InboundMap? {
        let format: MapFormat = dialect == .x12 ? .x12 : .edifact
        let maps = self.mappings.inboundMaps(for: partner?.id).filter { $0.format == format && $0.document == document }
        if let exact = maps.first(where: { $0.versions.contains(version) }) { return exact }
        // Nearest version: the same X12 release family or EDIFACT directory year, else the first.
        return maps.min {
            Self.distance($0.versions.first ?? "", version) < Self.distance($1.versions.first ?? "", version)
        }
    }

    private static func distance(_ a: String, _ b: String) -> Int {
        func number(_ text: String) -> Int {
            let digits = text.filter(\.isNumber)
            var value = Int(digits.prefix(6)) ?? 0
            if text.hasPrefix("D"), let year = Int(digits.prefix(2)) { value = (year < 50 ? 2000 : 1900) + year }
            return value
        }
        return abs(number(a) - number(b))
    }

    private static func stamp(_ value: MappedDocument, source: DocumentSource, partnerID: String?) -> TranslatedDocument
    {
        var value = value
        switch value {
        case .order(var order):
            order.source = source
            order.partnerID = partnerID
            value = .order(order)
        case .acknowledgement(var acknowledgement):
            acknowledgement.source = source
            value = .acknowledgement(acknowledgement)
        case .shipNotice(var notice):
            notice.source = source
            value = .shipNotice(notice)
        case .invoice(var invoice):
            invoice.source = source
            value = .invoice(invoice)
        }
        return TranslatedDocument(partnerID: partnerID, value: value, source: source)
    }
}
