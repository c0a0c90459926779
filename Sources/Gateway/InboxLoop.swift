import Foundation
import Logging
import OrderMapping
import OrderStore
import Spool

/// Watches the partners' inbox folders and feeds ready files through the pipeline in batches, on its own thread
/// (everything it does blocks: stat, rename, SQLite, fsync).
///
/// Each pass lists every partner folder. A file is claimed when it is syntactically complete (trailer present,
/// XML root closed) and either its size and mtime have not changed for the settle time, or inotify reported that
/// its writer closed it (or that it was moved in whole) — then it is taken at once. One still incomplete after the
/// configured wait is quarantined with an alert. inotify wakes the loop at once when a file is closed or moved in;
/// the rescan interval (and an inotify overflow) catch whatever inotify missed. Files the machine failed on
/// (database, disk) stay in `work/` and are tried again on the rescan interval.
final class InboxLoop: @unchecked Sendable {
    let pipeline: InboundPipeline
    let outboxSignal: Signal
    let logger: Logger
    private var tracker: StabilityTracker
    private var watcher: InboxWatcher?
    private var warnedFolders: Set<String> = []
    private var tag = UInt64.random(in: 0..<UInt64.max)
    /// Files claimed since the start.
    private(set) var claimed = 0
    /// Claimed files the machine failed on (database, disk): they wait in work/ for the next rescan interval. The
    /// reason is set for a file that is to be quarantined (still incomplete), not read.
    private var retry: [(file: ClaimedFile, quarantineReason: String?)] = []
    /// Paths inotify reported closed by their writer or moved in, since the last wait.
    private var closedFiles: Set<String> = []
    private var lastRetry = DispatchTime.now()

    init(pipeline: InboundPipeline, outboxSignal: Signal, logger: Logger) {
        self.pipeline = pipeline
        self.outboxSignal = outboxSignal
        self.logger = logger
        let settle = pipeline.configuration.settleTime.components
        self.tracker = StabilityTracker(
            settleNanoseconds: settle.seconds * 1_000_000_000 + settle.attoseconds / 1_000_000_000
        )
        if pipeline.configuration.useInotify {
            do {
                self.watcher = try InboxWatcher()
            } catch {
                logger.warning("inotify is not available; polling only", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The partner inbox folders (resolved) and whose they are.
    func partnerFolders() -> [(folder: String, partnerID: String)] {
        let configuration = self.pipeline.configuration
        return self.pipeline.mappings.current.partners.values.map {
            (configuration.inboxFolder(of: $0), $0.id)
        }.sorted { $0.folder < $1.folder }
    }

    /// Retries the files the machine failed on, then one pass over every partner folder; returns the number of
    /// files claimed.
    func passOnce() -> Int {
        let before = self.claimed
        if !self.retry.isEmpty { self.retryFailed() }
        for (folder, partnerID) in self.partnerFolders() {
            try? FileSystem.makeDirectories(folder)
            _ = self.scan(folder: folder, partnerID: partnerID, stop: StopFlag())
        }
        return self.claimed - before
    }

    /// Makes every partner's inbox folder and starts watching it: the daemon does this before it reports ready, so
    /// that a file a partner writes at once is seen (and its close reported) from the first moment.
    func prepareFolders() {
        for (folder, _) in self.partnerFolders() {
            try? FileSystem.makeDirectories(folder)
            try? self.watcher?.watch(folder)
        }
    }

    /// Runs until `stop` is set.
    func run(until stop: StopFlag) {
        let rescan = self.pipeline.configuration.rescanInterval.components
        let rescanNanoseconds = UInt64(rescan.seconds) * 1_000_000_000
        while !stop.isSet {
            let folders = self.partnerFolders()
            for (folder, _) in folders {
                try? FileSystem.makeDirectories(folder)
                try? self.watcher?.watch(folder)
            }
            var nextWait = Int64(rescanNanoseconds)
            for (folder, partnerID) in folders {
                if stop.isSet { break }
                let wait = self.scan(folder: folder, partnerID: partnerID, stop: stop)
                nextWait = min(nextWait, wait)
            }
            self.scanForUnknownFolders(known: Set(folders.map(\.folder)))
            if !self.retry.isEmpty
                && DispatchTime.now().uptimeNanoseconds - self.lastRetry.uptimeNanoseconds >= rescanNanoseconds
            {
                self.retryFailed()
            }
            if stop.isSet { break }
            let milliseconds = Int32(max(1, min(nextWait / 1_000_000, 1000)))
            if let watcher = self.watcher {
                if case .changed(_, let closedFiles) = watcher.wait(timeoutMilliseconds: milliseconds) {
                    self.closedFiles = closedFiles
                } else {
                    self.closedFiles = []
                }
            } else {
                usleep(UInt32(milliseconds) * 1000)
            }
        }
    }

    /// The most files one scan claims before running them through the pipeline: enough that a burst flows through
    /// one long run of chunks (preparing the next while one commits) instead of draining every few chunks. The
    /// acknowledgements do not wait for the whole batch: the pipeline wakes the outbox writer after each commit.
    static let batchLimit = 4096

    /// One pass over a partner folder; returns how soon (nanoseconds) it wants to look again.
    func scan(folder: String, partnerID: String, stop: StopFlag) -> Int64 {
        let candidates: [InboxFile]
        do {
            candidates = try self.pipeline.spool.candidates(in: folder)
        } catch {
            self.warnOnce(folder, "cannot list the inbox folder: \(error)")
            return Int64(1_000_000_000)
        }
        var nextWait = Int64.max
        self.tracker.retain(only: Set(candidates.map(\.path)), in: folder)
        let now = Int64(DispatchTime.now().uptimeNanoseconds)
        let wallClock = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        var batch: [InboxFile] = []
        for file in candidates {
            if stop.isSet { break }
            let wasClosed = self.closedFiles.remove(file.path) != nil
            var completeness: Completeness?
            switch self.tracker.observe(file, now: now, wallClock: wallClock) {
            case .wait(let nanoseconds):
                // A file its writer closed (or moved in whole) and that is syntactically complete needs no settle
                // time: inotify said so. Anything else waits until its size and mtime have been stable.
                if wasClosed {
                    completeness = (try? Completeness.check(path: file.path, size: file.size)) ?? .unrecognized
                    if completeness == .complete { break }
                }
                nextWait = min(nextWait, nanoseconds)
                continue
            case .ready:
                break
            }
            switch completeness ?? (try? Completeness.check(path: file.path, size: file.size)) ?? .unrecognized {
            case .complete, .unrecognized:
                batch.append(file)
                if batch.count == Self.batchLimit {
                    self.claimAndProcess(batch, partnerID: partnerID, folder: folder, stop: stop)
                    batch = []
                }
            case .incomplete(let what):
                let age = self.tracker.age(of: file.path, now: now)
                let limit = self.pipeline.configuration.incompleteAfter.components
                if age >= limit.seconds * 1_000_000_000 {
                    self.quarantineIncomplete(file, partnerID: partnerID, folder: folder, what: what)
                } else {
                    nextWait = min(nextWait, 1_000_000_000)
                }
            }
        }
        if !batch.isEmpty && !stop.isSet {
            self.claimAndProcess(batch, partnerID: partnerID, folder: folder, stop: stop)
        }
        return nextWait
    }

    /// Claims an inbox file by renaming it into `work/` under a new work name; nil when it is gone (taken elsewhere)
    /// or cannot be renamed (logged; it stays in the inbox for the next pass).
    private func claim(_ file: InboxFile, partnerID: String, folder: String) -> ClaimedFile? {
        self.tag &+= 0x9E37_79B9_7F4A_7C15
        let receivedAt = Date()
        let workName = Spool.workName(
            partnerID: partnerID,
            originalName: file.name,
            at: Int64(receivedAt.timeIntervalSince1970),
            tag: self.tag
        )
        do {
            guard try self.pipeline.spool.claim(file, workName: workName) != nil else { return nil }
        } catch {
            self.logger.error(
                "cannot claim a file; it stays in the inbox",
                metadata: ["partner.id": "\(partnerID)", "file.name": "\(file.name)", "error": "\(error)"]
            )
            return nil
        }
        self.tracker.forget(file.path)
        self.claimed += 1
        return ClaimedFile(
            workName: workName,
            originalName: file.name,
            partnerID: partnerID,
            folder: folder,
            channel: "inbox",
            receivedAt: receivedAt
        )
    }

    /// Claims a batch of ready files (a rename each) and runs them through the pipeline together; when `stop` is set
    /// meanwhile, the files of the chunks not started stay in `work/` for the next start's recovery.
    private func claimAndProcess(_ files: [InboxFile], partnerID: String, folder: String, stop: StopFlag) {
        self.process(files.compactMap { self.claim($0, partnerID: partnerID, folder: folder) }, stop: stop)
    }

    /// Runs claimed files through the pipeline; those the machine failed on are kept for a retry.
    private func process(_ claimed: [ClaimedFile], stop: StopFlag = StopFlag()) {
        guard !claimed.isEmpty else { return }
        var acknowledged = false
        for (file, result) in zip(claimed, self.pipeline.process(claimed, while: { !stop.isSet })) {
            switch result {
            case .success(let outcome):
                if outcome.acknowledgements > 0 { acknowledged = true }
            case .failure(let error):
                // The machine failed (database, disk): the file stays in work/ and is tried again.
                self.retry.append((file, nil))
                self.logger.error(
                    "processing failed; the file stays in work/ and will be tried again",
                    metadata: [
                        "partner.id": "\(file.partnerID ?? "")", "file.name": "\(file.originalName)",
                        "file.work_name": "\(file.workName)", "error": "\(error)",
                    ]
                )
            }
        }
        if acknowledged { self.outboxSignal.raise() }
    }

    /// Tries again the files the machine failed on (called on the rescan interval).
    func retryFailed() {
        let files = self.retry
        self.retry = []
        self.lastRetry = DispatchTime.now()
        self.process(files.filter { $0.quarantineReason == nil }.map(\.file))
        for (file, reason) in files {
            guard let reason else { continue }
            self.quarantine(file, reason: reason)
        }
    }

    private func quarantineIncomplete(_ file: InboxFile, partnerID: String, folder: String, what: String) {
        guard let claim = self.claim(file, partnerID: partnerID, folder: folder) else { return }
        self.quarantine(
            claim,
            reason: "ALERT: the file was still incomplete (\(what)) after "
                + "\(self.pipeline.configuration.incompleteAfter); it was not acknowledged. "
                + "The partner's upload may have failed."
        )
    }

    private func quarantine(_ claim: ClaimedFile, reason: String) {
        do {
            _ = try self.pipeline.quarantine(
                claim,
                bytes: try? FileSystem.read(FileSystem.join(self.pipeline.spool.work, claim.workName)),
                reason: reason
            )
            try? self.pipeline.store.write {
                try $0.audit(
                    actor: "daemon",
                    action: "alert",
                    subject: "partner:\(claim.partnerID ?? "")",
                    detail: "incomplete file \(claim.originalName) quarantined",
                    at: Date()
                )
            }
        } catch {
            self.retry.append((claim, reason))
            self.logger.error(
                "cannot quarantine an incomplete file; will try again",
                metadata: [
                    "partner.id": "\(claim.partnerID ?? "")", "file.name": "\(claim.originalName)",
                    "error": "\(error)",
                ]
            )
        }
    }

    private func scanForUnknownFolders(known: Set<String>) {
        let root = self.pipeline.configuration.resolve(self.pipeline.configuration.inbox)
        guard let names = try? FileSystem.list(root) else { return }
        for name in names where !name.hasPrefix(".") {
            let path = FileSystem.join(root, name)
            guard !known.contains(path), (try? FileSystem.status(path))?.isDirectory == true else { continue }
            if let files = try? self.pipeline.spool.candidates(in: path), !files.isEmpty {
                self.warnOnce(path, "\(files.count) files wait in a folder that no partner profile names")
            }
        }
    }

    private func warnOnce(_ folder: String, _ message: String) {
        if self.warnedFolders.insert(folder).inserted {
            self.logger.warning("\(message)", metadata: ["folder": "\(folder)"])
        }
    }
}

/// A flag set once, read from any thread.
/// A flag one thread sets and others read (stop the loop; the daemon is ready).
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    public init() {}

    public var isSet: Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.value
    }

    public func set() {
        self.lock.lock()
        self.value = true
        self.lock.unlock()
    }
}

/// Wakes a waiting thread early (a raised signal is remembered until the next wait).
public final class Signal: @unchecked Sendable {
    private let condition = NSCondition()
    private var raised = false

    public func raise() {
        self.condition.lock()
        self.raised = true
        self.condition.signal()
        self.condition.unlock()
    }

    /// Waits until raised or `timeout` passes.
    func wait(timeout: TimeInterval) {
        self.condition.lock()
        if !self.raised { _ = self.condition.wait(until: Date().addingTimeInterval(timeout)) }
        self.raised = false
        self.condition.unlock()
    }
}
