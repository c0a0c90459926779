import EDISyntax
import Foundation
import OrderMapping
import OrderModel
import Testing
import XMLSyntax

/// Outbound documents rendered for the sample partners pass the EDI core's validation (or are well-formed XML), and
/// the X12 855, 856 and 810 read back, through the read-back maps, to the canonical values they were made from.
@Suite("Rendering and round trips")
struct RenderRoundTripTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var partner: String
        var record: RecordKind
        var json: String
        var testDescription: String { "\(self.partner) \(self.record.rawValue)" }
    }

    static let cases: [Case] = [
        Case(partner: "acme", record: .acknowledgement, json: "acknowledgement-acme.json"),
        Case(partner: "acme", record: .shipNotice, json: "shipnotice-acme.json"),
        Case(partner: "acme", record: .invoice, json: "invoice-acme.json"),
        Case(partner: "nordhandel", record: .acknowledgement, json: "acknowledgement-nordhandel.json"),
        Case(partner: "nordhandel", record: .shipNotice, json: "shipnotice-nordhandel.json"),
        Case(partner: "nordhandel", record: .invoice, json: "invoice-nordhandel.json"),
        Case(partner: "procurenet", record: .acknowledgement, json: "acknowledgement-procurenet.json"),
        Case(partner: "procurenet", record: .shipNotice, json: "shipnotice-procurenet.json"),
    ]

    static let now = DocumentDate(year: 2026, month: 11, day: 23, hour: 10, minute: 0, second: 0, utcOffsetMinutes: 0)!

    static func value(_ testCase: Case) throws -> MappedDocument {
        let bytes = try Repository.bytes(Repository.root.appendingPathComponent("examples/canonical/" + testCase.json))
        switch testCase.record {
        case .order: return .order(try CanonicalJSON.decode(Order.self, from: bytes))
        case .acknowledgement: return .acknowledgement(try CanonicalJSON.decode(Acknowledgement.self, from: bytes))
        case .shipNotice: return .shipNotice(try CanonicalJSON.decode(ShipNotice.self, from: bytes))
        case .invoice: return .invoice(try CanonicalJSON.decode(Invoice.self, from: bytes))
        }
    }

    static func render(_ testCase: Case) throws -> (bytes: [UInt8], map: OutboundMap) {
        let mappings = try Repository.mappings.get()
        let renderer = DocumentRenderer(mappings: mappings)
        let partner = try #require(mappings.partners[testCase.partner])
        let map = try #require(renderer.map(for: partner, record: testCase.record))
        let bytes = try renderer.render(
            try self.value(testCase),
            with: map,
            for: partner,
            controlNumbers: ControlNumbers(interchange: 7, group: 7, transactionSet: 7),
            now: self.now
        )
        return (bytes, map)
    }

    @Test(arguments: Self.cases)
    func renderedDocumentIsValid(_ testCase: Case) throws {
        let (bytes, map) = try Self.render(testCase)
        if map.format == .xml {
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasPrefix("<?xml"))
            var limits = XMLLimits.default
            limits.allowedDoctypes = ["cXML"]
            let root = try XMLStreamReader(bytes: bytes, limits: limits).readDocument()
            #expect(root.localName == map.document || root.localName == "cXML", "\(text)")
        } else {
            let report = EDIValidator().validate(bytes: bytes)
            #expect(report.isValid, "\(report.allErrors)\n\(String(decoding: bytes, as: UTF8.self))")
            let sets =
                (report.interchanges.first?.groups.first?.sets ?? []) + (report.interchanges.first?.messages ?? [])
            #expect(sets.count == 1 && sets.allSatisfy(\.isSupported), "checked against a schema")
        }
    }

    @Test func acknowledgementRoundTripsThrough855() throws {
        let testCase = Self.cases[0]
        guard case .acknowledgement(let original) = try Self.value(testCase) else { return }
        let (bytes, _) = try Self.render(testCase)
        let (documents, issues) = try Repository.translate(bytes, name: "855")
        #expect(issues.isEmpty, "\(issues)")
        guard case .acknowledgement(let read)? = documents.first?.value else {
            Issue.record("no acknowledgement read back")
            return
        }
        #expect(read.status == original.status)
        #expect(read.purchaseOrderNumber == original.purchaseOrderNumber)
        #expect(read.orderDate == original.orderDate)
        #expect(read.lines.count == original.lines.count)
        for (a, b) in zip(read.lines, original.lines) {
            #expect(a.lineNumber == b.lineNumber)
            #expect(a.item == b.item)
            #expect(a.orderedQuantity == b.orderedQuantity)
            #expect(a.orderedUnitPrice?.amount == b.orderedUnitPrice?.amount)
            #expect(a.dispositions.map(\.status) == b.dispositions.map(\.status))
            #expect(a.dispositions.map(\.quantity) == b.dispositions.map(\.quantity))
            #expect(a.dispositions.map(\.scheduledShipDate) == b.dispositions.map(\.scheduledShipDate))
        }
    }

    @Test func shipNoticeRoundTripsThrough856() throws {
        let testCase = Self.cases[1]
        guard case .shipNotice(let original) = try Self.value(testCase) else { return }
        let (bytes, _) = try Self.render(testCase)
        // CTT01 counts the HL segments; CTT02 is the hash total of the shipped quantities.
        let text = String(decoding: bytes, as: UTF8.self)
        let levels = text.split(separator: "\n").filter { $0.hasPrefix("HL*") }.count
        let shipped = original.orders.flatMap(\.packs).flatMap(\.items).compactMap(\.quantity?.value).reduce(0, +)
        #expect(text.contains("CTT*\(levels)*\(DecimalText.format(shipped))~"), "\(text)")
        let (documents, issues) = try Repository.translate(bytes, name: "856")
        #expect(issues.isEmpty, "\(issues)")
        guard case .shipNotice(let read)? = documents.first?.value else {
            Issue.record("no ship notice read back")
            return
        }
        #expect(read.shipmentID == original.shipmentID)
        #expect(read.shippedDate == original.shippedDate)
        #expect(read.carrier?.scac == original.carrier?.scac)
        #expect(read.trackingNumbers == original.trackingNumbers)
        #expect(read.orders.map(\.purchaseOrderNumber) == original.orders.map(\.purchaseOrderNumber))
        for (a, b) in zip(read.orders, original.orders) {
            #expect(a.packs.map(\.sscc) == b.packs.map(\.sscc))
            for (packA, packB) in zip(a.packs, b.packs) {
                #expect(packA.items.map(\.quantity) == packB.items.map(\.quantity))
                #expect(packA.items.map(\.item) == packB.items.map(\.item))
            }
        }
    }

    @Test func invoiceRoundTripsThrough810() throws {
        let testCase = Self.cases[2]
        guard case .invoice(let original) = try Self.value(testCase) else { return }
        let (bytes, _) = try Self.render(testCase)
        let (documents, issues) = try Repository.translate(bytes, name: "810")
        #expect(issues.isEmpty, "\(issues)")
        guard case .invoice(let read)? = documents.first?.value else {
            Issue.record("no invoice read back")
            return
        }
        #expect(read.invoiceNumber == original.invoiceNumber)
        #expect(read.invoiceDate == original.invoiceDate)
        #expect(read.purchaseOrderNumber == original.purchaseOrderNumber)
        #expect(read.totalAmount?.amount == original.totalAmount?.amount)
        #expect(read.lines.count == original.lines.count)
        for (a, b) in zip(read.lines, original.lines) {
            #expect(a.quantity == b.quantity)
            #expect(a.unitPrice?.amount == b.unitPrice?.amount)
            #expect(a.item == b.item)
        }
        #expect(read.allowancesAndCharges.map(\.amount?.amount) == original.allowancesAndCharges.map(\.amount?.amount))
    }
}

extension RenderRoundTripTests {
    /// Regression: acme's descriptions (39 characters) rendered into EDIFACT IMD (at most 35) made DESADV invalid;
    /// free-text elements are now cut to the schema's maximum length.
    @Test func longTextIsCutToTheElementsMaximumLength() throws {
        let mappings = try Repository.mappings.get()
        let renderer = DocumentRenderer(mappings: mappings)
        let partner = try #require(mappings.partners["nordhandel"])
        let map = try #require(renderer.map(for: partner, record: .shipNotice))
        let value = try Self.value(Case(partner: "acme", record: .shipNotice, json: "shipnotice-acme.json"))
        let bytes = try renderer.render(
            value,
            with: map,
            for: partner,
            controlNumbers: ControlNumbers(interchange: 1, group: 1, transactionSet: 1),
            now: Self.now
        )
        let report = EDIValidator().validate(bytes: bytes)
        #expect(report.isValid, "\(report.allErrors)")
        #expect(String(decoding: bytes, as: UTF8.self).contains("STANDARD WIDGET ZINC-PLATED STEEL 5'"))
    }
}

extension RenderRoundTripTests {
    /// `^field` reads the enclosing record and `^^field` the one around it: an item can name its pack and its order.
    @Test func nestedBlocksReadTheirEnclosingRecords() throws {
        let layout = """
            direction: outbound
            format: xml
            document: Items
            record: shipNotice
            root:
              - Items:
                  - each: orders
                    content:
                      - each: packs
                        content:
                          - each: items
                            content:
                              - Item:
                                  - "@order": ^^purchaseOrderNumber
                                  - "@pack": ^sscc
                                  - "#text": quantity

            """
        let set = try MappingSet.load(files: [("xml/items.yaml", layout)])
        let map = try #require(set.outbound["xml/items"])
        var notice = ShipNotice()
        var order = ShippedOrder()
        order.purchaseOrderNumber = "PO-9"
        var pack = Pack()
        pack.sscc = "106141411234567897"
        var item = ShippedItem()
        item.quantity = Quantity(12, unit: "EA")
        pack.items = [item]
        order.packs = [pack]
        notice.orders = [order]
        let text = try map.renderXML(.shipNotice(notice), context: RenderContext(now: Self.now))
        #expect(text.contains("<Item order=\"PO-9\" pack=\"106141411234567897\">12</Item>"), "\(text)")
    }

    @Test func enclosingReferencesAreCheckedWhenLoaded() {
        let layout = """
            direction: outbound
            format: xml
            document: Items
            record: shipNotice
            root:
              - Items:
                  - each: orders
                    content:
                      - Order: ^^shipmentID

            """
        do {
            _ = try MappingSet.load(files: [("xml/items.yaml", layout)])
            Issue.record("loaded")
        } catch {
            #expect(
                error.diagnostics.map(\.message) == ["'^^shipmentID' goes 2 record(s) up, but this block is inside 1"]
            )
            #expect(error.diagnostics.first?.line == 9)
        }
    }
}
