import Foundation
import Testing

/// `translate`, `render` and `mappings check` as a user runs them.
@Suite struct MappingCommandsTests {
    static let root = OrdergateCLITests.packageRoot

    static func path(_ relative: String) -> String { Self.root.appendingPathComponent(relative).path }

    @Test func mappingsCheckPassesOnTheShippedFolder() throws {
        let result = try OrdergateCLITests.run(["mappings", "check", Self.path("mappings")])
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(result.output.contains("3 partners: no errors"))
    }

    @Test func mappingsCheckExitsSixtyFiveWithCompilerStyleErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("og-maps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("x12"),
            withIntermediateDirectories: true
        )
        defer { try? FileManager.default.removeItem(at: folder) }
        let map = """
            direction: inbound
            format: x12
            document: "850"
            versions: ["004010"]
            record: order
            fields:
              purchaseOrderNumber: BEG33

            """
        try map.write(to: folder.appendingPathComponent("x12/850-004010.yaml"), atomically: true, encoding: .utf8)
        let result = try OrdergateCLITests.run(["mappings", "check", folder.path])
        #expect(result.status == 65)
        #expect(
            result.output.contains(
                "\(folder.path)/x12/850-004010.yaml:7:24: element BEG33 does not exist (BEG has 12 elements)"
            )
        )
    }

    @Test func translateFindsThePartnerFromTheEnvelope() throws {
        let result = try OrdergateCLITests.run([
            "translate", "--mappings", Self.path("mappings"), Self.path("examples/acme/850-po-7731045.edi"),
        ])
        #expect(result.status == 0, "\(result.error)")
        let documents = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]
        #expect(documents?.count == 1)
        #expect(documents?.first?["purchaseOrderNumber"] as? String == "7731045")
        #expect(documents?.first?["partnerID"] as? String == "acme")
    }

    @Test func translateReadsCXMLWithItsDoctype() throws {
        let result = try OrdergateCLITests.run([
            "translate", "--mappings", Self.path("mappings"),
            Self.path("examples/procurenet/orderrequest-PN-PO-2026-000871.xml"),
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("\"purchaseOrderNumber\" : \"PN-PO-2026-000871\""))
        #expect(result.output.contains("\"partnerID\" : \"procurenet\""))
    }

    @Test func translateReportsAnUnmappableSetAndExitsSixtyFive() throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("og-bad-\(UUID().uuidString).edi")
        defer { try? FileManager.default.removeItem(at: bad) }
        let text = try String(contentsOfFile: Self.path("examples/acme/850-po-7731045.edi"), encoding: .utf8)
            .replacingOccurrences(of: "PO1*1*480*EA*4.25", with: "PO1*1*48O*EA*4.25")
        try text.write(to: bad, atomically: true, encoding: .utf8)
        let result = try OrdergateCLITests.run(["translate", "--mappings", Self.path("mappings"), bad.path])
        #expect(result.status == 65)
        #expect(result.error.contains("PO1"))
        #expect(result.error.contains("\"48O\" is not a number"))
    }

    @Test func renderWritesAValid855() throws {
        let result = try OrdergateCLITests.run([
            "render", "--mappings", Self.path("mappings"), "--partner", "acme", "--document", "855", "--now",
            "2026-11-23T10:00:00", Self.path("examples/canonical/acknowledgement-acme.json"),
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.hasPrefix("ISA*00*"))
        #expect(result.output.contains("ST*855*0001"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("og-855-\(UUID().uuidString).edi")
        defer { try? FileManager.default.removeItem(at: file) }
        try result.output.write(to: file, atomically: true, encoding: .utf8)
        let check = try OrdergateCLITests.run(["validate", file.path])
        #expect(check.status == 0, "\(check.output)")
    }
}

extension MappingCommandsTests {
    /// Regression: a file that is not EDI printed `[]` and exited 0.
    @Test func translateOfAFileThatIsNotEDIExitsSixtyFive() throws {
        let path = OrdergateCLITests.corpusFile("malformed/bad-not-edi-ediengine.edi")
        let result = try OrdergateCLITests.run(["translate", "--mappings", Self.path("mappings"), path])
        #expect(result.status == 65)
        #expect(result.error.hasPrefix("\(path): "))
    }

    /// A file of 1 MB or more is translated pipelined and printed as it goes: the output is still one JSON array with
    /// the documents in file order, and an unmappable set among them is still reported with exit 65.
    @Test func translateOfALargeFilePrintsEveryDocumentInOrderAndItsIssues() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("og-large-\(UUID().uuidString).edi")
        defer { try? FileManager.default.removeItem(at: file) }
        let sample = try String(contentsOfFile: Self.path("examples/acme/850-po-7731045.edi"), encoding: .utf8)
        var text = ""
        var count = 0
        while text.utf8.count < 1 << 20 {
            var copy = sample.replacingOccurrences(of: "BEG*00*SA*7731045*", with: "BEG*00*SA*PO-\(count)*")
            if count == 500 { copy = copy.replacingOccurrences(of: "PO1*1*480*EA*4.25", with: "PO1*1*48O*EA*4.25") }
            text += copy
            count += 1
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
        let result = try OrdergateCLITests.run(["translate", "--mappings", Self.path("mappings"), file.path])
        #expect(result.status == 65)
        #expect(result.error.contains("\"48O\" is not a number"))
        let documents = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]
        let numbers = documents?.compactMap { $0["purchaseOrderNumber"] as? String }
        #expect(numbers == (0..<count).filter { $0 != 500 }.map { "PO-\($0)" })
    }

    /// Regression: malformed XML ended the command with exit 1 and a message that did not name the file.
    @Test func translateOfMalformedXMLNamesTheFileLineAndColumn() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("og-bad-\(UUID().uuidString).xml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "<?xml version=\"1.0\"?>\n<cXML>\n<Request>\n</cXML>\n".write(to: file, atomically: true, encoding: .utf8)
        let result = try OrdergateCLITests.run(["translate", "--mappings", Self.path("mappings"), file.path])
        #expect(result.status == 65)
        #expect(result.error.contains("\(file.path): line 4, column 8:"), "\(result.error)")
    }
}
