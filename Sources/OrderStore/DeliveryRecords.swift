import Foundation
import GRDB

/// An outbound document waiting for (or past) delivery by HTTP.
public struct DeliveryItem: Sendable, Hashable {
    public var outboundID: Int64
    public var partnerID: String
    public var kind: String
    public var fileName: String
    public var content: [UInt8]
    /// Attempts made so far.
    public var attempts: Int
    /// When its lifetime counts from (queued, or an admin's retry).
    public var since: Date
}

/// A delivery row as `ordergate queue list` shows it.
public struct DeliveryRecord: Sendable, Hashable, Codable {
    public var outboundID: Int64
    public var partnerID: String
    public var kind: String
    public var fileName: String
    public var state: String
    public var attempts: Int
    public var dueAt: String
    public var sinceAt: String
    public var lastAttemptAt: String?
    public var lastStatus: Int?
    public var lastError: String?
    public var deliveredAt: String?
    public var heldReason: String?
}

/// What one delivery attempt came to.
public enum DeliveryResult: Sendable, Hashable {
    /// 2xx: the response (status and a bounded copy of its body) is kept.
    case delivered(status: Int, response: [UInt8])
    /// A transient failure: tried again at `due`.
    case retry(status: Int?, error: String, due: Date)
    /// For an admin: a 4xx the sender cannot fix by waiting, a misconfiguration, or the lifetime passed.
    case held(status: Int?, error: String)
    /// Not tried: waits until `due` (the partner's endpoint is failing and another document probes it, or the
    /// profile names no endpoint now). No attempt is counted.
    case deferred(reason: String, due: Date)
}

/// What polling a partner's endpoint last saw.
public struct PollState: Sendable, Hashable {
    /// The URL the validators came from.
    public var url: String?
    public var etag: String?
    public var lastModified: String?
    public var lastHash: String?
    public var documents = 0

    public init(
        url: String? = nil,
        etag: String? = nil,
        lastModified: String? = nil,
        lastHash: String? = nil,
        documents: Int = 0
    ) {
        self.url = url
        self.etag = etag
        self.lastModified = lastModified
        self.lastHash = lastHash
        self.documents = documents
    }
}

extension StoreTransaction {
    /// Queues an outbound row for delivery, due at once.
    public func queueDelivery(outboundID: Int64, partnerID: String, at date: Date) throws {
        let now = Timestamp.text(date)
        try self.db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO deliveries (outbound_id, partner_id, state, due_at, since_at)
                VALUES (?, ?, 'waiting', ?, ?)
                """
        ).execute(arguments: [outboundID, partnerID, now, now])
    }

    /// Records an attempt's result. Only a waiting row changes: an admin's hold that came while the attempt was in
    /// flight wins over a retry, but a delivery is always recorded (the partner has the document).
    public func recordDelivery(outboundID: Int64, _ result: DeliveryResult, at date: Date) throws {
        let now = Timestamp.text(date)
        switch result {
        case .delivered(let status, let response):
            try self.db.cachedStatement(
                sql: """
                    UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, last_attempt_at = ?,
                        last_status = ?, last_error = NULL, response = ?, delivered_at = ?, held_reason = NULL
                    WHERE outbound_id = ? AND state != 'delivered'
                    """
            ).execute(arguments: [now, status, Data(response), now, outboundID])
        case .retry(let status, let error, let due):
            try self.db.cachedStatement(
                sql: """
                    UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?, last_status = ?,
                        last_error = ?, due_at = ?
                    WHERE outbound_id = ? AND state = 'waiting'
                    """
            ).execute(arguments: [now, status, error, Timestamp.text(due), outboundID])
        case .deferred(let reason, let due):
            try self.db.cachedStatement(
                sql: "UPDATE deliveries SET last_error = ?, due_at = ? WHERE outbound_id = ? AND state = 'waiting'"
            ).execute(arguments: [reason, Timestamp.text(due), outboundID])
        case .held(let status, let error):
            try self.db.cachedStatement(
                sql: """
                    UPDATE deliveries SET state = 'held', attempts = attempts + 1, last_attempt_at = ?,
                        last_status = ?, last_error = ?, held_reason = ?
                    WHERE outbound_id = ? AND state = 'waiting'
                    """
            ).execute(arguments: [now, status, error, error, outboundID])
        }
    }

    /// An admin's retry: a waiting or held row becomes due now, and its lifetime starts again. Returns whether a row
    /// changed (a delivered one never does).
    @discardableResult
    public func retryDelivery(outboundID: Int64, at date: Date) throws -> Bool {
        let now = Timestamp.text(date)
        try self.db.execute(
            sql: """
                UPDATE deliveries SET state = 'waiting', due_at = ?, since_at = ?, held_reason = NULL
                WHERE outbound_id = ? AND state IN ('waiting', 'held')
                """,
            arguments: [now, now, outboundID]
        )
        return self.db.changesCount > 0
    }

    /// An admin's hold: a waiting row is not tried until released. Returns whether a row changed.
    @discardableResult
    public func holdDelivery(outboundID: Int64, reason: String) throws -> Bool {
        try self.db.execute(
            sql: "UPDATE deliveries SET state = 'held', held_reason = ? WHERE outbound_id = ? AND state = 'waiting'",
            arguments: [reason, outboundID]
        )
        return self.db.changesCount > 0
    }

    /// An admin's release: a held row is due now, and its lifetime starts again (a row held for days would
    /// otherwise be past it at its first failure). Returns whether a row changed.
    @discardableResult
    public func releaseDelivery(outboundID: Int64, at date: Date) throws -> Bool {
        let now = Timestamp.text(date)
        try self.db.execute(
            sql: """
                UPDATE deliveries SET state = 'waiting', due_at = ?, since_at = ?, held_reason = NULL
                WHERE outbound_id = ? AND state = 'held'
                """,
            arguments: [now, now, outboundID]
        )
        return self.db.changesCount > 0
    }

    /// Stores what a poll of a partner's endpoint saw.
    public func recordPoll(
        partnerID: String,
        state: PollState,
        status: Int?,
        error: String?,
        at date: Date
    ) throws {
        try self.db.execute(
            sql: """
                INSERT INTO poll_state (partner_id, url, etag, last_modified, last_hash, polled_at, last_status,
                    last_error, documents)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (partner_id) DO UPDATE SET url = excluded.url, etag = excluded.etag,
                    last_modified = excluded.last_modified, last_hash = excluded.last_hash,
                    polled_at = excluded.polled_at, last_status = excluded.last_status,
                    last_error = excluded.last_error, documents = excluded.documents
                """,
            arguments: [
                partnerID, state.url, state.etag, state.lastModified, state.lastHash, Timestamp.text(date), status,
                error, state.documents,
            ]
        )
    }
}

extension StoreReader {
    /// This database's installation key: the prefix of every idempotency key sent to partners.
    public func installationKey() throws -> String {
        try String.fetchOne(self.db, sql: "SELECT key FROM installation WHERE id = 1") ?? "0"
    }

    /// The partners with a waiting delivery due at `date`.
    public func partnersWithDueDeliveries(at date: Date) throws -> [String] {
        try String.fetchAll(
            self.db,
            sql: "SELECT DISTINCT partner_id FROM deliveries WHERE state = 'waiting' AND due_at <= ?",
            arguments: [Timestamp.text(date)]
        )
    }

    /// When the next waiting delivery is due (any partner), if any.
    public func nextDeliveryDue() throws -> Date? {
        guard
            let text = try String.fetchOne(
                self.db,
                sql: "SELECT MIN(due_at) FROM deliveries WHERE state = 'waiting'"
            )
        else { return nil }
        return Timestamp.date(text)
    }

    /// A partner's due deliveries, oldest first.
    public func dueDeliveries(partnerID: String, at date: Date, limit: Int) throws -> [DeliveryItem] {
        try Row.fetchAll(
            self.db.cachedStatement(
                sql: """
                    SELECT d.outbound_id, d.partner_id, d.attempts, d.since_at, o.kind, o.file_name, o.content
                    FROM deliveries d JOIN outbound o ON o.id = d.outbound_id
                    WHERE d.state = 'waiting' AND d.partner_id = ? AND d.due_at <= ?
                    ORDER BY d.due_at, d.outbound_id LIMIT ?
                    """
            ),
            arguments: [partnerID, Timestamp.text(date), limit]
        ).map { row in
            DeliveryItem(
                outboundID: row["outbound_id"],
                partnerID: row["partner_id"],
                kind: row["kind"],
                fileName: row["file_name"],
                content: [UInt8](row["content"] as Data),
                attempts: row["attempts"],
                since: Timestamp.date(row["since_at"]) ?? Date(timeIntervalSince1970: 0)
            )
        }
    }

    /// Delivery rows, newest first, optionally of one state and partner.
    public func deliveries(state: String?, partnerID: String?, limit: Int) throws -> [DeliveryRecord] {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let state {
            conditions.append("d.state = ?")
            arguments.append(state)
        }
        if let partnerID {
            conditions.append("d.partner_id = ?")
            arguments.append(partnerID)
        }
        arguments.append(limit)
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try Row.fetchAll(
            self.db,
            sql: """
                SELECT d.*, o.kind, o.file_name FROM deliveries d JOIN outbound o ON o.id = d.outbound_id
                \(filter) ORDER BY d.outbound_id DESC LIMIT ?
                """,
            arguments: StatementArguments(arguments)
        ).map(Self.deliveryRecord)
    }

    /// One delivery row.
    public func delivery(outboundID: Int64) throws -> DeliveryRecord? {
        try Row.fetchOne(
            self.db,
            sql: """
                SELECT d.*, o.kind, o.file_name FROM deliveries d JOIN outbound o ON o.id = d.outbound_id
                WHERE d.outbound_id = ?
                """,
            arguments: [outboundID]
        ).map(Self.deliveryRecord)
    }

    /// How many deliveries are in each state.
    public func deliveryCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(self.db, sql: "SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state") {
            counts[row["state"]] = row["n"]
        }
        return counts
    }

    /// How long the latest files took from their arrival to their commit, in seconds (at most `limit`, newest
    /// first): the file latency `/metrics` reports.
    public func recentFileLatencies(limit: Int) throws -> [Double] {
        try Row.fetchAll(
            self.db.cachedStatement(
                sql: "SELECT received_at, processed_at FROM files ORDER BY id DESC LIMIT ?"
            ),
            arguments: [limit]
        ).compactMap { row in
            guard let received = Timestamp.date(row[0]), let processed = Timestamp.date(row[1]) else { return nil }
            return max(0, processed.timeIntervalSince(received))
        }
    }

    /// What polling the partner's endpoint last saw.
    public func pollState(partnerID: String) throws -> PollState {
        guard
            let row = try Row.fetchOne(
                self.db,
                sql: "SELECT url, etag, last_modified, last_hash, documents FROM poll_state WHERE partner_id = ?",
                arguments: [partnerID]
            )
        else { return PollState() }
        return PollState(
            url: row["url"],
            etag: row["etag"],
            lastModified: row["last_modified"],
            lastHash: row["last_hash"],
            documents: row["documents"]
        )
    }

    /// Whether a file with this SHA-256 (lower-case hex) came from the partner before.
    public func fileSeen(partnerID: String, sha256: String) throws -> Bool {
        try Bool.fetchOne(
            self.db,
            sql: "SELECT EXISTS (SELECT 1 FROM files WHERE partner_id = ? AND sha256 = ?)",
            arguments: [partnerID, sha256]
        ) ?? false
    }

    private static func deliveryRecord(_ row: Row) -> DeliveryRecord {
        DeliveryRecord(
            outboundID: row["outbound_id"],
            partnerID: row["partner_id"],
            kind: row["kind"],
            fileName: row["file_name"],
            state: row["state"],
            attempts: row["attempts"],
            dueAt: row["due_at"],
            sinceAt: row["since_at"],
            lastAttemptAt: row["last_attempt_at"],
            lastStatus: row["last_status"],
            lastError: row["last_error"],
            deliveredAt: row["delivered_at"],
            heldReason: row["held_reason"]
        )
    }
}

/// One entry of the audit log.
public struct AuditEntry: Sendable, Hashable {
    public var at: String
    public var actor: String
    public var action: String
    public var subject: String?
    public var detail: String?
}

extension StoreReader {
    /// The audit log's entries about one subject (`order:12`, `outbound:7`), oldest first.
    public func auditEntries(subject: String) throws -> [AuditEntry] {
        try Row.fetchAll(
            self.db,
            sql: "SELECT at, actor, action, subject, detail FROM audit_log WHERE subject = ? ORDER BY id",
            arguments: [subject]
        ).map { row in
            AuditEntry(
                at: row["at"],
                actor: row["actor"],
                action: row["action"],
                subject: row["subject"],
                detail: row["detail"]
            )
        }
    }
}
