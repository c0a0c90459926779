import EDISyntax
import Foundation
import Gateway
import Logging
import OrderStore
import Testing

@testable import Delivery

/// The daemon end to end: a partner with a push endpoint gets its acknowledgements by HTTP (and in its outbox
/// folder), and a partner who publishes orders has them polled and processed.
@Suite struct DaemonDeliveryTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A daemon on a temporary folder with the repository's mappings, acme pushed to and nordhandel polled.
    static func daemon(receiver: Receiver, root: String) throws -> Daemon {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Self.repository.appendingPathComponent("mappings").path,
            toPath: root + "/mappings"
        )
        try "partner-secret-1\n".write(toFile: root + "/acme.secret", atomically: true, encoding: .utf8)
        for (partner, transport) in [
            ("acme", "  push: { url: \"\(receiver.url)\", secretFile: \(root)/acme.secret, timeoutSeconds: 5 }\n"),
            ("nordhandel", "  poll: { url: \"\(receiver.publishURL)\", intervalSeconds: 60 }\n"),
        ] {
            let path = root + "/mappings/partners/\(partner).yaml"
            var text = try String(contentsOfFile: path, encoding: .utf8)
            let anchor = "  outbox: \(partner)     # a folder under the configured outbox folder\n"
            #expect(text.contains(anchor))
            text = text.replacingOccurrences(of: anchor, with: anchor + transport)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        try "inbox:\n  settleMilliseconds: 0\nlog:\n  level: critical\n".write(
            toFile: root + "/ordergate.yaml",
            atomically: true,
            encoding: .utf8
        )
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try Daemon(configuration: try Configuration.load(path: root + "/ordergate.yaml"), logger: logger)
    }

    @Test func acknowledgementsArePushedToThePartnersEndpointAndWrittenToItsOutbox() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let root = NSTemporaryDirectory() + "ordergate-daemon-delivery-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let daemon = try Self.daemon(receiver: receiver, root: root)
        _ = try daemon.recover()
        try FileManager.default.createDirectory(atPath: root + "/inbox/acme", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Self.repository.appendingPathComponent("examples/acme/850-po-7731045.edi").path,
            toPath: root + "/inbox/acme/po.edi"
        )
        #expect(try daemon.pollOnce() == 1)
        let pass = await daemon.delivery.deliverDue()
        #expect(pass.delivered == 2)
        let documents = receiver.state.withLock { state in
            state.posts.map { ($0.headers[.init("X-Ordergate-Document")!] ?? "", $0.headers[.authorization] ?? "") }
        }
        #expect(Set(documents.map(\.0)) == ["997", "855"])
        #expect(documents.allSatisfy { $0.1 == "Bearer partner-secret-1" })
        // What arrived is what the outbox folder holds, byte for byte, and valid X12.
        let outbox = try FileManager.default.contentsOfDirectory(atPath: root + "/outbox/acme")
        #expect(outbox.count == 2)
        for (key, body) in receiver.state.withLock({ $0.committed }) {
            let outboundID = try #require(Int64(key.split(separator: "-").last ?? ""))
            let row = try #require(try await daemon.store.read { try $0.delivery(outboundID: outboundID) })
            let file = try Data(contentsOf: URL(fileURLWithPath: root + "/outbox/acme/" + row.fileName))
            #expect(Array(file) == body)
            #expect(EDIValidator().validate(bytes: body).isValid)
        }
        // Nordhandel has no push endpoint: nothing of its is queued for delivery.
        #expect(
            try await daemon.store.read { try $0.deliveries(state: nil, partnerID: "nordhandel", limit: 10) }.isEmpty
        )
    }

    @Test func publishedOrdersArePolledProcessedAndNotTakenTwice() async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        let root = NSTemporaryDirectory() + "ordergate-daemon-poll-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let daemon = try Self.daemon(receiver: receiver, root: root)
        _ = try daemon.recover()
        let order = try String(
            contentsOf: Self.repository.appendingPathComponent("examples/nordhandel/orders-4500098765.edi"),
            encoding: .utf8
        )
        receiver.state.withLock { $0.published = (Array(order.utf8), "\"4500098765\"") }
        #expect(await daemon.poller.pollDue()["nordhandel"] == .ingested)
        let files = try await daemon.store.read { try $0.files(partnerID: "nordhandel") }
        #expect(files.map(\.channel) == ["poll"])
        #expect(files.map(\.state) == ["processed"])
        let orders = try await daemon.store.read {
            try $0.orderFeed(after: 0, limit: 10, status: nil, partnerID: "nordhandel")
        }
        #expect(orders.map(\.purchaseOrderNumber) == ["4500098765"])
        // Its CONTRL and ORDRSP are queued for the outbox like any inbox file's.
        try daemon.outbox.writePending()
        let outbox = try FileManager.default.contentsOfDirectory(atPath: root + "/outbox/nordhandel")
        #expect(outbox.count == 2)
        // Published again under a new validator: seen before, not ingested (no second file, no duplicate ack).
        receiver.state.withLock { $0.published = (Array(order.utf8), "\"4500098765-b\"") }
        daemon.poller.forgetSchedule()
        #expect(await daemon.poller.pollDue()["nordhandel"] == .seenBefore)
        #expect(try await daemon.store.read { try $0.files(partnerID: "nordhandel") }.count == 1)
    }
}
