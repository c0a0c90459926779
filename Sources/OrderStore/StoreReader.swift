import Foundation
import GRDB
import OrderModel

/// Counts per state and the oldest waiting items, for `ordergate status` and the health check.
public struct StoreSummary: Sendable, Hashable, Codable {
    public var files: [String: Int]
    public var orders: [String: Int]
    public var outbound: [String: Int]
    public var acknowledgements: [String: Int]
    /// When the oldest outbound document still waiting to be written was queued.
    public var oldestPendingOutbound: String?
    public var lastFileProcessedAt: String?
}

/// One line of `ordergate files list`.
public struct FileSummary: Sendable, Hashable, Codable {
    public var id: Int64
    public var partnerID: String?
    public var originalName: String
    public var state: String
    public var format: String?
    public var size: Int
    public var receivedAt: String
    public var storedPath: String
    public var error: String?
    public var duplicateOf: Int64?
    public var reprocessOf: Int64?
    public var sha256: String
    public var workName: String
    public var channel: String
}

/// What `ordergate files show` prints about one file: its row and everything it produced.
public struct FileDetail: Sendable, Hashable, Codable {
    public struct Interchange: Sendable, Hashable, Codable {
        public var id: Int64
        public var dialect: String
        public var sender: String
        public var receiver: String
        public var controlNumber: String
        public var status: String
        public var duplicateOf: Int64?
    }

    public struct TransactionSet: Sendable, Hashable, Codable {
        public var interchangeID: Int64
        public var identifier: String
        public var controlNumber: String
        public var status: String
        public var errors: String?
    }

    public struct OrderSummary: Sendable, Hashable, Codable {
        public var id: Int64
        public var purchaseOrderNumber: String
        public var status: String
        public var lineCount: Int
        public var duplicateOf: Int64?
    }

    public struct Outbound: Sendable, Hashable, Codable {
        public var id: Int64
        public var kind: String
        public var fileName: String
        public var state: String
    }

    public var file: FileSummary
    public var interchanges: [Interchange]
    public var transactionSets: [TransactionSet]
    public var orders: [OrderSummary]
    public var outbound: [Outbound]
}

/// Reads, on a snapshot or inside a write transaction.
public struct StoreReader {
    let db: Database
    /// Inside a write transaction: its stock ledger (the stock rows as the transaction has changed them).
    var ledger: TransactionLedger? = nil

    /// The file row that already processed these bytes for the partner, if any.
    public func processedFile(partnerID: String?, sha256: String) throws -> Int64? {
        try self.db.firstInteger(
            """
            SELECT id FROM files WHERE partner_id IS ? AND sha256 = ? AND state = 'processed'
            ORDER BY id LIMIT 1
            """
        ) {
            $0.bind(partnerID)
            $0.bind(sha256)
        }
    }

    /// The IDs of the files, among those claimed under `workNames`, whose transactions committed, by work name (one
    /// statement for a whole batch).
    public func fileIDs(workNames: [String]) throws -> [String: Int64] {
        guard !workNames.isEmpty else { return [:] }
        var found: [String: Int64] = [:]
        try self.db.query("SELECT work_name, id FROM files WHERE work_name IN (SELECT value FROM json_each(?))") {
            $0.bindText(DirectBinder.jsonArray(workNames))
        } row: { row in
            if let name = row.text(0), let id = row.int64(1) { found[name] = id }
        }
        return found
    }

    /// An earlier interchange with the same sender, receiver and control number received since `since`.
    public func interchange(
        senderQualifier: String,
        senderID: String,
        receiverQualifier: String,
        receiverID: String,
        controlNumber: String,
        since: Date
    ) throws -> Int64? {
        try self.db.firstInteger(
            """
            SELECT id FROM interchanges
            WHERE sender_qualifier = ? AND sender_id = ? AND receiver_qualifier = ? AND receiver_id = ?
                AND control_number = ? AND received_at >= ? AND status != 'duplicate'
            ORDER BY id LIMIT 1
            """
        ) {
            $0.bind(senderQualifier)
            $0.bind(senderID)
            $0.bind(receiverQualifier)
            $0.bind(receiverID)
            $0.bind(controlNumber)
            $0.bind(Timestamp.text(since))
        }
    }

    /// The live original order with this PO number for the partner, if any.
    public func originalOrder(partnerID: String, purchaseOrderNumber: String) throws -> Int64? {
        try self.db.firstInteger(
            """
            SELECT id FROM orders WHERE partner_id = ? AND po_number = ? AND purpose = 'original'
                AND duplicate_of IS NULL
            """
        ) {
            $0.bind(partnerID)
            $0.bind(purchaseOrderNumber)
        }
    }

    /// Outbound documents not yet in the outbox, oldest first.
    public func pendingOutbound(limit: Int = 100, afterID: Int64 = 0) throws -> [OutboundDocument] {
        try Row.fetchAll(
            self.db.cachedStatement(
                sql: """
                    SELECT id, partner_id, kind, folder, file_name, content, state, control_number, created_at
                    FROM outbound WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?
                    """
            ),
            arguments: [afterID, limit]
        ).map { row in
            OutboundDocument(
                id: row["id"],
                partnerID: row["partner_id"],
                kind: row["kind"],
                folder: row["folder"],
                fileName: row["file_name"],
                content: [UInt8]((row["content"] as Data?) ?? Data()),
                state: row["state"],
                controlNumber: row["control_number"],
                createdAt: row["created_at"]
            )
        }
    }

    public func summary() throws -> StoreSummary {
        func counts(_ sql: String) throws -> [String: Int] {
            var result: [String: Int] = [:]
            for row in try Row.fetchAll(self.db, sql: sql) { result[row[0]] = row[1] }
            return result
        }
        return StoreSummary(
            files: try counts("SELECT state, COUNT(*) FROM files GROUP BY state"),
            orders: try counts("SELECT status, COUNT(*) FROM orders GROUP BY status"),
            outbound: try counts("SELECT state, COUNT(*) FROM outbound GROUP BY state"),
            acknowledgements: try counts("SELECT kind, COUNT(*) FROM acknowledgements GROUP BY kind"),
            oldestPendingOutbound: try String.fetchOne(
                self.db,
                sql: "SELECT MIN(created_at) FROM outbound WHERE state = 'pending'"
            ),
            lastFileProcessedAt: try String.fetchOne(self.db, sql: "SELECT MAX(processed_at) FROM files")
        )
    }

    private static let fileColumns = """
        id, partner_id, original_name, state, format, size, received_at, stored_path, error, duplicate_of,
        reprocess_of, sha256, work_name, channel
        """

    private static func fileSummary(_ row: Row) -> FileSummary {
        FileSummary(
            id: row["id"],
            partnerID: row["partner_id"],
            originalName: row["original_name"],
            state: row["state"],
            format: row["format"],
            size: row["size"],
            receivedAt: row["received_at"],
            storedPath: row["stored_path"],
            error: row["error"],
            duplicateOf: row["duplicate_of"],
            reprocessOf: row["reprocess_of"],
            sha256: row["sha256"],
            workName: row["work_name"],
            channel: row["channel"]
        )
    }

    /// Files, newest first, optionally of one state or partner.
    public func files(state: String? = nil, partnerID: String? = nil, limit: Int = 50) throws -> [FileSummary] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let state {
            conditions.append("state = ?")
            arguments += [state]
        }
        if let partnerID {
            conditions.append("partner_id = ?")
            arguments += [partnerID]
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments += [limit]
        return try Row.fetchAll(
            self.db.cachedStatement(sql: "SELECT \(Self.fileColumns) FROM files \(filter) ORDER BY id DESC LIMIT ?"),
            arguments: arguments
        ).map(Self.fileSummary)
    }

    public func file(id: Int64) throws -> FileDetail? {
        guard
            let row = try Row.fetchOne(
                self.db.cachedStatement(sql: "SELECT \(Self.fileColumns) FROM files WHERE id = ?"),
                arguments: [id]
            )
        else { return nil }
        let interchanges = try Row.fetchAll(
            self.db.cachedStatement(
                sql: """
                    SELECT id, dialect, sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number,
                        status, duplicate_of
                    FROM interchanges WHERE file_id = ? ORDER BY id
                    """
            ),
            arguments: [id]
        ).map { row in
            FileDetail.Interchange(
                id: row["id"],
                dialect: row["dialect"],
                sender: "\(row["sender_qualifier"] as String):\(row["sender_id"] as String)",
                receiver: "\(row["receiver_qualifier"] as String):\(row["receiver_id"] as String)",
                controlNumber: row["control_number"],
                status: row["status"],
                duplicateOf: row["duplicate_of"]
            )
        }
        let sets = try Row.fetchAll(
            self.db.cachedStatement(
                sql: """
                    SELECT s.interchange_id, s.identifier, s.control_number, s.status, s.errors
                    FROM transaction_sets s JOIN interchanges i ON i.id = s.interchange_id
                    WHERE i.file_id = ? ORDER BY s.id
                    """
            ),
            arguments: [id]
        ).map { row in
            FileDetail.TransactionSet(
                interchangeID: row[0],
                identifier: row[1],
                controlNumber: row[2],
                status: row[3],
                errors: row[4]
            )
        }
        let orders = try Row.fetchAll(
            self.db.cachedStatement(
                sql: "SELECT id, po_number, status, line_count, duplicate_of FROM orders WHERE file_id = ? ORDER BY id"
            ),
            arguments: [id]
        ).map { row in
            FileDetail.OrderSummary(
                id: row[0],
                purchaseOrderNumber: row[1],
                status: row[2],
                lineCount: row[3],
                duplicateOf: row[4]
            )
        }
        let outbound = try Row.fetchAll(
            self.db.cachedStatement(
                sql: "SELECT id, kind, file_name, state FROM outbound WHERE file_id = ? ORDER BY id"
            ),
            arguments: [id]
        ).map { row in
            FileDetail.Outbound(id: row[0], kind: row[1], fileName: row[2], state: row[3])
        }
        return FileDetail(
            file: Self.fileSummary(row),
            interchanges: interchanges,
            transactionSets: sets,
            orders: orders,
            outbound: outbound
        )
    }

    /// How many rows a table has (for tests and the crash check).
    public func count(_ table: String) throws -> Int {
        precondition(table.allSatisfy { $0.isLetter || $0 == "_" }, "table name")
        return try Int.fetchOne(self.db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
    }

    /// A stored order, as mapped, with its ID and partner.
    public func order(id: Int64) throws -> Order? {
        guard
            let json = try String.fetchOne(
                self.db.cachedStatement(sql: "SELECT canonical FROM order_documents WHERE order_id = ?"),
                arguments: [id]
            )
        else { return nil }
        var order = try CanonicalJSON.decode(Order.self, from: Array(json.utf8))
        order.id = String(id)
        return order
    }

    /// The canonical JSON of a stored order, with its ID.
    public func orderJSON(id: Int64) throws -> String? {
        try self.order(id: id).map { try CanonicalJSON.encode($0) }
    }
}
