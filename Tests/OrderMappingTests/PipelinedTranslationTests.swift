import EDISyntax
import Foundation
import OrderMapping
import OrderModel
import Testing

/// `translateEDI(pipelined: true)` reads on one thread and maps on others: it must give what the plain translation
/// gives, in the same order, and stop cleanly (all its threads) when the caller's body or the input fails.
@Suite("Pipelined translation")
struct PipelinedTranslationTests {
    /// Every EDI purchase order of the corpus and the examples.
    static let files: [String] = {
        let corpus = ["corpus/x12", "corpus/edifact"].flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(
                atPath: Repository.fixtures.appendingPathComponent(folder).path
            )) ?? []).filter { !$0.hasSuffix(".json") }.map { "Tests/OrderMappingTests/Fixtures/\(folder)/\($0)" }
        }
        return corpus.sorted() + [
            "examples/acme/850-two-pos-unknown-item.edi", "examples/nordhandel/orders-4500098765.edi",
        ]
    }()

    /// The acme sample repeated: `count` interchanges, each with its own PO number, every seventh one with a set
    /// type no map reads (an issue among the values).
    static func longDocument(interchanges count: Int) throws -> [UInt8] {
        let sample = String(
            decoding: try Repository.bytes(Repository.root.appendingPathComponent("examples/acme/850-po-7731045.edi")),
            as: UTF8.self
        )
        var text = ""
        for index in 0..<count {
            var copy = sample.replacingOccurrences(of: "BEG*00*SA*7731045*", with: "BEG*00*SA*PO-\(index)*")
            if index % 7 == 3 { copy = copy.replacingOccurrences(of: "ST*850*", with: "ST*204*") }
            text += copy
        }
        return Array(text.utf8)
    }

    @Test func theFilesAreFound() {
        #expect(Self.files.count >= 10)
    }

    @Test(arguments: Self.files)
    func aPipelinedTranslationGivesWhatThePlainOneGives(_ file: String) throws {
        let bytes = try Repository.bytes(Repository.root.appendingPathComponent(file))
        try Self.expectSameTranslation(bytes, name: file)
    }

    @Test func aLongDocumentWithIssuesAmongItsSetsGivesTheSameValuesAndIssuesInOrder() throws {
        let bytes = try Self.longDocument(interchanges: 300)
        let (documents, issues) = try Self.expectSameTranslation(bytes, name: "long")
        #expect(documents.count == 300 - 43)
        #expect(issues.count == 43)
        let numbers = Repository.orders(documents).map(\.purchaseOrderNumber)
        #expect(numbers == (0..<300).filter { $0 % 7 != 3 }.map { "PO-\($0)" })
    }

    @Test func aBodyThatThrowsStopsThePipelinedTranslation() throws {
        struct Stop: Error {}
        let bytes = try Self.longDocument(interchanges: 400)
        var delivered = 0
        #expect(throws: Stop.self) {
            _ = try Translator(mappings: try Repository.mappings.get()).translateEDI(
                source: BufferByteSource(bytes),
                pipelined: true
            ) { _ in
                delivered += 1
                if delivered == 50 { throw Stop() }
            }
        }
        #expect(delivered == 50)
    }

    @Test func anInputThatFailsStopsThePipelinedTranslationAfterTheSetsBeforeIt() throws {
        struct Broken: Error {}
        /// The bytes, then an error where they end.
        struct FailingSource: ByteSource {
            var inner: BufferByteSource
            mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
                let count = try self.inner.read(into: buffer)
                if count == 0 { throw Broken() }
                return count
            }
        }
        let bytes = try Self.longDocument(interchanges: 100)
        for pipelined in [false, true] {
            var delivered = 0
            #expect(throws: Broken.self) {
                _ = try Translator(mappings: try Repository.mappings.get()).translateEDI(
                    source: FailingSource(inner: BufferByteSource(bytes)),
                    pipelined: pipelined
                ) { _ in delivered += 1 }
            }
            #expect(delivered > 0, "pipelined: \(pipelined)")
        }
    }

    @discardableResult
    static func expectSameTranslation(
        _ bytes: [UInt8],
        name: String
    ) throws -> (documents: [TranslatedDocument], issues: [TranslationIssue]) {
        let plain = try Repository.translate(bytes, name: name)
        let pipelined = try Repository.translate(bytes, name: name, pipelined: true)
        #expect(pipelined.documents.map(\.value) == plain.documents.map(\.value))
        #expect(pipelined.documents.map(\.partnerID) == plain.documents.map(\.partnerID))
        #expect(pipelined.issues == plain.issues)
        return plain
    }
}
