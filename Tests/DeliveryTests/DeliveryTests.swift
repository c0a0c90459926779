import Foundation
import Logging
import OrderMapping
import OrderStore
import Synchronization
import Testing

@testable import Delivery

/// A store in a temporary folder, a clock the test moves, and the worker that delivers from them.
final class DeliveryBench: Sendable {
    let root: String
    let store: OrderStore
    let now: Mutex<Date>
    let endpoints: Mutex<[String: PartnerProfile.Endpoint]>
    let log = LogRecorder()

    init() throws {
        self.root = NSTemporaryDirectory() + "ordergate-delivery-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
        self.store = try OrderStore(path: self.root + "/ordergate.sqlite")
        self.now = Mutex(Date(timeIntervalSince1970: 1_794_312_000))
        self.endpoints = Mutex([:])
    }

    deinit { try? FileManager.default.removeItem(atPath: self.root) }

    func worker(_ policy: DeliveryPolicy = DeliveryPolicy()) -> DeliveryWorker {
        let log = self.log
        return DeliveryWorker(
            store: self.store,
            policy: policy,
            logger: Logger(label: "delivery") { _ in log },
            clock: { self.now.withLock { $0 } },
            random: { 0.5 },
            endpoint: { partner in self.endpoints.withLock { $0[partner] } }
        )
    }

    func advance(seconds: Double) { self.now.withLock { $0 = $0.addingTimeInterval(seconds) } }

    func point(_ partner: String, at url: String, timeout: Int = 5, secretFile: String? = nil) {
        self.endpoints.withLock {
            $0[partner] = PartnerProfile.Endpoint(url: url, secretFile: secretFile, timeoutSeconds: timeout)
        }
    }

    /// Queues `count` documents for the partner's endpoint; returns their row IDs.
    func queue(_ count: Int, for partner: String) throws -> [Int64] {
        let now = self.now.withLock { $0 }
        return try self.store.write { tx in
            try (0..<count).map { index in
                try tx.enqueueOutbound(
                    partnerID: partner,
                    kind: "855",
                    folder: "outbox/\(partner)",
                    fileExtension: "x12",
                    content: Array("ISA*document \(index) for \(partner)~".utf8),
                    controlNumber: String(index + 1),
                    fileID: nil,
                    deliver: true,
                    at: now
                )
            }
        }
    }

    /// The idempotency key a row is sent with: `<installation>-<row ID>`.
    func key(_ id: Int64) async throws -> String {
        "\(try await self.store.read { try $0.installationKey() })-\(id)"
    }

    func keys(_ ids: [Int64]) async throws -> Set<String> {
        var keys: Set<String> = []
        for id in ids { keys.insert(try await self.key(id)) }
        return keys
    }

    func delivery(_ id: Int64) throws -> DeliveryRecord {
        try #require(try self.store.read { try $0.delivery(outboundID: id) })
    }
}

/// Collects every log message with its metadata, to prove what is (and is not) logged.
final class LogRecorder: LogHandler, Sendable {
    let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        self.lines.withLock { $0.append("\(event.level) \(event.message) \(event.metadata ?? [:])") }
    }
}

@Suite struct DeliveryTests {
    @Test func documentsAreDeliveredWithInstallationAndRowIDAsIdempotencyKeyAndMediaType() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let bench = try DeliveryBench()
        bench.point("acme", at: receiver.url)
        let ids = try bench.queue(3, for: "acme")
        let pass = await bench.worker().deliverDue()
        #expect(pass.delivered == 3)
        #expect(receiver.committedKeys == (try await bench.keys(ids)))
        let installation = try await bench.store.read { try $0.installationKey() }
        #expect(installation.count == 16 && installation != "0")
        let headers = try #require(receiver.state.withLock { $0.posts.first?.headers })
        #expect(headers[.contentType] == "application/edi-x12")
        #expect(headers[.init("X-Ordergate-Document")!] == "855")
        let row = try bench.delivery(ids[0])
        #expect(row.state == "delivered")
        #expect(row.attempts == 1)
        #expect(row.lastStatus == 200)
        // A second pass finds nothing due: nothing is sent twice.
        #expect(await bench.worker().deliverDue() == DeliveryPass())
        #expect(receiver.postCount == 3)
    }

    @Test func serviceUnavailableIsRetriedWithBackoffUntilAccepted() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let bench = try DeliveryBench()
        bench.point("acme", at: receiver.url)
        receiver.script([.status(503), .status(503), .retryAfter(status: 429, seconds: 40)])
        let id = try #require(try bench.queue(1, for: "acme").first)
        let worker = bench.worker()
        var delays: [Double] = []
        for _ in 0..<3 {
            let before = bench.now.withLock { $0 }
            let pass = await worker.deliverDue()
            #expect(pass.retried == 1)
            let row = try bench.delivery(id)
            #expect(row.state == "waiting")
            let due = try #require(ISO8601DateFormatter.withFractions.date(from: row.dueAt))
            delays.append(due.timeIntervalSince(before))
            // Not due yet: a pass now sends nothing.
            #expect(await worker.deliverDue() == DeliveryPass())
            bench.now.withLock { $0 = due }
        }
        // 5 s × 2^(n−1) jittered to 75 % (random 0.5); the 429's Retry-After (40 s) lengthens the third.
        #expect(delays == [5, 7.5, 40])
        let pass = await worker.deliverDue()
        #expect(pass.delivered == 1)
        #expect(try bench.delivery(id).attempts == 4)
        #expect(receiver.committedKeys == [try await bench.key(id)])
    }

    @Test func timeoutsAndRefusedConnectionsAreRetriedAndDeliveredOnce() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let bench = try DeliveryBench()
        bench.point("acme", at: "http://127.0.0.1:\(closedPort())/inbound")
        let id = try #require(try bench.queue(1, for: "acme").first)
        let worker = bench.worker()
        #expect(await worker.deliverDue().retried == 1)
        let refused = try bench.delivery(id)
        #expect(refused.lastError?.contains("curl 7") == true, "\(refused.lastError ?? "")")
        // Up again, but slower than the endpoint's one-second timeout once.
        bench.point("acme", at: receiver.url, timeout: 1)
        receiver.script([.slow(seconds: 2.5, status: 200)])
        bench.advance(seconds: 60)
        #expect(await worker.deliverDue().retried == 1)
        #expect(try bench.delivery(id).lastError?.contains("curl 28") == true)
        bench.advance(seconds: 60)
        #expect(await worker.deliverDue().delivered == 1)
        #expect(receiver.committedKeys == [try await bench.key(id)])
        #expect(try bench.delivery(id).attempts == 3)
    }

    @Test func aResponseLostAfterTheReceiverCommittedIsResentWithTheSameKeyAndCountedOnce() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let bench = try DeliveryBench()
        bench.point("acme", at: receiver.url, timeout: 1)
        receiver.script([.commitThenStall(seconds: 2.5)])
        let id = try #require(try bench.queue(1, for: "acme").first)
        let worker = bench.worker()
        #expect(await worker.deliverDue().retried == 1)
        // The receiver has it; we do not know.
        #expect(receiver.committedKeys == [try await bench.key(id)])
        #expect(try bench.delivery(id).state == "waiting")
        bench.advance(seconds: 60)
        #expect(await worker.deliverDue().delivered == 1)
        #expect(receiver.posts(key: try await bench.key(id)) == 2)
        #expect(receiver.state.withLock { $0.committed.count } == 1)
    }

    @Test func aPartnerDownForTenMinutesGetsEveryDocumentOnceAfterRecovery() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let bench = try DeliveryBench()
        let down = "http://127.0.0.1:\(closedPort())/inbound"
        bench.point("acme", at: down)
        let ids = try bench.queue(20, for: "acme")
        let worker = bench.worker()
        let start = bench.now.withLock { $0 }
        var attempts = 0
        var deferred = 0
        // Ten minutes of an injected clock, a few seconds of the test. The first batch fails whole; from then on one
        // document probes the endpoint per backoff step (5, 7.5, 15, 30, 60, 120, 240 s...) and the others wait
        // with it, without an attempt: a dead endpoint costs one request at a time, not twenty.
        while bench.now.withLock({ $0 }).timeIntervalSince(start) < 600 {
            let pass = await worker.deliverDue()
            attempts += pass.retried
            deferred += pass.deferred
            bench.advance(seconds: 15)
        }
        #expect(receiver.postCount == 0)
        #expect(attempts >= 20 + 4 && attempts <= 20 + 10, "\(attempts) attempts")
        #expect(deferred >= 19 * 4)
        bench.point("acme", at: receiver.url)
        while try await bench.store.read({ try $0.deliveries(state: "waiting", partnerID: nil, limit: 100) }).count > 0
        {
            await worker.deliverDue()
            bench.advance(seconds: 15)
        }
        #expect(receiver.committedKeys == (try await bench.keys(ids)))
        #expect(receiver.postCount == 20)
        for id in ids { #expect(try bench.delivery(id).state == "delivered") }
    }

    @Test func aClientErrorIsHeldForAnAdminNotRetried() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let bench = try DeliveryBench()
        bench.point("acme", at: receiver.url)
        receiver.script([.status(422)])
        let id = try #require(try bench.queue(1, for: "acme").first)
        let worker = bench.worker()
        #expect(await worker.deliverDue().held == 1)
        let row = try bench.delivery(id)
        #expect(row.state == "held")
        #expect(row.heldReason?.contains("HTTP 422: answer 422; not retried") == true, "\(row.heldReason ?? "")")
        bench.advance(seconds: 3600)
        #expect(await worker.deliverDue() == DeliveryPass())
        // The admin's retry sends it again now.
        #expect(try await bench.store.write { try $0.retryDelivery(outboundID: id, at: bench.now.withLock { $0 }) })
        #expect(await worker.deliverDue().delivered == 1)
        #expect(receiver.committedKeys == [try await bench.key(id)])
    }

    @Test func aDocumentPastItsLifetimeIsHeldWithAnAlert() async throws {
        let bench = try DeliveryBench()
        bench.point("acme", at: "http://127.0.0.1:\(closedPort())/inbound")
        var policy = DeliveryPolicy()
        policy.maximumLifetime = 3600
        let id = try #require(try bench.queue(1, for: "acme").first)
        let worker = bench.worker(policy)
        var held = 0
        for _ in 0..<100 where held == 0 {
            held += await worker.deliverDue().held
            bench.advance(seconds: 300)
        }
        let row = try bench.delivery(id)
        #expect(row.state == "held")
        #expect(row.heldReason?.hasPrefix("undelivered after") == true)
        let alerted = bench.log.lines.withLock { $0.contains { $0.hasPrefix("error delivery held") } }
        #expect(alerted)
        let audit = try await bench.store.read { try $0.auditEntries(subject: "outbound:\(id)") }
        #expect(audit.map(\.action) == ["delivery-held"])
    }

    @Test func anAdminHoldStopsDeliveryUntilRelease() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let bench = try DeliveryBench()
        bench.point("acme", at: receiver.url)
        let id = try #require(try bench.queue(1, for: "acme").first)
        #expect(try await bench.store.write { try $0.holdDelivery(outboundID: id, reason: "partner asked to pause") })
        #expect(await bench.worker().deliverDue() == DeliveryPass())
        #expect(try bench.delivery(id).heldReason == "partner asked to pause")
        #expect(try await bench.store.write { try $0.releaseDelivery(outboundID: id, at: bench.now.withLock { $0 }) })
        #expect(await bench.worker().deliverDue().delivered == 1)
        // A delivered document cannot be held, released or retried.
        let changed = try await bench.store.write { tx in
            try tx.holdDelivery(outboundID: id, reason: "late") || tx.retryDelivery(outboundID: id, at: Date())
        }
        #expect(!changed)
    }

    @Test func aSlowPartnerNeverDelaysAnother() async throws {
        let slow = try await Receiver.start()
        let fast = try await Receiver.start()
        defer {
            slow.stop()
            fast.stop()
        }
        let bench = try DeliveryBench()
        bench.point("slow", at: slow.url, timeout: 10)
        bench.point("fast", at: fast.url)
        slow.script(Array(repeating: .slow(seconds: 3, status: 200), count: 8))
        _ = try bench.queue(8, for: "slow")
        let fastIDs = try bench.queue(8, for: "fast")
        let worker = bench.worker()
        let clock = ContinuousClock()
        let started = clock.now
        let pass = Task { await worker.deliverDue() }
        var fastDone: Duration?
        while fastDone == nil && clock.now - started < .seconds(10) {
            let delivered = try await bench.store.read {
                try $0.deliveries(state: "delivered", partnerID: "fast", limit: 100).count
            }
            if delivered == fastIDs.count { fastDone = clock.now - started }
            try await Task.sleep(for: .milliseconds(20))
        }
        let total = await pass.value
        #expect(total.delivered == 16)
        let done = try #require(fastDone)
        #expect(done < .seconds(2), "the fast partner waited \(done) for the slow one")
    }

    @Test func theSecretIsSentButNeverLoggedOrStored() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let bench = try DeliveryBench()
        let secretFile = bench.root + "/acme.secret"
        try "s3cr3t-token-value\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
        bench.point("acme", at: receiver.url, secretFile: secretFile)
        receiver.script([.status(500), .status(200)])
        let id = try #require(try bench.queue(1, for: "acme").first)
        let worker = bench.worker()
        await worker.deliverDue()
        bench.advance(seconds: 60)
        await worker.deliverDue()
        #expect(try bench.delivery(id).state == "delivered")
        let sent = receiver.state.withLock { $0.posts.map { $0.headers[.authorization] } }
        #expect(sent == ["Bearer s3cr3t-token-value", "Bearer s3cr3t-token-value"])
        #expect(!bench.log.lines.withLock { $0.joined() }.contains("s3cr3t"))
        let database = try Data(contentsOf: URL(fileURLWithPath: bench.store.path))
        #expect(database.range(of: Data("s3cr3t".utf8)) == nil)
        // An unreadable secret file: held for an admin, naming the file, never the secret.
        try FileManager.default.removeItem(atPath: secretFile)
        let second = try #require(try bench.queue(1, for: "acme").first)
        await worker.deliverDue()
        let unreadable = try bench.delivery(second)
        #expect(unreadable.state == "held")
        #expect(unreadable.lastError?.contains("cannot read the secret file \(secretFile)") == true)
    }

    @Test func aPartnerWithoutAPushEndpointNowWaitsUntilItHasOneAgain() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let bench = try DeliveryBench()
        let id = try #require(try bench.queue(1, for: "acme").first)
        let worker = bench.worker()
        #expect(await worker.deliverDue().deferred == 1)
        let waiting = try bench.delivery(id)
        #expect(waiting.state == "waiting" && waiting.attempts == 0)
        #expect(waiting.lastError == "not tried: the partner profile has no push endpoint")
        bench.point("acme", at: receiver.url)
        bench.advance(seconds: 61)
        #expect(await worker.deliverDue().delivered == 1)
    }

    @Test func aMisconfiguredEndpointIsHeldAtOnceNotRetriedForDays() async throws {
        let bench = try DeliveryBench()
        let id = try #require(try bench.queue(1, for: "acme").first)
        bench.endpoints.withLock { $0["acme"] = PartnerProfile.Endpoint(url: "http://[bad/in") }
        #expect(await bench.worker().deliverDue().held == 1)
        let row = try bench.delivery(id)
        #expect(row.heldReason?.contains("fix the partner profile") == true, "\(row)")
    }

    @Test func backoffStaysBetweenTheMinimumAndTheMaximum() {
        var policy = DeliveryPolicy()
        policy.minimumDelay = 2
        policy.maximumDelay = 60
        for attempts in 1...30 {
            for unit in [0.0, 0.3, 0.999] {
                let delay = policy.delay(afterAttempts: attempts, unit: unit)
                #expect(delay >= 2 && delay <= 60)
            }
        }
        #expect(policy.delay(afterAttempts: 30, unit: 0.999) > 59)
        #expect(policy.delay(afterAttempts: 1, unit: 0) == 2)
        #expect(policy.delay(afterAttempts: 3, unit: 0, retryAfter: 3600) == 60)
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}
