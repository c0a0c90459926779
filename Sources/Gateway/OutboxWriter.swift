import Foundation
import Logging
import OrderStore
import Spool

/// Writes pending outbound rows into the partners' outbox folders, a batch at a time: each file as a `.tmp` (O_EXCL),
/// made durable (a large batch with one `syncfs` per file system, an fsync of every file on it; a small one with an
/// fsync per file), each file renamed to its final name in one step that never replaces a file (`renameat2` with
/// `RENAME_NOREPLACE`; a hard link and an unlink where the file system cannot), each folder fsynced once, then the rows
/// marked written in one transaction. A crash anywhere leaves the row pending; the next pass finds the final name
/// already there with the same bytes and only marks the row. A failing folder (unwritable, disk full) holds back only its
/// own rows, and is retried.
public final class OutboxWriter: Sendable {
    let configuration: Configuration
    let store: OrderStore
    let logger: Logger

    /// From this many files a batch is made durable with one `syncfs` per file system; below, each file is fsynced.
    let batchSyncThreshold: Int

    public init(configuration: Configuration, store: OrderStore, logger: Logger, batchSyncThreshold: Int = 16) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.batchSyncThreshold = batchSyncThreshold
    }

    /// What one pass did.
    public struct Pass: Sendable, Hashable {
        public var written = 0
        public var failed = 0
    }

    /// Files written at once (threads of their own).
    static let writers = 8

    /// Writes every pending row (in batches), returning the counts.
    @discardableResult
    public func writePending(batchSize: Int = 256) throws -> Pass {
        var pass = Pass()
        var afterID: Int64 = 0
        var failedFolders: Set<String> = []
        while true {
            let rows = try self.store.read { try $0.pendingOutbound(limit: batchSize, afterID: afterID) }
            guard let last = rows.last else { break }
            afterID = last.id
            var written: [Int64] = []
            var touched: Set<String> = []
            let folders = rows.map { self.configuration.resolve($0.folder) }
            for folder in Set(folders) where !failedFolders.contains(folder) {
                do {
                    try FileSystem.makeDirectories(folder)
                } catch {
                    self.logger.error("cannot make the outbox folder", metadata: ["error": "\(error)"])
                    failedFolders.insert(folder)
                }
            }
            // The files are written under temporary names on several threads and made durable before they are
            // linked to their final names: a large batch together (one syncfs per file system instead of an fsync
            // each: the journal commits once), a small one file by file (a syncfs also flushes whatever else is
            // waiting on the file system, which would cost a lone acknowledgement its latency).
            let batched =
                rows.indices.count(where: { !failedFolders.contains(folders[$0]) }) >= self.batchSyncThreshold
            // For a batch, each folder's file system is opened for its sync before anything is written into it
            // (the sync reports the write-back errors since then).
            var syncs: [String: FileSystemSync] = [:]
            for folder in Set(folders) where batched && !failedFolders.contains(folder) {
                do {
                    syncs[folder] = try FileSystemSync(folder)
                } catch {
                    self.logger.error("cannot open the outbox folder", metadata: ["error": "\(error)"])
                    failedFolders.insert(folder)
                }
            }
            let writable = rows.indices.filter { !failedFolders.contains(folders[$0]) }
            pass.failed += rows.count - writable.count
            var errors = ParallelFiles.run(writable.count, width: Self.writers) { index in
                let row = writable[index]
                try self.stage(rows[row], folder: folders[row], sync: !batched)
            }
            // One sync per file system; when it fails, every folder on it fails (their rows stay pending).
            var byDevice: [UInt64: [String]] = [:]
            var syncFailures: [String: any Error] = [:]
            for folder in Set(writable.map { folders[$0] }) {
                guard let sync = syncs[folder] else { continue }
                do {
                    byDevice[try sync.device(), default: []].append(folder)
                } catch {
                    syncFailures[folder] = error
                }
            }
            for sharing in byDevice.values {
                do {
                    try syncs[sharing[0]]!.sync()
                } catch {
                    self.logger.error("cannot sync the outbox", metadata: ["error": "\(error)"])
                    for folder in sharing { syncFailures[folder] = error }
                }
            }
            for (position, row) in writable.enumerated() where errors[position] == nil {
                do {
                    if let failure = syncFailures[folders[row]] { throw failure }
                    try self.publish(rows[row], folder: folders[row])
                } catch {
                    errors[position] = error
                }
            }
            for (index, error) in zip(writable, errors) {
                let row = rows[index]
                if let error {
                    failedFolders.insert(folders[index])
                    pass.failed += 1
                    self.logger.error(
                        "cannot write to the outbox; will retry",
                        metadata: [
                            "partner.id": "\(row.partnerID)", "outbound.id": "\(row.id)", "error": "\(error)",
                        ]
                    )
                } else {
                    written.append(row.id)
                    touched.insert(folders[index])
                }
            }
            var synced: [Int64] = []
            for folder in touched {
                do {
                    try FileSystem.syncDirectory(folder)
                } catch {
                    self.logger.error("cannot fsync the outbox folder", metadata: ["error": "\(error)"])
                    failedFolders.insert(folder)
                }
            }
            for row in rows where written.contains(row.id) {
                if !failedFolders.contains(self.configuration.resolve(row.folder)) { synced.append(row.id) }
            }
            if !synced.isEmpty {
                let now = Date()
                // Marks are redone when lost (the next pass finds the files and marks them): no fsync for them.
                try self.store.writeRelaxed { tx in
                    for id in synced { try tx.markWritten(outboundID: id, at: now) }
                }
                pass.written += synced.count
            }
            if rows.count < batchSize { break }
        }
        return pass
    }

    /// Writes one row's file under its temporary name, fsynced when `sync` is set (else the batch's syncfs makes it
    /// durable). A temporary file left by a crash is replaced. Whether the final name is already there (a crash came
    /// between the rename and the row's update) is found out when it is published.
    private func stage(_ row: OutboundDocument, folder: String, sync: Bool) throws {
        let temporary = FileSystem.join(folder, ".\(row.fileName).tmp")
        do {
            try FileSystem.createFile(temporary, bytes: row.content, sync: sync)
        } catch {
            guard error.errno == EEXIST else { throw error }
            try FileSystem.remove(temporary)
            try FileSystem.createFile(temporary, bytes: row.content, sync: sync)
        }
    }

    /// Gives a staged file, synced since, its final name, never replacing one. A final name already there with the
    /// row's bytes is the same document published before a crash: the staged copy is dropped and the row counts as
    /// written. With other bytes it is an error, and nothing is overwritten.
    private func publish(_ row: OutboundDocument, folder: String) throws {
        let final = FileSystem.join(folder, row.fileName)
        let temporary = FileSystem.join(folder, ".\(row.fileName).tmp")
        let failure: SpoolError
        do {
            try FileSystem.publish(temporary, as: final)
            return
        } catch {
            failure = error
        }
        try? FileSystem.remove(temporary)
        guard failure.errno == EEXIST else { throw failure }
        let existing = try FileSystem.read(final)
        guard existing == row.content else {
            throw SpoolError("outbox file differs from its row; not overwritten:", final, errno: EEXIST)
        }
    }
}

/// Runs blocking file work on threads of its own, `width` at a time.
enum ParallelFiles {
    /// Calls `body` for each index below `count` on up to `width` threads and returns each call's error (nil when it
    /// succeeded), by index, once all have returned.
    static func run(
        _ count: Int,
        width: Int,
        _ body: @escaping @Sendable (Int) throws -> Void
    ) -> [(any Error)?] {
        guard count > 1, width > 1 else {
            return (0..<count).map { index -> (any Error)? in
                do {
                    try body(index)
                    return nil
                } catch {
                    return error
                }
            }
        }
        let state = Shared(count: count)
        let group = DispatchGroup()
        for _ in 0..<min(width, count) {
            group.enter()
            let thread = Thread {
                while let index = state.next() {
                    do {
                        try body(index)
                    } catch {
                        state.fail(index, error)
                    }
                }
                group.leave()
            }
            thread.name = "ordergate-outbox"
            thread.start()
        }
        group.wait()
        return state.errors
    }

    private final class Shared: @unchecked Sendable {
        private let lock = NSLock()
        private var nextIndex = 0
        private let count: Int
        private(set) var errors: [(any Error)?]

        init(count: Int) {
            self.count = count
            self.errors = Array(repeating: nil, count: count)
        }

        func next() -> Int? {
            self.lock.lock()
            defer { self.lock.unlock() }
            guard self.nextIndex < self.count else { return nil }
            self.nextIndex += 1
            return self.nextIndex - 1
        }

        func fail(_ index: Int, _ error: any Error) {
            self.lock.lock()
            defer { self.lock.unlock() }
            self.errors[index] = error
        }
    }
}
