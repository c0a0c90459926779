import EDISyntax
import Foundation
import OrderMapping
import OrderModel
import Testing

/// The sample partners' documents in examples/ translate with their partners' maps.
@Suite("Example documents")
struct ExampleTranslationTests {
    static func orders(_ file: String) throws -> (orders: [Order], issues: [TranslationIssue]) {
        let url = Repository.root.appendingPathComponent("examples/" + file)
        let (documents, issues) = try Repository.translate(try Repository.bytes(url), name: file)
        return (Repository.orders(documents), issues)
    }

    @Test func acmeOrderLinesTakeTheOrdersCurrencyThroughAnAbsolutePath() throws {
        let (orders, issues) = try Self.orders("acme/850-po-7731045.edi")
        #expect(issues.isEmpty)
        let order = try #require(orders.first)
        #expect(order.partnerID == "acme")
        #expect(order.lines.count == 4)
        #expect(order.lines.allSatisfy { $0.unitPrice?.currency == "USD" })
        #expect(order.lines[0].item.gtin == "614141100019")
        #expect(order.lines[0].item.buyerPart == "20457311")
        #expect(order.lines[0].item.vendorPart == "WW-1001")
    }

    @Test func acmeInterchangeWithTwoOrdersGivesTwoOrders() throws {
        let (orders, issues) = try Self.orders("acme/850-two-pos-unknown-item.edi")
        #expect(issues.isEmpty)
        #expect(orders.map(\.purchaseOrderNumber) == ["7731112", "7731113"])
        #expect(orders.map(\.source?.transactionSetControlNumber) == ["0001", "0002"])
    }

    @Test func nordhandelReplacementIsAReplace() throws {
        let (original, _) = try Self.orders("nordhandel/orders-4500098765.edi")
        let (replacement, issues) = try Self.orders("nordhandel/orders-4500098765-replacement.edi")
        #expect(issues.isEmpty)
        #expect(original.first?.purpose == .original)
        #expect(replacement.first?.purpose == .replace)
        #expect(replacement.first?.purchaseOrderNumber == original.first?.purchaseOrderNumber)
        #expect(replacement.first?.partnerID == "nordhandel")
        #expect(replacement.first?.lines.allSatisfy { $0.unitPrice?.currency == "EUR" } == true)
    }

    @Test func procurenetOrderComesFromItsCXMLIdentity() throws {
        let (orders, issues) = try Self.orders("procurenet/orderrequest-PN-PO-2026-000904-price-differs.xml")
        #expect(issues.isEmpty)
        let order = try #require(orders.first)
        #expect(order.partnerID == "procurenet")
        #expect(order.lines.first?.unitPrice == Money(DecimalText.parse("8.95")!, currency: "USD"))
        #expect(order.lines.first?.item.vendorPart == "WW-1002")
    }
}

extension ExampleTranslationTests {
    /// A partner's override replaces one rule of the shared map for that partner only, and changes the map's version.
    @Test func partnerOverrideChangesOneRuleForThatPartner() throws {
        var files = try Repository.mappingFiles()
        let index = try #require(files.firstIndex { $0.path == "partners/acme.yaml" })
        files[index].text = files[index].text.replacingOccurrences(
            of: "  - map: x12/850-004010\n",
            with: "  - map: x12/850-004010\n    overrides:\n      lines.item.sku: { pairs: PO106, qualifier: [VN] }\n"
        )
        let set = try MappingSet.load(files: files)
        let bytes = try Repository.bytes(Repository.root.appendingPathComponent("examples/acme/850-po-7731045.edi"))
        var orders: [Order] = []
        let issues = try Translator(mappings: set).translateEDI(source: BufferByteSource(bytes)) { document in
            if case .order(let order) = document.value { orders.append(order) }
        }
        #expect(issues.isEmpty)
        let order = try #require(orders.first)
        #expect(order.lines.map(\.item.sku) == ["WW-1001", "WW-1002", "WW-1003", "WW-1004"])
        #expect(order.lines.first?.item.vendorPart == "WW-1001")
        let shared = try #require(set.inbound["x12/850-004010"])
        #expect(order.source?.mappingVersion != shared.version)
        // Without the override (the shipped profile) there is no SKU.
        let (plain, _) = try Self.orders("acme/850-po-7731045.edi")
        #expect(plain.first?.lines.allSatisfy { $0.item.sku == nil } == true)
    }
}
