import EDISyntax
import Foundation
import OrderMapping
import OrderModel
import Testing

/// `translateEDI(pipelined: true)` reads on one thread and maps on others: it must give what the plain translation
/// gives, in the same order, and stop cleanly (all its threads) when the caller's body or the input fails.
@Suite("Pipelined translation")
struct PipelinedTranslationTests {
    /// Every purchase order of the corpus and the examples.
    static let files: [String] = {
        let corpus = ["corpus/x12", "corpus/edifact", "corpus/xml"].flatMap { folder in
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

    /// A batch of `count` UBL orders, each with its own ID; every seventh one with a date that is not a date (an
    /// issue among the values); cut short after the last order when `truncated` (a syntax error at the end).
    static func ublBatch(orders count: Int, truncated: Bool = false) -> [UInt8] {
        var text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <OrderBatch xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2" \
            xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" \
            xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">

            """
        for index in 0..<count {
            let date = index % 7 == 3 ? "2024-13-45" : "2024-03-01"
            text += """
                <Order><cbc:UBLVersionID>2.1</cbc:UBLVersionID><cbc:ID>PO-\(index)</cbc:ID>\
                <cbc:IssueDate>\(date)</cbc:IssueDate><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>\
                <cac:OrderLine><cac:LineItem><cbc:ID>1</cbc:ID><cbc:Quantity unitCode="EA">\(index + 1)</cbc:Quantity>\
                <cac:Item><cac:SellersItemIdentification><cbc:ID>ITEM-\(index)</cbc:ID>\
                </cac:SellersItemIdentification></cac:Item></cac:LineItem></cac:OrderLine></Order>

                """
        }
        if !truncated { text += "</OrderBatch>\n" }
        return Array(text.utf8)
    }

    @Test func theFilesAreFound() {
        #expect(Self.files.count >= 15)
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

    @Test func aLongXMLBatchWithIssuesAmongItsRecordsGivesTheSameValuesAndIssuesInOrder() throws {
        let (documents, issues) = try Self.expectSameTranslation(Self.ublBatch(orders: 300), name: "batch.xml")
        #expect(documents.count == 300 - 43)
        #expect(issues.count == 43)
        let numbers = Repository.orders(documents).map(\.purchaseOrderNumber)
        #expect(numbers == (0..<300).filter { $0 % 7 != 3 }.map { "PO-\($0)" })
    }

    @Test func anXMLBatchCutShortGivesTheRecordsBeforeTheBreakAndSaysWhere() throws {
        let (documents, issues) = try Self.expectSameTranslation(
            Self.ublBatch(orders: 100, truncated: true),
            name: "cut.xml"
        )
        #expect(documents.count == 100 - 14)
        #expect(issues.last?.message.hasPrefix("cut.xml:") == true, "\(issues)")
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
        var delivered: [Bool: Int] = [:]
        for pipelined in [false, true] {
            #expect(throws: Broken.self) {
                _ = try Translator(mappings: try Repository.mappings.get()).translateEDI(
                    source: FailingSource(inner: BufferByteSource(bytes)),
                    pipelined: pipelined
                ) { _ in delivered[pipelined, default: 0] += 1 }
            }
        }
        // Every set that ended before the failure, in both.
        #expect(delivered[false] == 100 - 14)
        #expect(delivered[true] == delivered[false])
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
