import EDISyntax
import Testing

/// Schema validation: structure, element types and the acknowledgement codes each error maps to.
@Suite struct ValidatorTests {
    /// An 850 with `body` between ST and SE; SE01 is computed.
    static func po850(_ body: [String], version: String = "004010") -> String {
        let isaVersion = version == "005010" ? "00501" : "00401"
        let repetition = version == "005010" ? "^" : "U"
        let segments = ["ST*850*0001"] + body
        return "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *240301*1200*\(repetition)*"
            + "\(isaVersion)*000000101*0*P*>~GS*PO*BUYER*SELLER*20240301*1200*101*X*\(version)~"
            + segments.map { $0 + "~" }.joined() + "SE*\(segments.count + 1)*0001~GE*1*101~IEA*1*000000101~"
    }

    static let goodBody = [
        "BEG*00*SA*PO-1**20240301", "REF*DP*038", "DTM*002*20240315", "N1*ST*STORE 12*92*0012", "N3*1 MAIN ST",
        "N4*SPRINGFIELD*IL*62701*US", "PO1*1*10*EA*12.50**BP*ABC*VP*V-1", "PID*F****WIDGET",
        "PO1*2*3*CA*1.5**UP*012345678905", "CTT*2*13",
    ]

    static func errors(_ body: [String], version: String = "004010") -> [EDISyntaxError] {
        validate(Self.po850(body, version: version)).allErrors
    }

    @Test(arguments: ["004010", "005010"])
    func acceptsAWellFormedPurchaseOrder(_ version: String) {
        #expect(Self.errors(Self.goodBody, version: version).map(\.description) == [])
    }

    @Test func reportsMissingMandatorySegment() throws {
        let errors = Self.errors(Array(Self.goodBody.dropFirst()))  // no BEG
        let missing = try #require(errors.first { $0.code == .mandatorySegmentMissing })
        #expect(missing.location.segmentTag == "BEG")
        #expect(missing.ackCodes.ak304 == "3")
        #expect(missing.ackCodes.ak502 == "5")
    }

    @Test func reportsSegmentOutOfSequence() throws {
        var body = Self.goodBody
        body.insert("CUR*BY*USD", at: 5)  // CUR belongs right after BEG, not inside the N1 loop
        let error = try #require(Self.errors(body).first)
        #expect(error.code == .segmentOutOfSequence)
        #expect(error.location.segmentPosition == 7)
        #expect(error.ackCodes.ak304 == "7")
    }

    @Test func reportsSegmentNotInTheSetAndUnrecognisedSegments() throws {
        var body = Self.goodBody
        body.insert("BSN*00*123*20240301*1200", at: 1)
        body.insert("ZZ9*X", at: 1)
        body.insert("x!*1", at: 1)
        let errors = Self.errors(body)
        #expect(errors.map(\.code) == [.unrecognizedSegment, .segmentNotInSet, .segmentNotInSet])
        #expect(errors.map(\.ackCodes.ak304) == ["1", "1", "6"])
        #expect(errors.map(\.location.segmentPosition) == [3, 4, 5])
    }

    @Test func reportsSegmentOverItsMaximumUse() throws {
        var body = Self.goodBody
        body.insert(contentsOf: Array(repeating: "DTM*002*20240315", count: 10), at: 3)  // DTM?[10] + 10 more
        let errors = Self.errors(body)
        #expect(errors.map(\.code) == [.segmentOverMaximum])
        #expect(errors.first?.ackCodes.ak304 == "5")
        #expect(errors.first?.location.segmentPosition == 14)
    }

    @Test func reportsLoopOverItsMaximumUse() throws {
        // 855: (ACK?[104] DTM?) inside PO1 — build a PO1 loop with 105 ACK loops.
        let acks = Array(repeating: "ACK*IA*1*EA", count: 105)
        let text = Self.po850(["BAK*00*AD*PO-1*20240301", "PO1*1*1*EA*1**BP*A"] + acks)
            .replacingOccurrences(of: "ST*850", with: "ST*855").replacingOccurrences(of: "GS*PO", with: "GS*PR")
        let errors = validate(text).allErrors
        #expect(errors.map(\.code) == [.loopOverMaximum])
        #expect(errors.first?.ackCodes.ak304 == "4")
        #expect(errors.first?.location.loopIdentifier == "ACK")
        #expect(errors.first?.location.segmentPosition == 3 + 105)  // ST, BAK, PO1, then the 105th ACK
    }

    @Test func loopIdentifierNamesTheLoopOfAnElementError() throws {
        var body = Self.goodBody
        body[3] = "N1*ST*STORE 12*92*0012*AB*CD*EF"
        let error = try #require(Self.errors(body).first)
        #expect(error.code == .tooManyElements)
        #expect(error.location.loopIdentifier == "N1")
        #expect(error.location.elementPosition == 7)
    }

    struct ElementCase: Sendable, CustomTestStringConvertible {
        var segment: String
        var position: Int
        var code: EDISyntaxError.Code
        var ak403: String
        var component: Int?
        var testDescription: String { "\(self.segment) → \(self.code)" }
    }

    static let elementCases: [ElementCase] = [
        ElementCase(segment: "PO1*1*10*EA*12.5O**BP*ABC", position: 4, code: .invalidNumber, ak403: "6"),
        ElementCase(segment: "PO1*1*1O*EA*12.50**BP*ABC", position: 2, code: .invalidNumber, ak403: "6"),
        ElementCase(segment: "PO1*1*10*E*12.50**BP*ABC", position: 3, code: .elementTooShort, ak403: "4"),
        ElementCase(segment: "PO1*1*10*EACH*12.50**BP*ABC", position: 3, code: .elementTooLong, ak403: "5"),
        ElementCase(segment: "DTM*002*20240231", position: 2, code: .invalidDate, ak403: "8"),
        ElementCase(segment: "DTM*002*20240301*2561", position: 3, code: .invalidTime, ak403: "9"),
        ElementCase(segment: "REF*DP*038***Z", position: 5, code: .tooManyElements, ak403: "3"),
        ElementCase(segment: "REF**038", position: 1, code: .mandatoryElementMissing, ak403: "1"),
        ElementCase(segment: "PO1*1*10*EA*12.50*XX*BP", position: 7, code: .conditionalElementMissing, ak403: "2"),
        ElementCase(segment: "REF*DP*03\u{1}8", position: 2, code: .invalidCharacter, ak403: "6"),
        ElementCase(segment: "REF*DP>X*038", position: 1, code: .tooManyComponents, ak403: "6"),
    ]

    @Test(arguments: Self.elementCases)
    func reportsElementErrorsWithTheirCodes(_ element: ElementCase) throws {
        var body = Self.goodBody
        let insertAt = element.segment.hasPrefix("PO1") ? 6 : element.segment.hasPrefix("DTM") ? 3 : 2
        if element.segment.hasPrefix("PO1") {
            body[6] = element.segment
        } else {
            body.insert(element.segment, at: insertAt)
        }
        let errors = Self.errors(body)
        let error = try #require(errors.first, "no error for \(element.segment)")
        #expect(errors.count == 1, "\(errors.map(\.description))")
        #expect(error.code == element.code)
        #expect(error.location.elementPosition == element.position)
        #expect(error.location.segmentPosition == insertAt + 2)
        #expect(error.ackCodes.ak403 == element.ak403)
        #expect(error.ackCodes.ak304 == "8")
        #expect(error.location.description.hasPrefix("segment \(insertAt + 2) ("))
    }

    @Test func badDataIsCopiedForTheAcknowledgement() throws {
        var body = Self.goodBody
        body[6] = "PO1*1*10*EA*12.5O**BP*ABC"
        let error = try #require(Self.errors(body).first)
        #expect(error.badData == "12.5O")
        #expect(error.description == "segment 8 (PO1), element 04: \"12.5O\" is not a decimal number (PO104)")
    }

    @Test func invalidCodesInAcknowledgementsAreReported() throws {
        let text = Self.po850(["AK1*PO*1", "AK2*850*0001", "AK5*Z", "AK9*Q*1*1*1"])
            .replacingOccurrences(of: "ST*850", with: "ST*997").replacingOccurrences(of: "GS*PO", with: "GS*FA")
        let errors = validate(text).allErrors
        #expect(errors.map(\.code) == [.invalidCodeValue, .invalidCodeValue])
        #expect(errors.map(\.ackCodes.ak403) == ["7", "7"])
    }

    @Test func repeatedElementsAreCheckedEachRepetition() throws {
        // 999 CTX01 repeats up to 10 times in 005010; REF01 does not repeat.
        let errors = Self.errors(
            ["BEG*00*SA*PO-1**20240301", "REF*DP^IA*038", "PO1*1*1*EA*1**BP*A"],
            version: "005010"
        )
        #expect(errors.map(\.code) == [.tooManyRepetitions])
        #expect(errors.first?.ackCodes.ik403 == "12")
    }

    @Test func unknownTransactionSetIsNotSupportedNotACrash() throws {
        let text = Self.po850(["W05*N*123"]).replacingOccurrences(of: "ST*850", with: "ST*940")
        let report = validate(text)
        let set = try #require(report.interchanges.first?.groups.first?.sets.first)
        #expect(!set.isSupported)
        #expect(report.allErrors.map(\.code) == [.setNotSupported])
        #expect(report.allErrors.first?.ackCodes.ak502 == "1")
    }

    @Test func unknownVersionCanBeCheckedAgainstTheNearestOrRefused() throws {
        let text = Self.po850(Self.goodBody, version: "004060")
        let lenient = EDIValidator().validate(bytes: Array(text.utf8))
        #expect(lenient.isValid)
        #expect(lenient.interchanges[0].groups[0].sets[0].checkedAgainstVersion == "004010")
        let strict = EDIValidator(checksAgainstNearestVersion: false).validate(bytes: Array(text.utf8))
        #expect(strict.allErrors.map(\.code) == [.setNotSupported])
    }

    // MARK: - EDIFACT

    static func orders(_ body: [String], directory: String = "D:96A") -> String {
        let segments = ["UNH+1+ORDERS:\(directory):UN:EAN008"] + body
        return "UNB+UNOC:3+SENDER:14+RECEIVER:14+240301:1200+REF1'" + segments.map { $0 + "'" }.joined()
            + "UNT+\(segments.count + 1)+1'UNZ+1+REF1'"
    }

    static let ordersBody = [
        "BGM+220+PO-1+9", "DTM+137:20240301:102", "NAD+BY+5412345000013::9", "NAD+SU+4012345500004::9",
        "LIN+1++4000862141404:EN", "QTY+21:48", "PRI+AAA:12.5", "UNS+S", "CNT+2:1",
    ]

    @Test(arguments: ["D:96A", "D:01B"])
    func acceptsAWellFormedOrdersMessage(_ directory: String) {
        #expect(validate(Self.orders(Self.ordersBody, directory: directory)).allErrors.map(\.description) == [])
    }

    @Test func edifactErrorsCarryContrlCodes() throws {
        var body = Self.ordersBody
        body[5] = "QTY+21:4X8"
        body[2] = "NAD+BUYER+5412345000013::9"
        body.remove(at: 0)  // BGM missing
        let errors = validate(Self.orders(body)).allErrors
        let byCode = Dictionary(errors.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byCode[.mandatorySegmentMissing]?.ackCodes.contrl0085 == "13")
        #expect(byCode[.mandatorySegmentMissing]?.ackCodes.contrlLevel == "UCS")
        #expect(byCode[.invalidNumber]?.ackCodes.contrl0085 == "37")
        #expect(byCode[.invalidNumber]?.location.componentPosition == 2)
        #expect(byCode[.elementTooLong]?.ackCodes.contrl0085 == "39")
        #expect(byCode[.elementTooLong]?.ackCodes.contrlLevel == "UCD")
    }

    @Test func contrlMessagesValidate() {
        let text = """
            UNB+UNOC:3+RECEIVER:14+SENDER:14+240301:1205+77'UNH+1+CONTRL:D:3:UN'\
            UCI+REF1+SENDER:14+RECEIVER:14+4'UCM+1+ORDERS:D:96A:UN+4'UCS+5+12'UCD+12+1:2'UNT+6+1'UNZ+1+77'
            """
        #expect(validate(text).allErrors.map(\.description) == [])
    }

    @Test func decimalCommaIsAcceptedInEdifactNumbers() {
        var body = Self.ordersBody
        body[6] = "PRI+AAA:12,5"
        #expect(validate(Self.orders(body)).isValid)
    }

    @Test func streamingValidationReportsEachSetAsItCompletes() throws {
        let text = Self.po850(Self.goodBody) + Self.po850(["BEG*00*SA*PO-2**20240301", "PO1*1*1*EA*1**BP*A"])
        var events: [String] = []
        try EDIValidator().validate(EDIReader(bytes: Array(text.utf8))) { event in
            switch event {
            case .transactionSet(let set): events.append("set \(set.controlNumber) \(set.segmentCount)")
            case .group(let group):
                events.append("group \(group.receivedSetCount)/\(group.acceptedSetCount) \(group.sets.count)")
            case .interchange(let interchange): events.append("interchange \(interchange.header?.controlNumber ?? "")")
            case .inputError: events.append("error")
            }
        }
        #expect(
            events == [
                "set 0001 12", "group 1/1 0", "interchange 000000101", "set 0001 4", "group 1/1 0",
                "interchange 000000101",
            ]
        )
    }
}
