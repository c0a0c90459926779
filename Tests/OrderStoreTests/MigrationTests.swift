import Foundation
import GRDB
import OrderModel
import Testing

@testable import OrderStore

@Suite("Store migrations")
struct MigrationTests {
    /// A database of the previous schema (orders kept their canonical JSON in their own row) is migrated: the JSON
    /// moves to order_documents, the column goes, and the order reads as before.
    @Test func ordersStoredBeforeV11KeepTheirCanonicalJSON() throws {
        let folder = try temporaryFolder("migrate")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/ordergate.sqlite"
        var order = Order()
        order.purchaseOrderNumber = "PO-OLD"
        let json = try CanonicalJSON.encode(order)
        do {
            let pool = try DatabasePool(path: path)
            try Schema.migrator.migrate(pool, upTo: "v10-poll-url")
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO files (partner_id, channel, original_name, work_name, sha256, size, state,
                            stored_path, received_at, processed_at)
                        VALUES ('acme', 'inbox', 'a.edi', 'acme/a.edi', 'abc', 1, 'processed', 'archive/a.edi',
                            '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z');
                        """
                )
                try db.execute(
                    sql: """
                        INSERT INTO orders (partner_id, po_number, purpose, status, file_id, line_count, canonical,
                            created_at, updated_at)
                        VALUES ('acme', 'PO-OLD', 'original', 'accepted', 1, 0, ?, '2026-12-01T00:00:00Z',
                            '2026-12-01T00:00:00Z')
                        """,
                    arguments: [json]
                )
            }
        }
        let store = try OrderStore(path: path)
        #expect(try store.appliedMigrations().last == "v11-order-documents")
        let stored = try #require(try store.read { try $0.order(id: 1) })
        #expect(stored.purchaseOrderNumber == "PO-OLD")
        #expect(try store.read { try $0.orderCanonicalText(id: 1) } == json)
        #expect(try store.integrityCheck() == ["ok"])
    }
}

@Suite("Store durability")
struct DurabilityTests {
    /// A relaxed write commits like any other, and the connection goes back to `synchronous = FULL` (2) for the
    /// inbound files' transactions that follow.
    @Test func aRelaxedWriteCommitsAndLeavesTheWriterFullySynchronous() throws {
        let folder = try temporaryFolder("relaxed")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try OrderStore(path: folder + "/ordergate.sqlite")
        try store.writeRelaxed { tx in
            try tx.audit(actor: "test", action: "relaxed", subject: nil, detail: nil, at: Date())
        }
        #expect(throws: (any Error).self) {
            try store.writeRelaxed { tx in
                try tx.audit(actor: "test", action: "rolled back", subject: nil, detail: nil, at: Date())
                throw CancellationError()
            }
        }
        let synchronous = try store.write { tx in try Int.fetchOne(tx.db, sql: "PRAGMA synchronous") }
        #expect(synchronous == 2)
        let actions = try store.read { reader in try String.fetchAll(reader.db, sql: "SELECT action FROM audit_log") }
        #expect(actions == ["relaxed"])
    }
}
