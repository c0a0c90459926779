// libFuzzer target: the mapping-file loader, `MappingSet.load(files:)` (OrderMapping), and the maps it compiles.
//
// The input is one mapping file: its first byte picks the path it is loaded under (`byte & 3`: the ASCII digits
// `0`-`3` pick, in order, `x12/850-004010.yaml`, `xml/cxml-OrderRequest.yaml`, `x12/855-004010.yaml`,
// `partners/acme.yaml`), the rest is its text (decoded as UTF-8, invalid bytes replaced). A partner profile is loaded
// together with a fixed, valid X12 850 map (`x12/850-004010`), so that its references can resolve. Diagnostics (a
// thrown `MappingDiagnostics`) are the expected outcome for most inputs; the target traps only on a crash, a hang or a
// leak. When the set loads, its maps are used: the inbound maps translate a small fixed X12 850, EDIFACT ORDERS, cXML
// OrderRequest and UBL Order (`Translator`; the EDI ones also with each partner given explicitly), every outbound
// map renders a small fixed canonical value of its record kind (`renderSegments`/`renderXML`). Bit 2 of the first
// byte adds a `<!DOCTYPE cXML ...>` to the cXML document (allowed only by maps that list it in `allowDoctype`).
//
// Built by fuzz/mapping_loader.sh (called by fuzz/run.sh): Yams, EDISyntax, XMLSyntax, OrderModel and OrderMapping
// are compiled as separate, instrumented Swift modules and linked with this file; see fuzz/README.md.

import EDISyntax
import Foundation
import OrderMapping
import OrderModel

/// `MAPPING_LOADER_VERBOSE=1`: print what each input did (diagnostics, maps, translation issues), to study a seed or
/// an artifact: `MAPPING_LOADER_VERBOSE=1 fuzz/.out/bin/mapping_loader FILE`.
nonisolated(unsafe) private var verbose = false

private let paths = ["x12/850-004010.yaml", "xml/cxml-OrderRequest.yaml", "x12/855-004010.yaml", "partners/acme.yaml"]

/// A valid inbound X12 850 map (a shortened mappings/x12/850-004010.yaml), loaded next to a fuzzed partner profile.
private let fixed850Map = """
    direction: inbound
    format: x12
    document: "850"
    versions: ["004010"]
    record: order
    codes:
      purpose: { "00": original, "05": replace, "01": cancel, "*": original }
      partyRole: { BY: buyer, SE: seller, ST: shipTo, BT: billTo, "*": other }
    fields:
      purchaseOrderNumber: { path: BEG03, required: true }
      releaseNumber: BEG04
      purpose: { path: BEG01, codes: purpose }
      orderDate: { path: BEG05, format: CCYYMMDD }
      requestedDeliveryDate: { path: "DTM02[DTM01=002]", format: CCYYMMDD }
      currency: { paths: ["CUR02[CUR01=BY]", CUR02] }
      carrier.scac: "TD503[TD502=2]"
      declaredLineCount: CTT01
      declaredAmount: { paths: ["CTT/AMT02[AMT01=TT|1]", "AMT02[AMT01=TT|1]"] }
      references:
        each: REF
        fields:
          qualifier: REF01
          value: { paths: [REF02, REF03] }
      notes:
        each: N9/MSG
        fields:
          text: MSG01
      parties:
        each: N1
        fields:
          role: { path: N101, codes: partyRole }
          roleCode: N101
          name: N102
          identifier: N104
          address.lines: [N301, N302]
          address.city: N401
          address.postalCode: N403
      lines:
        each: PO1
        fields:
          lineNumber: PO101
          quantity: { path: PO102, unit: PO103 }
          unitPrice: { path: PO104 }
          item.buyerPart: { pairs: PO106, qualifier: [BP, IN] }
          item.vendorPart: { pairs: PO106, qualifier: [VP, VN] }
          item.gtin: { pairs: PO106, qualifier: [UP, EN] }
          description: "PID/PID05[PID01=F]"
          requestedShipDate: { path: "DTM02[DTM01=010]", format: CCYYMMDD }

    """

/// From acme (`ZZ*ACMERETAIL`, the identity of mappings/partners/acme.yaml) to us.
private let x12Order = Array(
    """
    ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*WIDGETWORKS    *261123*1200*U*00401*000000001*0*P*>~
    GS*PO*ACMERETAIL*WIDGETWORKS*20261123*1200*1*X*004010~
    ST*850*0001~
    BEG*00*SA*PO-1001*R1*20261123~
    CUR*BY*USD~
    REF*DP*038~
    REF*IA**VENDOR 9~
    PER*BD*JANE DOE*TE*5550100*EM*jane@example.com~
    DTM*002*20261201~
    TD5*O*2*UPSN*M*GROUND~
    N9*ZZ*NOTE~
    MSG*HANDLE WITH CARE~
    N1*ST*ACME STORE 12*92*0012~
    N3*1 MAIN ST*SUITE 4~
    N4*SPRINGFIELD*IL*62701*US~
    N1*BY*ACME RETAIL*92*ACME~
    PO1*1*10*EA*9.25*PE*BP*KD5555*VP*5555*UP*012345678905~
    PID*F****SMALL WIDGET~
    DTM*010*20261125~
    PO1*2*5*CS*13.5**VN*RD5322*SK*SKU-2~
    N1*ST*DOCK 2~
    CTT*2*15~
    AMT*TT*160~
    SE*22*0001~
    GE*1*1~
    IEA*1*000000001~

    """.utf8)

/// From nordhandel's identity (mappings/partners/nordhandel.yaml) to us.
private let edifactOrder = Array(
    """
    UNA:+.? '
    UNB+UNOC:3+4012345000009:14+4000001000002:14+261123:1200+1'
    UNH+1+ORDERS:D:96A:UN:EAN008'
    BGM+220+4500098765+9'
    DTM+137:20261123:102'
    DTM+2:202612011400:203'
    RFF+CT:C-77'
    NAD+BY+4012345000009::9'
    NAD+DP+4012345000016::9++Lager Nord+Hafenstr. 1+Hamburg++20457+DE'
    CUX+2:EUR:9'
    LIN+1++4000862141404:SRS'
    PIA+1+ART-1:SA'
    IMD+F++:::Widget ?+ more'
    QTY+21:10:PCE'
    PRI+AAA:9.25'
    UNS+S'
    MOA+79:92.5'
    CNT+2:1'
    UNT+18+1'
    UNZ+1+1'

    """.utf8)

/// From procurenet's identity (mappings/partners/procurenet.yaml) to us.
private func cxmlOrder(doctype: Bool) -> [UInt8] {
    Array(
        ("""
        <?xml version="1.0" encoding="UTF-8"?>

        """
            + (doctype ? "<!DOCTYPE cXML SYSTEM \"http://xml.cXML.org/schemas/cXML/1.2.050/cXML.dtd\">\n" : "")
            + """
            <cXML payloadID="1@procurenet" timestamp="2026-11-23T12:00:00+00:00" version="1.2.050" xml:lang="en">
            <Header><From><Credential domain="NetworkID"><Identity>AN01000000001</Identity></Credential></From>
            <To><Credential domain="NetworkID"><Identity>AN02000000002</Identity></Credential></To>
            <Sender><Credential domain="NetworkID"><Identity>AN01000000001</Identity></Credential>
            <UserAgent>fuzz</UserAgent></Sender></Header>
            <Request deploymentMode="test"><OrderRequest>
            <OrderRequestHeader orderID="PO-2002" orderDate="2026-11-23T12:00:00+01:00" type="new" orderType="regular">
            <Total><Money currency="USD">42.50</Money></Total>
            <ShipTo><Address addressID="12" isoCountryCode="US"><Name xml:lang="en">Acme Store</Name>
            <PostalAddress><DeliverTo>Jane</DeliverTo><Street>1 Main St</Street><City>Springfield</City>
            <State>IL</State><PostalCode>62701</PostalCode><Country isoCountryCode="US">United States</Country>
            </PostalAddress><Email>jane@example.com</Email></Address></ShipTo>
            <BillTo><Address addressID="1"><Name xml:lang="en">Acme</Name></Address></BillTo>
            <PaymentTerm payInNumberOfDays="30"/>
            <Comments type="delivery">Leave at dock &amp; ring</Comments>
            </OrderRequestHeader>
            <ItemOut quantity="3" lineNumber="1" requestedDeliveryDate="2026-12-01">
            <ItemID><SupplierPartID>5555</SupplierPartID><BuyerPartID>KD5555</BuyerPartID></ItemID>
            <ItemDetail><UnitPrice><Money currency="USD">10.00</Money></UnitPrice>
            <Description xml:lang="en">Chair</Description><UnitOfMeasure>EA</UnitOfMeasure></ItemDetail></ItemOut>
            <ItemOut quantity="1" lineNumber="2"><ItemID><SupplierPartID>666</SupplierPartID></ItemID>
            <ItemDetail><UnitPrice><Money currency="USD">12.50</Money></UnitPrice>
            <Description xml:lang="en">Desk</Description><UnitOfMeasure>EA</UnitOfMeasure></ItemDetail></ItemOut>
            </OrderRequest></Request></cXML>

            """).utf8)
}

/// A UBL 2.1 Order (the record is the root element).
private let ublOrder = Array(
    """
    <?xml version="1.0" encoding="UTF-8"?>
    <Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"
     xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
     xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
    <cbc:UBLVersionID>2.1</cbc:UBLVersionID><cbc:ID>PO-3003</cbc:ID><cbc:IssueDate>2026-11-23</cbc:IssueDate>
    <cbc:OrderTypeCode>220</cbc:OrderTypeCode><cbc:Note>Call first</cbc:Note>
    <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
    <cac:OrderDocumentReference><cbc:ID>PO-3002</cbc:ID></cac:OrderDocumentReference>
    <cac:BuyerCustomerParty><cac:Party><cbc:EndpointID schemeID="0088">4012345000009</cbc:EndpointID>
    <cac:PartyName><cbc:Name>Nordhandel</cbc:Name></cac:PartyName></cac:Party></cac:BuyerCustomerParty>
    <cac:SellerSupplierParty><cac:Party><cbc:EndpointID schemeID="0088">4000001000002</cbc:EndpointID>
    </cac:Party></cac:SellerSupplierParty>
    <cac:Delivery><cac:DeliveryLocation><cac:Address><cbc:StreetName>Hafenstr. 1</cbc:StreetName>
    <cbc:CityName>Hamburg</cbc:CityName><cbc:PostalZone>20457</cbc:PostalZone>
    <cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:Address></cac:DeliveryLocation>
    <cac:RequestedDeliveryPeriod><cbc:StartDate>2026-12-01</cbc:StartDate></cac:RequestedDeliveryPeriod></cac:Delivery>
    <cac:AnticipatedMonetaryTotal><cbc:PayableAmount currencyID="EUR">92.50</cbc:PayableAmount>
    </cac:AnticipatedMonetaryTotal>
    <cac:OrderLine><cac:LineItem><cbc:ID>1</cbc:ID><cbc:Quantity unitCode="EA">10</cbc:Quantity>
    <cac:Price><cbc:PriceAmount currencyID="EUR">9.25</cbc:PriceAmount></cac:Price>
    <cac:Item><cbc:Name>Widget</cbc:Name><cac:SellersItemIdentification><cbc:ID>ART-1</cbc:ID>
    </cac:SellersItemIdentification><cac:StandardItemIdentification><cbc:ID schemeID="0160">4000862141404</cbc:ID>
    </cac:StandardItemIdentification></cac:Item></cac:LineItem></cac:OrderLine>
    </Order>

    """.utf8)

private let cxmlPlain = cxmlOrder(doctype: false)
private let cxmlWithDoctype = cxmlOrder(doctype: true)

private let now = DocumentDate(year: 2026, month: 11, day: 23, hour: 12, minute: 30, second: 5, utcOffsetMinutes: 0)!
private let renderContext = RenderContext(
    now: now,
    values: [
        "partnerID": "acme", "partnerName": "Acme Retail Corp.", "senderID": "WIDGETWORKS", "senderDomain": "NetworkID",
        "receiverID": "ACMERETAIL", "receiverDomain": "NetworkID", "controlNumber": "7",
        "payloadID": "2026-11-23T12:30:05Z-7@ordergate",
    ])

/// One small value of each record kind, with something in most fields an outbound map can read.
private let canonicalValues: [RecordKind: MappedDocument] = {
    let day = DocumentDate(year: 2026, month: 11, day: 20)
    var item = ItemIdentifiers()
    item.buyerPart = "KD5555"
    item.vendorPart = "5555"
    item.gtin = "012345678905"
    var shipTo = Party(role: .shipTo, name: "ACME STORE 12", identifier: "0012", identifierQualifier: "92")
    var address = Address()
    address.lines = ["1 MAIN ST", "SUITE 4"]
    address.city = "SPRINGFIELD"
    address.region = "IL"
    address.postalCode = "62701"
    address.country = "US"
    shipTo.address = address
    let parties = [shipTo, Party(role: .buyer, name: "ACME RETAIL", identifier: "ACME", identifierQualifier: "92")]
    let references = [Reference(qualifier: "DP", value: "038"), Reference(qualifier: "IA", value: "V9")]

    var order = Order()
    order.purchaseOrderNumber = "PO-1001"
    order.orderDate = day
    order.currency = "USD"
    order.parties = parties
    order.references = references
    order.notes = [Note(code: "GEN", text: "HANDLE WITH CARE")]
    var orderLine = OrderLine()
    orderLine.lineNumber = "1"
    orderLine.item = item
    orderLine.description = "SMALL WIDGET"
    orderLine.quantity = Quantity(10, unit: "EA")
    orderLine.unitPrice = Money(Decimal(string: "9.25")!, currency: "USD")
    order.lines = [orderLine, orderLine]
    order.declaredLineCount = 2

    var acknowledgement = Acknowledgement()
    acknowledgement.acknowledgementNumber = "ACK-1"
    acknowledgement.date = now
    acknowledgement.status = .acceptedWithChanges
    acknowledgement.purchaseOrderNumber = "PO-1001"
    acknowledgement.orderDate = day
    acknowledgement.currency = "USD"
    acknowledgement.parties = parties
    acknowledgement.references = references
    var acknowledgedLine = AcknowledgedLine()
    acknowledgedLine.lineNumber = "1"
    acknowledgedLine.item = item
    acknowledgedLine.description = "SMALL WIDGET"
    acknowledgedLine.orderedQuantity = Quantity(10, unit: "EA")
    acknowledgedLine.orderedUnitPrice = Money(Decimal(string: "9.25")!, currency: "USD")
    acknowledgedLine.dispositions = [
        LineDisposition(status: .accepted, quantity: Quantity(6, unit: "EA"), scheduledShipDate: day),
        LineDisposition(status: .backordered, quantity: Quantity(4, unit: "EA"), reason: "stock"),
    ]
    var rejectedLine = acknowledgedLine
    rejectedLine.lineNumber = "2"
    rejectedLine.dispositions = [LineDisposition(status: .rejected, quantity: Quantity(0, unit: "EA"))]
    acknowledgement.lines = [acknowledgedLine, rejectedLine]

    var notice = ShipNotice()
    notice.shipmentID = "SH-1"
    notice.date = now
    notice.shippedDate = day
    notice.estimatedDeliveryDate = DocumentDate(year: 2026, month: 11, day: 25)
    var carrier = Carrier()
    carrier.scac = "UPSN"
    carrier.transportMethod = "M"
    notice.carrier = carrier
    notice.trackingNumbers = ["1Z999", "1Z998"]
    notice.billOfLading = "BOL-1"
    notice.grossWeight = Quantity(Decimal(string: "12.5")!, unit: "KG")
    notice.packageCount = 2
    notice.parties = parties
    var shippedItem = ShippedItem()
    shippedItem.lineNumber = "1"
    shippedItem.item = item
    shippedItem.quantity = Quantity(6, unit: "EA")
    shippedItem.orderedQuantity = Quantity(10, unit: "EA")
    var pack = Pack()
    pack.sscc = "000123456789012347"
    pack.packaging = "CTN"
    pack.grossWeight = Quantity(6, unit: "KG")
    pack.items = [shippedItem, shippedItem]
    var shippedOrder = ShippedOrder()
    shippedOrder.purchaseOrderNumber = "PO-1001"
    shippedOrder.orderDate = day
    shippedOrder.packs = [pack, pack]
    notice.orders = [shippedOrder]

    var invoice = Invoice()
    invoice.invoiceNumber = "INV-1"
    invoice.invoiceDate = day
    invoice.purchaseOrderNumber = "PO-1001"
    invoice.orderDate = day
    invoice.shipmentID = "SH-1"
    invoice.currency = "USD"
    invoice.parties = parties
    var terms = PaymentTerms()
    terms.netDays = 30
    invoice.paymentTerms = terms
    invoice.references = references
    var invoiceLine = InvoiceLine()
    invoiceLine.lineNumber = "1"
    invoiceLine.item = item
    invoiceLine.description = "SMALL WIDGET"
    invoiceLine.quantity = Quantity(6, unit: "EA")
    invoiceLine.unitPrice = Money(Decimal(string: "9.25")!, currency: "USD")
    invoiceLine.amount = Money(Decimal(string: "55.5")!, currency: "USD")
    invoice.lines = [invoiceLine]
    var charge = AllowanceCharge()
    charge.kind = .charge
    charge.code = "FRT"
    charge.amount = Money(5, currency: "USD")
    invoice.allowancesAndCharges = [charge]
    invoice.subtotal = Money(Decimal(string: "55.5")!, currency: "USD")
    invoice.taxAmount = Money(0, currency: "USD")
    invoice.totalAmount = Money(Decimal(string: "60.5")!, currency: "USD")

    return [
        .order: .order(order), .acknowledgement: .acknowledgement(acknowledgement), .shipNotice: .shipNotice(notice),
        .invoice: .invoice(invoice),
    ]
}()

/// Uses every map of a loaded set; returns a number that depends on all results (so nothing is optimized away).
@inline(never)
private func exercise(_ set: MappingSet, doctype: Bool) -> Int {
    var sink = set.inbound.count &+ set.outbound.count &+ set.partners.count
    let translator = Translator(mappings: set)
    let collect: (TranslatedDocument) throws -> Void = { document in
        sink &+= document.value.hashValue &+ (document.partnerID?.utf8.count ?? 0)
        if verbose {
            let source = document.source, partner = document.partnerID ?? "no partner"
            print("  translated: \(source.format) with \(source.mapping ?? "?") for \(partner)")
        }
    }
    let touchIssues = { (issues: [TranslationIssue]) in
        for issue in issues {
            sink &+= issue.message.utf8.count &+ (issue.byteOffset ?? 0)
            if verbose { print("  issue: \(issue)") }
        }
    }
    if set.inbound.values.contains(where: { $0.format != .xml }) {
        // The partner from the envelope, then each partner given explicitly.
        var runs: [([UInt8], String?)] = [(x12Order, nil), (edifactOrder, nil)]
        for id in set.partners.keys.sorted() { runs += [(x12Order, id), (edifactOrder, id)] }
        for (document, partnerID) in runs {
            do {
                touchIssues(
                    try translator.translateEDI(source: BufferByteSource(document), partnerID: partnerID, collect))
            } catch {
                // Mapping problems are returned as issues and the reader does not throw for an in-memory source, so
                // nothing should be thrown here (the body does not throw).
                fatalError("translateEDI threw: \(error)")
            }
        }
    }
    let xmlDocuments = [doctype ? cxmlWithDoctype : cxmlPlain, ublOrder]
    for bytes in set.inbound.values.contains(where: { $0.format == .xml }) ? xmlDocuments : [] {
        var offset = 0
        do {
            touchIssues(
                try translator.translateXML(
                    documentName: "fuzz.xml",
                    read: { buffer in
                        let count = min(buffer.count, bytes.count - offset, 61)
                        bytes.withUnsafeBytes { source in
                            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
                        }
                        offset += count
                        return count
                    }, collect))
        } catch {
            // XML errors (a DOCTYPE the maps do not allow) are thrown: expected.
            sink &+= String(describing: error).utf8.count
            if verbose { print("  translateXML threw: \(error)") }
        }
    }
    for map in set.outbound.values {
        guard let value = canonicalValues[map.record] else { continue }
        do {
            if map.format == .xml {
                let xml = try map.renderXML(value, context: renderContext)
                sink &+= xml.utf8.count
                if verbose { print("  rendered \(map.id): \(xml.utf8.count) bytes of XML") }
            } else {
                let segments = try map.renderSegments(value, context: renderContext)
                for segment in segments { sink &+= segment.description.utf8.count }
                if verbose { print("  rendered \(map.id): \(segments.count) segments") }
            }
        } catch {
            sink &+= error.description.utf8.count
            if verbose { print("  render \(map.id) failed: \(error)") }
        }
    }
    return sink
}

private func load(_ files: [(path: String, text: String)]) throws(MappingDiagnostics) -> MappingSet {
    try MappingSet.load(files: files, displayPrefix: "mappings/")
}

@_cdecl("LLVMFuzzerInitialize")
public func initializeMappingLoader(
    _ argc: UnsafeMutablePointer<CInt>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    verbose = getenv("MAPPING_LOADER_VERBOSE").map { String(cString: $0) == "1" } ?? false
    // Build the lazily made globals (schema library, loop shapes, canonical values) once, so that LeakSanitizer does
    // not blame them on the first input, and check that the fixed map loads and translates the fixed documents.
    do {
        let set = try load([(paths[0], fixed850Map)])
        var orders = 0
        _ = try Translator(mappings: set).translateEDI(source: BufferByteSource(x12Order)) { _ in orders += 1 }
        guard orders == 1 else { fatalError("the fixed 850 map did not translate the fixed 850") }
        _ = exercise(set, doctype: false)
    } catch {
        fatalError("the fixed 850 map does not load: \(error)")
    }
    _ = canonicalValues.count
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMappingLoader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let selector = Int(data[0])
    let path = paths[selector & 3]
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    var files = [(path: path, text: text)]
    if path.hasPrefix("partners/") { files.append((paths[0], fixed850Map)) }
    let set: MappingSet
    do {
        set = try load(files)
    } catch {
        var sink = 0
        for diagnostic in error.diagnostics {
            sink &+= diagnostic.description.utf8.count &+ diagnostic.line &+ diagnostic.column
            if verbose { print("\(path): \(diagnostic)") }
        }
        if sink == -1 { print(sink) }  // keep the work observable
        return 0
    }
    if verbose {
        print(
            "\(path): loaded: inbound \(set.inbound.keys.sorted()), outbound \(set.outbound.keys.sorted()),"
                + " partners \(set.partners.keys.sorted())")
    }
    let sink = exercise(set, doctype: selector & 4 != 0)
    if sink == -1 { print(sink) }
    return 0
}
