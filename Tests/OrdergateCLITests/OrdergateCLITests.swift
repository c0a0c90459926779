import Foundation
import Testing

/// The `ordergate` executable as a user runs it: exit codes, one-line errors, output formats.
@Suite struct OrdergateCLITests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let corpus = packageRoot.appendingPathComponent("Tests/EDISyntaxTests/Fixtures/corpus")

    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        let binary = Self.packageRoot.appendingPathComponent(".build/debug/ordergate")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData, as: UTF8.self)
        )
    }

    static func corpusFile(_ name: String) -> String { Self.corpus.appendingPathComponent(name).path }

    @Test func helpListsTheCommands() throws {
        let result = try Self.run(["--help"])
        #expect(result.status == 0)
        #expect(result.output.contains("inspect"))
        #expect(result.output.contains("validate"))
    }

    @Test func validFileExitsZero() throws {
        let result = try Self.run(["validate", Self.corpusFile("x12/850-po-ediengine.edi")])
        #expect(result.status == 0)
        #expect(result.output.hasSuffix("850-po-ediengine.edi: valid (1 interchanges, 1 sets)\n"))
    }

    @Test func invalidFileExitsSixtyFiveWithCompilerStyleLines() throws {
        let path = Self.corpusFile("malformed/x12-bad-850-syntax-notes-ediengine.edi")
        let result = try Self.run(["validate", Self.corpusFile("x12/850-po-ediengine.edi"), path])
        #expect(result.status == 65)
        #expect(
            result.output.contains(
                "\(path): segment 13 (PO1), element 07: PO107 is required: PO106 and PO107 go together (P0607)"
                    + " [997 AK502=5, 997 AK304=8, 997 AK403=2]"
            )
        )
    }

    @Test func jsonOutputCarriesLocationsAndAckCodes() throws {
        let path = Self.corpusFile("malformed/x12-bad-control-number-mismatch-ediengine.edi")
        let result = try Self.run(["validate", "--json", path])
        #expect(result.status == 65)
        let files = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
        let errors = try #require(files.first?["errors"] as? [[String: Any]])
        let setMismatch = try #require(errors.first { ($0["code"] as? String) == "setControlMismatch" })
        let location = try #require(setMismatch["location"] as? [String: Any])
        #expect(location["segmentPosition"] as? Int == 5)
        #expect((setMismatch["ackCodes"] as? [String: Any])?["ak502"] as? String == "3")
    }

    @Test(arguments: [
        (["validate", "/nonexistent/po.edi"], Int32(66), "ordergate: /nonexistent/po.edi: No such file or directory"),
        (["validate", "/tmp"], Int32(66), "ordergate: /tmp: not a regular file"),
        (["inspect", "/nonexistent/po.edi"], Int32(66), "ordergate: /nonexistent/po.edi: No such file or directory"),
    ])
    func unreadableInputsGetOneLineAndANonZeroExit(_ arguments: [String], _ status: Int32, _ message: String) throws {
        let result = try Self.run(arguments)
        #expect(result.status == status)
        #expect(result.error == message + "\n")
    }

    @Test func nonEDIFileIsRefusedInOneLine() throws {
        let path = Self.corpusFile("malformed/bad-not-edi-ediengine.edi")
        let validate = try Self.run(["validate", path])
        #expect(validate.status == 65)
        #expect(validate.output.split(separator: "\n").count == 1)
        #expect(validate.output.contains("not an X12 or EDIFACT document"))
        let inspect = try Self.run(["inspect", path])
        #expect(inspect.status == 65)
        #expect(inspect.error.split(separator: "\n").count == 1)
    }

    @Test(arguments: [["validate"], ["frobnicate"], ["inspect", "--sumary", "x"]])
    func badArgumentsExitWithUsageError(_ arguments: [String]) throws {
        let result = try Self.run(arguments)
        #expect(result.status == 64)
        #expect(result.error.contains("Error:"))
        #expect(!result.error.contains("Fatal error"))
    }

    @Test func inspectSummaryCountsEnvelopes() throws {
        let result = try Self.run(["inspect", "--summary", Self.corpusFile("x12/940-multi-isa-multi-gs-ediengine.edi")])
        #expect(result.status == 0)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Int])
        #expect(summary["interchanges"] == 2)
        #expect(summary["groups"] == 4)
        #expect(summary["sets"] == 6)
    }

    @Test func inspectPrintsSegmentsWithByteOffsets() throws {
        let result = try Self.run(["inspect", Self.corpusFile("edifact/orders-with-ung-group-staedi.edi")])
        #expect(result.status == 0)
        let outline = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let interchange = try #require((outline["interchanges"] as? [[String: Any]])?.first)
        let group = try #require((interchange["groups"] as? [[String: Any]])?.first)
        let set = try #require((group["sets"] as? [[String: Any]])?.first)
        let segments = try #require(set["segments"] as? [[String: Any]])
        #expect(segments.first?["tag"] as? String == "UNH")
        #expect((segments.first?["byteOffset"] as? Int ?? 0) > 0)
    }
}
