import Foundation
import GRDB
import OrderModel
import OrderStore
import Testing

@Suite("Order store")
struct OrderStoreTests {
    private func temporaryStore() throws -> (OrderStore, String) {
        let folder = try temporaryFolder("store")
        return (try OrderStore(path: folder + "/ordergate.sqlite"), folder)
    }

    private func file(_ name: String, sha: String = "abc", state: FileRecord.State = .processed) -> FileRecord {
        FileRecord(
            partnerID: "acme",
            channel: "inbox",
            originalName: name,
            workName: "acme/\(name)",
            sha256: sha,
            size: 1,
            format: "x12",
            state: state,
            storedPath: "archive/\(name)",
            receivedAt: Date(),
            processedAt: Date()
        )
    }

    @Test func theDatabaseIsMigratedAndSound() throws {
        let (store, folder) = try self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(
            try store.appliedMigrations() == [
                "v1-ledger", "v2-file-hash-index", "v3-business-data", "v4-api", "v5-shipments", "v6-delivery",
                "v7-invoices", "v8-acknowledgements-order-index", "v9-installation", "v10-poll-url",
                "v11-order-documents",
            ]
        )
        #expect(try store.integrityCheck() == ["ok"])
    }

    @Test func aTransactionThatThrowsLeavesNothingBehind() throws {
        let (store, folder) = try self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        struct Failure: Error {}
        #expect(throws: Failure.self) {
            try store.write { tx in
                _ = try tx.insertFile(self.file("a"))
                _ = try tx.nextControlNumber(partnerID: "acme", kind: "interchange")
                throw Failure()
            }
        }
        #expect(try store.read { try $0.count("files") } == 0)
        // The counter did not move either.
        #expect(try store.write { try $0.nextControlNumber(partnerID: "acme", kind: "interchange") } == 1)
    }

    @Test func controlNumbersAreCountedPerPartnerAndKindAndWrap() throws {
        let (store, folder) = try self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let numbers = try store.write { tx in
            [
                try tx.nextControlNumber(partnerID: "acme", kind: "interchange"),
                try tx.nextControlNumber(partnerID: "acme", kind: "interchange"),
                try tx.nextControlNumber(partnerID: "acme", kind: "group"),
                try tx.nextControlNumber(partnerID: "nord", kind: "interchange"),
                try tx.nextControlNumber(partnerID: "acme", kind: "small", maximum: 1),
                try tx.nextControlNumber(partnerID: "acme", kind: "small", maximum: 1),
            ]
        }
        #expect(numbers == [1, 2, 1, 1, 1, 1])
    }

    /// Numbers are counted in the transaction (written once at its commit): a savepoint that rolls back gives its
    /// numbers back, and the next transaction goes on from the last number committed.
    @Test func aSavepointThatRollsBackGivesItsControlNumbersBack() throws {
        let (store, folder) = try self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        struct Failure: Error {}
        let numbers = try store.write { tx in
            let first = try tx.nextControlNumber(partnerID: "acme", kind: "interchange")
            #expect(throws: Failure.self) {
                try tx.savepoint {
                    _ = try tx.nextControlNumber(partnerID: "acme", kind: "interchange")
                    _ = try tx.nextControlNumber(partnerID: "acme", kind: "group")
                    throw Failure()
                }
            }
            return [
                first, try tx.nextControlNumber(partnerID: "acme", kind: "interchange"),
                try tx.nextControlNumber(partnerID: "acme", kind: "group"),
            ]
        }
        #expect(numbers == [1, 2, 1])
        #expect(try store.write { try $0.nextControlNumber(partnerID: "acme", kind: "interchange") } == 3)
        #expect(try store.write { try $0.nextControlNumber(partnerID: "acme", kind: "group") } == 2)
    }

    @Test func theSameBytesCannotBeProcessedTwiceForAPartner() throws {
        let (store, folder) = try self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try store.write { try $0.insertFile(self.file("a")) }
        #expect(throws: (any Error).self) { _ = try store.write { try $0.insertFile(self.file("b")) } }
        // Recorded as a duplicate, it may be stored.
        _ = try store.write { try $0.insertFile(self.file("c", state: .duplicate)) }
        #expect(try store.read { try $0.processedFile(partnerID: "acme", sha256: "abc") } == 1)
    }

    /// An order's lines go in statements of many rows each: an order with more lines than one statement takes
    /// stores every line once, in order, with its values.
    @Test func anOrderWithMoreLinesThanOneStatementHoldsStoresThemAllInOrder() throws {
        let (store, folder) = try self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var order = Order()
        order.purchaseOrderNumber = "PO-LINES"
        order.lines = (1...150).map { number in
            var line = OrderLine()
            line.lineNumber = String(number)
            line.item.vendorPart = "VP-\(number)"
            line.quantity = Quantity(Decimal(number), unit: "EA")
            line.unitPrice = number % 2 == 0 ? Money(Decimal(string: "1.25")!) : nil
            return line
        }
        let orderID = try store.write { tx in
            try tx.insertOrder(
                order,
                partnerID: "acme",
                fileID: try tx.insertFile(self.file("lines")),
                setID: nil,
                status: .received,
                at: Date()
            )
        }
        let rows = try DatabaseQueue(path: folder + "/ordergate.sqlite").read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT position, line_number, vendor_part, quantity, unit, unit_price FROM order_lines "
                    + "WHERE order_id = ? ORDER BY position",
                arguments: [orderID]
            )
        }
        #expect(rows.count == 150)
        for (index, row) in rows.enumerated() {
            let number = index + 1
            #expect(row["position"] as Int == number)
            #expect(row["line_number"] as String == String(number))
            #expect(row["vendor_part"] as String == "VP-\(number)")
            #expect(row["quantity"] as String == String(number))
            #expect(row["unit"] as String == "EA")
            #expect(row["unit_price"] as String? == (number % 2 == 0 ? "1.25" : nil))
        }
    }

    @Test func aSecondLiveOriginalOfAPONumberIsRefusedByTheIndex() throws {
        let (store, folder) = try self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var order = Order()
        order.purchaseOrderNumber = "PO-1"
        try store.write { tx in
            let fileID = try tx.insertFile(self.file("a"))
            let first = try tx.insertOrder(
                order,
                partnerID: "acme",
                fileID: fileID,
                setID: nil,
                status: .received,
                at: Date()
            )
            #expect(throws: (any Error).self) {
                _ = try tx.insertOrder(
                    order,
                    partnerID: "acme",
                    fileID: fileID,
                    setID: nil,
                    status: .received,
                    at: Date()
                )
            }
            _ = try tx.insertOrder(
                order,
                partnerID: "acme",
                fileID: fileID,
                setID: nil,
                status: .duplicate,
                duplicateOf: first,
                at: Date()
            )
        }
        let json = try #require(try store.read { try $0.orderJSON(id: 1) })
        #expect(json.contains("\"id\" : \"1\""))
    }

    @Test func outboundFilesAreNamedByTheirRowAndMarkedOnce() throws {
        let (store, folder) = try self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let id = try store.write { tx in
            try tx.enqueueOutbound(
                partnerID: "acme",
                kind: "997",
                folder: "outbox/acme",
                fileExtension: "x12",
                content: [1, 2, 3],
                controlNumber: "1",
                fileID: nil,
                at: Date()
            )
        }
        let pending = try store.read { try $0.pendingOutbound() }
        #expect(pending.map(\.fileName) == ["997-acme-\(String(format: "%09d", id)).x12"])
        #expect(pending.first?.content == [1, 2, 3])
        try store.write { try $0.markWritten(outboundID: id, at: Date()) }
        #expect(try store.read { try $0.pendingOutbound() }.isEmpty)
    }

    @Test func aDirectlyBoundInsertThatFailsNamesTheConstraintAndLeavesItsStatementUsable() throws {
        let (store, folder) = try self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try store.write { tx in
            _ = try tx.insertFile(self.file("a", sha: "1"))
            // Same work name: the UNIQUE column refuses it, and SQLite's message says so.
            let error = #expect(throws: (any Error).self) { _ = try tx.insertFile(self.file("a", sha: "2")) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("UNIQUE constraint failed: files.work_name"))
            // The cached statement was reset: the next insert through it works.
            _ = try tx.insertFile(self.file("b", sha: "3"))
        }
        let committed = try store.read { try $0.fileIDs(workNames: ["acme/a", "acme/b", "acme/missing"]) }
        #expect(committed.keys.sorted() == ["acme/a", "acme/b"])
        #expect(try store.read { try $0.fileIDs(workNames: []) }.isEmpty)
    }

    /// Ten commits of 30 files of 20 kB each: six megabytes, past SQLite's automatic checkpoint (1,000 pages of 4 KiB).
    private func fillPastTheAutomaticCheckpoint(_ store: OrderStore) throws {
        let error = String(repeating: "x", count: 20_000)
        for batch in 0..<10 {
            try store.write { tx in
                for index in 0..<30 {
                    var record = self.file("f\(batch)-\(index)", sha: "\(batch)-\(index)")
                    record.error = error
                    _ = try tx.insertFile(record)
                }
            }
        }
    }

    @Test func withBackgroundCheckpointsCommitsLeaveTheLogToTheCheckpointThread() throws {
        let folder = try temporaryFolder("checkpoints")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/ordergate.sqlite"
        let store = try OrderStore(path: path, backgroundCheckpoints: true)
        let size = { (suffix: String) -> Int in
            ((try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? Int) ?? 0
        }
        let before = size("")
        // Well past SQLite's automatic checkpoint: the commits do not copy the log.
        try self.fillPastTheAutomaticCheckpoint(store)
        #expect(size("-wal") > 4_096_000)
        #expect(size("") == before)
        // The checkpoint thread copies the log into the database, and stops when asked.
        let running = LockedFlag(true)
        let thread = Thread { store.runCheckpoints { running.value } }
        thread.start()
        let deadline = Date().addingTimeInterval(10)
        while size("") < 5_000_000 && Date() < deadline { usleep(10_000) }
        running.value = false
        store.wakeCheckpoints()
        #expect(size("") >= 5_000_000)
        let reopened = try OrderStore(path: path)
        #expect(try reopened.read { try $0.files(limit: 1000) }.count == 300)
    }

    @Test func withoutBackgroundCheckpointsSQLiteCheckpointsOnCommit() throws {
        let (store, folder) = try self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/ordergate.sqlite"
        try self.fillPastTheAutomaticCheckpoint(store)
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
        #expect(size >= 3_000_000)
    }

    @Test func emptyContentIsStoredAsEmptyBytesNotNull() throws {
        let (store, folder) = try self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try store.write { tx in
            _ = try tx.enqueueOutbound(
                partnerID: "acme",
                kind: "997",
                folder: "outbox/acme",
                fileExtension: "",
                content: [],
                controlNumber: nil,
                fileID: nil,
                at: Date()
            )
        }
        let pending = try store.read { try $0.pendingOutbound() }
        #expect(pending.map(\.content) == [[]])
        #expect(pending.first?.fileName.hasPrefix("997-acme-") == true)
    }
}

/// A flag one thread sets and another reads.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Bool

    init(_ value: Bool) {
        self.stored = value
    }

    var value: Bool {
        get {
            self.lock.lock()
            defer { self.lock.unlock() }
            return self.stored
        }
        set {
            self.lock.lock()
            self.stored = newValue
            self.lock.unlock()
        }
    }
}
