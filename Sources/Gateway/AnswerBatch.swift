import Dispatch
import Foundation
import OrderStore

/// The part of deciding orders that needs no database: encoding each decision and its explanation, rendering and
/// checking each acknowledgement. While the pipeline commits a chunk of files, the desk hands this work to the other
/// cores and goes on deciding the next orders on the writer thread; before the chunk's transaction commits, `flush`
/// waits for it and writes the rows (decision rows, outbound rows, acknowledgement rows) in the order the decisions
/// were made, so that everything still commits together. Work of a file whose savepoint rolled back is dropped.
final class AnswerBatch: @unchecked Sendable {
    /// A value computed on another core.
    final class Slot<Value>: @unchecked Sendable {
        var value: Value?
    }

    private struct Entry {
        var file: Int
        var write: (StoreTransaction) throws -> [InboundPipeline.LogEntry]
        /// Whether the entry is an acknowledgement that failed its check (counted off the file's outcome).
        var failed: () -> Bool
    }

    private let group = DispatchGroup()
    private let queue = DispatchQueue(label: "ordergate.answers", attributes: .concurrent)
    private let lock = NSLock()
    private var entries: [Entry] = []
    private var discarded: Set<Int> = []
    /// Computations not yet handed to the queue: they go in groups, so that the writer wakes a core once per group
    /// rather than once per answer.
    private var pending: [@Sendable () -> Void] = []
    private static let groupSize = 8
    /// The file the pipeline is committing (its index in the chunk).
    var file = 0

    /// Computes `compute` on another core; `write` runs at the flush, on the writer thread, with its result.
    func hand<Value>(
        _ compute: @escaping @Sendable () -> Value,
        failed: @escaping (Value) -> Bool = { _ in false },
        write: @escaping (StoreTransaction, Value) throws -> [InboundPipeline.LogEntry]
    ) {
        let slot = Slot<Value>()
        self.lock.lock()
        defer { self.lock.unlock() }
        self.pending.append { slot.value = compute() }
        if self.pending.count >= Self.groupSize { self.start() }
        self.entries.append(
            Entry(
                file: self.file,
                write: { tx in try write(tx, slot.value!) },
                failed: { failed(slot.value!) }
            )
        )
    }

    /// Hands the pending computations to the queue (the caller holds the lock).
    private func start() {
        guard !self.pending.isEmpty else { return }
        let work = self.pending
        self.pending = []
        self.queue.async(group: self.group) { for compute in work { compute() } }
    }

    /// Drops the work of a file whose savepoint rolled back.
    func discard(file: Int) {
        self.lock.lock()
        defer { self.lock.unlock() }
        self.discarded.insert(file)
    }

    /// Waits for the work and writes its rows; returns the log lines and, per file, the acknowledgements that
    /// failed their check.
    func flush(_ tx: StoreTransaction) throws -> (log: [InboundPipeline.LogEntry], failed: [Int: Int]) {
        self.lock.lock()
        self.start()
        self.lock.unlock()
        self.group.wait()
        self.lock.lock()
        let entries = self.entries.filter { !self.discarded.contains($0.file) }
        self.entries = []
        self.lock.unlock()
        var log: [InboundPipeline.LogEntry] = []
        var failed: [Int: Int] = [:]
        for entry in entries {
            log += try entry.write(tx)
            if entry.failed() { failed[entry.file, default: 0] += 1 }
        }
        return (log, failed)
    }
}
