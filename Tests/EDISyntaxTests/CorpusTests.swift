import EDISyntax
import Testing

/// Every X12 and EDIFACT file of the shared corpus, against what a person found in it (expectations.json).
@Suite struct CorpusTests {
    @Test func corpusExpectationsAreLoaded() {
        #expect(Fixtures.corpus.count >= 48)
    }

    @Test(arguments: Fixtures.corpus)
    func readsTheEnvelopeStructureAPersonCounted(_ expected: CorpusExpectation) throws {
        let reader = EDIReader(bytes: try Fixtures.bytes(expected.path))
        let document = try DocumentOutline(reader: reader)
        let interchanges = document.interchanges.filter { $0.header != nil }
        let groups = document.interchanges.flatMap(\.groups).filter { $0.header != nil }
        let sets = document.interchanges.flatMap { $0.groups.flatMap(\.sets) + $0.messages }
        #expect(interchanges.count == expected.interchanges)
        #expect(groups.count == expected.groups)
        #expect(sets.count == expected.sets)
        #expect(sets.map(\.identifier) == expected.setTypes)
        #expect(sets.map(\.segments.count) == expected.segmentsPerSet)
        switch expected.dialect {
        case "x12": #expect(document.dialect == .x12)
        case "edifact": #expect(document.dialect == .edifact)
        default: #expect(document.dialect == nil)
        }
        if let delimiters = reader.delimiters, expected.dialect != "unknown", expected.sets > 0 {
            #expect(String(decoding: [delimiters.element], as: UTF8.self) == expected.elementSeparator)
            #expect(String(decoding: [delimiters.component], as: UTF8.self) == expected.componentSeparator)
            #expect(String(decoding: delimiters.segmentTerminator, as: UTF8.self) == expected.segmentTerminator)
            #expect(delimiters.repetition.map { String(decoding: [$0], as: UTF8.self) } == expected.repetitionSeparator)
            #expect(delimiters.release.map { String(decoding: [$0], as: UTF8.self) } == expected.releaseCharacter)
        }
    }

    @Test(arguments: Fixtures.corpus)
    func reportsEveryEnvelopeErrorAndNoOther(_ expected: CorpusExpectation) throws {
        let report = EDIValidator().validate(bytes: try Fixtures.bytes(expected.path))
        let found = report.allErrors.filter { EDISyntaxError.Code.envelopeCodes.contains($0.code) }
        for error in expected.envelopeErrors {
            guard let code = Self.code(for: error.what) else { continue }
            let accepted: Set<EDISyntaxError.Code> =
                code == .unknownDialect
                ? [.unknownDialect, .segmentOutsideEnvelope, .missingInterchangeHeader] : [code]
            let matching = found.filter { accepted.contains($0.code) }
            #expect(!matching.isEmpty, "\(error.what) at \(error.segmentTag ?? "?") not reported")
            if let declared = error.declared, code != .missingInterchangeTrailer, code != .unknownDialect {
                #expect(matching.contains { $0.badData == declared }, "\(error.what): no error quotes \(declared)")
            }
        }
        if expected.envelopeErrors.isEmpty {
            #expect(found.isEmpty, "unexpected envelope errors: \(found.map(\.description))")
        }
    }

    /// The corpus survey's names for envelope problems, in the validator's codes.
    static func code(for what: String) -> EDISyntaxError.Code? {
        switch what {
        case "IEA01-count", "UNZ-count": return .interchangeCountMismatch
        case "IEA02-mismatch", "UNZ-reference": return .interchangeControlMismatch
        case "GE01-count", "UNE-count": return .groupCountMismatch
        case "GE02-mismatch", "UNE-reference": return .groupControlMismatch
        case "SE01-count", "UNT-count": return .segmentCountMismatch
        case "SE02-mismatch", "UNT-reference": return .setControlMismatch
        case "missing-IEA", "missing-UNZ": return .missingInterchangeTrailer
        case "missing-GE", "missing-UNE": return .missingGroupTrailer
        case "missing-SE", "missing-UNT": return .missingSetTrailer
        case "no-envelope": return .unknownDialect
        case "truncated": return .truncated
        default: return nil  // "other": described in prose, checked by the specific tests below
        }
    }

    // MARK: - The specific error of each bad file

    struct BadFile: Sendable, CustomTestStringConvertible {
        var file: String
        /// (code, segment position in its set or nil for envelope errors, element position)
        var errors: [(EDISyntaxError.Code, Int?, Int?)]
        var testDescription: String { self.file }
    }

    static let badFiles: [BadFile] = [
        BadFile(file: "malformed/bad-not-edi-ediengine.edi", errors: [(.unknownDialect, nil, nil)]),
        BadFile(
            file: "malformed/x12-bad-850-syntax-notes-ediengine.edi",
            errors: [(.conditionalElementMissing, 13, 7), (.conditionalElementMissing, 30, 6)]
        ),
        BadFile(
            file: "malformed/x12-bad-997-invalid-codes-staedi.edi",
            errors: [(.elementTooLong, 2, 1), (.invalidNumber, 5, 2)]
        ),
        BadFile(
            file: "malformed/x12-bad-997-min-staedi.edi",
            errors: [(.elementTooLong, 2, 1), (.groupControlMismatch, nil, 2), (.invalidGroupHeader, nil, 4)]
        ),
        BadFile(
            file: "malformed/x12-bad-999-staedi.edi",
            errors: [
                (.segmentOutOfSequence, 2, nil), (.tooManyElements, 4, 4), (.invalidCodeValue, nil, 1),
                (.segmentCountMismatch, 18, 1),
            ]
        ),
        BadFile(
            file: "malformed/x12-bad-control-number-mismatch-ediengine.edi",
            errors: [
                (.setControlMismatch, 5, 2), (.groupControlMismatch, nil, 2), (.interchangeControlMismatch, nil, 2),
            ]
        ),
        BadFile(
            file: "malformed/x12-bad-group-and-tx-counts-ediengine.edi",
            errors: [(.groupCountMismatch, nil, 1), (.interchangeCountMismatch, nil, 1)]
        ),
        BadFile(
            file: "malformed/x12-bad-se01-count-ediengine.edi",
            errors: [(.segmentCountMismatch, 9, 1), (.truncated, nil, nil)]
        ),
        BadFile(
            file: "malformed/edifact-bad-invoic-d97b-staedi.edi",
            errors: [
                (.elementTooLong, 5, 1), (.invalidNumber, 10, 1), (.invalidNumber, 13, 1),
                (.segmentOverMaximum, 21, nil),
            ]
        ),
        BadFile(
            file: "malformed/edifact-bad-orders-d03b-smooks.txt",
            errors: [(.segmentOverMaximum, 38, nil), (.segmentCountMismatch, 57, 1)]
        ),
    ]

    @Test(arguments: Self.badFiles)
    func rejectsEachBadFileWithItsSpecificError(_ bad: BadFile) throws {
        let report = EDIValidator().validate(bytes: try Fixtures.bytes("corpus/" + bad.file))
        #expect(!report.isValid)
        for (code, position, element) in bad.errors {
            let hit = report.allErrors.contains {
                $0.code == code && (position == nil || $0.location.segmentPosition == position)
                    && (element == nil || $0.location.elementPosition == element)
            }
            #expect(
                hit,
                "\(code) at segment \(position.map(String.init) ?? "-") element \(element.map(String.init) ?? "-") not found in \(report.allErrors.map(\.description))"
            )
        }
    }

    @Test(arguments: [
        "x12/810-invoice-simple-staedi.edi", "x12/850-po-composite-sln-ediengine.edi", "x12/850-po-ediengine.edi",
        "x12/850-po-fat-nodex12.edi", "x12/850-po-nodex12.edi", "x12/855-multi-st-one-gs-staedi.edi",
        "x12/855-poack-nodex12.edi", "x12/856-asn-crossdock-ediengine.edi", "x12/997-multiple-interchanges-staedi.edi",
        "x12/997-simple-staedi.edi", "x12/999-ack-pyx12.txt", "x12/999-simple-staedi.edi",
        "malformed/x12-edge-short-isa-fields-edinet.edi",
    ])
    func acceptsValidDocuments(_ file: String) throws {
        let report = EDIValidator().validate(bytes: try Fixtures.bytes("corpus/" + file))
        #expect(report.allErrors.map(\.description) == [])
    }
}
