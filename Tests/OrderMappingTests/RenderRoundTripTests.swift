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
        Case(partner: "procurenet", record: .invoice, json: "invoice-procurenet.json"),
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
    /// CTT02 is an X12 hash total: quantities summed without regard to decimal points (1.5 counts 15), cut on the
    /// left to ten digits. Regression (review): it was the plain sum, so a 15-digit quantity made the 855 invalid
    /// and it was never sent, and decimal quantities gave a decimal hash.
    @Test(arguments: [
        (["2", "1.5"], "17"), (["999999999999999"], "9999999999"), (["12345678901", "9"], "2345678910"), (["-3"], "3"),
    ])
    func theCTTHashTotalIgnoresDecimalPointsAndIsCutOnTheLeft(quantities: [String], hash: String) throws {
        let text = try Self.renderAcmeAcknowledgement { line in
            quantities.map { quantity in
                var copy = line
                copy.orderedQuantity = Quantity(Decimal(string: quantity)!, unit: "EA")
                return copy
            }
        }
        #expect(text.contains("CTT*\(quantities.count)*\(hash)~"), "\(text)")
    }

    /// The 855 repeats the price basis the buyer gave (PO105). Regression (review): it always said PE.
    @Test func theAcknowledgementRepeatsTheOrderedPriceBasis() throws {
        let text = try Self.renderAcmeAcknowledgement { line in
            var perCarton = line
            perCarton.orderedPriceBasis = "CT"
            var unsaid = line
            unsaid.orderedPriceBasis = nil
            return [perCarton, unsaid]
        }
        let lines = text.split(separator: "~").filter { $0.contains("PO1*") }.map { $0.split(separator: "*") }
        #expect(lines.map { $0[5] } == ["CT", "PE"], "\(text)")
    }

    /// acme's example acknowledgement with its lines made from its first line, rendered with acme's 855 map and
    /// checked against the schema.
    static func renderAcmeAcknowledgement(lines: (AcknowledgedLine) -> [AcknowledgedLine]) throws -> String {
        let mappings = try Repository.mappings.get()
        let renderer = DocumentRenderer(mappings: mappings)
        let partner = try #require(mappings.partners["acme"])
        let map = try #require(renderer.map(for: partner, record: .acknowledgement))
        guard
            case .acknowledgement(var acknowledgement) = try Self.value(
                Case(partner: "acme", record: .acknowledgement, json: "acknowledgement-acme.json")
            )
        else { throw CocoaError(.coderInvalidValue) }
        acknowledgement.lines = lines(try #require(acknowledgement.lines.first))
        let bytes = try renderer.render(
            .acknowledgement(acknowledgement),
            with: map,
            for: partner,
            controlNumbers: ControlNumbers(interchange: 1, group: 1, transactionSet: 1),
            now: Self.now
        )
        let report = EDIValidator().validate(bytes: bytes)
        #expect(report.isValid, "\(report.allErrors)")
        return String(decoding: bytes, as: UTF8.self)
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

extension RenderRoundTripTests {
    static let cxmlInvoice = "xml/cxml-InvoiceDetailRequest"
    static let ublInvoice = "xml/ubl-Invoice-2.1"

    static func invoice(_ json: String) throws -> Invoice {
        try CanonicalJSON.decode(
            Invoice.self,
            from: try Repository.bytes(Repository.root.appendingPathComponent("examples/canonical/" + json))
        )
    }

    /// An invoice rendered for a partner with a shipped map, given by its ID.
    static func renderInvoice(_ invoice: Invoice, for partnerID: String, with mapID: String) throws -> [UInt8] {
        let mappings = try Repository.mappings.get()
        let partner = try #require(mappings.partners[partnerID])
        let map = try #require(mappings.outbound[mapID])
        return try DocumentRenderer(mappings: mappings).render(
            .invoice(invoice),
            with: map,
            for: partner,
            controlNumbers: ControlNumbers(interchange: 7, group: 7, transactionSet: 7),
            now: Self.now
        )
    }

    /// The rendered document as a tree (which also proves it well-formed).
    static func readXML(_ bytes: [UInt8]) throws -> XMLSyntax.XMLElement {
        var limits = XMLLimits.default
        limits.allowedDoctypes = ["cXML"]
        return try XMLStreamReader(bytes: bytes, limits: limits).readDocument()
    }

    /// The element reached from `element` through the first child of each name.
    static func descendant(of element: XMLSyntax.XMLElement, _ names: String...) -> XMLSyntax.XMLElement? {
        var current: XMLSyntax.XMLElement? = element
        for name in names { current = current?.firstChild(name) }
        return current
    }

    @Test func procurenetInvoicesAreRenderedAsCXMLInvoiceDetailRequests() throws {
        let mappings = try Repository.mappings.get()
        let partner = try #require(mappings.partners["procurenet"])
        let renderer = DocumentRenderer(mappings: mappings)
        #expect(renderer.map(for: partner, record: .invoice)?.id == Self.cxmlInvoice)
        #expect(renderer.map(for: partner, document: "InvoiceDetailRequest")?.id == Self.cxmlInvoice)
        // Not in the profile, but found by its document name for `render --document Invoice`.
        #expect(renderer.map(for: partner, document: "Invoice")?.id == Self.ublInvoice)
    }

    @Test func rendersTheInvoicesHeaderLinesAndTotalsIntoInvoiceDetailRequest() throws {
        let bytes = try Self.renderInvoice(
            try Self.invoice("invoice-procurenet.json"),
            for: "procurenet",
            with: Self.cxmlInvoice
        )
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("<!DOCTYPE cXML SYSTEM \"http://xml.cxml.org/schemas/cXML/1.2.050/InvoiceDetail.dtd\">"))
        let root = try Self.readXML(bytes)
        #expect(root.localName == "cXML")
        #expect(Self.descendant(of: root, "Header", "From", "Credential", "Identity")?.text == "AN02000000002")
        #expect(Self.descendant(of: root, "Header", "To", "Credential", "Identity")?.text == "AN01000000001")
        #expect(!text.contains("SharedSecret"))

        let request = try #require(Self.descendant(of: root, "Request", "InvoiceDetailRequest"))
        #expect(
            request.children.map(\.localName)
                == ["InvoiceDetailRequestHeader", "InvoiceDetailOrder", "InvoiceDetailSummary"]
        )
        let header = try #require(request.firstChild("InvoiceDetailRequestHeader"))
        #expect(header.attribute("invoiceID") == "WW-INV-880129")
        #expect(header.attribute("purpose") == "standard")
        #expect(header.attribute("operation") == "new")
        #expect(header.attribute("invoiceDate") == "2026-11-12T09:30:00-05:00")
        #expect(
            header.children("InvoicePartner").map { $0.firstChild("Contact")?.attribute("role") }
                == ["billTo", "shipTo", "remitTo"]
        )
        #expect(header.firstChild("ShipNoticeIDInfo")?.attribute("shipNoticeID") == "WW-SH-300419")
        #expect(header.children("PaymentTerm").map { $0.attribute("payInNumberOfDays") } == ["30"])

        let order = try #require(request.firstChild("InvoiceDetailOrder"))
        let reference = try #require(Self.descendant(of: order, "InvoiceDetailOrderInfo", "OrderReference"))
        #expect(reference.attribute("orderID") == "PN-PO-2026-000871")
        #expect(
            reference.children("DocumentReference").map { $0.attribute("payloadID") }
                == ["20261104151207.8841.000871@procurenet.example"]
        )
        let items = order.children("InvoiceDetailItem")
        #expect(items.count == 4)
        #expect(items.map { $0.attribute("invoiceLineNumber") } == ["1", "2", "3", "4"])
        #expect(items.map { $0.attribute("quantity") } == ["60", "20", "10", "24"])
        #expect(items.map { $0.firstChild("UnitOfMeasure")?.text } == ["EA", "EA", "EA", "EA"])
        #expect(items.map { Self.descendant(of: $0, "UnitPrice", "Money")?.text } == ["4.25", "9.8", "12.95", "6.95"])
        #expect(
            items.map { Self.descendant(of: $0, "UnitPrice", "Money")?.attribute("currency") }
                == ["USD", "USD", "USD", "USD"]
        )
        #expect(
            items.map { $0.firstChild("InvoiceDetailItemReference")?.attribute("lineNumber") } == ["1", "2", "3", "4"]
        )
        #expect(
            items.map { Self.descendant(of: $0, "InvoiceDetailItemReference", "ItemID", "SupplierPartID")?.text }
                == ["WW-1001", "WW-1002", "WW-1003", "WW-1004"]
        )
        #expect(
            items.map { Self.descendant(of: $0, "SubtotalAmount", "Money")?.text }
                == ["255.00", "196.00", "129.50", "166.80"]
        )

        // The summary is the invoice's own subtotal, tax and total, in the invoice's currency.
        let summary = try #require(request.firstChild("InvoiceDetailSummary"))
        #expect(
            summary.children.map(\.localName) == ["SubtotalAmount", "Tax", "GrossAmount", "NetAmount", "DueAmount"]
        )
        #expect(
            summary.children.map { $0.firstChild("Money")?.text } == ["747.30", "69.13", "816.43", "816.43", "816.43"]
        )
        #expect(summary.children.allSatisfy { $0.firstChild("Money")?.attribute("currency") == "USD" })
        #expect(Self.descendant(of: summary, "Tax", "Description")?.text.isEmpty == false)
    }

    @Test func writesNetAndCashDiscountTermsAsCXMLPaymentTerms() throws {
        // acme's invoice: 2 % 10 days, net 30.
        let root = try Self.readXML(
            try Self.renderInvoice(try Self.invoice("invoice-acme.json"), for: "procurenet", with: Self.cxmlInvoice)
        )
        let header = try #require(
            Self.descendant(of: root, "Request", "InvoiceDetailRequest", "InvoiceDetailRequestHeader")
        )
        let terms = header.children("PaymentTerm")
        #expect(terms.map { $0.attribute("payInNumberOfDays") } == ["30", "10"])
        #expect(
            terms.map { Self.descendant(of: $0, "Discount", "DiscountPercent")?.attribute("percent") } == [nil, "2"]
        )
    }

    @Test func rendersTheInvoiceAsAUBLInvoiceWithItsTotalsAndLines() throws {
        let bytes = try Self.renderInvoice(
            try Self.invoice("invoice-procurenet.json"),
            for: "procurenet",
            with: Self.ublInvoice
        )
        let root = try Self.readXML(bytes)
        let cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
        let cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
        #expect(root.localName == "Invoice")
        #expect(root.namespaceURI == "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2")
        // The heading in the order of the UBL 2.1 Invoice schema.
        #expect(
            root.children.map(\.localName) == [
                "UBLVersionID", "ID", "IssueDate", "InvoiceTypeCode", "DocumentCurrencyCode", "OrderReference",
                "DespatchDocumentReference", "AdditionalDocumentReference", "AccountingSupplierParty",
                "AccountingCustomerParty", "PaymentTerms", "TaxTotal", "LegalMonetaryTotal", "InvoiceLine",
                "InvoiceLine", "InvoiceLine", "InvoiceLine",
            ]
        )
        #expect(root.firstChild("UBLVersionID")?.text == "2.1")
        let id = try #require(root.firstChild("ID"))
        #expect(id.text == "WW-INV-880129")
        #expect(id.namespaceURI == cbc)
        #expect(root.firstChild("IssueDate")?.text == "2026-11-12")
        #expect(root.firstChild("InvoiceTypeCode")?.text == "380")
        #expect(root.firstChild("DocumentCurrencyCode")?.text == "USD")
        #expect(root.firstChild("OrderReference")?.namespaceURI == cac)
        #expect(Self.descendant(of: root, "OrderReference", "ID")?.text == "PN-PO-2026-000871")
        #expect(Self.descendant(of: root, "DespatchDocumentReference", "ID")?.text == "WW-SH-300419")
        #expect(
            Self.descendant(of: root, "AccountingSupplierParty", "Party", "PartyIdentification", "ID")?.text
                == "AN02000000002"
        )
        #expect(
            Self.descendant(of: root, "AccountingCustomerParty", "Party", "PartyIdentification", "ID")?.text
                == "AN01000000001"
        )
        let tax = try #require(Self.descendant(of: root, "TaxTotal", "TaxAmount"))
        #expect(tax.text == "69.13")
        #expect(tax.attribute("currencyID") == "USD")
        let totals = try #require(root.firstChild("LegalMonetaryTotal"))
        #expect(
            totals.children.map(\.localName)
                == ["LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount", "PayableAmount"]
        )
        #expect(totals.children.map(\.text) == ["747.30", "747.30", "816.43", "816.43"])
        #expect(totals.children.allSatisfy { $0.attribute("currencyID") == "USD" })

        let lines = root.children("InvoiceLine")
        #expect(lines.count == 4)
        #expect(lines.map { $0.firstChild("ID")?.text } == ["1", "2", "3", "4"])
        #expect(lines.map { $0.firstChild("InvoicedQuantity")?.text } == ["60", "20", "10", "24"])
        #expect(lines.map { $0.firstChild("InvoicedQuantity")?.attribute("unitCode") } == ["EA", "EA", "EA", "EA"])
        #expect(
            lines.map { $0.firstChild("LineExtensionAmount")?.text } == ["255.00", "196.00", "129.50", "166.80"]
        )
        #expect(lines.allSatisfy { $0.firstChild("LineExtensionAmount")?.attribute("currencyID") == "USD" })
        #expect(
            lines.map { Self.descendant(of: $0, "Item", "Name")?.text } == [
                "Standard widget, zinc-plated steel, 50 mm", "Heavy-duty widget, stainless steel, 75 mm",
                "Widget mounting bracket kit", "Widget lubricant spray, 250 ml",
            ]
        )
        #expect(
            lines.map { Self.descendant(of: $0, "Item", "SellersItemIdentification", "ID")?.text }
                == ["WW-1001", "WW-1002", "WW-1003", "WW-1004"]
        )
        #expect(
            lines.map { Self.descendant(of: $0, "Price", "PriceAmount")?.text } == ["4.25", "9.8", "12.95", "6.95"]
        )
        #expect(lines.allSatisfy { Self.descendant(of: $0, "Price", "PriceAmount")?.attribute("currencyID") == "USD" })
    }

    @Test func writesAllowancesAndChargesAndAZeroTaxIntoTheUBLInvoice() throws {
        // acme's invoice: a freight charge (X12 SAC02 D240) of 85.00, no tax, 2 % 10 days net 30.
        let root = try Self.readXML(
            try Self.renderInvoice(try Self.invoice("invoice-acme.json"), for: "acme", with: Self.ublInvoice)
        )
        let charges = root.children("AllowanceCharge")
        #expect(charges.count == 1)
        let charge = try #require(charges.first)
        #expect(charge.firstChild("ChargeIndicator")?.text == "true")
        #expect(charge.firstChild("AllowanceChargeReasonCode")?.text == "FC")
        #expect(charge.firstChild("AllowanceChargeReason")?.text == "FREIGHT LTL WIDGET EXPRESS")
        #expect(charge.firstChild("Amount")?.text == "85.00")
        #expect(charge.firstChild("Amount")?.attribute("currencyID") == "USD")
        #expect(Self.descendant(of: root, "TaxTotal", "TaxAmount")?.text == "0.00")
        #expect(Self.descendant(of: root, "LegalMonetaryTotal", "LineExtensionAmount")?.text == "6162.80")
        #expect(Self.descendant(of: root, "LegalMonetaryTotal", "PayableAmount")?.text == "6247.80")
        let terms = try #require(root.firstChild("PaymentTerms"))
        #expect(terms.firstChild("Note")?.text == "2% 10 NET 30")
        #expect(terms.firstChild("SettlementDiscountPercent")?.text == "2")
        let period = try #require(Self.descendant(of: terms, "SettlementPeriod", "DurationMeasure"))
        #expect(period.text == "10")
        #expect(period.attribute("unitCode") == "DAY")
    }

    @Test(arguments: [Self.cxmlInvoice, Self.ublInvoice])
    func anInvoiceWithoutACurrencyIsNotRendered(_ mapID: String) throws {
        // Both formats need a currency on every amount.
        var invoice = try Self.invoice("invoice-procurenet.json")
        invoice.currency = nil
        let withoutCurrency = invoice
        #expect(throws: RenderError.self) { try Self.renderInvoice(withoutCurrency, for: "procurenet", with: mapID) }
    }
}
