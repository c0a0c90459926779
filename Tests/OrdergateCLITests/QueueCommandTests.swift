import Foundation
import Testing

/// `ordergate queue` against a running daemon whose partner endpoint refuses connections: the acknowledgements wait
/// for delivery with the error, and an admin holds, releases and retries them from the command line.
@Suite struct QueueCommandTests {
    @Test(.timeLimit(.minutes(1)))
    func anAdminListsHoldsReleasesAndRetriesDeliveries() throws {
        let root = try DaemonEndToEndTests.makeRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        // acme pushes to a port where nothing listens; retries a minute apart, so the test sees each state.
        let profile = root.appendingPathComponent("mappings/partners/acme.yaml")
        var text = try String(contentsOf: profile, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "  outbox: acme     # a folder under the configured outbox folder\n",
            with: "  outbox: acme\n  push: { url: \"http://127.0.0.1:9/inbound\", timeoutSeconds: 2 }\n"
        )
        try text.write(to: profile, atomically: true, encoding: .utf8)
        try "log:\n  level: info\nrules:\n  enabled: false\napi:\n  port: 0\ndelivery:\n  minimumRetrySeconds: 60\n"
            .write(to: root.appendingPathComponent("ordergate.yaml"), atomically: true, encoding: .utf8)
        let config = root.appendingPathComponent("ordergate.yaml").path
        let daemon = try ServedDaemon(root: root)
        try FileManager.default.copyItem(
            at: OrdergateCLITests.packageRoot.appendingPathComponent("examples/acme/850-po-7731045.edi"),
            to: root.appendingPathComponent("inbox/acme/po.edi")
        )
        func queue(_ arguments: [String]) throws -> OrdergateCLITests.Result {
            try OrdergateCLITests.run(["queue"] + arguments + ["--config", config])
        }
        // The 997 is queued, tried once (refused), and waits for its next attempt.
        var listed = try queue(["list"])
        let deadline = Date().addingTimeInterval(20)
        while !listed.output.contains("attempts 1") && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            listed = try queue(["list"])
        }
        #expect(listed.status == 0)
        #expect(listed.output.hasPrefix("deliveries: 1 waiting, 0 held, 0 delivered"), "\(listed.output)")
        let row = try #require(listed.output.split(separator: "\n").dropFirst().first)
        #expect(row.contains("\twaiting\tacme\t997\t") && row.contains("last: HTTP"), "\(row)")
        let id = String(row.prefix { $0 != "\t" })

        let held = try queue(["hold", id, "--note", "partner maintenance"])
        #expect(held.status == 0 && held.output.contains("1 delivery held"), "\(held.error)")
        #expect(try queue(["list", "--state", "held"]).output.contains("held by an admin: partner maintenance"))
        // Holding it again is refused, naming why.
        let again = try queue(["hold", id, "--note", "x"])
        #expect(again.status == 65)
        #expect(again.error.contains("\(id) not held: it is held"))
        #expect(try queue(["release", id]).status == 0)
        #expect(try queue(["hold", id, "--note", "again"]).status == 0)
        let retried = try queue(["retry", "--all-held"])
        #expect(retried.status == 0 && retried.output.contains("1 delivery retried"), "\(retried.output)")
        #expect(try queue(["retry", "999999"]).error.contains("999999 not retried: no such delivery"))
        #expect(try queue(["list", "--state", "bogus"]).status != 0)
        #expect(daemon.stop() == 0, "\(daemon.logText)")
    }
}
