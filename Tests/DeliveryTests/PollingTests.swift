import Foundation
import Logging
import OrderMapping
import OrderStore
import Synchronization
import Testing

@testable import Delivery

@Suite struct PollingTests {
    /// What the poller handed to the pipeline; `refuse` makes the pipeline fail.
    final class Pipeline: Sendable {
        let ingested = Mutex<[[UInt8]]>([])
        let refuse = Mutex(false)
    }

    /// A poller of one partner's endpoint on the receiver, recording what it hands to the pipeline.
    final class Harness: Sendable {
        let bench: DeliveryBench
        let receiver: Receiver
        let pipeline = Pipeline()
        let poller: PartnerPoller

        init(interval: Int = 60) async throws {
            let bench = try DeliveryBench()
            let receiver = try await Receiver.start()
            let pipeline = self.pipeline
            self.bench = bench
            self.receiver = receiver
            let endpoint = PartnerProfile.Endpoint(url: receiver.publishURL, intervalSeconds: interval)
            self.poller = PartnerPoller(
                store: bench.store,
                logger: Logger(label: "poll") { _ in bench.log },
                clock: { bench.now.withLock { $0 } },
                endpoints: { ["acme": endpoint] },
                ingest: { bytes, partner, _ in
                    #expect(partner == "acme")
                    if pipeline.refuse.withLock({ $0 }) { throw CancellationError() }
                    pipeline.ingested.withLock { $0.append(bytes) }
                }
            )
        }

        func publish(_ text: String, etag: String) {
            self.receiver.state.withLock { $0.published = (Array(text.utf8), etag) }
        }

        /// Moves the clock past the interval and polls.
        func pollNext() async -> PartnerPoller.Outcome? {
            self.bench.advance(seconds: 61)
            return await self.poller.pollDue()["acme"]
        }
    }

    @Test func anUnchangedEndpointAnswers304AndNothingIsIngestedTwice() async throws {
        let harness = try await Harness()
        defer { harness.receiver.stop() }
        harness.publish("ISA*first~", etag: "\"v1\"")
        #expect(await harness.poller.pollDue()["acme"] == .ingested)
        // Within the interval: not polled at all.
        #expect(await harness.poller.pollDue()["acme"] == nil)
        #expect(await harness.pollNext() == .unchanged)
        #expect(harness.receiver.state.withLock { $0.gets } == [200, 304])
        let state = try await harness.bench.store.read { try $0.pollState(partnerID: "acme") }
        #expect(state.etag == "\"v1\"")
        #expect(state.documents == 1)
        harness.publish("ISA*second~", etag: "\"v2\"")
        #expect(await harness.pollNext() == .ingested)
        #expect(harness.ingestedTexts == ["ISA*first~", "ISA*second~"])
    }

    @Test func repeatedContentUnderANewETagIsNotIngestedAgain() async throws {
        let harness = try await Harness()
        defer { harness.receiver.stop() }
        harness.publish("ISA*same~", etag: "\"a\"")
        #expect(await harness.poller.pollDue()["acme"] == .ingested)
        harness.publish("ISA*same~", etag: "\"b\"")
        #expect(await harness.pollNext() == .seenBefore)
        #expect(harness.ingestedTexts == ["ISA*same~"])
        // The new validator is kept: the next poll is a 304.
        #expect(await harness.pollNext() == .unchanged)
    }

    @Test func aDocumentThePartnerAlreadySentAsAFileIsNotIngested() async throws {
        let harness = try await Harness()
        defer { harness.receiver.stop() }
        let text = "ISA*sent by sftp before~"
        try await harness.bench.store.write { tx in
            _ = try tx.insertFile(
                FileRecord(
                    partnerID: "acme",
                    channel: "inbox",
                    originalName: "po.edi",
                    workName: "w",
                    sha256: PartnerPoller.sha256Hex(Array(text.utf8)),
                    size: text.utf8.count,
                    format: "x12",
                    state: .processed,
                    storedPath: "archive/po.edi",
                    receivedAt: Date(),
                    processedAt: Date()
                )
            )
        }
        harness.publish(text, etag: "\"x\"")
        #expect(await harness.poller.pollDue()["acme"] == .seenBefore)
        #expect(harness.ingestedTexts.isEmpty)
    }

    @Test func aFailedIngestionIsPolledAgainNotSkipped() async throws {
        let harness = try await Harness()
        defer { harness.receiver.stop() }
        harness.publish("ISA*retry me~", etag: "\"r\"")
        harness.pipeline.refuse.withLock { $0 = true }
        guard case .failed = await harness.poller.pollDue()["acme"] else {
            Issue.record("a refused ingestion is a failed poll")
            return
        }
        harness.pipeline.refuse.withLock { $0 = false }
        // The validator was not kept, so the endpoint answers 200 again and the document goes in.
        #expect(await harness.pollNext() == .ingested)
        #expect(harness.ingestedTexts == ["ISA*retry me~"])
    }

    @Test func anEndpointThatFailsIsRecordedAndTriedOnTheNextInterval() async throws {
        let bench = try DeliveryBench()
        let endpoint = PartnerProfile.Endpoint(url: "http://127.0.0.1:\(closedPort())/publish", intervalSeconds: 30)
        let poller = PartnerPoller(
            store: bench.store,
            logger: Logger(label: "poll") { _ in bench.log },
            clock: { bench.now.withLock { $0 } },
            endpoints: { ["acme": endpoint] },
            ingest: { _, _, _ in Issue.record("nothing to ingest") }
        )
        guard case .failed(let reason) = await poller.pollDue()["acme"] else {
            Issue.record("a refused connection is a failed poll")
            return
        }
        #expect(reason.contains("curl 7"))
        #expect(await poller.pollDue()["acme"] == nil)
        bench.advance(seconds: 31)
        #expect(await poller.pollDue()["acme"] != nil)
    }

}

extension PollingTests {
    @Test func anEndpointThatHangsNeverHoldsUpAnotherPartnersPolling() async throws {
        let harness = try await Harness()
        defer { harness.receiver.stop() }
        harness.publish("ISA*quick~", etag: "\"q\"")
        // A listening socket that never answers: a poll of it hangs until its timeout.
        let silent = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(silent) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                _ = bind(silent, pointer, length)
                _ = listen(silent, 8)
                return getsockname(silent, pointer, &length)
            }
        }
        let hanging = PartnerProfile.Endpoint(
            url: "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))/publish",
            timeoutSeconds: 20
        )
        let quick = PartnerProfile.Endpoint(url: harness.receiver.publishURL, intervalSeconds: 60)
        let pipeline = harness.pipeline
        let poller = PartnerPoller(
            store: harness.bench.store,
            logger: Logger(label: "poll") { _ in harness.bench.log },
            endpoints: { ["aaa-hanging": hanging, "acme": quick] },
            ingest: { bytes, _, _ in pipeline.ingested.withLock { $0.append(bytes) } }
        )
        let running = Task { await poller.run(tick: .milliseconds(20)) }
        defer { running.cancel() }
        let clock = ContinuousClock()
        let started = clock.now
        while harness.ingestedTexts.isEmpty && clock.now - started < .seconds(10) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(harness.ingestedTexts == ["ISA*quick~"])
        #expect(clock.now - started < .seconds(3))
    }

    @Test func validatorsAreNotSentToANewURL() async throws {
        let bench = try DeliveryBench()
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        receiver.state.withLock { $0.published = (Array("ISA*moved~".utf8), "\"m\"") }
        let url = Mutex(receiver.publishURL)
        let poller = PartnerPoller(
            store: bench.store,
            logger: Logger(label: "poll") { _ in bench.log },
            clock: { bench.now.withLock { $0 } },
            endpoints: { ["acme": PartnerProfile.Endpoint(url: url.withLock { $0 }, intervalSeconds: 60)] },
            ingest: { _, _, _ in }
        )
        #expect(await poller.pollDue()["acme"] == .ingested)
        // The profile moves to another URL (here: the same server, another query): no If-None-Match goes there,
        // so the answer is a 200 again, and the document, seen before by its hash, is not ingested twice.
        url.withLock { $0 = receiver.publishURL + "?moved=1" }
        bench.advance(seconds: 61)
        #expect(await poller.pollDue()["acme"] == .seenBefore)
        #expect(receiver.state.withLock { $0.gets } == [200, 200])
        bench.advance(seconds: 61)
        #expect(await poller.pollDue()["acme"] == .unchanged)
    }

    @Test func aPolledDocumentLargerThanAFileMayBeIsRefused() async throws {
        let bench = try DeliveryBench()
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        receiver.state.withLock { $0.published = (Array(repeating: UInt8(ascii: "x"), count: 5000), "\"big\"") }
        let endpoint = PartnerProfile.Endpoint(url: receiver.publishURL)
        let poller = PartnerPoller(
            store: bench.store,
            logger: Logger(label: "poll") { _ in bench.log },
            maximumDocumentBytes: 1000,
            endpoints: { ["acme": endpoint] },
            ingest: { _, _, _ in Issue.record("an oversized document is not ingested") }
        )
        guard case .failed(let reason) = await poller.pollDue()["acme"] else {
            Issue.record("an oversized answer fails the poll")
            return
        }
        #expect(reason.contains("larger than 1000 bytes"))
    }
}

extension PollingTests.Harness {
    var ingestedTexts: [String] { self.pipeline.ingested.withLock { $0.map { String(decoding: $0, as: UTF8.self) } } }
}
