import Delivery
import EDISyntax
import Foundation
import Logging
import OrderMapping
import OrderModel
import OrderStore
import Spool
import XMLSyntax

/// A file the spool has claimed into `work/`.
public struct ClaimedFile: Sendable, Hashable {
    public var workName: String
    public var originalName: String
    /// The partner whose inbox folder it came from (nil: a folder no profile names).
    public var partnerID: String?
    /// The folder it came from, for reports.
    public var folder: String
    /// `inbox`, `http` or `reprocess`.
    public var channel: String
    public var receivedAt: Date
    /// For `ordergate files reprocess`: the file row this one repeats (its duplicate checks are skipped).
    public var reprocessOf: Int64?

    public init(
        workName: String,
        originalName: String,
        partnerID: String?,
        folder: String,
        channel: String,
        receivedAt: Date,
        reprocessOf: Int64? = nil
    ) {
        self.workName = workName
        self.originalName = originalName
        self.partnerID = partnerID
        self.folder = folder
        self.channel = channel
        self.receivedAt = receivedAt
        self.reprocessOf = reprocessOf
    }
}

/// What became of a file.
public struct FileOutcome: Sendable, Hashable {
    public var fileID: Int64
    public var state: FileRecord.State
    public var orders: Int
    public var acknowledgements: Int
    /// Why a file was quarantined or flagged.
    public var reason: String?
    /// Purchase-order acknowledgements (855, ORDRSP, ...) queued for the file's orders.
    public var orderAcknowledgements: Int = 0
}

/// The pipeline from claimed files to committed rows: detect the format, validate (X12/EDIFACT), map, check for
/// duplicates, build the functional acknowledgements, and commit; then move each file to the archive (or, when it
/// cannot be read at all or is not the partner's, to quarantine with a report).
///
/// Files go through in batches, in two stages. Preparing (read, hash, validate, map, encode the canonical orders)
/// needs no database and runs on every core at once. Committing runs on the caller's thread in one SQLite
/// transaction for the batch, with a savepoint per file: each file's rows (ledger row, interchanges, orders, acks,
/// the control numbers they use) commit together or not at all, and a batch pays for one durable commit instead of
/// one per file. The archive moves then share one fsync per folder.
///
/// Bad input never throws: it ends as a quarantined or negatively acknowledged file. What fails is the machine
/// (database, disk): the file then stays in `work/`, and is processed again later — safely, because a committed
/// file is recognised by its work name.
public final class InboundPipeline: Sendable {
    public let configuration: Configuration
    public let store: OrderStore
    public let spool: Spool
    let mappings: MappingsHolder
    public let desk: OrderDesk
    private let commitLock = NSLock()
    let logger: Logger
    let clock: @Sendable () -> Date
    /// Raised after each transaction that committed files: the outbox writer starts on their acknowledgements while
    /// the next chunk commits.
    let committed: Signal?

    init(
        configuration: Configuration,
        store: OrderStore,
        spool: Spool,
        mappings: MappingsHolder,
        logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() },
        committed: Signal? = nil
    ) {
        self.committed = committed
        self.configuration = configuration
        self.store = store
        self.spool = spool
        self.mappings = mappings
        self.desk = OrderDesk(configuration: configuration)
        self.logger = logger
        self.clock = clock
    }

    /// Processes one claimed file to its final state; throws when the machine failed (the file stays in `work/`).
    public func process(_ file: ClaimedFile) throws -> FileOutcome {
        try self.process([file])[0].get()
    }

    /// Files per commit: a durable commit (its log write and fsync) is shared by this many files.
    static let commitChunk = 256

    /// Files in a batch's first chunk: small, so that the writer starts (and the first acknowledgements go out) soon.
    /// Each next chunk is at most twice the one before, up to `commitChunk`: a chunk is prepared while the one before
    /// commits, and preparing a file (on every core) takes less than half the time committing one does, so the writer
    /// never waits for the next chunk.
    static let firstChunk = 32

    /// The chunks a batch of `count` files is committed in: 32, 64, 128, then 256 files each.
    static func chunkRanges(count: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        var size = Self.firstChunk
        while start < count {
            ranges.append(start..<min(count, start + size))
            start += size
            size = min(size * 2, Self.commitChunk)
        }
        return ranges
    }

    /// Processes claimed files to their final states, one result per file, in order. Files go in chunks, and the
    /// next chunk is prepared while the current one commits, so that parsing keeps the cores busy while the writer
    /// works; a committed chunk's files move to the archive while the next one commits.
    ///
    /// When `shouldContinue` turns false (the daemon is stopping), no further chunk starts: the results stop at the
    /// last chunk done, and the files after it stay in `work/`, untouched, for the recovery scan of the next start.
    public func process(
        _ files: [ClaimedFile],
        while shouldContinue: () -> Bool = { true }
    ) -> [Result<FileOutcome, any Error>] {
        if files.count <= Self.firstChunk { return self.process(self.prepare(files)) }
        let chunks = Self.chunkRanges(count: files.count).map { Array(files[$0]) }
        var results: [Result<FileOutcome, any Error>] = []
        var next = PreparedChunk(chunks[0], pipeline: self)
        var moving: MovingChunk?
        for index in chunks.indices {
            if index > 0 && !shouldContinue() { break }
            let prepared = next.wait()
            if index + 1 < chunks.count { next = PreparedChunk(chunks[index + 1], pipeline: self) }
            let committed = self.commit(prepared)
            // The previous chunk's files moved out of work/ while this one committed.
            if let moving { results += moving.wait() }
            moving = MovingChunk(committed, pipeline: self)
        }
        if let moving { results += moving.wait() }
        return results
    }

    /// Quarantines a claimed file without reading it as a document (a file still incomplete after the wait).
    func quarantine(_ file: ClaimedFile, bytes: [UInt8]?, reason: String) throws -> FileOutcome {
        try self.process([PreparedFile(file: file, work: .quarantine(bytes: bytes, reason: reason))])[0].get()
    }

    // MARK: Preparing

    /// A claimed file, read and parsed, with everything its commit needs that the database does not.
    struct PreparedFile {
        var file: ClaimedFile
        var work: Work

        enum Work {
            /// Its transaction committed before a crash: only its move is left.
            case finish(fileID: Int64)
            case quarantine(bytes: [UInt8]?, reason: String)
            case edi(ParsedEDI)
            case xml(ParsedXML)
            /// The machine failed while reading it.
            case failed(any Error)
        }
    }

    struct ParsedEDI {
        var bytes: [UInt8]
        var sha256: String
        var partner: PartnerProfile
        var dialect: Dialect
        var report: DocumentReport
        /// Mapped documents keyed by the byte offset of their set header.
        var documents: [Int: TranslatedDocument]
        var issues: [TranslationIssue]
        /// The canonical JSON of each mapped order, by the byte offset of its set.
        var canonical: [Int: [UInt8]]
        /// Each order's lines as the rules decide them from the catalogue, by the byte offset of its set.
        var decidedLines: [Int: OrderDesk.DecidedLines]
    }

    struct ParsedXML {
        var bytes: [UInt8]
        var sha256: String
        var partner: PartnerProfile
        var documents: [TranslatedDocument]
        var issues: [TranslationIssue]
        /// The canonical JSON of each mapped order, by the document's index.
        var canonical: [Int: [UInt8]]
        /// Each order's lines as the rules decide them from the catalogue, by the document's index.
        var decidedLines: [Int: OrderDesk.DecidedLines]
    }

    /// Prepares the files on every core.
    func prepare(_ files: [ClaimedFile]) -> [PreparedFile] {
        let mappings = self.mappings.current
        // A file whose transaction committed before a crash only needs its move to the archive finished: one read
        // for the whole batch finds them.
        let committed: [String: Int64]
        do {
            committed = try self.store.read { try $0.fileIDs(workNames: files.map(\.workName)) }
        } catch {
            return files.map { PreparedFile(file: $0, work: .failed(error)) }
        }
        if files.count == 1 { return [self.prepare(files[0], committed: committed, mappings: mappings)] }
        let results = PreparedSlots(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            results.set(index, self.prepare(files[index], committed: committed, mappings: mappings))
        }
        return results.values
    }

    private func prepare(_ file: ClaimedFile, committed: [String: Int64], mappings: MappingSet) -> PreparedFile {
        if let fileID = committed[file.workName] { return PreparedFile(file: file, work: .finish(fileID: fileID)) }
        do {
            return PreparedFile(file: file, work: try self.prepareWork(file, mappings: mappings))
        } catch {
            return PreparedFile(file: file, work: .failed(error))
        }
    }

    private func prepareWork(_ file: ClaimedFile, mappings: MappingSet) throws -> PreparedFile.Work {
        let workPath = FileSystem.join(self.spool.work, file.workName)
        let size = try FileSystem.status(workPath).size
        if size > self.configuration.maximumFileBytes {
            return .quarantine(
                bytes: nil,
                reason: "the file is larger than the limit of \(self.configuration.maximumFileBytes >> 20) MiB"
            )
        }
        let bytes = try FileSystem.read(workPath)
        guard let partnerID = file.partnerID, let partner = mappings.partners[partnerID] else {
            return .quarantine(bytes: bytes, reason: "no partner profile names the folder \(file.folder) as its inbox")
        }
        switch self.parse(bytes, file: file, partner: partner, mappings: mappings) {
        case .unusable(let reason):
            return .quarantine(bytes: bytes, reason: reason)
        case .edi(let dialect, let report, let documents, let issues):
            var canonical: [Int: [UInt8]] = [:]
            var decidedLines: [Int: OrderDesk.DecidedLines] = [:]
            for (offset, document) in documents {
                if case .order(let order) = document.value {
                    canonical[offset] = try Self.canonicalJSON(order, partnerID: partner.id)
                    decidedLines[offset] = self.decideLinesAhead(order, partner: partner)
                }
            }
            return .edi(
                ParsedEDI(
                    bytes: bytes,
                    sha256: Self.sha256(bytes),
                    partner: partner,
                    dialect: dialect,
                    report: report,
                    documents: documents,
                    issues: issues,
                    canonical: canonical,
                    decidedLines: decidedLines
                )
            )
        case .xml(let documents, let issues):
            var canonical: [Int: [UInt8]] = [:]
            var decidedLines: [Int: OrderDesk.DecidedLines] = [:]
            for (index, document) in documents.enumerated() {
                if case .order(let order) = document.value {
                    canonical[index] = try Self.canonicalJSON(order, partnerID: partner.id)
                    decidedLines[index] = self.decideLinesAhead(order, partner: partner)
                }
            }
            return .xml(
                ParsedXML(
                    bytes: bytes,
                    sha256: Self.sha256(bytes),
                    partner: partner,
                    documents: documents,
                    issues: issues,
                    canonical: canonical,
                    decidedLines: decidedLines
                )
            )
        }
    }

    /// An order's lines decided from the catalogue while its file is prepared (on any core), when the rules run:
    /// the writer then only routes, checks credit and commits. Only an original is decided as it arrives.
    private func decideLinesAhead(_ order: Order, partner: PartnerProfile) -> OrderDesk.DecidedLines? {
        guard self.configuration.rulesEnabled, order.purpose == .original else { return nil }
        return self.desk.decideLines(order, partner: partner, now: self.clock())
    }

    /// The stored canonical form of an order: as mapped, with the partner it came from (its ID is its row's), compact.
    static func canonicalJSON(_ order: Order, partnerID: String) throws -> [UInt8] {
        var stored = order
        stored.partnerID = partnerID
        return try CanonicalJSON.encodeBytes(stored, compact: true)
    }

    // MARK: Committing a batch

    /// A log line held back until the batch's transaction has committed.
    typealias LogEntry = (level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata)

    /// What a committed file still needs: its move out of `work/`, and what to log once the batch is durable.
    struct Committed {
        var outcome: FileOutcome
        var move: Move
        var log: [LogEntry] = []

        enum Move {
            case archive(relativePath: String)
            case quarantine(report: String)
        }
    }

    private func process(_ prepared: [PreparedFile]) -> [Result<FileOutcome, any Error>] {
        self.move(self.commit(prepared))
    }

    /// A chunk whose transaction has run: each file's result so far (nil: committed, its move still to do), and what
    /// the committed files still need.
    struct CommittedChunk {
        var prepared: [PreparedFile]
        var results: [Result<FileOutcome, any Error>?]
        var committed: [(index: Int, committed: Committed)]
    }

    /// Commits a chunk's files in one transaction (each in its own savepoint) and logs what they did.
    private func commit(_ prepared: [PreparedFile]) -> CommittedChunk {
        var results = [Result<FileOutcome, any Error>?](repeating: nil, count: prepared.count)
        var committed: [(index: Int, committed: Committed)] = []
        for (index, item) in prepared.enumerated() {
            switch item.work {
            case .failed(let error): results[index] = .failure(error)
            case .finish(let fileID):
                results[index] = Result { try self.finishCommitted(fileID: fileID, workName: item.file.workName) }
            default: break
            }
        }
        // One commit at a time (the inbox thread, HTTP posts, reprocessing): SQLite has one writer anyway, and the
        // desk's answer batch belongs to the commit in progress.
        self.commitLock.lock()
        defer { self.commitLock.unlock() }
        // Encoding decisions and rendering answers run on the other cores while the files commit; the batch's rows
        // are written before the transaction commits.
        let answers = self.desk.beginBatch()
        defer { self.desk.endBatch() }
        var answerLog: [LogEntry] = []
        do {
            try self.store.write { tx in
                for (index, item) in prepared.enumerated() where results[index] == nil {
                    answers.file = index
                    do {
                        let done = try tx.savepoint { try self.commit(item, tx: tx) }
                        committed.append((index, done))
                    } catch {
                        answers.discard(file: index)
                        results[index] = .failure(error)
                    }
                }
                let flushed = try answers.flush(tx)
                answerLog = flushed.log
                for position in committed.indices {
                    committed[position].committed.outcome.orderAcknowledgements -=
                        flushed.failed[committed[position].index] ?? 0
                }
            }
            if !committed.isEmpty { self.committed?.raise() }
        } catch {
            // The batch's transaction failed: none of its files committed; they stay in work/.
            for (index, _) in committed { results[index] = .failure(error) }
            committed = []
            answerLog = []
        }
        for (level, message, metadata) in committed.flatMap(\.committed.log) + answerLog {
            self.logger.log(level: level, message, metadata: metadata)
        }
        return CommittedChunk(prepared: prepared, results: results, committed: committed)
    }

    /// Moves a committed chunk's files out of `work/` (to the archive, or to quarantine with their reports) and makes
    /// the moves durable; returns every file's result. A file whose move fails stays in `work/`: it is committed,
    /// and the next pass only finishes the move.
    func move(_ chunk: CommittedChunk) -> [Result<FileOutcome, any Error>] {
        let (prepared, committed) = (chunk.prepared, chunk.committed)
        var results = chunk.results
        let archived = committed.compactMap { entry -> (Int, String)? in
            guard case .archive(let relativePath) = entry.committed.move else { return nil }
            return (entry.index, relativePath)
        }
        let archiveErrors = self.spool.archive(
            archived.map { (workName: prepared[$0.0].file.workName, relativePath: $0.1) }
        )
        var failedMoves: [Int: any Error] = [:]
        for ((index, _), error) in zip(archived, archiveErrors) { if let error { failedMoves[index] = error } }
        for (index, done) in committed {
            guard case .quarantine(let report) = done.move else { continue }
            do {
                try self.spool.quarantine(workName: prepared[index].file.workName, report: report)
            } catch {
                failedMoves[index] = error
            }
        }
        for (index, done) in committed {
            if let error = failedMoves[index] {
                // Committed, but not moved: the file stays in work/ and the next pass finishes the move.
                results[index] = .failure(error)
            } else {
                results[index] = .success(done.outcome)
            }
        }
        return results.map { $0 ?? .failure(SpoolError("process", "", errno: EIO)) }
    }

    /// Writes one prepared file's rows inside the batch's transaction.
    private func commit(_ item: PreparedFile, tx: StoreTransaction) throws -> Committed {
        switch item.work {
        case .edi(let parsed): return try self.commitEDI(item.file, parsed, tx: tx)
        case .xml(let parsed): return try self.commitXML(item.file, parsed, tx: tx)
        case .quarantine(let bytes, let reason):
            return try self.commitQuarantine(item.file, bytes: bytes, reason: reason, tx: tx)
        case .finish, .failed: throw SpoolError("commit", item.file.workName, errno: EINVAL)
        }
    }

    // MARK: Parsing

    enum Parsed {
        /// Not a document we can read, or not this partner's: quarantine, no acknowledgement.
        case unusable(String)
        /// Mapped documents keyed by the byte offset of their set header.
        case edi(Dialect, DocumentReport, [Int: TranslatedDocument], [TranslationIssue])
        case xml([TranslatedDocument], [TranslationIssue])
    }

    func parse(_ bytes: [UInt8], file: ClaimedFile, partner: PartnerProfile, mappings: MappingSet) -> Parsed {
        switch Self.detectFormat(bytes) {
        case nil:
            let preview = String(decoding: bytes.prefix(40), as: UTF8.self).debugDescription
            return .unusable(
                "not an X12, EDIFACT or XML document (it starts with \(bytes.isEmpty ? "nothing" : preview))"
            )
        case .xml:
            return self.parseXML(bytes, file: file, partner: partner, mappings: mappings)
        case .x12, .edifact:
            let report = EDIValidator(checksAgainstNearestVersion: false).validate(bytes: bytes)
            let dialect = report.dialect ?? .x12
            let headers = report.interchanges.compactMap(\.header)
            if headers.isEmpty {
                let errors = (report.errors + report.interchanges.flatMap(\.errors)).map {
                    "\(file.originalName):\($0)"
                }
                return .unusable(
                    "no readable interchange header\n" + errors.prefix(20).joined(separator: "\n")
                )
            }
            for header in headers {
                if let mismatch = Self.senderMismatch(header, partner: partner) { return .unusable(mismatch) }
                if let mismatch = Self.receiverMismatch(header, partner: partner) { return .unusable(mismatch) }
            }
            var documents: [Int: TranslatedDocument] = [:]
            var issues: [TranslationIssue] = []
            do {
                issues = try Translator(mappings: mappings).translateEDI(
                    source: BufferByteSource(bytes),
                    partnerID: partner.id
                ) { document in
                    documents[document.source.byteOffset ?? -1] = document
                }
            } catch {
                issues.append(TranslationIssue(message: "\(error)"))
            }
            return .edi(dialect, report, documents, issues)
        }
    }

    private func parseXML(
        _ bytes: [UInt8],
        file: ClaimedFile,
        partner: PartnerProfile,
        mappings: MappingSet
    )
        -> Parsed
    {
        var documents: [TranslatedDocument] = []
        var offset = 0
        let issues: [TranslationIssue]
        do {
            issues = try Translator(mappings: mappings).translateXML(
                documentName: file.originalName,
                partnerID: partner.id,
                limits: self.configuration.xmlLimits,
                read: { buffer in
                    let count = min(buffer.count, bytes.count - offset)
                    if count > 0 {
                        bytes.withUnsafeBytes { source in
                            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
                        }
                    }
                    offset += count
                    return count
                },
                { documents.append($0) }
            )
        } catch {
            return .unusable("\(file.originalName): \(error)")
        }
        if documents.isEmpty {
            return .unusable(issues.map(\.message).joined(separator: "\n"))
        }
        // An order without a number can be neither answered nor told apart from the next (regression, review: a UBL
        // Order with an empty cbc:ID was stored, the next one taken for its duplicate, and neither answered).
        for (index, document) in documents.enumerated() {
            if case .order(let order) = document.value,
                order.purchaseOrderNumber.trimmingCharacters(in: .whitespaces).isEmpty
            {
                let line = document.source.line.map { " (line \($0))" } ?? ""
                return .unusable(
                    "\(file.originalName): record \(index + 1)\(line): the order has no purchase order number"
                )
            }
        }
        if let expected = partner.identities.xml?.id {
            for document in documents {
                if let sender = document.source.senderID, sender != expected {
                    return .unusable(
                        "\(file.originalName): the document's sender identity \"\(sender)\" is not partner "
                            + "\(partner.id)'s (\(expected)); a partner's inbox takes only its own documents"
                    )
                }
            }
        }
        return .xml(documents, issues)
    }

    /// X12, EDIFACT or XML, from the first bytes (a BOM and white space skipped); nil for anything else.
    static func detectFormat(_ bytes: [UInt8]) -> Dialect? {
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        let head = bytes[start...]
        if head.starts(with: Array("ISA".utf8)) { return .x12 }
        if head.starts(with: Array("UNA".utf8)) || head.starts(with: Array("UNB".utf8)) { return .edifact }
        if head.first == UInt8(ascii: "<") { return .xml }
        return nil
    }

    /// Why an interchange's sender is not the partner whose folder it arrived in, or nil when it is.
    static func senderMismatch(_ header: InterchangeHeader, partner: PartnerProfile) -> String? {
        let sender = "\(header.senderQualifier):\(header.senderID)"
        switch header.dialect {
        case .x12:
            guard let identity = partner.identities.x12 else {
                return "interchange \(header.controlNumber) is X12, but partner \(partner.id) has no X12 identity"
            }
            if identity.id == header.senderID && identity.qualifier == header.senderQualifier { return nil }
            return "interchange \(header.controlNumber) at byte \(header.byteOffset) is from ISA05/06 \(sender), "
                + "not partner \(partner.id)'s \(identity.qualifier):\(identity.id); a partner's inbox takes only its "
                + "own interchanges"
        case .edifact:
            guard let identity = partner.identities.edifact else {
                return
                    "interchange \(header.controlNumber) is EDIFACT, but partner \(partner.id) has no EDIFACT identity"
            }
            let qualifierMatches =
                identity.qualifier == nil || header.senderQualifier.isEmpty
                || identity.qualifier == header.senderQualifier
            if identity.id == header.senderID && qualifierMatches { return nil }
            return "interchange \(header.controlNumber) at byte \(header.byteOffset) is from UNB S002 "
                + "\(header.senderID):\(header.senderQualifier), not partner \(partner.id)'s "
                + "\(identity.id):\(identity.qualifier ?? ""); a partner's inbox takes only its own interchanges"
        case .xml:
            return nil
        }
    }

    /// Why an interchange is not addressed to us (ISA07/08, UNB S003), when the partner's profile says who we are
    /// (`us:`); nil when it is ours or the profile does not say. Regression (review): a misaddressed interchange was
    /// processed and answered as if from the party it was addressed to.
    static func receiverMismatch(_ header: InterchangeHeader, partner: PartnerProfile) -> String? {
        let receiver: String
        switch header.dialect {
        case .x12:
            guard let us = partner.ourIdentities.x12 else { return nil }
            if us.id == header.receiverID && us.qualifier == header.receiverQualifier { return nil }
            receiver = "ISA07/08 \(header.receiverQualifier):\(header.receiverID), not to us (\(us.qualifier):\(us.id))"
        case .edifact:
            guard let us = partner.ourIdentities.edifact else { return nil }
            let qualifierMatches =
                us.qualifier == nil || header.receiverQualifier.isEmpty || us.qualifier == header.receiverQualifier
            if us.id == header.receiverID && qualifierMatches { return nil }
            receiver =
                "UNB S003 \(header.receiverID):\(header.receiverQualifier), not to us (\(us.id):\(us.qualifier ?? ""))"
        case .xml:
            return nil
        }
        return "interchange \(header.controlNumber) at byte \(header.byteOffset) is addressed to \(receiver); it is "
            + "not processed or answered"
    }

    static func sha256(_ bytes: [UInt8]) -> String { PartnerPoller.sha256Hex(bytes) }

    // MARK: Committing

    func fileRecord(
        _ file: ClaimedFile,
        sha256: String,
        size: Int,
        partnerID: String?,
        format: String?,
        state: FileRecord.State,
        storedPath: String,
        now: Date
    ) -> FileRecord {
        FileRecord(
            partnerID: partnerID,
            channel: file.channel,
            originalName: file.originalName,
            workName: file.workName,
            sha256: sha256,
            size: size,
            format: format,
            state: state,
            reprocessOf: file.reprocessOf,
            storedPath: storedPath,
            receivedAt: file.receivedAt,
            processedAt: now
        )
    }

    func archivePath(_ file: ClaimedFile, now: Date) -> String {
        "archive/" + Spool.archivePath(workName: file.workName, at: Int64(now.timeIntervalSince1970))
    }

    private func commitXML(_ file: ClaimedFile, _ parsed: ParsedXML, tx: StoreTransaction) throws -> Committed {
        let now = self.clock()
        let storedPath = self.archivePath(file, now: now)
        let move = Committed.Move.archive(relativePath: String(storedPath.dropFirst("archive/".count)))
        let partner = parsed.partner
        var record = self.fileRecord(
            file,
            sha256: parsed.sha256,
            size: parsed.bytes.count,
            partnerID: partner.id,
            format: "xml",
            state: .processed,
            storedPath: storedPath,
            now: now
        )
        if file.reprocessOf == nil,
            let earlier = try tx.reader.processedFile(partnerID: partner.id, sha256: record.sha256)
        {
            record.state = .duplicate
            record.duplicateOf = earlier
            record.error = "the same bytes as file \(earlier)"
            let id = try tx.insertFile(record)
            try tx.audit(
                actor: "daemon",
                action: "duplicate-file",
                subject: "file:\(id)",
                detail: record.error,
                at: now
            )
            return Committed(
                outcome: FileOutcome(
                    fileID: id,
                    state: .duplicate,
                    orders: 0,
                    acknowledgements: 0,
                    reason: record.error
                ),
                move: move
            )
        }
        if !parsed.issues.isEmpty { record.error = parsed.issues.map(\.message).joined(separator: "\n") }
        let fileID = try tx.insertFile(record)
        var committed = Committed(
            outcome: FileOutcome(
                fileID: fileID,
                state: .processed,
                orders: 0,
                acknowledgements: 0,
                reason: record.error
            ),
            move: move
        )
        var pending: [PendingDecision] = []
        for (index, document) in parsed.documents.enumerated() {
            guard case .order(let order) = document.value, let canonical = parsed.canonical[index] else { continue }
            if try self.storeOrder(
                order,
                canonical: canonical,
                decidedLines: parsed.decidedLines[index],
                partner: partner,
                fileID: fileID,
                setID: nil,
                isReprocess: file.reprocessOf != nil,
                tx: tx,
                now: now,
                log: &committed.log,
                pending: &pending
            ) {
                committed.outcome.orders += 1
            }
        }
        committed.outcome.orderAcknowledgements = try self.decide(
            pending,
            partner: partner,
            fileID: fileID,
            tx: tx,
            now: now,
            log: &committed.log
        )
        try tx.audit(
            actor: "daemon",
            action: "file-processed",
            subject: "file:\(fileID)",
            detail: "\(file.originalName): \(parsed.documents.count) XML records, \(committed.outcome.orders) orders, "
                + "\(parsed.issues.count) issues",
            at: now
        )
        return committed
    }

    /// Records a file that cannot be processed; after the commit its bytes move to quarantine with a report.
    private func commitQuarantine(
        _ file: ClaimedFile,
        bytes: [UInt8]?,
        reason: String,
        tx: StoreTransaction
    ) throws -> Committed {
        let now = self.clock()
        var record = self.fileRecord(
            file,
            sha256: bytes.map(Self.sha256) ?? "",
            size: bytes?.count ?? 0,
            partnerID: file.partnerID,
            format: bytes.flatMap { Self.detectFormat($0)?.rawValue },
            state: .quarantined,
            storedPath: "quarantine/\(file.workName)",
            now: now
        )
        if bytes == nil, let status = try? FileSystem.status(FileSystem.join(self.spool.work, file.workName)) {
            record.size = status.size
        }
        record.error = reason
        let id = try tx.insertFile(record)
        try tx.audit(actor: "daemon", action: "quarantine", subject: "file:\(id)", detail: reason, at: now)
        let report = """
            file ID: \(id)
            file: \(file.originalName)
            from: \(file.folder) (\(file.channel))
            partner: \(file.partnerID ?? "unknown")
            received: \(ISO8601DateFormatter().string(from: file.receivedAt))
            quarantined: \(ISO8601DateFormatter().string(from: now))

            \(reason)

            The file is kept unchanged beside this report. Fix the cause (or the partner's profile) and run
            `ordergate files reprocess <file ID>`, or ask the partner to send a corrected file.

            """
        var committed = Committed(
            outcome: FileOutcome(fileID: id, state: .quarantined, orders: 0, acknowledgements: 0, reason: reason),
            move: .quarantine(report: report)
        )
        committed.log.append(
            (
                .error,
                "file quarantined",
                [
                    "partner.id": "\(file.partnerID ?? "")", "file.id": "\(id)", "file.name": "\(file.originalName)",
                    "reason": "\(reason.prefix(300))",
                ]
            )
        )
        return committed
    }

    /// Finishes a file whose transaction committed (the crash came before its move): moves it where its row says.
    func finishCommitted(fileID: Int64, workName: String) throws -> FileOutcome {
        guard let detail = try self.store.read({ try $0.file(id: fileID) }) else {
            throw SpoolError("find row of", workName, errno: ENOENT)
        }
        let stored = detail.file.storedPath
        if stored.hasPrefix("quarantine/") {
            try self.spool.quarantine(
                workName: workName,
                report: "file ID: \(fileID)\n\(detail.file.error ?? "quarantined")\n"
            )
        } else {
            try self.spool.archive(workName: workName, relativePath: String(stored.dropFirst("archive/".count)))
        }
        self.logger.notice(
            "recovered a committed file",
            metadata: ["file.id": "\(fileID)", "file.name": "\(detail.file.originalName)"]
        )
        return FileOutcome(
            fileID: fileID,
            state: FileRecord.State(rawValue: detail.file.state) ?? .processed,
            orders: detail.orders.count,
            acknowledgements: detail.outbound.count,
            reason: detail.file.error
        )
    }
}

/// The current mapping set, swapped whole on reload.
final class MappingsHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var value: MappingSet

    init(_ value: MappingSet) {
        self.value = value
    }

    var current: MappingSet {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.value
    }

    func replace(_ value: MappingSet) {
        self.lock.lock()
        self.value = value
        self.lock.unlock()
    }
}

/// The prepared files of a batch, each written by the worker that prepared it.
private final class PreparedSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [InboundPipeline.PreparedFile?]

    init(count: Int) {
        self.slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: InboundPipeline.PreparedFile) {
        self.lock.lock()
        self.slots[index] = value
        self.lock.unlock()
    }

    /// Every slot, once all are set.
    var values: [InboundPipeline.PreparedFile] {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.slots.map { $0! }
    }
}

/// A committed chunk whose files are being moved out of `work/` on another thread, while the next chunk commits.
private final class MovingChunk: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var results: [Result<FileOutcome, any Error>] = []

    init(_ chunk: InboundPipeline.CommittedChunk, pipeline: InboundPipeline) {
        DispatchQueue.global().async {
            self.results = pipeline.move(chunk)
            self.done.signal()
        }
    }

    /// Every file's result, once the moves are done.
    func wait() -> [Result<FileOutcome, any Error>] {
        self.done.wait()
        return self.results
    }
}

/// A chunk of files being prepared on another thread.
private final class PreparedChunk: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var prepared: [InboundPipeline.PreparedFile] = []

    init(_ files: [ClaimedFile], pipeline: InboundPipeline) {
        DispatchQueue.global().async {
            self.prepared = pipeline.prepare(files)
            self.done.signal()
        }
    }

    /// The prepared files, once ready.
    func wait() -> [InboundPipeline.PreparedFile] {
        self.done.wait()
        return self.prepared
    }
}
