import Crypto
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
}

/// The pipeline from a claimed file to committed rows: detect the format, validate (X12/EDIFACT), map, check for
/// duplicates, build the functional acknowledgements, and commit it all in one transaction; then move the file to
/// the archive (or, when it cannot be read at all or is not the partner's, to quarantine with a report).
///
/// Bad input never throws: it ends as a quarantined or negatively acknowledged file. What throws is the machine
/// failing (database, disk): the file then stays in `work/`, and the recovery scan processes it again — safely,
/// because a committed file is recognised by its work name.
public final class InboundPipeline: Sendable {
    public let configuration: Configuration
    public let store: OrderStore
    public let spool: Spool
    let mappings: MappingsHolder
    let logger: Logger
    let clock: @Sendable () -> Date

    init(
        configuration: Configuration,
        store: OrderStore,
        spool: Spool,
        mappings: MappingsHolder,
        logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.store = store
        self.spool = spool
        self.mappings = mappings
        self.logger = logger
        self.clock = clock
    }

    /// Processes one claimed file to its final state.
    public func process(_ file: ClaimedFile) throws -> FileOutcome {
        let workPath = FileSystem.join(self.spool.work, file.workName)
        // A file whose transaction committed before a crash only needs its move to the archive finished.
        if let committed = try self.store.read({ try $0.fileID(workName: file.workName) }) {
            return try self.finishCommitted(fileID: committed, workName: file.workName)
        }
        let size = try FileSystem.status(workPath).size
        if size > self.configuration.maximumFileBytes {
            return try self.quarantine(
                file,
                bytes: nil,
                reason: "the file is larger than the limit of \(self.configuration.maximumFileBytes >> 20) MiB"
            )
        }
        let bytes = try FileSystem.read(workPath)
        let mappings = self.mappings.current
        guard let partnerID = file.partnerID, let partner = mappings.partners[partnerID] else {
            return try self.quarantine(
                file,
                bytes: bytes,
                reason: "no partner profile names the folder \(file.folder) as its inbox"
            )
        }
        let parsed = self.parse(bytes, file: file, partner: partner, mappings: mappings)
        switch parsed {
        case .unusable(let reason):
            return try self.quarantine(file, bytes: bytes, reason: reason)
        case .edi(let dialect, let report, let documents, let issues):
            return try self.commitEDI(
                file,
                bytes: bytes,
                partner: partner,
                dialect: dialect,
                report: report,
                documents: documents,
                issues: issues
            )
        case .xml(let documents, let issues):
            return try self.commitXML(file, bytes: bytes, partner: partner, documents: documents, issues: issues)
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

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    // MARK: Committing

    func fileRecord(
        _ file: ClaimedFile,
        bytes: [UInt8],
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
            sha256: Self.sha256(bytes),
            size: bytes.count,
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

    private func commitXML(
        _ file: ClaimedFile,
        bytes: [UInt8],
        partner: PartnerProfile,
        documents: [TranslatedDocument],
        issues: [TranslationIssue]
    ) throws -> FileOutcome {
        let now = self.clock()
        let storedPath = self.archivePath(file, now: now)
        let outcome = try self.store.write { tx -> FileOutcome in
            var record = self.fileRecord(
                file,
                bytes: bytes,
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
                return FileOutcome(fileID: id, state: .duplicate, orders: 0, acknowledgements: 0, reason: record.error)
            }
            if !issues.isEmpty { record.error = issues.map(\.message).joined(separator: "\n") }
            let fileID = try tx.insertFile(record)
            var orders = 0
            for document in documents {
                guard case .order(let order) = document.value else { continue }
                if try self.storeOrder(order, partner: partner, fileID: fileID, setID: nil, tx: tx, now: now) {
                    orders += 1
                }
            }
            try tx.audit(
                actor: "daemon",
                action: "file-processed",
                subject: "file:\(fileID)",
                detail:
                    "\(file.originalName): \(documents.count) XML records, \(orders) orders, \(issues.count) issues",
                at: now
            )
            return FileOutcome(
                fileID: fileID,
                state: .processed,
                orders: orders,
                acknowledgements: 0,
                reason: record.error
            )
        }
        try self.spool.archive(workName: file.workName, relativePath: String(storedPath.dropFirst("archive/".count)))
        return outcome
    }

    /// Stores an order unless it is a second original of a PO number: that one is stored flagged as a duplicate.
    /// Returns whether a new (non-duplicate) order was stored.
    func storeOrder(
        _ order: Order,
        partner: PartnerProfile,
        fileID: Int64,
        setID: Int64?,
        tx: StoreTransaction,
        now: Date
    ) throws -> Bool {
        if order.purpose == .original,
            let earlier = try tx.reader.originalOrder(
                partnerID: partner.id,
                purchaseOrderNumber: order.purchaseOrderNumber
            )
        {
            let id = try tx.insertOrder(
                order,
                partnerID: partner.id,
                fileID: fileID,
                setID: setID,
                status: .duplicate,
                duplicateOf: earlier,
                note: "PO \(order.purchaseOrderNumber) was already received as order \(earlier)",
                at: now
            )
            try tx.audit(
                actor: "daemon",
                action: "duplicate-order",
                subject: "order:\(id)",
                detail: "PO \(order.purchaseOrderNumber) repeats order \(earlier); not processed",
                at: now
            )
            self.logger.warning(
                "duplicate purchase order",
                metadata: [
                    "partner.id": "\(partner.id)", "order.id": "\(id)", "order.po": "\(order.purchaseOrderNumber)",
                ]
            )
            return false
        }
        let id = try tx.insertOrder(
            order,
            partnerID: partner.id,
            fileID: fileID,
            setID: setID,
            status: .received,
            at: now
        )
        self.logger.info(
            "order received",
            metadata: [
                "partner.id": "\(partner.id)", "order.id": "\(id)", "order.po": "\(order.purchaseOrderNumber)",
                "interchange.control_number": "\(order.source?.interchangeControlNumber ?? "")",
            ]
        )
        return true
    }

    /// Moves the bytes of a file that cannot be processed to quarantine with a report, and records it.
    func quarantine(_ file: ClaimedFile, bytes: [UInt8]?, reason: String) throws -> FileOutcome {
        let now = self.clock()
        let report = """
            file: \(file.originalName)
            from: \(file.folder) (\(file.channel))
            partner: \(file.partnerID ?? "unknown")
            received: \(ISO8601DateFormatter().string(from: file.receivedAt))
            quarantined: \(ISO8601DateFormatter().string(from: now))

            \(reason)

            The file is kept unchanged beside this report. Fix the cause (or the partner's profile) and run
            `ordergate files reprocess <file ID>`, or ask the partner to send a corrected file.

            """
        let content = bytes ?? []
        let outcome = try self.store.write { tx -> FileOutcome in
            var record = self.fileRecord(
                file,
                bytes: content,
                partnerID: file.partnerID,
                format: bytes.flatMap { Self.detectFormat($0)?.rawValue },
                state: .quarantined,
                storedPath: "quarantine/\(file.workName)",
                now: now
            )
            if bytes == nil, let status = try? FileSystem.status(FileSystem.join(self.spool.work, file.workName)) {
                record.size = status.size
                record.sha256 = ""
            }
            record.error = reason
            let id = try tx.insertFile(record)
            try tx.audit(actor: "daemon", action: "quarantine", subject: "file:\(id)", detail: reason, at: now)
            return FileOutcome(fileID: id, state: .quarantined, orders: 0, acknowledgements: 0, reason: reason)
        }
        try self.spool.quarantine(workName: file.workName, report: "file ID: \(outcome.fileID)\n" + report)
        self.logger.error(
            "file quarantined",
            metadata: [
                "partner.id": "\(file.partnerID ?? "")", "file.id": "\(outcome.fileID)",
                "file.name": "\(file.originalName)",
                "reason": "\(reason.prefix(300))",
            ]
        )
        return outcome
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
