import Foundation
import GRDB

/// The daemon's database: SQLite in WAL mode with `synchronous=FULL`, one file under the data folder.
///
/// Everything an inbound file produces (its ledger row, interchanges, groups, sets, orders, acknowledgements and the
/// outbound rows and control numbers they use) is written in one `write` transaction, so it commits whole or not at
/// all. Unique indexes back every duplicate rule, so that even a logic error cannot store a thing twice.
public final class OrderStore: Sendable {
    public let path: String
    let pool: DatabasePool

    /// The connection that checkpoints the write-ahead log when the writer does not (see `init`), and the signal
    /// that a commit added to the log.
    private let checkpoints: Checkpoints?

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    ///
    /// With `backgroundCheckpoints`, commits never copy the write-ahead log into the database themselves (SQLite's
    /// automatic checkpoint, which a commit runs once the log passes 1,000 pages, with its own fsync): the daemon runs
    /// `runCheckpoints` on a thread of its own instead, so that the writer, which every inbound file waits for, only
    /// appends to the log. Without it (the commands), SQLite checkpoints as usual.
    public init(path: String, backgroundCheckpoints: Bool = false) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "PRAGMA cache_size = -16384")
            if backgroundCheckpoints { try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        }
        self.pool = try DatabasePool(path: path, configuration: configuration)
        try Schema.migrator.migrate(self.pool)
        self.checkpoints = backgroundCheckpoints ? try Checkpoints(path: path) : nil
    }

    /// Runs `body` in one write transaction. Anything it throws rolls the whole transaction back.
    public func write<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        let result = try self.pool.write { db in try StoreTransaction.run(db, body) }
        self.checkpoints?.committed()
        return result
    }

    /// Checkpoints the write-ahead log whenever commits have added to it (or every second), until `isRunning`
    /// returns false; a store opened with `backgroundCheckpoints` needs this running on a thread of its own.
    /// Checkpoints are passive: they copy what no reader still needs and never make the writer wait. A failed
    /// checkpoint is only retried (the log keeps every commit until one succeeds).
    public func runCheckpoints(while isRunning: () -> Bool) {
        guard let checkpoints = self.checkpoints else { return }
        while isRunning() {
            checkpoints.waitForCommits(timeout: 1)
            try? checkpoints.checkpoint()
        }
    }

    /// Wakes `runCheckpoints` at once (to stop it).
    public func wakeCheckpoints() {
        self.checkpoints?.committed()
    }

    /// Runs `body` in one write transaction that does not wait for the disk: its commit is not fsynced (SQLite's
    /// `synchronous = NORMAL` for this transaction only), so a power failure may lose it, never corrupt it; the next
    /// durable commit makes it durable too. Only for bookkeeping that is redone when lost (the outbox writer marking
    /// rows whose files are on disk: a lost mark makes the next pass find the file and mark it again), so that such
    /// commits do not queue for the disk in front of the inbound files' transactions.
    public func writeRelaxed<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        let result = try self.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
            var result: T?
            try db.inTransaction {
                result = try StoreTransaction.run(db, body)
                return .commit
            }
            return result!
        }
        self.checkpoints?.committed()
        return result
    }

    /// Runs `body` in one write transaction without blocking the caller's thread (async callers: the delivery
    /// lanes, the poller).
    public func write<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        let result = try await self.pool.write { db in try StoreTransaction.run(db, body) }
        self.checkpoints?.committed()
        return result
    }

    /// Runs `body` on a read-only snapshot.
    public func read<T>(_ body: (StoreReader) throws -> T) throws -> T {
        try self.pool.read { db in try body(StoreReader(db: db)) }
    }

    /// Runs `body` on a read-only snapshot on GRDB's reader threads, without blocking the caller's thread (the
    /// HTTP server's event loops).
    public func read<T: Sendable>(_ body: @escaping @Sendable (StoreReader) throws -> T) async throws -> T {
        try await self.pool.read { db in try body(StoreReader(db: db)) }
    }

    /// `PRAGMA integrity_check`: `["ok"]` for a sound database.
    public func integrityCheck() throws -> [String] {
        try self.pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    /// The migrations applied, oldest first.
    public func appliedMigrations() throws -> [String] {
        try self.pool.read { db in try Schema.migrator.appliedMigrations(db) }
    }
}

/// Timestamps are stored as ISO 8601 text in UTC with milliseconds, which sorts as time does.
enum Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, written digit by digit (every row the writer stores has one or two).
    static func text(_ date: Date) -> String {
        // Four-digit years: from 1970 to the end of 9999.
        let seconds = min(max(date.timeIntervalSince1970, 0), 253_402_300_799)
        let whole = Int(seconds)
        let milliseconds = Int((seconds - Double(whole)) * 1000)
        var time = time_t(whole)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var position = 0
            func put(_ value: Int, _ width: Int) {
                var value = value
                for index in stride(from: position + width - 1, through: position, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                position += width
            }
            func put(_ byte: Unicode.Scalar) {
                buffer[position] = UInt8(ascii: byte)
                position += 1
            }
            put(Int(parts.tm_year) + 1900, 4)
            put("-")
            put(Int(parts.tm_mon) + 1, 2)
            put("-")
            put(Int(parts.tm_mday), 2)
            put("T")
            put(Int(parts.tm_hour), 2)
            put(":")
            put(Int(parts.tm_min), 2)
            put(":")
            put(Int(parts.tm_sec), 2)
            put(".")
            put(milliseconds, 3)
            put("Z")
            return position
        }
    }

    /// The date of a stored time stamp (`text`'s format; seconds without milliseconds also read).
    static func date(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T") else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let whole = timegm(&parts)
        var milliseconds: Int32 = 0
        if bytes.count >= 24, bytes[19] == UInt8(ascii: "."), let fraction = number(20..<23) { milliseconds = fraction }
        return Date(timeIntervalSince1970: Double(whole) + Double(milliseconds) / 1000)
    }
}

/// A connection of its own for checkpoints (the pool's writer is busy with commits, its readers cannot write), and the
/// signal that commits are waiting to be copied.
private final class Checkpoints: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let condition = NSCondition()
    private var pending = false

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // The checkpoint fsyncs the log before copying it and the database after.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        self.connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    func committed() {
        self.condition.lock()
        self.pending = true
        self.condition.signal()
        self.condition.unlock()
    }

    func waitForCommits(timeout: TimeInterval) {
        self.condition.lock()
        if !self.pending { _ = self.condition.wait(until: Date().addingTimeInterval(timeout)) }
        self.pending = false
        self.condition.unlock()
    }

    func checkpoint() throws {
        try self.connection.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
    }
}
