import Foundation
import Logging
import OrderStore
import Spool

/// Writes pending outbound rows into the partners' outbox folders: each file as a `.tmp` (O_EXCL), fsynced,
/// linked to its final name (never replacing one), then each folder fsynced once per batch, then the rows marked
/// written in one transaction. A crash anywhere leaves the row pending; the next pass finds the final name already
/// there with the same bytes and only marks the row. A failing folder (unwritable, disk full) holds back only its
/// own rows, and is retried.
public final class OutboxWriter: Sendable {
    let configuration: Configuration
    let store: OrderStore
    let logger: Logger

    public init(configuration: Configuration, store: OrderStore, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    /// What one pass did.
    public struct Pass: Sendable, Hashable {
        public var written = 0
        public var failed = 0
    }

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
            for row in rows {
                let folder = self.configuration.resolve(row.folder)
                if failedFolders.contains(folder) {
                    pass.failed += 1
                    continue
                }
                do {
                    try self.write(row, folder: folder)
                    written.append(row.id)
                    touched.insert(folder)
                } catch {
                    failedFolders.insert(folder)
                    pass.failed += 1
                    self.logger.error(
                        "cannot write to the outbox; will retry",
                        metadata: [
                            "partner.id": "\(row.partnerID)", "outbound.id": "\(row.id)", "error": "\(error)",
                        ]
                    )
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
                try self.store.write { tx in
                    for id in synced { try tx.markWritten(outboundID: id, at: now) }
                }
                pass.written += synced.count
            }
            if rows.count < batchSize { break }
        }
        return pass
    }

    /// Writes one row's file; an existing final name with the same bytes counts as written (a crash came between
    /// the link and the row's update).
    private func write(_ row: OutboundDocument, folder: String) throws {
        try FileSystem.makeDirectories(folder)
        let final = FileSystem.join(folder, row.fileName)
        let temporary = FileSystem.join(folder, ".\(row.fileName).tmp")
        if FileSystem.exists(final) {
            let existing = try FileSystem.read(final)
            guard existing == row.content else {
                throw SpoolError("outbox file differs from its row; not overwritten:", final, errno: EEXIST)
            }
            // A crash between the link and the unlink leaves the temporary name as a second link: drop it.
            if FileSystem.exists(temporary) { try FileSystem.remove(temporary) }
            return
        }
        if FileSystem.exists(temporary) { try FileSystem.remove(temporary) }
        try FileSystem.createFile(temporary, bytes: row.content)
        if link(temporary, final) != 0 {
            let code = errno
            try? FileSystem.remove(temporary)
            throw SpoolError("link", final, errno: code)
        }
        try FileSystem.remove(temporary)
    }
}
