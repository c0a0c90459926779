import Foundation
import Logging
import OrderMapping
import OrderStore
import ServiceLifecycle
import Synchronization

/// Delivers queued outbound documents to partners' push endpoints through libcurl.
///
/// Each partner has its own lane: a task that takes the partner's due documents (oldest first, a batch at a time),
/// POSTs them (at most `perPartnerConcurrency` at once, and `concurrency` for all lanes together), and records the
/// batch's results in one transaction. A slow or dead partner only ever holds up its own lane: once a batch of a
/// partner's fails whole, its lane sends one document at a time (a probe) and defers the rest to the probe's retry
/// time, so a dead endpoint occupies one request slot, not the partner's share of all of them. Every request
/// carries `Idempotency-Key: <installation>-<outbound row ID>`, so a document resent after a lost response (or a
/// crash between the send and the commit) is recognised by a receiver that honours the key: delivery is at least
/// once, and once where the receiver deduplicates. The outbound row stays the source of truth; the outbox folder copy is written
/// as before, whatever happens here.
public final class DeliveryWorker: Sendable {
    let store: OrderStore
    let policy: DeliveryPolicy
    let endpoint: @Sendable (String) -> PartnerProfile.Endpoint?
    let client: HTTPClient
    let clock: @Sendable () -> Date
    let random: @Sendable () -> Double
    let logger: Logger
    let gate: ConcurrencyGate
    private let lanes = Mutex<Set<String>>([])
    /// Partners whose last batch failed whole: probed with one document at a time until one is delivered.
    private let failing = Mutex<Set<String>>([])
    /// The database's installation key (the idempotency keys' prefix), read once.
    private let installation = Mutex<String?>(nil)
    /// Attempts by result, and the time spent in them, since the start (for `/metrics`).
    public let counters = Mutex<DeliveryCounters>(DeliveryCounters())

    /// How many documents one lane takes from the store at a time.
    static let batchSize = 64

    /// `endpoint` gives a partner's current push endpoint (profiles reload on SIGHUP); `clock` and `random` are
    /// injected for tests (a partner down for "ten minutes" in a test that takes a second).
    public init(
        store: OrderStore,
        policy: DeliveryPolicy,
        logger: Logger,
        client: HTTPClient = HTTPClient(),
        clock: @escaping @Sendable () -> Date = { Date() },
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        endpoint: @escaping @Sendable (String) -> PartnerProfile.Endpoint?
    ) {
        self.store = store
        self.policy = policy
        self.endpoint = endpoint
        self.client = client
        self.clock = clock
        self.random = random
        self.logger = logger
        self.gate = ConcurrencyGate(max(1, policy.concurrency))
    }

    /// Runs every partner's lane until nothing is due at the clock's present time; returns what was done. (The
    /// daemon's loop starts lanes as documents become due; tests call this with an injected clock.)
    @discardableResult
    public func deliverDue() async -> DeliveryPass {
        let partners = await self.duePartners()
        return await withTaskGroup(of: DeliveryPass.self) { group in
            for partner in partners where self.claimLane(partner) {
                group.addTask {
                    defer { self.releaseLane(partner) }
                    return await self.lane(partner)
                }
            }
            var total = DeliveryPass()
            for await pass in group { total.add(pass) }
            return total
        }
    }

    /// The daemon's loop: every `tick`, a lane starts for each partner with due documents and none running; on
    /// graceful shutdown no new batch starts, and the requests in flight finish (a document whose answer is lost
    /// to a kill is sent again, with the same key).
    public func run(tick: Duration = .milliseconds(250)) async {
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                for partner in await self.duePartners() where self.claimLane(partner) {
                    group.addTask {
                        defer { self.releaseLane(partner) }
                        _ = await self.lane(partner)
                    }
                }
                try? await Task.sleep(for: tick)
            }
        }
    }

    private func duePartners() async -> [String] {
        do {
            let now = self.clock()
            return try await self.store.read { try $0.partnersWithDueDeliveries(at: now) }
        } catch {
            self.logger.error("cannot read the delivery queue", metadata: ["error": "\(error)"])
            return []
        }
    }

    private func claimLane(_ partner: String) -> Bool { self.lanes.withLock { $0.insert(partner).inserted } }
    private func releaseLane(_ partner: String) { _ = self.lanes.withLock { $0.remove(partner) } }

    /// One partner's lane: batches until nothing of the partner's is due.
    func lane(_ partnerID: String) async -> DeliveryPass {
        var pass = DeliveryPass()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = self.clock()
            let items: [DeliveryItem]
            do {
                items = try await self.store.read {
                    try $0.dueDeliveries(partnerID: partnerID, at: now, limit: Self.batchSize)
                }
            } catch {
                self.logger.error("cannot read the delivery queue", metadata: ["error": "\(error)"])
                break
            }
            guard !items.isEmpty else { break }
            var results: [(DeliveryItem, DeliveryResult, Double)]
            if let endpoint = self.endpoint(partnerID) {
                let probing = self.failing.withLock { $0.contains(partnerID) }
                results = await self.send(probing ? [items[0]] : items, to: endpoint)
                let delivered = results.contains { if case .delivered = $0.1 { true } else { false } }
                let failed = results.allSatisfy { if case .retry = $0.1 { true } else { false } }
                if delivered {
                    _ = self.failing.withLock { $0.remove(partnerID) }
                } else if failed {
                    self.failing.withLock { _ = $0.insert(partnerID) }
                }
                if probing, failed, case .retry(_, let error, let due) = results[0].1 {
                    let reason = "not tried: the endpoint is failing (\(error)); another document probes it"
                    results += items.dropFirst().map { ($0, .deferred(reason: reason, due: due), 0) }
                }
            } else {
                // The profile names no push endpoint now (edited and reloaded): the documents wait, and go once it
                // names one again.
                let reason = "not tried: the partner profile has no push endpoint"
                results = items.map { ($0, .deferred(reason: reason, due: now.addingTimeInterval(60)), 0) }
            }
            let finished = self.clock()
            let recorded = results.map { ($0.0.outboundID, $0.1) }
            do {
                try await self.store.write { tx in
                    for (outboundID, result) in recorded {
                        try tx.recordDelivery(outboundID: outboundID, result, at: finished)
                        if case .held(_, let reason) = result {
                            try tx.audit(
                                actor: "delivery",
                                action: "delivery-held",
                                subject: "outbound:\(outboundID)",
                                detail: reason,
                                at: finished
                            )
                        }
                    }
                }
            } catch {
                // Not recorded: the rows stay due and are sent again, with the same keys.
                self.logger.error("cannot record deliveries", metadata: ["error": "\(error)"])
                break
            }
            for (item, result, seconds) in results {
                pass.count(result)
                self.counters.withLock { $0.count(result, seconds: seconds) }
                self.log(item, result)
            }
        }
        return pass
    }

    /// POSTs a batch, `perPartnerConcurrency` at a time (and within the global gate), in order of the batch.
    private func send(
        _ items: [DeliveryItem],
        to endpoint: PartnerProfile.Endpoint
    ) async -> [(DeliveryItem, DeliveryResult, Double)] {
        let credentials: Result<[(String, String)], HTTPClientError>
        do {
            credentials = .success(try EndpointCredentials.headers(for: endpoint))
        } catch {
            credentials = .failure(error)
        }
        let window = max(1, self.policy.perPartnerConcurrency)
        let installation = await self.installationKey()
        var outcomes = [(Result<HTTPResponse, HTTPClientError>, Double)?](repeating: nil, count: items.count)
        await withTaskGroup(of: (Int, Result<HTTPResponse, HTTPClientError>, Double).self) { group in
            var next = 0
            func start() {
                let index = next
                next += 1
                let item = items[index]
                group.addTask {
                    guard case .success(let authorization) = credentials else {
                        if case .failure(let error) = credentials { return (index, .failure(error), 0) }
                        return (index, .failure(HTTPClientError(code: -1, message: "", isTransient: true)), 0)
                    }
                    await self.gate.acquire()
                    let started = ContinuousClock.now
                    let outcome: Result<HTTPResponse, HTTPClientError>
                    do {
                        outcome = .success(
                            try await self.client.send(
                                self.request(for: item, to: endpoint, auth: authorization, installation: installation)
                            )
                        )
                    } catch let error as HTTPClientError {
                        outcome = .failure(error)
                    } catch {
                        outcome = .failure(HTTPClientError(code: -1, message: "\(error)", isTransient: true))
                    }
                    let elapsed = ContinuousClock.now - started
                    await self.gate.release()
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    return (index, outcome, seconds)
                }
            }
            while next < min(window, items.count) { start() }
            for await (index, outcome, seconds) in group {
                outcomes[index] = (outcome, seconds)
                if next < items.count { start() }
            }
        }
        let now = self.clock()
        return zip(items, outcomes).map { item, entry in
            let (outcome, seconds) = entry!
            let result = self.policy.result(
                of: outcome,
                attempts: item.attempts,
                since: item.since,
                now: now,
                unit: self.random()
            )
            return (item, result, seconds)
        }
    }

    /// The POST of one document: its bytes, its media type, its key; the profile's headers; the credential.
    func request(
        for item: DeliveryItem,
        to endpoint: PartnerProfile.Endpoint,
        auth: [(String, String)],
        installation: String
    ) -> HTTPClient.Request {
        let named = Set(endpoint.headers.keys.map { $0.lowercased() })
        var headers: [(String, String)] = []
        if !named.contains("content-type") { headers.append(("Content-Type", Self.mediaType(of: item.fileName))) }
        headers.append(("Idempotency-Key", "\(installation)-\(item.outboundID)"))
        headers.append(("X-Ordergate-Document", item.kind))
        headers.append(("X-Ordergate-File", item.fileName))
        headers += endpoint.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        headers += auth
        let timeout = Double(endpoint.timeoutSeconds ?? 30)
        var request = HTTPClient.Request(
            method: "POST",
            url: endpoint.url,
            headers: headers,
            body: item.content,
            connectTimeout: min(10, timeout),
            timeout: timeout,
            clientCertificate: endpoint.clientCertificate,
            clientKey: endpoint.clientKey,
            caFile: endpoint.caFile
        )
        // A partner's answer is kept in part only: its size is the partner's to choose, our memory is not.
        request.maximumResponseBytes = self.policy.responseLimit
        request.truncateResponse = true
        return request
    }

    /// The database's installation key, read once (asynchronously: never a blocking read on a task's thread).
    func installationKey() async -> String {
        if let key = self.installation.withLock({ $0 }) { return key }
        let key = (try? await self.store.read { try $0.installationKey() }) ?? "0"
        self.installation.withLock { $0 = key }
        return key
    }

    /// The media type of an outbound file, by the extension its row's name has.
    static func mediaType(of fileName: String) -> String {
        if fileName.hasSuffix(".x12") { return "application/edi-x12" }
        if fileName.hasSuffix(".edi") { return "application/edifact" }
        if fileName.hasSuffix(".xml") { return "application/xml" }
        return "application/octet-stream"
    }

    private func log(_ item: DeliveryItem, _ result: DeliveryResult) {
        var metadata: Logger.Metadata = [
            "partner.id": "\(item.partnerID)", "outbound.id": "\(item.outboundID)", "document": "\(item.kind)",
        ]
        switch result {
        case .delivered(let status, _):
            metadata["http.status"] = "\(status)"
            self.logger.debug("delivered", metadata: metadata)
        case .retry(_, let error, let due):
            metadata["error"] = "\(error)"
            metadata["retry.at"] = "\(due)"
            self.logger.warning("delivery failed; will retry", metadata: metadata)
        case .held(_, let error):
            metadata["error"] = "\(error)"
            self.logger.error("delivery held for an admin (ordergate queue list --state held)", metadata: metadata)
        case .deferred(let reason, _):
            metadata["reason"] = "\(reason)"
            self.logger.debug("delivery deferred", metadata: metadata)
        }
    }
}

/// What a delivery pass did.
public struct DeliveryPass: Sendable, Hashable {
    public var delivered = 0
    public var retried = 0
    public var held = 0
    /// Not tried (their partner's endpoint is being probed, or missing).
    public var deferred = 0

    public init() {}

    mutating func add(_ other: DeliveryPass) {
        self.delivered += other.delivered
        self.retried += other.retried
        self.held += other.held
        self.deferred += other.deferred
    }

    mutating func count(_ result: DeliveryResult) {
        switch result {
        case .delivered: self.delivered += 1
        case .retry: self.retried += 1
        case .held: self.held += 1
        case .deferred: self.deferred += 1
        }
    }
}

/// Attempts since the start, by result, with the seconds they took (for `/metrics`).
public struct DeliveryCounters: Sendable, Hashable {
    public var delivered = 0
    public var failed = 0
    public var held = 0
    public var seconds: Double = 0

    mutating func count(_ result: DeliveryResult, seconds: Double) {
        switch result {
        case .delivered: self.delivered += 1
        case .retry: self.failed += 1
        case .held: self.held += 1
        case .deferred: return
        }
        self.seconds += seconds
    }
}

/// At most `limit` holders at once; the others wait in order.
actor ConcurrencyGate {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int) { self.available = limit }

    func acquire() async {
        if self.available > 0 {
            self.available -= 1
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    func release() {
        if self.waiters.isEmpty {
            self.available += 1
        } else {
            self.waiters.removeFirst().resume()
        }
    }
}

/// An endpoint's credential, read from its secret file at each use (so that a rotated secret needs no restart), as
/// request headers. The secret is never logged, and a failure to read it names the file, not its content.
enum EndpointCredentials {
    static func headers(for endpoint: PartnerProfile.Endpoint) throws(HTTPClientError) -> [(String, String)] {
        guard let file = endpoint.secretFile else { return [] }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw HTTPClientError(code: -1, message: "cannot read the secret file \(file)", isTransient: false)
        }
        let secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty, !secret.contains(where: \.isNewline) else {
            throw HTTPClientError(code: -1, message: "the secret file \(file) must hold one line", isTransient: false)
        }
        switch endpoint.scheme {
        case .bearer: return [("Authorization", "Bearer \(secret)")]
        case .basic: return [("Authorization", "Basic \(Data(secret.utf8).base64EncodedString())")]
        }
    }
}
