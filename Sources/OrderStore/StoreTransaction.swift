import Foundation
import GRDB

/// What an inbound file's ledger row records.
public struct FileRecord: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        case processed, duplicate, quarantined
    }

    public var id: Int64?
    public var partnerID: String?
    /// `inbox` or `http`.
    public var channel: String
    public var originalName: String
    /// The unique name the file was claimed under; recovery matches `work/` files to rows by it.
    public var workName: String
    public var sha256: String
    public var size: Int
    public var format: String?
    public var state: State
    public var duplicateOf: Int64?
    public var reprocessOf: Int64?
    /// What went wrong, for quarantined files (and a note for duplicates).
    public var error: String?
    /// Where the bytes are kept: the archive or quarantine path, relative to the data folder.
    public var storedPath: String
    public var receivedAt: Date
    public var processedAt: Date

    public init(
        id: Int64? = nil,
        partnerID: String?,
        channel: String,
        originalName: String,
        workName: String,
        sha256: String,
        size: Int,
        format: String?,
        state: State,
        duplicateOf: Int64? = nil,
        reprocessOf: Int64? = nil,
        error: String? = nil,
        storedPath: String,
        receivedAt: Date,
        processedAt: Date
    ) {
        self.id = id
        self.partnerID = partnerID
        self.channel = channel
        self.originalName = originalName
        self.workName = workName
        self.sha256 = sha256
        self.size = size
        self.format = format
        self.state = state
        self.duplicateOf = duplicateOf
        self.reprocessOf = reprocessOf
        self.error = error
        self.storedPath = storedPath
        self.receivedAt = receivedAt
        self.processedAt = processedAt
    }
}

/// An interchange (X12 ISA…IEA or EDIFACT UNB…UNZ) as received.
public struct InterchangeRecord: Sendable, Hashable {
    public var id: Int64?
    public var fileID: Int64
    public var partnerID: String
    public var dialect: String
    public var senderQualifier: String
    public var senderID: String
    public var receiverQualifier: String
    public var receiverID: String
    public var controlNumber: String
    public var syntaxVersion: String
    public var isTest: Bool
    /// accepted, partial, rejected, duplicate.
    public var status: String
    public var duplicateOf: Int64?
    public var byteOffset: Int
    public var receivedAt: Date

    public init(
        fileID: Int64,
        partnerID: String,
        dialect: String,
        senderQualifier: String,
        senderID: String,
        receiverQualifier: String,
        receiverID: String,
        controlNumber: String,
        syntaxVersion: String,
        isTest: Bool,
        status: String,
        duplicateOf: Int64? = nil,
        byteOffset: Int,
        receivedAt: Date
    ) {
        self.fileID = fileID
        self.partnerID = partnerID
        self.dialect = dialect
        self.senderQualifier = senderQualifier
        self.senderID = senderID
        self.receiverQualifier = receiverQualifier
        self.receiverID = receiverID
        self.controlNumber = controlNumber
        self.syntaxVersion = syntaxVersion
        self.isTest = isTest
        self.status = status
        self.duplicateOf = duplicateOf
        self.byteOffset = byteOffset
        self.receivedAt = receivedAt
    }
}

/// A functional group (X12 GS…GE).
public struct GroupRecord: Sendable, Hashable {
    public var interchangeID: Int64
    public var functionalID: String
    public var senderID: String
    public var receiverID: String
    public var controlNumber: String
    public var version: String
    public var declaredSets: Int?
    public var receivedSets: Int
    public var acceptedSets: Int
    public var status: String
    /// 1 for the first group of the interchange.
    public var position: Int

    public init(
        interchangeID: Int64,
        functionalID: String,
        senderID: String,
        receiverID: String,
        controlNumber: String,
        version: String,
        declaredSets: Int?,
        receivedSets: Int,
        acceptedSets: Int,
        status: String,
        position: Int
    ) {
        self.interchangeID = interchangeID
        self.functionalID = functionalID
        self.senderID = senderID
        self.receiverID = receiverID
        self.controlNumber = controlNumber
        self.version = version
        self.declaredSets = declaredSets
        self.receivedSets = receivedSets
        self.acceptedSets = acceptedSets
        self.status = status
        self.position = position
    }
}

/// An X12 transaction set or an EDIFACT message.
public struct TransactionSetRecord: Sendable, Hashable {
    public var interchangeID: Int64
    public var groupID: Int64?
    public var identifier: String
    public var controlNumber: String
    public var version: String
    /// accepted, rejected, unmapped, duplicate.
    public var status: String
    /// The errors, one per line, for an admin.
    public var errors: String?
    public var byteOffset: Int

    public init(
        interchangeID: Int64,
        groupID: Int64?,
        identifier: String,
        controlNumber: String,
        version: String,
        status: String,
        errors: String?,
        byteOffset: Int
    ) {
        self.interchangeID = interchangeID
        self.groupID = groupID
        self.identifier = identifier
        self.controlNumber = controlNumber
        self.version = version
        self.status = status
        self.errors = errors
        self.byteOffset = byteOffset
    }
}

/// A document to send: the row is the source of truth, the outbox file is written from it.
public struct OutboundDocument: Sendable, Hashable {
    public var id: Int64
    public var partnerID: String
    public var kind: String
    /// The partner's outbox folder, as the profile names it.
    public var folder: String
    public var fileName: String
    public var content: [UInt8]
    public var state: String
    public var controlNumber: String?
    /// When the row was queued (ISO 8601, UTC), as stored.
    public var createdAt: String
}

/// The writes of one transaction. Only `OrderStore.write` makes one.
public struct StoreTransaction {
    let db: Database
    let ledger = TransactionLedger()

    /// Runs `body` as a transaction's writes, and writes its stock changes at the end (the caller commits).
    static func run<T>(_ db: Database, _ body: (StoreTransaction) throws -> T) throws -> T {
        let tx = StoreTransaction(db: db)
        let result = try body(tx)
        try tx.settle()
        return result
    }

    /// The reads, inside the same transaction.
    public var reader: StoreReader { StoreReader(db: self.db, ledger: self.ledger) }

    /// Runs `body` in a savepoint: what it writes stays only if it returns; if it throws, its writes are rolled
    /// back (and the error rethrown) while the rest of the transaction goes on. A batch of files commits in one
    /// transaction with a savepoint per file.
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        let ledger = self.ledger.state
        do {
            try self.db.inSavepoint {
                result = try body()
                return .commit
            }
        } catch {
            self.ledger.state = ledger
            throw error
        }
        return result!
    }

    // MARK: Files

    /// Inserts the ledger row of an inbound file and returns its ID.
    public func insertFile(_ file: FileRecord) throws -> Int64 {
        try self.db.run(
            """
            INSERT INTO files (partner_id, channel, original_name, work_name, sha256, size, format, state,
                duplicate_of, reprocess_of, error, stored_path, received_at, processed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ) {
            $0.bind(file.partnerID)
            $0.bind(file.channel)
            $0.bind(file.originalName)
            $0.bind(file.workName)
            $0.bind(file.sha256)
            $0.bind(file.size)
            $0.bind(file.format)
            $0.bind(file.state.rawValue)
            $0.bind(file.duplicateOf)
            $0.bind(file.reprocessOf)
            $0.bind(file.error)
            $0.bind(file.storedPath)
            $0.bind(Timestamp.text(file.receivedAt))
            $0.bind(Timestamp.text(file.processedAt))
        }
        return self.db.lastInsertedRowID
    }

    // MARK: Envelopes

    public func insertInterchange(_ record: InterchangeRecord) throws -> Int64 {
        try self.db.run(
            """
            INSERT INTO interchanges (file_id, partner_id, dialect, sender_qualifier, sender_id,
                receiver_qualifier, receiver_id, control_number, syntax_version, is_test, status, duplicate_of,
                byte_offset, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ) {
            $0.bind(record.fileID)
            $0.bind(record.partnerID)
            $0.bind(record.dialect)
            $0.bind(record.senderQualifier)
            $0.bind(record.senderID)
            $0.bind(record.receiverQualifier)
            $0.bind(record.receiverID)
            $0.bind(record.controlNumber)
            $0.bind(record.syntaxVersion)
            $0.bind(record.isTest)
            $0.bind(record.status)
            $0.bind(record.duplicateOf)
            $0.bind(record.byteOffset)
            $0.bind(Timestamp.text(record.receivedAt))
        }
        return self.db.lastInsertedRowID
    }

    public func insertGroup(_ record: GroupRecord) throws -> Int64 {
        try self.db.run(
            """
            INSERT INTO groups (interchange_id, functional_id, sender_id, receiver_id, control_number, version,
                declared_sets, received_sets, accepted_sets, status, position)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ) {
            $0.bind(record.interchangeID)
            $0.bind(record.functionalID)
            $0.bind(record.senderID)
            $0.bind(record.receiverID)
            $0.bind(record.controlNumber)
            $0.bind(record.version)
            $0.bind(record.declaredSets)
            $0.bind(record.receivedSets)
            $0.bind(record.acceptedSets)
            $0.bind(record.status)
            $0.bind(record.position)
        }
        return self.db.lastInsertedRowID
    }

    public func insertTransactionSet(_ record: TransactionSetRecord) throws -> Int64 {
        try self.db.run(
            """
            INSERT INTO transaction_sets (interchange_id, group_id, identifier, control_number, version, status,
                errors, byte_offset)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """
        ) {
            $0.bind(record.interchangeID)
            $0.bind(record.groupID)
            $0.bind(record.identifier)
            $0.bind(record.controlNumber)
            $0.bind(record.version)
            $0.bind(record.status)
            $0.bind(record.errors)
            $0.bind(record.byteOffset)
        }
        return self.db.lastInsertedRowID
    }

    // MARK: Outbound

    /// Queues a document for the partner's outbox; the file name is made unique from the row ID. With `deliver`
    /// (the partner has a push endpoint) it is also queued for delivery by HTTP, due at once.
    public func enqueueOutbound(
        partnerID: String,
        kind: String,
        folder: String,
        fileExtension: String,
        content: [UInt8],
        controlNumber: String?,
        fileID: Int64?,
        orderID: Int64? = nil,
        deliver: Bool = false,
        at date: Date
    ) throws -> Int64 {
        // The file name is made from the row's ID, so the ID is chosen first: the one SQLite would give (the largest
        // plus one; the transaction is the only writer), set explicitly so that the row is written once, named.
        let id = try self.db.firstInteger("SELECT COALESCE(MAX(id), 0) + 1 FROM outbound") { _ in } ?? 1
        let name = "\(kind)-\(partnerID)-\(Self.padded(id, 9))\(fileExtension.isEmpty ? "" : ".")\(fileExtension)"
        try self.db.run(
            """
            INSERT INTO outbound (id, partner_id, kind, folder, file_name, content, state, control_number, file_id,
                order_id, created_at)
            VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)
            """
        ) {
            $0.bind(id)
            $0.bind(partnerID)
            $0.bind(kind)
            $0.bind(folder)
            $0.bind(name)
            $0.bindBlob(content)
            $0.bind(controlNumber)
            $0.bind(fileID)
            $0.bind(orderID)
            $0.bind(Timestamp.text(date))
        }
        if deliver { try self.queueDelivery(outboundID: id, partnerID: partnerID, at: date) }
        return id
    }

    /// Marks an outbound row as written to the outbox.
    public func markWritten(outboundID: Int64, at date: Date) throws {
        try self.db.cachedStatement(
            sql: "UPDATE outbound SET state = 'written', written_at = ? WHERE id = ? AND state = 'pending'"
        ).execute(
            arguments: [Timestamp.text(date), outboundID]
        )
    }

    /// Sets a written row back to pending so that the outbox writer writes (or, when the file is there with the same
    /// bytes, re-marks) it: the repair after a failed fsync, "rewrite from the database".
    public func markPending(fileName: String) throws {
        try self.db.cachedStatement(
            sql: "UPDATE outbound SET state = 'pending', written_at = NULL WHERE file_name = ?"
        ).execute(
            arguments: [fileName]
        )
    }

    public func insertAcknowledgement(
        kind: String,
        partnerID: String,
        fileID: Int64?,
        interchangeID: Int64?,
        orderID: Int64? = nil,
        status: String,
        outboundID: Int64,
        at date: Date
    ) throws {
        try self.db.run(
            """
            INSERT INTO acknowledgements (kind, partner_id, file_id, interchange_id, order_id, status,
                outbound_id, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """
        ) {
            $0.bind(kind)
            $0.bind(partnerID)
            $0.bind(fileID)
            $0.bind(interchangeID)
            $0.bind(orderID)
            $0.bind(status)
            $0.bind(outboundID)
            $0.bind(Timestamp.text(date))
        }
    }

    // MARK: Control numbers

    /// The next control number of `kind` (interchange, group) for the partner: 1, 2, …, wrapping after `maximum`.
    /// It commits with the transaction that uses it, so a number is never handed out twice.
    public func nextControlNumber(partnerID: String, kind: String, maximum: Int = 999_999_999) throws -> Int {
        // Kept in the transaction's ledger and written once at the commit (a file's acknowledgements take two to four).
        try self.nextNumber(partnerID: partnerID, kind: kind, maximum: maximum)
    }

    // MARK: Partners and audit

    public func upsertPartner(
        id: String,
        name: String,
        profileFile: String,
        profileVersion: String,
        at date: Date
    )
        throws
    {
        try self.db.cachedStatement(
            sql: """
                INSERT INTO partners (id, name, profile_file, profile_version, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, profile_file = excluded.profile_file,
                    profile_version = excluded.profile_version, updated_at = excluded.updated_at
                WHERE profile_version != excluded.profile_version OR name != excluded.name
                """
        ).execute(
            arguments: [id, name, profileFile, profileVersion, Timestamp.text(date)]
        )
    }

    public func audit(actor: String, action: String, subject: String?, detail: String?, at date: Date) throws {
        try self.db.run("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)") {
            $0.bind(Timestamp.text(date))
            $0.bind(actor)
            $0.bind(action)
            $0.bind(subject)
            $0.bind(detail)
        }
    }

    static func padded(_ number: Int64, _ width: Int) -> String {
        let text = String(number)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
