import Foundation
import Testing

@testable import OrderModel

@Suite("Order model")
struct OrderModelTests {
    @Test(arguments: [
        ("12", "12"), ("-3.50", "-3.5"), (".5", "0.5"), ("+7", "7"), ("1,25", "1.25"), ("1.2E3", "1200"),
        ("0.035", "0.035"), ("123456789012345678901234", "123456789012345678901234"),
    ])
    func decimalTextParsesDocumentNumbers(_ input: String, _ canonical: String) throws {
        let value = try #require(DecimalText.parse(input))
        #expect(DecimalText.format(value) == canonical)
    }

    @Test(arguments: ["", "-", "1.2.3", "12a", "1,2,3", "E5", "1E"])
    func decimalTextRejectsNonNumbers(_ input: String) {
        #expect(DecimalText.parse(input) == nil)
    }

    @Test func decimalFormatWithPlacesPadsAndRounds() {
        #expect(DecimalText.format(DecimalText.parse("1.5")!, places: 2) == "1.50")
        #expect(DecimalText.format(DecimalText.parse("2.345")!, places: 2) == "2.35")
        #expect(DecimalText.format(DecimalText.parse("7")!, places: 0) == "7")
    }

    @Test func documentDatesRejectImpossibleDays() {
        #expect(DocumentDate(year: 2026, month: 2, day: 29) == nil)
        #expect(DocumentDate(year: 2024, month: 2, day: 29) != nil)
        #expect(DocumentDate(year: 2026, month: 13, day: 1) == nil)
        #expect(DocumentDate(year: 2026, month: 11, day: 23, hour: 24) == nil)
    }

    @Test(arguments: [
        "2026-11-23", "2026-11-23T10:30:00", "2026-11-23T10:30:00+01:00", "2026-11-23T10:30:00-07:30",
        "2026-11-23T10:30:00Z",
    ])
    func documentDatesRoundTripISO8601(_ text: String) throws {
        let date = try #require(DocumentDate(iso8601: text))
        #expect(date.description == text)
    }

    @Test func documentDatesReadFractionsAndCompactOffsets() throws {
        let date = try #require(DocumentDate(iso8601: "2020-03-31T21:39:22.123+0100"))
        #expect(date.description == "2020-03-31T21:39:22+01:00")
        #expect(DocumentDate(iso8601: "2020-03-31T21") == nil)
    }

    @Test func dayNumbersCountCalendarDays() throws {
        let a = try #require(DocumentDate(year: 2024, month: 2, day: 28))
        let b = try #require(DocumentDate(year: 2024, month: 3, day: 1))
        #expect(b.dayNumber - a.dayNumber == 2)
    }

    @Test func ordersEncodeAsStableJSONWithDecimalStrings() throws {
        var order = Order()
        order.purchaseOrderNumber = "PO-1"
        order.orderDate = DocumentDate(year: 2026, month: 11, day: 23)
        var line = OrderLine()
        line.lineNumber = "1"
        line.quantity = Quantity(DecimalText.parse("12")!, unit: "EA")
        line.unitPrice = Money(DecimalText.parse("0.10")!, currency: "USD")
        line.origins.append("quantity", FieldOrigin(segment: 5, tag: "PO1", element: 2, line: 5, column: 1))
        order.lines = [line]
        let json = try CanonicalJSON.encode(order)
        #expect(json.contains("\"value\" : \"12\""))
        #expect(json.contains("\"amount\" : \"0.1\""))
        #expect(json.contains("\"orderDate\" : \"2026-11-23\""))
        let decoded = try CanonicalJSON.decode(Order.self, from: Array(json.utf8))
        #expect(decoded == order)
        #expect(try CanonicalJSON.encode(decoded) == json)
    }

    @Test func ssccAndGTINCheckDigitsAreVerified() {
        #expect(Pack.isValidSSCC("106141411234567897"))
        #expect(!Pack.isValidSSCC("106141411234567890"))
        #expect(!Pack.isValidSSCC("10614141123456789"))
        #expect(GS1.isValidGTIN("614141100019"))
        #expect(GS1.isValidGTIN("5412345200017"))
        #expect(!GS1.isValidGTIN("5412345200018"))
    }
}

extension OrderModelTests {
    @Test(
        arguments: [
            ("20261123", nil, "2026-11-23"), ("261123", nil, "2026-11-23"), ("991231", nil, "1999-12-31"),
            ("202611231030", nil, "2026-11-23T10:30:00"), ("20261123103005", nil, "2026-11-23T10:30:05"),
            ("20261123", "0915", "2026-11-23T09:15:00"),
        ] as [(String, String?, String)]
    )
    func compactDatesReadEDIDigitForms(_ text: String, _ time: String?, _ iso: String) throws {
        #expect(try #require(DocumentDate(compact: text, time: time)).description == iso)
    }

    @Test(arguments: ["2026112", "20261131", "2026-11-23", "202611232500", ""])
    func compactDatesRejectWhatIsNotADate(_ text: String) {
        #expect(DocumentDate(compact: text) == nil)
    }
}

@Suite("Decimal text, fast path")
struct DecimalFastFormatTests {
    /// The general formatting: Foundation's description of the value rounded to 38 digits.
    static func general(_ value: Decimal) -> String {
        var value = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 38, .plain)
        return rounded.description
    }

    /// The fast path (exponent and 64-bit significand) writes exactly what Foundation writes, for every kind of
    /// value money and quantities take, and falls back for the others.
    @Test func theFastPathWritesWhatFoundationWrites() throws {
        var values: [Decimal] = [
            0, 1, -1, 10, 100, 0.5, -0.5, 1.25, 4.05, 1_000_000,
            try #require(Decimal(string: "0.000123")), try #require(Decimal(string: "123456789012345678")),
            try #require(Decimal(string: "1234567890123456789012345")), try #require(Decimal(string: "-98.7600")),
            try #require(Decimal(string: "1e5")), try #require(Decimal(string: "1.5e-7")), Decimal(7) / 12 * 51,
        ]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in 0..<20_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let mantissa = Decimal(Int(seed >> 40)) * (index % 3 == 0 ? -1 : 1)
            values.append(mantissa / Decimal(sign: .plus, exponent: index % 12, significand: 1))
        }
        for value in values {
            #expect(DecimalText.format(value) == Self.general(value), "\(value)")
        }
    }

    /// The fast path reads a decimal's significand from its bytes; on this platform that layout holds (else every
    /// number would take the slow path, correct but five times slower), and values at the edges of 64 bits format
    /// as Foundation formats them.
    @Test func theSignificandIsReadFromTheValuesBytesHere() throws {
        // The layout read is swift-corelibs/swift-foundation's (Linux); elsewhere the slow path is taken.
        #if !canImport(Darwin)
        #expect(DecimalText.readsLayout)
        #endif
        for text in [
            "18446744073709551615", "-18446744073709551615", "18446744073709551616", "0.18446744073709551615",
            "1844674407370955161.5", "-0.00000000000000000000000000001", "99999999999999999999E-25", "5E28",
        ] {
            let value = try #require(Decimal(string: text))
            #expect(DecimalText.format(value) == Self.general(value), "\(text)")
        }
    }
}

/// A record's origins are kept compact (32-bit positions, the tag packed, a value that does not fit kept whole): what
/// is stored reads back and encodes exactly as the `FieldOrigin` given.
@Suite("Field origins, compact")
struct CompactOriginTests {
    static let origins: [FieldOrigin] = [
        FieldOrigin(segment: 3, tag: "PO1", element: 2, line: 7, column: 1),
        FieldOrigin(segment: 12, tag: "QTY", element: 1, component: 2, line: 14, column: 1),
        FieldOrigin(path: "Order/OrderLine[2]/LineItem/Quantity", line: 40, column: 9),
        FieldOrigin(),
        FieldOrigin(segment: 0, tag: "A", element: 0, component: 0, line: 0, column: 0),
        FieldOrigin(segment: Int(Int32.max) + 1, tag: "PO1", element: 2, line: 1, column: 1),
        FieldOrigin(segment: 1, tag: "PO1", element: 2, line: Int(Int32.min), column: 1),
        FieldOrigin(segment: 1, tag: "", element: 2),
        FieldOrigin(segment: 1, tag: "LONGER", element: 2),
        FieldOrigin(segment: 1, tag: "N1\u{e9}", element: 2),
        FieldOrigin(segment: -5, tag: "ZZZZ", element: -1, component: -2, line: -3, column: -4),
    ]

    @Test func whatIsStoredReadsBackAndEncodesAsTheOriginGiven() throws {
        var origins = FieldOrigins()
        for (index, origin) in Self.origins.enumerated() {
            origins.append("field\(index)", origin)
        }
        for (index, origin) in Self.origins.enumerated() {
            #expect(origins["field\(index)"] == origin, "\(origin)")
            var compact = CanonicalJSONWriter(compact: true)
            CompactOrigin(origin).write(to: &compact)
            var whole = CanonicalJSONWriter(compact: true)
            origin.write(to: &whole)
            #expect(compact.bytes == whole.bytes, "\(origin)")
        }
        #expect(origins.entries.map(\.origin) == Self.origins)
        let decoded = try CanonicalJSON.decode(FieldOrigins.self, from: try CanonicalJSON.encodeBytes(origins))
        #expect(decoded.entries.count == Self.origins.count)
        for (index, origin) in Self.origins.enumerated() { #expect(decoded["field\(index)"] == origin) }
    }

    /// The EDI append (no `FieldOrigin` built) stores what appending the same `FieldOrigin` stores.
    @Test func theEDIAppendStoresWhatTheWholeOriginWould() throws {
        let code = try #require(FieldOrigins.tagCode("PO1"))
        #expect(FieldOrigins.tagCode("") == nil)
        #expect(FieldOrigins.tagCode("ABCDE") == nil)
        var direct = FieldOrigins()
        direct.append("a", segment: 3, tagCode: code, element: 2, component: nil, line: 7, column: 1)
        direct.append("b", segment: 3, tagCode: code, element: 2, component: 4, line: 7, column: 1)
        direct.append("c", segment: Int(Int32.max) + 9, tagCode: code, element: 2, component: 4, line: 7, column: 1)
        var whole = FieldOrigins()
        whole.append("a", FieldOrigin(segment: 3, tag: "PO1", element: 2, line: 7, column: 1))
        whole.append("b", FieldOrigin(segment: 3, tag: "PO1", element: 2, component: 4, line: 7, column: 1))
        whole.append(
            "c",
            FieldOrigin(segment: Int(Int32.max) + 9, tag: "PO1", element: 2, component: 4, line: 7, column: 1)
        )
        #expect(direct == whole)
        #expect(try CanonicalJSON.encodeBytes(direct) == CanonicalJSON.encodeBytes(whole))
    }
}
