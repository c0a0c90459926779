import EDISyntax
import Testing

/// The writer: escaping, trailing empties, envelopes with computed counts, and round trips of the corpus.
@Suite struct WriterTests {
    /// Reads every segment of a document as values.
    static func segments(_ bytes: [UInt8]) throws -> [SegmentValue] {
        let reader = EDIReader(bytes: bytes)
        var result: [SegmentValue] = []
        while let event = try reader.next() {
            switch event {
            case .interchangeStart(let segment?), .groupStart(let segment?), .transactionSetStart(let segment),
                .segment(let segment), .transactionSetEnd(let segment?), .groupEnd(let segment?),
                .interchangeEnd(let segment?):
                result.append(SegmentValue(segment))
            default:
                break
            }
        }
        return result
    }

    @Test(arguments: Fixtures.corpus.filter { $0.dialect != "unknown" && $0.sets > 0 })
    func writingWhatWasReadReproducesTheSameSegments(_ expected: CorpusExpectation) throws {
        let bytes = try Fixtures.bytes(expected.path)
        let reader = EDIReader(bytes: bytes)
        _ = try DocumentOutline(reader: reader)
        let delimiters = try #require(reader.delimiters)
        let original = try Self.segments(bytes)
        let lineEnding = delimiters.segmentTerminator.allSatisfy { $0 == 0x0A || $0 == 0x0D } ? "" : "\n"
        var writer = EDIWriter(dialect: reader.dialect!, delimiters: delimiters, lineEnding: lineEnding)
        if reader.dialect == .edifact, delimiters != .edifactDefault {
            // the service string travels with the delimiters
            let una =
                "UNA"
                + String(
                    decoding: [
                        delimiters.component, delimiters.element, delimiters.decimalMark,
                        delimiters.release ?? 0x20, delimiters.repetition ?? 0x20,
                    ],
                    as: UTF8.self
                )
                + String(decoding: delimiters.segmentTerminator, as: UTF8.self)
            var copy = try Self.segments(Array(una.utf8) + Self.write(original, &writer))
            copy = copy.map(Self.trimmed)
            #expect(copy == original.map(Self.trimmed))
        } else {
            let copy = try Self.segments(Self.write(original, &writer))
            #expect(copy.map(Self.trimmed) == original.map(Self.trimmed))
        }
    }

    static func write(_ segments: [SegmentValue], _ writer: inout EDIWriter) throws -> [UInt8] {
        for segment in segments { try writer.write(segment) }
        return writer.bytes
    }

    /// Trailing empty elements and components are not written, as the standards require.
    static func trimmed(_ segment: SegmentValue) -> SegmentValue {
        var copy = segment
        copy.elements = copy.elements.map { element in
            ElementValue(
                repetitions: element.repetitions.map { components in
                    var components = components
                    while components.count > 1, components.last == "" { components.removeLast() }
                    return components
                }
            )
        }
        while let last = copy.elements.last, last.isEmpty { copy.elements.removeLast() }
        return copy
    }

    @Test func edifactDataIsEscapedWithTheReleaseCharacter() throws {
        var writer = EDIWriter(dialect: .edifact, delimiters: .edifactDefault, lineEnding: "")
        try writer.write(SegmentValue("FTX", ["AAI", "", "", ElementValue(components: ["A+B:C'D?E", "F"])]))
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "FTX+AAI+++A?+B?:C?'D??E:F'")
    }

    /// An element of one text is kept as that text (no arrays): it is escaped the same, and equals (and hashes as)
    /// the same value made from components or repetitions.
    @Test func aSingleTextElementIsEscapedAndComparedAsItsRepetitions() throws {
        var writer = EDIWriter(dialect: .edifact, delimiters: .edifactDefault, lineEnding: "")
        try writer.write(SegmentValue("FTX", ["AAI", "", "", ElementValue("A+B:C'D?E")]))
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "FTX+AAI+++A?+B?:C?'D??E'")
        let single = ElementValue("X")
        #expect(single == ElementValue(components: ["X"]))
        #expect(single == ElementValue(repetitions: [["X"]]))
        #expect(single.hashValue == ElementValue(components: ["X"]).hashValue)
        #expect(single != ElementValue(components: ["X", "Y"]))
        #expect(single.repetitions == [["X"]])
        var changed = single
        changed.repetitions = [["A"], ["B"]]
        #expect(changed.description == "A^B")
    }

    @Test func x12RefusesDataHoldingADelimiter() {
        var writer = EDIWriter(dialect: .x12, delimiters: .x12Default, lineEnding: "")
        #expect(throws: EDIWriterError.self) { try writer.write(SegmentValue("N1", ["ST", "A*B"])) }
    }

    @Test func trailingEmptyElementsAndComponentsAreOmitted() throws {
        var writer = EDIWriter(dialect: .x12, delimiters: .x12Default, lineEnding: "")
        try writer.write(SegmentValue("REF", ["DP", "038", "", ElementValue(components: ["", ""])]))
        try writer.write(SegmentValue("PO1", ["1", "", ElementValue(components: ["A", "B", ""])]))
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "REF*DP*038~PO1*1**A>B~")
    }

    @Test func x12EnvelopeCountsAndControlNumbersValidate() throws {
        var builder = EnvelopeBuilder(dialect: .x12)
        try builder.beginInterchange(
            InterchangeParameters(
                senderQualifier: "ZZ",
                senderID: "SELLER",
                receiverQualifier: "ZZ",
                receiverID: "BUYER",
                date: "240301",
                time: "1205",
                controlNumber: 42,
                version: "00401"
            )
        )
        try builder.beginGroup(
            GroupParameters(
                functionalIdentifier: "FA",
                senderID: "SELLER",
                receiverID: "BUYER",
                date: "20240301",
                time: "1205",
                controlNumber: 7,
                version: "004010"
            )
        )
        for number in 1...3 {
            try builder.addTransactionSet(
                identifier: "997",
                controlNumber: fourDigits(number),
                body: [SegmentValue("AK1", ["PO", "101"]), SegmentValue("AK9", ["A", "1", "1", "1"])]
            )
        }
        try builder.endGroup()
        try builder.endInterchange()
        let text = String(decoding: builder.bytes, as: UTF8.self)
        #expect(
            text.hasPrefix(
                "ISA*00*          *00*          *ZZ*SELLER         *ZZ*BUYER          *240301*1205*U*00401*000000042*0*P*>~\n"
            )
        )
        #expect(text.contains("SE*4*0002~"))
        #expect(text.hasSuffix("GE*3*7~\nIEA*1*000000042~\n"))
        let report = EDIValidator().validate(bytes: builder.bytes)
        #expect(report.allErrors.map(\.description) == [])
        #expect(report.interchanges[0].groups[0].sets.count == 3)
    }

    @Test func edifactEnvelopeWithServiceStringValidates() throws {
        var delimiters = Delimiters.edifactDefault
        delimiters.element = UInt8(ascii: "|")
        var builder = EnvelopeBuilder(dialect: .edifact, delimiters: delimiters)
        try builder.beginInterchange(
            InterchangeParameters(
                senderQualifier: "14",
                senderID: "SELLER",
                receiverQualifier: "14",
                receiverID: "BUYER",
                date: "240301",
                time: "1205",
                controlNumber: 9,
                version: "UNOC:3"
            )
        )
        try builder.addTransactionSet(
            identifier: "ORDRSP",
            controlNumber: "1",
            version: "D96A",
            implementationReference: "EAN005",
            body: [
                SegmentValue("BGM", ["231", "PO|1", "29"]),
                SegmentValue("DTM", [ElementValue(components: ["137", "20240301", "102"])]), SegmentValue("UNS", ["S"]),
            ]
        )
        try builder.endInterchange()
        let text = String(decoding: builder.bytes, as: UTF8.self)
        #expect(text.hasPrefix("UNA:|.? '\nUNB|UNOC:3|SELLER:14|BUYER:14|240301:1205|9'\n"))
        #expect(text.contains("BGM|231|PO?|1|29'"))
        #expect(text.hasSuffix("UNT|5|1'\nUNZ|1|9'\n"))
        #expect(EDIValidator().validate(bytes: builder.bytes).allErrors.map(\.description) == [])
    }
}

private func fourDigits(_ number: Int) -> String {
    let digits = String(number)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
