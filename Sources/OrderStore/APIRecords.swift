import Foundation
import GRDB

/// An API token as stored: its role and, for a partner token, the partner it may see. The token itself is never
/// stored, only its SHA-256.
public struct APIToken: Sendable, Hashable, Codable {
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable { case admin, erp, partner }

    public var id: Int64
    public var name: String
    public var role: Role
    public var partnerID: String?
    public var createdAt: String
    public var revokedAt: String?
}

/// A POST's stored response, replayed for a repeated `Idempotency-Key`.
public struct StoredResponse: Sendable, Hashable {
    public var method: String
    public var path: String
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(method: String, path: String, status: Int, contentType: String, body: [UInt8]) {
        self.method = method
        self.path = path
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

extension StoreTransaction {
    public func insertToken(
        name: String,
        role: APIToken.Role,
        partnerID: String?,
        hash: String,
        at date: Date
    ) throws -> Int64 {
        try self.db.execute(
            sql: """
                INSERT INTO api_tokens (name, role, partner_id, token_hash, created_at) VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [name, role.rawValue, partnerID, hash, Timestamp.text(date)]
        )
        return self.db.lastInsertedRowID
    }

    /// Revokes a token; returns whether there was a live one with that ID.
    @discardableResult
    public func revokeToken(id: Int64, at date: Date) throws -> Bool {
        try self.db.execute(
            sql: "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            arguments: [Timestamp.text(date), id]
        )
        return self.db.changesCount > 0
    }

    /// Stores a POST's response under its key; a key used before keeps its first response.
    public func storeResponse(tokenID: Int64, key: String, _ response: StoredResponse, at date: Date) throws {
        try self.db.execute(
            sql: """
                INSERT OR IGNORE INTO idempotency_keys (token_id, key, method, path, status, content_type, body,
                    created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                tokenID, key, response.method, response.path, response.status, response.contentType,
                Data(response.body), Timestamp.text(date),
            ]
        )
    }
}

extension StoreReader {
    /// The live token with this hash.
    public func token(hash: String) throws -> APIToken? {
        try Row.fetchOne(
            self.db.cachedStatement(sql: "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"),
            arguments: [hash]
        ).map(Self.token)
    }

    public func tokens() throws -> [APIToken] {
        try Row.fetchAll(self.db, sql: "SELECT * FROM api_tokens ORDER BY id").map(Self.token)
    }

    private static func token(_ row: Row) -> APIToken {
        APIToken(
            id: row["id"],
            name: row["name"],
            role: APIToken.Role(rawValue: row["role"]) ?? .partner,
            partnerID: row["partner_id"],
            createdAt: row["created_at"],
            revokedAt: row["revoked_at"]
        )
    }

    public func storedResponse(tokenID: Int64, key: String) throws -> StoredResponse? {
        try Row.fetchOne(
            self.db.cachedStatement(sql: "SELECT * FROM idempotency_keys WHERE token_id = ? AND key = ?"),
            arguments: [tokenID, key]
        ).map { row in
            StoredResponse(
                method: row["method"],
                path: row["path"],
                status: row["status"],
                contentType: row["content_type"],
                body: Array((row["body"] as Data?) ?? Data())
            )
        }
    }

    /// The order feed: orders with an ID above `after`, oldest first. IDs grow in commit order (one writer), so a
    /// cursor never skips or repeats an order. `partnerID` limits it to one partner (a partner token always does).
    public func orderFeed(after: Int64, limit: Int, status: String?, partnerID: String?) throws -> [OrderListEntry] {
        try self.orders(after: after, limit: limit, status: status, partnerID: partnerID, newestFirst: false)
    }

    func orders(
        after: Int64,
        limit: Int,
        status: String?,
        partnerID: String?,
        newestFirst: Bool
    ) throws -> [OrderListEntry] {
        var sql = "SELECT id, partner_id, po_number, purpose, status, created_at FROM orders WHERE id > ?"
        var arguments: StatementArguments = [after]
        if let status {
            sql += " AND status = ?"
            arguments += [status]
        }
        if let partnerID {
            sql += " AND partner_id = ?"
            arguments += [partnerID]
        }
        sql += newestFirst ? " ORDER BY id DESC LIMIT ?" : " ORDER BY id LIMIT ?"
        arguments += [limit]
        return try Row.fetchAll(self.db.cachedStatement(sql: sql), arguments: arguments).map(OrderListEntry.init(row:))
    }

    /// An order's header row, when it is `partnerID`'s (nil: any partner's). The partner check is in the query.
    public func orderHeader(id: Int64, visibleTo partnerID: String? = nil) throws -> OrderListEntry? {
        var sql = "SELECT id, partner_id, po_number, purpose, status, created_at FROM orders WHERE id = ?"
        var arguments: StatementArguments = [id]
        if let partnerID {
            sql += " AND partner_id = ?"
            arguments += [partnerID]
        }
        return try Row.fetchOne(self.db.cachedStatement(sql: sql), arguments: arguments).map(OrderListEntry.init(row:))
    }

    /// The acknowledgements sent for an order.
    public func orderAcknowledgements(orderID: Int64) throws -> [AcknowledgementEntry] {
        try Row.fetchAll(
            self.db.cachedStatement(
                sql: """
                    SELECT a.kind, a.status, a.created_at, o.file_name FROM acknowledgements a
                    JOIN outbound o ON o.id = a.outbound_id WHERE a.order_id = ? ORDER BY a.id
                    """
            ),
            arguments: [orderID]
        ).map { AcknowledgementEntry(kind: $0[0], status: $0[1], fileName: $0[3], at: $0[2]) }
    }

    /// A stored order's canonical JSON as stored (without its ID), for serving it without decoding it.
    public func orderCanonicalText(id: Int64) throws -> String? {
        try String.fetchOne(
            self.db.cachedStatement(sql: "SELECT canonical FROM order_documents WHERE order_id = ?"),
            arguments: [id]
        )
    }

    /// Outbound rows not yet written to the outbox (the health check's queue depth).
    public func pendingOutboundCount() throws -> Int {
        try Int.fetchOne(self.db, sql: "SELECT COUNT(*) FROM outbound WHERE state = 'pending'") ?? 0
    }
}

/// An acknowledgement sent for an order.
public struct AcknowledgementEntry: Sendable, Hashable, Codable {
    public var kind: String
    public var status: String
    public var fileName: String
    public var at: String
}
