import Foundation
import Testing

/// `ordergate serve` as it runs in production: a real process on a temporary folder, files dropped into the
/// inbox, acknowledgements read from the outbox, SIGTERM to stop, then the admin commands on what it stored.
@Suite struct DaemonEndToEndTests {
    /// A sender identity read from a corpus file's ISA (qualifier and ID of sender and receiver).
    struct X12Identity: Hashable {
        var senderQualifier: String
        var senderID: String
        var receiverQualifier: String
        var receiverID: String
    }

    static func identity(of bytes: [UInt8]) -> X12Identity {
        let text = String(decoding: bytes.prefix(106), as: UTF8.self)
        let separator = text[text.index(text.startIndex, offsetBy: 3)]
        let fields = text.split(separator: separator, omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        return X12Identity(
            senderQualifier: fields[5],
            senderID: fields[6],
            receiverQualifier: fields[7],
            receiverID: fields[8]
        )
    }

    /// How many interchanges (ISA segments) a file holds.
    static func interchangeCount(_ bytes: [UInt8]) -> Int {
        let separator = bytes[3]
        var count = 0
        for index in 0..<(bytes.count - 3)
        where bytes[index] == UInt8(ascii: "I") && bytes[index + 1] == UInt8(ascii: "S")
            && bytes[index + 2] == UInt8(ascii: "A") && bytes[index + 3] == separator
            && (index == 0 || !(bytes[index - 1].isASCIILetterOrDigit))
        {
            count += 1
        }
        return count
    }

    @Test(.timeLimit(.minutes(2)))
    func corpusAndSampleFilesAreStoredArchivedAndAcknowledgedByTheRunningDaemon() throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let repository = OrdergateCLITests.packageRoot
        // One partner per corpus sender: the corpus's X12 850s, with the map for their version.
        let corpus = OrdergateCLITests.corpus.appendingPathComponent("x12")
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasPrefix("850") }
            .sorted()
        var partners: [X12Identity: String] = [:]
        var drops: [(partner: String, name: String, bytes: [UInt8])] = []
        for name in names {
            let bytes = Array(try Data(contentsOf: corpus.appendingPathComponent(name)))
            let identity = Self.identity(of: bytes)
            let partner = partners[identity] ?? "corpus\(partners.count + 1)"
            partners[identity] = partner
            drops.append((partner, name, bytes))
        }
        for (identity, partner) in partners {
            let profile = """
                partner: \(partner)
                name: Corpus sender \(identity.senderID)
                identities:
                  x12: { qualifier: "\(identity.senderQualifier)", id: "\(identity.senderID)" }
                us:
                  x12: { qualifier: "\(identity.receiverQualifier)", id: "\(identity.receiverID)" }
                inbound:
                  - map: x12/850-004010
                acknowledgements: { functional: "997", ta1: always }

                """
            try profile.write(
                to: root.appendingPathComponent("mappings/partners/\(partner).yaml"),
                atomically: true,
                encoding: .utf8
            )
        }
        for (partner, example) in [
            ("acme", "examples/acme/850-po-7731045.edi"), ("nordhandel", "examples/nordhandel/orders-4500098765.edi"),
            ("procurenet", "examples/procurenet/orderrequest-PN-PO-2026-000871.xml"),
        ] {
            let url = repository.appendingPathComponent(example)
            drops.append((partner, url.lastPathComponent, Array(try Data(contentsOf: url))))
        }
        drops.append(("acme", "junk.edi", Array("this is not EDI\n".utf8)))
        try "log:\n  level: info\napi:\n  port: 0\n".write(
            to: root.appendingPathComponent("ordergate.yaml"),
            atomically: true,
            encoding: .utf8
        )
        let config = root.appendingPathComponent("ordergate.yaml").path
        // The sample business data, so that the sample partners' orders are decided and acknowledged.
        for kind in ["items", "nodes", "prices", "contracts", "credit", "stock", "locations"] {
            let file = repository.appendingPathComponent("examples/data/\(kind).csv").path
            let loaded = try OrdergateCLITests.run(["import", kind, file, "--config", config])
            #expect(loaded.status == 0, "\(kind): \(loaded.error)")
        }

        // Start the daemon and wait until it says it is ready.
        let daemon = try ServedDaemon(root: root)
        func logText() -> String { daemon.logText }
        #expect(logText().contains("ordergate is ready"), "\(logText())")

        // Drop everything the way partners do (temporary name, then rename).
        for drop in drops {
            let folder = root.appendingPathComponent("inbox/\(drop.partner)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(drop.bytes).write(to: folder.appendingPathComponent(".\(drop.name).part"))
            try FileManager.default.moveItem(
                at: folder.appendingPathComponent(".\(drop.name).part"),
                to: folder.appendingPathComponent(drop.name)
            )
        }
        // Every X12 interchange gets one acknowledgement interchange (997 with TA1, or a TA1 alone for a duplicate);
        // the EDIFACT sample gets a CONTRL; the junk gets none. The sample partners have rules: each of their orders
        // also gets its purchase-order acknowledgement (855, ORDRSP, cXML ConfirmationRequest). The corpus senders
        // have no rules and get none.
        var expected: [String: Int] = ["nordhandel": 2, "procurenet": 1, "acme": 1]
        for drop in drops where drop.partner.hasPrefix("corpus") || drop.name.hasPrefix("850-po-7731045") {
            expected[drop.partner, default: 0] += Self.interchangeCount(drop.bytes)
        }
        func outboxCounts() -> [String: Int] {
            var counts: [String: Int] = [:]
            for partner in expected.keys {
                let names =
                    (try? FileManager.default.contentsOfDirectory(
                        atPath: root.appendingPathComponent("outbox/\(partner)").path
                    )) ?? []
                counts[partner] = names.filter { !$0.hasPrefix(".") }.count
            }
            return counts
        }
        let ackDeadline = Date().addingTimeInterval(30)
        while outboxCounts() != expected && Date() < ackDeadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(outboxCounts() == expected, "\(logText())")
        // Let the last files reach the archive, then stop the daemon as systemd does.
        let settleDeadline = Date().addingTimeInterval(10)
        while Date() < settleDeadline {
            let left = drops.filter {
                FileManager.default.fileExists(
                    atPath: root.appendingPathComponent("inbox/\($0.partner)/\($0.name)").path
                )
            }
            if left.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(daemon.stop() == 0, "\(logText())")
        #expect(logText().contains("ordergate stopped cleanly"))

        // What it stored: every file once, archived byte for byte, the junk quarantined with its report.
        let list = try OrdergateCLITests.run(["files", "list", "--json", "--limit", "100", "--config", config])
        #expect(list.status == 0, "\(list.error)")
        struct Row: Decodable {
            var id: Int
            var originalName: String
            var state: String
            var storedPath: String
            var partnerID: String?
        }
        let rows = try JSONDecoder().decode([Row].self, from: Data(list.output.utf8))
        #expect(rows.count == drops.count)
        for drop in drops {
            let matching = rows.filter { $0.originalName == drop.name && $0.partnerID == drop.partner }
            #expect(matching.count == 1, "\(drop.name)")
            guard let row = matching.first else { continue }
            let stored = Array(try Data(contentsOf: root.appendingPathComponent("data/\(row.storedPath)")))
            #expect(stored == drop.bytes, "\(drop.name)")
            if drop.name == "junk.edi" {
                #expect(row.state == "quarantined")
                let report = try String(
                    contentsOf: root.appendingPathComponent("data/\(row.storedPath).error.txt"),
                    encoding: .utf8
                )
                #expect(report.contains("not an X12, EDIFACT or XML document"))
            } else {
                #expect(row.state == "processed" || row.state == "duplicate", "\(drop.name): \(row.state)")
            }
        }
        let status = try OrdergateCLITests.run(["status", "--json", "--config", config])
        #expect(status.status == 0)
        #expect(status.output.contains("\"pending\"") == false)
        // The acme sample's 997 acknowledges its group and set.
        let acme = root.appendingPathComponent("outbox/acme")
        let acmeNames = try FileManager.default.contentsOfDirectory(atPath: acme.path).sorted()
        let ackName = try #require(acmeNames.first { $0.hasPrefix("997-") })
        let ack = try String(contentsOf: acme.appendingPathComponent(ackName), encoding: .utf8)
        #expect(ack.contains("AK1*PO*101~"))
        #expect(ack.contains("AK9*A*1*1*1~"))
        // Its 855 says line by line what ships: WW-1003 is 80 now and 40 backordered to the replenishment date.
        let poaName = try #require(acmeNames.first { $0.hasPrefix("855-") })
        let poa = try String(contentsOf: acme.appendingPathComponent(poaName), encoding: .utf8)
        #expect(poa.contains("BAK*00*AC*7731045*20261102"), "\(poa)")
        #expect(poa.contains("ACK*IA*80*EA*068*20261112~\nACK*IB*40*EA*068*20271204~"), "\(poa)")
        // The EDIFACT answer is an ORDRSP; both pass our validator.
        let nordhandel = root.appendingPathComponent("outbox/nordhandel")
        let ordrsp = try #require(
            try FileManager.default.contentsOfDirectory(atPath: nordhandel.path).first { $0.hasPrefix("ORDRSP-") }
        )
        let validated = try OrdergateCLITests.run([
            "validate", acme.appendingPathComponent(poaName).path, nordhandel.appendingPathComponent(ordrsp).path,
        ])
        #expect(validated.status == 0, "\(validated.output)\(validated.error)")
        // The admin commands explain the decision.
        let listed = try OrdergateCLITests.run(["orders", "list", "--partner", "acme", "--config", config])
        let acmeOrder = try #require(listed.output.split(separator: "\t").first.map(String.init), "\(listed.error)")
        let shown = try OrdergateCLITests.run(["orders", "show", acmeOrder, "--config", config])
        #expect(shown.status == 0, "\(shown.error)")
        #expect(shown.output.contains("40 backordered to 2027-12-04"), "\(shown.output)")
        #expect(shown.output.contains("credit ok: exposure 48142.80"), "\(shown.output)")
        // No temporary file is left anywhere.
        let leftovers =
            FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".tmp") } ?? []
        #expect(leftovers.isEmpty)
    }
}

extension DaemonEndToEndTests {
    /// A partner that writes straight into its inbox folder (no temporary name): the file is taken as soon as its
    /// writer closes it and it is complete, without waiting out the settle time; an incomplete one is not taken.
    @Test(.timeLimit(.minutes(1)))
    func aCompleteFileClosedByItsWriterIsTakenWithoutWaitingOutTheSettleTime() throws {
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let repository = OrdergateCLITests.packageRoot
        // A settle time far longer than the test waits: only the writer's close can make the file ready.
        try "inbox:\n  settleMilliseconds: 60000\nlog:\n  level: info\nrules:\n  enabled: false\napi:\n  port: 0\n"
            .write(
                to: root.appendingPathComponent("ordergate.yaml"),
                atomically: false,
                encoding: .utf8
            )
        let daemon = try ServedDaemon(root: root)
        func logText() -> String { daemon.logText }

        let sample = try Data(contentsOf: repository.appendingPathComponent("examples/acme/850-po-7731045.edi"))
        let inbox = root.appendingPathComponent("inbox/acme")
        let text = String(decoding: sample, as: UTF8.self)
        let truncated = Data(text[..<text.range(of: "IEA")!.lowerBound].utf8)
        try truncated.write(to: inbox.appendingPathComponent("incomplete.edi"))
        try sample.write(to: inbox.appendingPathComponent("complete.edi"))
        let started = Date()
        let outbox = root.appendingPathComponent("outbox/acme")
        func acknowledgements() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? []).filter { !$0.hasPrefix(".") }
        }
        while acknowledgements().isEmpty && Date().timeIntervalSince(started) < 20 {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(acknowledgements().count == 1, "\(logText())")
        #expect(Date().timeIntervalSince(started) < 10)
        Thread.sleep(forTimeInterval: 1)
        #expect(FileManager.default.fileExists(atPath: inbox.appendingPathComponent("incomplete.edi").path))
        #expect(!FileManager.default.fileExists(atPath: inbox.appendingPathComponent("complete.edi").path))

        // SIGHUP reloads the mapping folder while the daemon runs.
        kill(daemon.process.processIdentifier, SIGHUP)
        let reloadDeadline = Date().addingTimeInterval(10)
        while !logText().contains("mappings reloaded") && Date() < reloadDeadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(logText().contains("mappings reloaded"), "\(logText())")
        #expect(daemon.stop() == 0, "\(logText())")
    }
}

extension DaemonEndToEndTests {
    /// A new temporary folder holding a copy of the repository's `mappings/`.
    static func makeRoot() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ordergate-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: OrdergateCLITests.packageRoot.appendingPathComponent("mappings"),
            to: root.appendingPathComponent("mappings")
        )
        return root
    }
}

/// `ordergate serve --config <root>/ordergate.yaml` (debug build), logging to `<root>/serve.log`; the initializer
/// returns once the daemon says it is ready (or after 30 s). Killed with SIGKILL if a test ends without `stop()`.
final class ServedDaemon {
    let process = Process()
    let logURL: URL
    private let log: FileHandle
    private var isStopped = false

    init(root: URL) throws {
        self.process.executableURL = OrdergateCLITests.packageRoot.appendingPathComponent(".build/debug/ordergate")
        self.process.arguments = ["serve", "--config", root.appendingPathComponent("ordergate.yaml").path]
        self.logURL = root.appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: self.logURL.path, contents: nil)
        self.log = try FileHandle(forWritingTo: self.logURL)
        self.process.standardError = self.log
        self.process.standardOutput = self.log
        try self.process.run()
        let deadline = Date().addingTimeInterval(30)
        while !self.logText.contains("ordergate is ready") && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    }

    deinit {
        if !self.isStopped {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    var logText: String { (try? String(contentsOf: self.logURL, encoding: .utf8)) ?? "" }

    /// SIGTERM, as systemd stops it; returns the exit status.
    func stop() -> Int32 {
        kill(self.process.processIdentifier, SIGTERM)
        self.process.waitUntilExit()
        self.isStopped = true
        try? self.log.close()
        return self.process.terminationStatus
    }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}
