import Foundation
import OrderModel
import Testing

/// The canonical encoder must write exactly what Foundation's JSONEncoder writes with sorted keys, pretty printing
/// and unescaped slashes: stored orders and every golden file depend on that text.
@Suite("Canonical JSON")
struct CanonicalJSONTests {
    static func foundation<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    static func sampleOrder() -> Order {
        var order = Order()
        order.purchaseOrderNumber = "PO/42 \"rush\"\t\u{1}é"
        order.partnerID = "acme"
        order.orderDate = DocumentDate(compact: "20261123")
        order.currency = "USD"
        order.declaredQuantityTotal = Decimal(string: "12.500")
        var line = OrderLine()
        line.lineNumber = "1"
        line.quantity = Quantity(Decimal(string: "3")!, unit: "EA")
        line.unitPrice = Money(Decimal(string: "4.25")!, currency: "USD")
        line.item.buyerPart = "B-1"
        line.origins.append("quantity", FieldOrigin(segment: 4, tag: "PO1", element: 2))
        line.origins.append("unitPrice", FieldOrigin(path: "a/b", line: 3, column: 9))
        order.lines = [line, OrderLine()]
        order.origins.append("purchaseOrderNumber", FieldOrigin(segment: 2, tag: "BEG", element: 3))
        return order
    }

    /// An order with every field of every record set, so that the direct writer's field list is checked whole.
    static func fullOrder() -> Order {
        var order = Self.sampleOrder()
        order.id = "17"
        order.releaseNumber = "R1"
        order.purpose = .replace
        order.orderType = "SA"
        order.requestedShipDate = DocumentDate(compact: "20261201", time: "1330")
        order.requestedDeliveryDate = DocumentDate(iso8601: "2026-12-03")
        order.cancelAfter = DocumentDate(compact: "20261231")
        var address = Address()
        address.lines = ["1 Main St", "Suite \"B\""]
        address.city = "Springfield"
        address.region = "IL"
        address.postalCode = "62701"
        address.country = "US"
        var contact = Contact()
        contact.name = "Pat"
        contact.phone = "555"
        contact.email = "pat@example.com"
        var party = Party()
        party.role = .shipTo
        party.roleCode = "ST"
        party.name = "Store 42"
        party.identifier = "0042"
        party.identifierQualifier = "92"
        party.address = address
        party.contact = contact
        var reference = Reference()
        reference.qualifier = "DP"
        reference.value = "038"
        reference.description = "department"
        party.references = [reference]
        party.origins.append("name", FieldOrigin(segment: 5, tag: "N1", element: 2))
        party.origins.append("name", FieldOrigin(segment: 6, tag: "N1", element: 2))
        order.parties = [party, Party()]
        var terms = PaymentTerms()
        terms.typeCode = "08"
        terms.basisDateCode = "3"
        terms.discountPercent = Decimal(string: "2")
        terms.discountDays = 10
        terms.netDays = 30
        terms.description = "2% 10 NET 30"
        order.paymentTerms = terms
        var carrier = Carrier()
        carrier.scac = "UPSN"
        carrier.service = "GROUND"
        carrier.transportMethod = "M"
        carrier.routing = "UPS Ground"
        order.carrier = carrier
        order.references = [reference]
        var note = Note()
        note.code = "GEN"
        note.text = "Deliver to the back door\nplease"
        order.notes = [note]
        order.declaredLineCount = 2
        order.declaredAmount = Money(Decimal(string: "12.75")!, currency: "USD")
        var source = DocumentSource(format: "x12")
        source.documentType = "850"
        source.version = "004010"
        source.senderQualifier = "ZZ"
        source.senderID = "ACME"
        source.receiverQualifier = "ZZ"
        source.receiverID = "WIDGETS"
        source.interchangeControlNumber = "000000001"
        source.groupControlNumber = "1"
        source.transactionSetControlNumber = "0001"
        source.byteOffset = 106
        source.line = 3
        source.mapping = "x12-850-004010"
        source.mappingVersion = "3"
        order.source = source
        order.lines[0].description = "Widget, blue"
        order.lines[0].priceBasis = "PE"
        order.lines[0].requestedShipDate = DocumentDate(compact: "20261202")
        order.lines[0].requestedDeliveryDate = DocumentDate(compact: "20261204")
        order.lines[0].parties = [party]
        order.lines[0].references = [reference]
        order.lines[0].notes = [note]
        order.lines[0].item.vendorPart = "WW-1"
        order.lines[0].item.gtin = "00012345678905"
        order.lines[0].item.sku = "SKU-1"
        order.lines[0].item.manufacturerPart = "M-1"
        order.lines[0].origins.append("item.gtin", FieldOrigin(segment: 9, tag: "PO1", element: 7, component: 1))
        return order
    }

    @Test func theDirectOrderWriterWritesTheSameTextAsFoundationForEveryField() throws {
        let order = Self.fullOrder()
        let text = try CanonicalJSON.encode(order)
        #expect(text == (try Self.foundation(order)))
        #expect(try CanonicalJSON.encode([order, Order()]) == Self.foundation([order, Order()]))
        for field in ["cancelAfter", "routing", "email", "discountDays", "mappingVersion", "manufacturerPart"] {
            #expect(text.contains("\"\(field)\" : "))
        }
    }

    /// The database stores the compact form: Foundation's sorted-key output without pretty printing, the same text
    /// for the direct writer (orders) and the Codable path (anything else), and the same values as the pretty form.
    @Test func theCompactFormIsFoundationsSortedOutputWithoutWhiteSpace() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let order = Self.fullOrder()
        let compact = try CanonicalJSON.encode(order, compact: true)
        #expect(compact == String(decoding: try encoder.encode(order), as: UTF8.self))
        let values: [String: [Int]] = ["b": [], "a": [1, 2]]
        #expect(try CanonicalJSON.encode(values, compact: true) == #"{"a":[1,2],"b":[]}"#)
        let pretty = try CanonicalJSON.encode(order)
        #expect(
            try CanonicalJSON.decode(Order.self, from: Array(compact.utf8))
                == CanonicalJSON.decode(Order.self, from: Array(pretty.utf8))
        )
        #expect(compact.utf8.count < pretty.utf8.count)
    }

    @Test func writesTheSameTextAsFoundationForAnOrder() throws {
        let order = Self.sampleOrder()
        #expect(try CanonicalJSON.encode(order) == Self.foundation(order))
        #expect(try CanonicalJSON.encode([order, order]) == Self.foundation([order, order]))
    }

    @Test func writesTheSameTextAsFoundationForEmptyAndScalarValues() throws {
        #expect(try CanonicalJSON.encode([String]()) == Self.foundation([String]()))
        #expect(try CanonicalJSON.encode([String: Int]()) == Self.foundation([String: Int]()))
        #expect(
            try CanonicalJSON.encode(["b": [1, 2], "a": [], "B": [-3]])
                == Self.foundation(["b": [1, 2], "a": [], "B": [-3]])
        )
        #expect(try CanonicalJSON.encode(["x": true, "y": false]) == Self.foundation(["x": true, "y": false]))
        #expect(
            try CanonicalJSON.encode(["k": Decimal(string: "-0.5")!])
                == Self.foundation(["k": Decimal(string: "-0.5")!])
        )
        #expect(
            try CanonicalJSON.encode(["\u{7f}/\\\u{1f}\u{8}\u{c}\r\n": "ü€𝄞"])
                == Self.foundation(["\u{7f}/\\\u{1f}\u{8}\u{c}\r\n": "ü€𝄞"])
        )
        #expect(try CanonicalJSON.encode("top") == Self.foundation("top"))
    }

    /// The writer keeps its own byte buffer and a bit per open container for the first 64 levels: text past the
    /// first reservation, containers nested deeper than 64 levels, integers to the extremes and long escaped strings
    /// come out as Foundation writes them.
    @Test func writesTheSameTextAsFoundationForDeepNestingLongTextAndExtremeIntegers() throws {
        var nested: [[String: [Int]]] = [["leaf": [Int.min, -1, 0, 7, Int.max]]]
        // 100 levels of arrays around an object.
        var value = NestedArray.leaf(nested[0])
        for _ in 0..<100 { value = .array([value, .leaf(["n": [1]])]) }
        #expect(try CanonicalJSON.encode(value) == Self.foundation(value))
        #expect(try CanonicalJSON.encode(value, compact: true).count < (try CanonicalJSON.encode(value)).count)
        let long = String(repeating: "abc\"\\\n\u{1}ü€", count: 5_000)
        nested.append(["\(long)": [42]])
        #expect(try CanonicalJSON.encode(nested) == Self.foundation(nested))
    }

    @Test(arguments: [
        "acknowledgement-acme.json", "acknowledgement-nordhandel.json", "shipnotice-acme.json",
        "shipnotice-procurenet.json", "invoice-nordhandel.json",
    ])
    func writesTheSameTextAsFoundationForTheShippedExamples(_ name: String) throws {
        let bytes = Array(
            try Data(contentsOf: Self.repositoryRoot.appendingPathComponent("examples/canonical/\(name)"))
        )
        if name.hasPrefix("acknowledgement") {
            let value = try CanonicalJSON.decode(Acknowledgement.self, from: bytes)
            #expect(try CanonicalJSON.encode(value) == Self.foundation(value))
        } else if name.hasPrefix("shipnotice") {
            let value = try CanonicalJSON.decode(ShipNotice.self, from: bytes)
            #expect(try CanonicalJSON.encode(value) == Self.foundation(value))
        } else {
            let value = try CanonicalJSON.decode(Invoice.self, from: bytes)
            #expect(try CanonicalJSON.encode(value) == Self.foundation(value))
        }
    }

    @Test func roundTripsAnOrder() throws {
        let order = Self.sampleOrder()
        let decoded = try CanonicalJSON.decode(Order.self, from: CanonicalJSON.encodeBytes(order))
        #expect(decoded == order)
    }
}

/// An array nested to any depth, for the writer's deep-nesting test.
indirect enum NestedArray: Encodable {
    case leaf([String: [Int]])
    case array([NestedArray])

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .leaf(let value): try value.encode(to: encoder)
        case .array(let values): try values.encode(to: encoder)
        }
    }
}
