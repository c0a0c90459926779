import EDISyntax
import Foundation
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
    ///
    /// `pipelined`: for large documents on an otherwise idle machine. The document is read and split into sets on a
    /// thread of its own, the sets are mapped on one thread per core, and `body` gets the values on the caller's
    /// thread; memory stays bounded by a few batches of sets. Either way, `body` is called on the caller's thread, in document
    /// order, and the values and issues are the same.
    public func translateEDI(
        source: any ByteSource,
        partnerID: String? = nil,
        pipelined: Bool = false,
        _ body: (TranslatedDocument) throws -> Void
    ) throws -> [TranslationIssue] {
        guard pipelined else {
            var issues: [TranslationIssue] = []
            // One arena for every set of the document: it grows to the largest and is reused.
            let arena = SetArena()
            func take(_ step: SetStep) throws {
                switch step {
                case .issue(let issue): issues.append(issue)
                case .set(let set): try self.map(set).deliver(to: body, issues: &issues)
                }
            }
            let trailing = try self.readSets(source: source, partnerID: partnerID, arena: { arena }, emit: take)
            return issues + trailing
        }
        return try self.translatePipelined(source: source, partnerID: partnerID, body)
    }

    private func translatePipelined(
        source: any ByteSource,
        partnerID: String?,
        _ body: (TranslatedDocument) throws -> Void
    ) throws -> [TranslationIssue] {
        let reading = UncheckedBox(source)
        var issues: [TranslationIssue] = []
        let trailing = try self.pipelined(
            issues: &issues,
            body,
            read: { (pipeline: TranslationPipeline<SetStep, [TranslationIssue]>) in
                try self.readSets(
                    source: reading.value,
                    partnerID: partnerID,
                    arena: { try pipeline.takeArena() },
                    emit: { try pipeline.send($0) }
                )
            },
            map: { step in
                switch step {
                case .issue(let issue): return (.issue(issue), nil)
                case .set(let set): return (self.map(set), set.arena)
                }
            }
        )
        return issues + trailing
    }

    /// Runs a pipelined translation: `read` on a thread of its own, sending units of work (sets, records) in
    /// document order; `map` on one thread per core; the results to `body` (and `issues`) on the caller's thread, in
    /// document order. Returns what `read` returned; rethrows what it threw, after the results before it.
    private func pipelined<Work, End>(
        issues: inout [TranslationIssue],
        _ body: (TranslatedDocument) throws -> Void,
        read: @escaping (TranslationPipeline<Work, End>) throws -> End,
        map: @escaping (Work) -> (Mapped, SetArena?)
    ) throws -> End {
        let mappers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let pipeline = TranslationPipeline<Work, End>(mappers: mappers)
        let work = UncheckedBox((read, map))
        Thread {
            let (read, _) = work.value
            do {
                pipeline.finishReading(.success(try read(pipeline)))
            } catch {
                pipeline.finishReading(.failure(error))
            }
        }.start()
        for _ in 0..<mappers {
            Thread {
                let (_, map) = work.value
                while let (number, batch) = pipeline.nextBatch() {
                    var arenas: [SetArena] = []
                    let mapped = batch.map { unit -> Mapped in
                        let (result, arena) = map(unit)
                        if let arena { arenas.append(arena) }
                        return result
                    }
                    pipeline.mapped(number, mapped, arenas: arenas)
                }
                pipeline.mapperStopped()
            }.start()
        }
        // The other threads use the caller's source and the arenas: they must have stopped before this returns.
        defer { pipeline.waitUntilStopped() }
        do {
            while let batch = try pipeline.next() {
                for mapped in batch { try mapped.deliver(to: body, issues: &issues) }
            }
            return try pipeline.end()
        } catch {
            pipeline.cancel()
            throw error
        }
    }

    /// What reading a document yields, in document order: a set ready to map, or an issue.
    private enum SetStep {
        case set(SetToMap)
        case issue(TranslationIssue)
    }

    /// A transaction set read into its arena, with the map chosen for it and where it came from.
    private struct SetToMap {
        var arena: SetArena
        var map: InboundMap
        var source: DocumentSource
        var partnerID: String?
        var byteOffset: Int
    }

    /// A set mapped: its value, or the issue that stopped it.
    private enum Mapped {
        case document(TranslatedDocument)
        case issue(TranslationIssue)

        /// Hands a value to `body`, or adds the issue to `issues`.
        func deliver(to body: (TranslatedDocument) throws -> Void, issues: inout [TranslationIssue]) rethrows {
            switch self {
            case .document(let document): try body(document)
            case .issue(let issue): issues.append(issue)
            }
        }
    }

    /// Maps one set.
    private func map(_ set: SetToMap) -> Mapped {
        do {
            let value = try set.map.map(.edi(EDIScope(arena: set.arena)))
            return .document(Self.stamp(value, source: set.source, partnerID: set.partnerID))
        } catch {
            return .issue(
                TranslationIssue(
                    message: error.description,
                    transactionSetControlNumber: set.source.transactionSetControlNumber,
                    byteOffset: set.byteOffset
                )
            )
        }
    }

    /// Reads a document's envelopes and sets: chooses each set's map, builds the set in an arena from `arena`, and
    /// emits it (or the issue that stops it) in document order. Returns the issues of a document in which no set
    /// could be found at all.
    private func readSets(
        source: any ByteSource,
        partnerID: String?,
        arena takeArena: () throws -> SetArena,
        emit: (SetStep) throws -> Void
    ) throws -> [TranslationIssue] {
        let reader = EDIReader(source: source)
        var interchange: Segment?
        var group: Segment?
        var setHeader: Segment?
        var builder: SegmentTreeBuilder?
        var partner = partnerID.flatMap { self.mappings.partners[$0] }
        var map: InboundMap?
        var mapMissing = false
        var sawSet = false
        var readerErrors: [EDISyntaxError] = []
        // The arena the set in progress is built in; it goes with the set when the set is emitted. Scopes hold
        // arenas unowned: each must outlive the mapping of its set.
        var arena: SetArena?
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
                    try emit(
                        .issue(
                            TranslationIssue(
                                message: "no inbound map for \(dialect.rawValue) \(identifier) \(version)"
                                    + (partner.map { " for partner \($0.id)" } ?? ""),
                                transactionSetControlNumber: header[dialect == .x12 ? 2 : 1],
                                byteOffset: header.byteOffset
                            )
                        )
                    )
                    continue
                }
                map = chosen
                if arena == nil { arena = try takeArena() }
                builder = SegmentTreeBuilder(arena: arena!, shape: shape, header: header)
            case .segment(let segment):
                builder?.append(segment)
            case .transactionSetEnd(let trailer):
                defer {
                    builder = nil
                    setHeader = nil
                }
                guard !mapMissing, builder != nil, let map, let header = setHeader, let built = arena else { continue }
                if let trailer { builder!.append(trailer) }
                builder!.finish()
                let source = Self.source(
                    of: header,
                    dialect: reader.dialect ?? .x12,
                    interchange: interchange,
                    group: group,
                    map: map
                )
                arena = nil
                try emit(
                    .set(
                        SetToMap(
                            arena: built,
                            map: map,
                            source: source,
                            partnerID: partner?.id,
                            byteOffset: header.byteOffset
                        )
                    )
                )
            case .error(let error):
                readerErrors.append(error)
            case .groupEnd, .interchangeEnd:
                break
            }
        }
        // Envelope errors in a document whose sets map are the validator's and the acknowledgements' business; a
        // document in which no set could be found at all (not EDI, truncated before ST/UNH) must not look like an
        // empty success.
        guard !sawSet else { return [] }
        var issues = readerErrors.map { TranslationIssue(message: "\($0)", byteOffset: $0.location.byteOffset) }
        if readerErrors.isEmpty { issues.append(TranslationIssue(message: "no transaction set in the document")) }
        return issues
    }

    /// Where a set came from: its envelopes' identities and control numbers, its position, and the map used.
    private static func source(
        of header: Segment,
        dialect: Dialect,
        interchange: Segment?,
        group: Segment?,
        map: InboundMap
    ) -> DocumentSource {
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
        return source
    }

    /// Translates an XML document (cXML, UBL, or a batch of UBL records) read by `read`. `pipelined`: as for
    /// `translateEDI`, the document is read on a thread of its own and the records are mapped on one thread per core;
    /// `body` is called on the caller's thread, in document order, either way.
    public func translateXML(
        documentName: String,
        partnerID: String? = nil,
        limits: XMLLimits = .default,
        pipelined: Bool = false,
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
        let names = Set(candidates.map(\.document))
        var issues: [TranslationIssue] = []
        var records = 0
        do {
            if pipelined {
                let reading = UncheckedBox(reader)
                records = try self.pipelined(
                    issues: &issues,
                    body,
                    read: { (pipeline: TranslationPipeline<(Int, XMLElement), Int>) in
                        var index = 0
                        return try reading.value.readRecords(named: names) { record in
                            index += 1
                            try pipeline.send((index, record))
                        }
                    },
                    map: { index, record in
                        (self.map(record, index: index, candidates: candidates, fixedPartner: fixedPartner), nil)
                    }
                )
            } else {
                records = try reader.readRecords(named: names) { record in
                    try self.map(record, index: records + 1, candidates: candidates, fixedPartner: fixedPartner)
                        .deliver(to: body, issues: &issues)
                    records += 1
                }
            }
        } catch let error as XMLSyntaxError {
            // Records before the error were delivered; the error says where the document broke.
            issues.append(TranslationIssue(message: "\(documentName): \(error)"))
        }
        if records == 0 && issues.isEmpty { issues.append(TranslationIssue(message: "no record in the document")) }
        return issues
    }

    /// Maps one XML record (the `index`th of its document): finds its partner (given, or from the record's sender)
    /// and the map that applies.
    private func map(
        _ record: XMLElement,
        index: Int,
        candidates: [InboundMap],
        fixedPartner: PartnerProfile?
    ) -> Mapped {
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
            return .issue(
                TranslationIssue(
                    message: "record \(index) (<\(record.localName)>, line \(record.line)): no inbound map applies"
                )
            )
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
            return .document(Self.stamp(value, source: source, partnerID: partner?.id))
        } catch {
            return .issue(TranslationIssue(message: "record \(index): \(error.description)"))
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

extension Translator {
    /// The hand-over of a pipelined translation. The reading thread sends units of work (EDI sets, each in its own
    /// arena, and issues; XML records) in batches, numbered in document order; mapping threads take the batches in
    /// that order and put back what each unit became; the caller takes the batches of results in number order. Batches keep the threads from waking
    /// one another for every set. At most `arenas` sets are being read or mapped, and at most `waiting` batches of
    /// results wait for the caller, so memory stays bounded: the reader waits when either is reached. Cancelling
    /// (the caller's `body` failed) makes the reader stop at its next send or arena, and the mappers at their next
    /// batch.
    private final class TranslationPipeline<Work, End>: @unchecked Sendable {
        private static var batchSize: Int { 32 }
        private let condition = NSCondition()
        /// The batch the reader is filling (only the reader touches it).
        private var filling: [Work] = []
        /// Batches sent and not yet taken by a mapper, oldest first.
        private var batches: [(number: Int, work: [Work])] = []
        /// Batches of results not yet taken by the caller, by number.
        private var results: [Int: [Mapped]] = [:]
        private var sent = 0
        private var taken = 0
        private var free: [SetArena] = []
        private var created = 0
        private let capacity: Int
        private let waiting: Int
        private var runningMappers: Int
        private var cancelled = false
        /// How reading ended: what the reader returned, or the error that stopped it.
        private var ending: Result<End, any Error>?

        init(mappers: Int) {
            self.capacity = Self.batchSize * (mappers + 2)
            self.waiting = 2 * (mappers + 2)
            self.runningMappers = mappers
        }

        private func locked<T>(_ body: () throws -> T) rethrows -> T {
            self.condition.lock()
            defer { self.condition.unlock() }
            return try body()
        }

        /// An arena for the next set: a free one, a new one while fewer than `capacity` exist, else the next one
        /// given back (the batch being filled goes first, so that its arenas can come back).
        func takeArena() throws -> SetArena {
            while true {
                let arena = try self.locked { () throws -> SetArena? in
                    if self.cancelled { throw CancellationError() }
                    if let arena = self.free.popLast() { return arena }
                    if self.created < self.capacity {
                        self.created += 1
                        return SetArena()
                    }
                    if self.filling.isEmpty { self.condition.wait() }
                    return nil
                }
                if let arena { return arena }
                try self.sendBatch()
            }
        }

        /// The reader sends a unit of work: it goes into the batch being filled, which goes when it is full.
        func send(_ work: Work) throws {
            self.filling.append(work)
            if self.filling.count >= Self.batchSize { try self.sendBatch() }
        }

        private func sendBatch() throws {
            guard !self.filling.isEmpty else { return }
            try self.locked {
                // Results wait for the caller in order: a slow set or a slow caller holds the reader back.
                while self.sent - self.taken >= self.waiting && !self.cancelled { self.condition.wait() }
                if self.cancelled { throw CancellationError() }
                self.batches.append((self.sent, self.filling))
                self.sent += 1
                self.condition.broadcast()
            }
            self.filling = []
        }

        /// The reader has stopped, and uses nothing of the caller's any more. The batch it was filling goes first: the
        /// units read before an error are delivered, as a plain translation delivers them.
        func finishReading(_ end: Result<End, any Error>) {
            let sent = Result { try self.sendBatch() }
            self.locked {
                if case .failure(let error) = sent { self.ending = .failure(error) } else { self.ending = end }
                self.condition.broadcast()
            }
        }

        /// A mapper's next batch; nil when there will be none (reading ended, or cancelled).
        func nextBatch() -> (Int, [Work])? {
            self.locked {
                while true {
                    if self.cancelled { return nil }
                    if !self.batches.isEmpty { return self.batches.removeFirst() }
                    if self.ending != nil { return nil }
                    self.condition.wait()
                }
            }
        }

        /// A mapper's results for a batch; the batch's arenas are free again.
        func mapped(_ number: Int, _ mapped: [Mapped], arenas: [SetArena]) {
            self.locked {
                self.results[number] = mapped
                self.free += arenas
                self.condition.broadcast()
            }
        }

        func mapperStopped() {
            self.locked {
                self.runningMappers -= 1
                self.condition.broadcast()
            }
        }

        /// The next batch of results in document order; nil when every one has been taken. Throws the error that
        /// stopped the reading, once the results before it are taken.
        func next() throws -> [Mapped]? {
            try self.locked {
                while true {
                    if let batch = self.results.removeValue(forKey: self.taken) {
                        self.taken += 1
                        self.condition.broadcast()
                        return batch
                    }
                    if let end = self.ending, self.taken == self.sent {
                        if case .failure(let error) = end { throw error }
                        return nil
                    }
                    self.condition.wait()
                }
            }
        }

        /// What the reader returned (once `next` has returned nil).
        func end() throws -> End {
            try self.locked { try self.ending!.get() }
        }

        func cancel() {
            self.locked {
                self.cancelled = true
                self.condition.broadcast()
            }
        }

        func waitUntilStopped() {
            self.locked {
                while self.ending == nil || self.runningMappers > 0 { self.condition.wait() }
            }
        }
    }

    /// What the caller hands to the pipeline's threads, and keeps alive and does not touch until they have stopped.
    private struct UncheckedBox<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }
}
