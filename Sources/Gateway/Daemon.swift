import Delivery
import Foundation
import Logging
import OrderMapping
import OrderStore
import ServiceLifecycle
import Spool
import UnixSignals

/// `ordergate serve`: opens the store, loads the mappings, runs the recovery scan, then runs the inbox loop, the
/// outbox writer, the watchdog and the reload handler as services of one `ServiceGroup`. SIGTERM and SIGINT stop it
/// cleanly (the file in hand is finished first); SIGHUP reloads the mappings and partner profiles.
public final class Daemon: Sendable {
    public let configuration: Configuration
    public let store: OrderStore
    public let pipeline: InboundPipeline
    public let outbox: OutboxWriter
    let mappings: MappingsHolder
    let logger: Logger
    public let outboxSignal = Signal()
    /// Set once the recovery scan is done and the daemon serves (the health check reports it).
    public let ready = StopFlag()
    let inbox: InboxLoop
    /// Delivers outbound documents to partners' push endpoints.
    public let delivery: DeliveryWorker
    /// Polls the endpoints of partners who publish their documents.
    public let poller: PartnerPoller
    let intake: Intake

    /// Opens everything; a broken mapping folder or configuration stops the start with the reason. `clock` is the
    /// time stamped on rows and documents (tests pass a fixed one).
    public init(
        configuration: Configuration,
        logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.configuration = configuration
        self.logger = logger
        let dataFolder = configuration.resolve(configuration.data)
        try FileSystem.makeDirectories(dataFolder)
        try FileSystem.makeDirectories(configuration.resolve(configuration.inbox))
        try FileSystem.makeDirectories(configuration.resolve(configuration.outbox))
        let spool = Spool(dataFolder: dataFolder)
        try spool.prepare()
        self.store = try OrderStore(path: configuration.databasePath, backgroundCheckpoints: true)
        let mappingSet = try MappingFolder.load(configuration.resolve(configuration.mappings))
        self.mappings = MappingsHolder(mappingSet)
        self.pipeline = InboundPipeline(
            configuration: configuration,
            store: self.store,
            spool: spool,
            mappings: self.mappings,
            logger: logger,
            clock: clock,
            committed: self.outboxSignal
        )
        self.outbox = OutboxWriter(configuration: configuration, store: self.store, logger: logger)
        self.inbox = InboxLoop(pipeline: self.pipeline, outboxSignal: self.outboxSignal, logger: logger)
        let mappings = self.mappings
        let intake = Intake(
            configuration: configuration,
            pipeline: self.pipeline,
            mappings: mappings,
            outboxSignal: self.outboxSignal
        )
        self.intake = intake
        self.delivery = DeliveryWorker(store: self.store, policy: configuration.delivery, logger: logger) { partner in
            mappings.current.partners[partner]?.push
        }
        self.poller = PartnerPoller(
            store: self.store,
            logger: logger,
            maximumDocumentBytes: configuration.maximumFileBytes,
            endpoints: {
                mappings.current.partners.compactMapValues(\.poll)
            },
            ingest: { bytes, partner, name in
                _ = try await BlockingWork.run {
                    try intake.ingest(bytes, partnerID: partner, name: name, channel: "poll")
                }
            }
        )
        try self.recordPartners(mappingSet)
    }

    /// The mapping files and partner profiles in use.
    public var mappingSet: MappingSet { self.mappings.current }

    /// What the recovery scan found.
    public struct Recovery: Sendable, Hashable {
        public var workFiles = 0
        public var outboundWritten = 0
    }

    /// Finishes what a crash interrupted, before the daemon says it is ready: files left in `work/` are processed
    /// (or, when their transaction had committed, moved on), and pending outbound rows are written.
    public func recover() throws -> Recovery {
        var recovery = Recovery()
        let files = try self.pipeline.spool.workFiles().map { workName in
            let partnerID = Spool.partnerID(ofWorkName: workName)
            let partner = partnerID.flatMap { self.mappings.current.partners[$0] }
            return ClaimedFile(
                workName: workName,
                originalName: Spool.originalName(ofWorkName: workName),
                partnerID: partnerID,
                folder: partner.map { self.configuration.inboxFolder(of: $0) } ?? "work/\(workName)",
                channel: "inbox",
                receivedAt: Date()
            )
        }
        var start = 0
        while start < files.count {
            let batch = Array(files[start..<min(files.count, start + InboxLoop.batchLimit)])
            for result in self.pipeline.process(batch) { _ = try result.get() }
            recovery.workFiles += batch.count
            start += batch.count
        }
        recovery.outboundWritten = try self.outbox.writePending().written
        if recovery.workFiles > 0 || recovery.outboundWritten > 0 {
            self.logger.notice(
                "recovery finished",
                metadata: ["work.files": "\(recovery.workFiles)", "outbound.written": "\(recovery.outboundWritten)"]
            )
        }
        return recovery
    }

    /// One pass over every inbox folder (after retrying the files the machine failed on), then the outbox (for
    /// tests and tools; `run` loops this). Returns how many files were claimed.
    @discardableResult
    public func pollOnce() throws -> Int {
        let handled = self.inbox.passOnce()
        try self.outbox.writePending()
        return handled
    }

    /// Reloads the mapping folder; a broken file keeps the last good set and reports where.
    @discardableResult
    public func reloadMappings() -> Bool {
        do {
            let set = try MappingFolder.load(self.configuration.resolve(self.configuration.mappings))
            self.mappings.replace(set)
            try self.recordPartners(set)
            self.logger.notice(
                "mappings reloaded",
                metadata: ["partners": "\(set.partners.count)", "maps": "\(set.inbound.count + set.outbound.count)"]
            )
            return true
        } catch {
            self.logger.error(
                "mappings not reloaded; the last good version stays active",
                metadata: ["error": "\(error)"]
            )
            return false
        }
    }

    private func recordPartners(_ set: MappingSet) throws {
        let now = Date()
        try self.store.write { tx in
            for partner in set.partners.values {
                try tx.upsertPartner(
                    id: partner.id,
                    name: partner.name,
                    profileFile: partner.file,
                    profileVersion: partner.version,
                    at: now
                )
            }
        }
    }

    /// Runs the recovery scan, tells systemd it is ready, and runs the services (and `extra` ones: the HTTP API)
    /// until SIGTERM or SIGINT.
    public func run(extra: [any Service] = []) async throws {
        SystemdNotifier.send("STATUS=recovering")
        let recovery = try self.recover()
        let inbox = ThreadService(name: "inbox") { [self] stop in self.inbox.run(until: stop) }
        let outbox = ThreadService(name: "outbox") { [self] stop in
            while !stop.isSet {
                do {
                    try self.outbox.writePending()
                } catch {
                    self.logger.error("outbox pass failed", metadata: ["error": "\(error)"])
                }
                self.outboxSignal.wait(timeout: 1)
            }
        }
        let checkpoints = ThreadService(name: "checkpoints") { [store] stop in
            store.runCheckpoints { !stop.isSet }
        }
        var services: [any Service] = [
            inbox, outbox, checkpoints, WatchdogService(), ReloadService(daemon: self),
            ShutdownNotifier { [outboxSignal, store] in
                outboxSignal.raise()
                store.wakeCheckpoints()
            },
        ]
        if self.configuration.deliveryEnabled {
            services.append(AsyncLoopService { [delivery] in await delivery.run() })
        }
        if self.configuration.pollingEnabled {
            services.append(AsyncLoopService { [poller] in await poller.run() })
        }
        services += extra
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: self.logger
            )
        )
        // Every partner's inbox folder exists and is watched once the daemon says it is ready (the inbox thread would
        // do it only on its first pass, a moment later: a partner writing at once found no folder, or its file's close
        // went unseen and the file waited out the settle time).
        self.inbox.prepareFolders()
        SystemdNotifier.send("READY=1\nSTATUS=ready; recovered \(recovery.workFiles) work files")
        self.logger.notice(
            "ordergate is ready",
            metadata: [
                "inbox": "\(self.configuration.resolve(self.configuration.inbox))",
                "partners": "\(self.mappings.current.partners.count)",
            ]
        )
        self.ready.set()
        try await group.run()
        self.logger.notice("ordergate stopped cleanly")
    }
}

/// Runs a blocking loop on its own thread as a `Service`: graceful shutdown sets the loop's stop flag and waits for
/// it to return (so the file in hand is finished).
struct ThreadService: Service {
    let name: String
    let body: @Sendable (StopFlag) -> Void

    init(name: String, body: @escaping @Sendable (StopFlag) -> Void) {
        self.name = name
        self.body = body
    }

    func run() async throws {
        let stop = StopFlag()
        let body = self.body
        await withGracefulShutdownHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let thread = Thread {
                    body(stop)
                    continuation.resume()
                }
                thread.name = "ordergate-\(self.name)"
                thread.start()
            }
        } onGracefulShutdown: {
            stop.set()
        }
    }
}

/// Runs an async loop that returns on graceful shutdown (the delivery lanes, the poller) as a `Service`.
struct AsyncLoopService: Service {
    let body: @Sendable () async -> Void

    func run() async throws { await self.body() }
}

/// Sends STOPPING=1 as soon as shutdown begins, and runs a hook (to wake sleeping loops).
struct ShutdownNotifier: Service {
    let hook: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        SystemdNotifier.send("STOPPING=1")
        self.hook()
    }
}

/// Pings systemd's watchdog at half the interval it asks for (`WATCHDOG_USEC`), while the daemon runs.
struct WatchdogService: Service {
    func run() async throws {
        guard let text = ProcessInfo.processInfo.environment["WATCHDOG_USEC"], let microseconds = UInt64(text),
            microseconds > 0
        else {
            try? await gracefulShutdown()
            return
        }
        let interval = Duration.microseconds(Int64(microseconds / 2))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            SystemdNotifier.send("WATCHDOG=1")
            try? await Task.sleep(for: interval)
        }
    }
}

/// Reloads the mappings on SIGHUP.
struct ReloadService: Service {
    let daemon: Daemon

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withGracefulShutdownHandler {
            for await _ in signals.cancelOnGracefulShutdown() {
                SystemdNotifier.send("RELOADING=1")
                self.daemon.reloadMappings()
                SystemdNotifier.send("READY=1")
            }
        } onGracefulShutdown: {
        }
    }
}

/// Why a file cannot be reprocessed.
public struct ReprocessError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension Daemon {
    /// Takes a document a partner posted over HTTP (or that polling fetched): admitted into `work/` (durable once
    /// this starts processing it), then processed like an inbox file, with the same checks (the sender must be the
    /// partner whose token posted it), acknowledgements and duplicate detection. A machine failure leaves it in
    /// `work/` for the recovery scan.
    public func ingest(_ bytes: [UInt8], partnerID: String, name: String) throws -> FileOutcome {
        try self.intake.ingest(bytes, partnerID: partnerID, name: name, channel: "http")
    }

    /// Runs a stored file (archived or quarantined) through the pipeline again, as a new file row that points back
    /// to it. The stored copy is not touched. A processed file needs `force`: its interchanges are then not checked
    /// as duplicates, but its purchase orders still are.
    public func reprocess(fileID: Int64, force: Bool) throws -> FileOutcome {
        guard let detail = try self.store.read({ try $0.file(id: fileID) }) else {
            throw ReprocessError(description: "no file \(fileID)")
        }
        let file = detail.file
        if file.state != "quarantined" && !force {
            throw ReprocessError(
                description: "file \(fileID) was \(file.state); use --force to process it again "
                    + "(its orders are still checked for duplicate PO numbers)"
            )
        }
        let source = FileSystem.join(self.configuration.resolve(self.configuration.data), file.storedPath)
        let bytes = try FileSystem.read(source)
        let now = Date()
        let workName = Spool.workName(
            partnerID: file.partnerID,
            originalName: file.originalName,
            at: Int64(now.timeIntervalSince1970),
            tag: UInt64.random(in: 0..<UInt64.max)
        )
        let target = FileSystem.join(self.pipeline.spool.work, workName)
        try FileSystem.makeDirectories(FileSystem.parent(of: target))
        try FileSystem.createFile(target, bytes: bytes)
        let partner = file.partnerID.flatMap { self.mappings.current.partners[$0] }
        let outcome = try self.pipeline.process(
            ClaimedFile(
                workName: workName,
                originalName: file.originalName,
                partnerID: file.partnerID,
                folder: partner.map { self.configuration.inboxFolder(of: $0) } ?? "reprocess",
                channel: "reprocess",
                receivedAt: now,
                reprocessOf: fileID
            )
        )
        try self.store.write {
            try $0.audit(
                actor: "admin",
                action: "reprocess",
                subject: "file:\(fileID)",
                detail: "reprocessed as file \(outcome.fileID): \(outcome.state.rawValue)",
                at: now
            )
        }
        try self.outbox.writePending()
        return outcome
    }
}

/// Takes documents that arrive by HTTP (posted, or polled) into the pipeline.
struct Intake: Sendable {
    let configuration: Configuration
    let pipeline: InboundPipeline
    let mappings: MappingsHolder
    let outboxSignal: Signal

    func ingest(_ bytes: [UInt8], partnerID: String, name: String, channel: String) throws -> FileOutcome {
        let now = Date()
        let safeName = String(name.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" }.prefix(100))
        let workName = Spool.workName(
            partnerID: partnerID,
            originalName: safeName.isEmpty || safeName.hasPrefix(".") ? "posted" : safeName,
            at: Int64(now.timeIntervalSince1970),
            tag: UInt64.random(in: 0..<UInt64.max)
        )
        try self.pipeline.spool.admit(bytes, workName: workName)
        let partner = self.mappings.current.partners[partnerID]
        let outcome = try self.pipeline.process(
            ClaimedFile(
                workName: workName,
                originalName: Spool.originalName(ofWorkName: workName),
                partnerID: partnerID,
                folder: partner.map { self.configuration.inboxFolder(of: $0) } ?? channel,
                channel: channel,
                receivedAt: now
            )
        )
        self.outboxSignal.raise()
        return outcome
    }
}

/// Blocking work (the pipeline, an import, a write that waits for the disk) called from async code: run on a thread
/// of its own, never on the tasks' shared threads. On Linux those are dispatch's global threads, as many as there
/// are cores; blocking them all would also starve the dispatch work the pipeline itself waits for.
public enum BlockingWork {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = "ordergate-blocking"
            thread.start()
        }
    }
}
