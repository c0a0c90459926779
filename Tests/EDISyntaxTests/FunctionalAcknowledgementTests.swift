import EDISyntax
import Foundation
import Testing

/// Acknowledgements (TA1, 997, 999, CONTRL) built from validation reports: their segments, counts and codes, the
/// parties swapped, and the acknowledgement itself valid.
@Suite struct FunctionalAcknowledgementTests {
    static let parameters = AcknowledgementParameters(
        interchangeControlNumber: 5001,
        groupControlNumber: 77,
        messageReference: "ACK1",
        date: "20240302",
        time: "0930"
    )

    // MARK: - Inbound X12 documents

    static let goodBody = [
        "BEG*00*SA*PO-1**20240301", "REF*DP*038", "DTM*002*20240315", "N1*ST*STORE 12*92*0012", "N3*1 MAIN ST",
        "N4*SPRINGFIELD*IL*62701*US", "PO1*1*10*EA*12.50**BP*ABC*VP*V-1", "PID*F****WIDGET",
        "PO1*2*3*CA*1.5**UP*012345678905", "CTT*2*13",
    ]

    /// ST ... SE around `body`; SE01 is computed unless given.
    static func set(
        _ identifier: String = "850",
        _ control: String = "0001",
        _ body: [String] = Self.goodBody,
        reference: String? = nil,
        segmentCount: Int? = nil
    ) -> [String] {
        ["ST*\(identifier)*\(control)" + (reference.map { "*\($0)" } ?? "")] + body + [
            "SE*\(segmentCount ?? body.count + 2)*\(control)"
        ]
    }

    /// GS ... GE around `sets`; GE01 is computed unless given.
    static func group(
        _ functional: String = "PO",
        _ control: String = "101",
        version: String = "004010",
        sets: [[String]],
        declared: Int? = nil
    ) -> [String] {
        ["GS*\(functional)*BUYER*SELLER*20240301*1200*\(control)*X*\(version)"] + sets.flatMap { $0 } + [
            "GE*\(declared ?? sets.count)*\(control)"
        ]
    }

    /// An interchange from BUYER to SELLER.
    static func x12(
        _ groups: [[String]],
        isaVersion: String = "00401",
        control: String = "000000101",
        trailerControl: String? = nil,
        usage: String = "P",
        isAcknowledgementRequested: Bool = false
    ) -> [UInt8] {
        let repetition = isaVersion >= "00403" ? "^" : "U"
        let isa =
            "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *240301*1200*\(repetition)*"
            + "\(isaVersion)*\(control)*\(isAcknowledgementRequested ? "1" : "0")*\(usage)*>"
        let segments = [isa] + groups.flatMap { $0 } + ["IEA*\(groups.count)*\(trailerControl ?? control)"]
        return Array(segments.map { $0 + "~\n" }.joined().utf8)
    }

    static func interchange(_ bytes: [UInt8]) throws -> InterchangeReport {
        try #require(EDIValidator().validate(bytes: bytes).interchanges.first)
    }

    /// The acknowledgement's segments, one string each, without terminators.
    static func segments(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { line in
            line.hasSuffix("~") || line.hasSuffix("'") ? String(line.dropLast()) : String(line)
        }
    }

    /// The segments between the acknowledgement's first ST and its SE, both excluded.
    static func setBody(_ segments: [String], number: Int = 1) -> [String] {
        let starts = segments.indices.filter { segments[$0].hasPrefix("ST*") }
        let start = starts[number - 1]
        let end = segments[start...].firstIndex { $0.hasPrefix("SE*") }!
        return Array(segments[start + 1..<end])
    }

    static func make997(
        _ bytes: [UInt8],
        type: X12AcknowledgementType = .functional,
        includesTA1: Bool = false
    ) throws -> FunctionalAcknowledgement {
        let acknowledgement = try FunctionalAcknowledgement.makeX12(
            for: try Self.interchange(bytes),
            type: type,
            includesInterchangeAcknowledgement: includesTA1,
            parameters: Self.parameters
        )
        return try #require(acknowledgement)
    }

    static func expectValid(_ acknowledgement: FunctionalAcknowledgement) {
        let report = EDIValidator().validate(bytes: acknowledgement.bytes)
        #expect(report.allErrors.map(\.description) == [])
        #expect(report.interchanges.count == 1)
    }

    // MARK: - 997

    @Test func acceptedOrderIsAcknowledgedWithSwappedPartiesAndEchoedVersion() throws {
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set()])]))
        #expect(
            Self.segments(ack.bytes) == [
                "ISA*00*          *00*          *ZZ*SELLER         *ZZ*BUYER          *240302*0930*U*00401*"
                    + "000005001*0*P*>",
                "GS*FA*SELLER*BUYER*20240302*0930*77*X*004010", "ST*997*0001", "AK1*PO*101", "AK2*850*0001", "AK5*A",
                "AK9*A*1*1*1", "SE*6*0001", "GE*1*77", "IEA*1*000005001",
            ]
        )
        Self.expectValid(ack)
        #expect(ack.summary.status == .accepted)
        #expect(ack.summary.contents == ["997"])
        #expect(ack.summary.acknowledgedControlNumber == "000000101")
        #expect(ack.summary.groupControlNumbers == [77])
        #expect(ack.summary.acceptedSetCount == 1)
        #expect(ack.summary.rejectedSetCount == 0)
    }

    @Test func missingMandatoryElementIsReportedInAK3AndAK4AndRejectsTheSet() throws {
        var body = Self.goodBody
        body[0] = "BEG*00*SA***20240301"  // BEG03, the PO number, is missing
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set("850", "0001", body)])]))
        #expect(
            Self.setBody(Self.segments(ack.bytes)) == [
                "AK1*PO*101", "AK2*850*0001", "AK3*BEG*2**8", "AK4*3**1", "AK5*R*5", "AK9*R*1*1*0",
            ]
        )
        Self.expectValid(ack)
        #expect(ack.summary.status == .rejected)
        #expect(ack.summary.groups.first?.sets.first?.codes == ["5"])
    }

    /// A segment tag longer than three characters is the fault itself: AK301 (an ID of 2 or 3) takes its first three,
    /// so that our own 997 stays valid (regression, review: PIDXYZ was copied whole and the 997 failed crosscheck).
    @Test func anOverlongSegmentTagIsCutToThreeInAK301() throws {
        var body = Self.goodBody
        body.insert("PIDXYZ*F****WIDGET", at: 1)
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set("850", "0001", body)])]))
        let ak3 = Self.setBody(Self.segments(ack.bytes)).filter { $0.hasPrefix("AK3*") }
        #expect(ak3.first?.hasPrefix("AK3*PID*3*") == true, "\(ak3)")
        Self.expectValid(ack)
    }

    @Test func invalidCodeValueIsReportedWithACopyOfTheBadData() throws {
        let ack = try Self.make997(
            Self.x12([Self.group("PR", sets: [Self.set("855", "0001", ["BAK*00*QQ*PO-1*20240301"])])])
        )
        #expect(
            Self.setBody(Self.segments(ack.bytes)) == [
                "AK1*PR*101", "AK2*855*0001", "AK3*BAK*2**8", "AK4*2**7*QQ", "AK5*R*5", "AK9*R*1*1*0",
            ]
        )
        Self.expectValid(ack)
    }

    @Test func elementErrorInALoopNamesTheLoopAndTheSegmentPositionCountingST() throws {
        var body = Self.goodBody
        body[6] = "PO1*1*10*EA*12.5O**BP*ABC"
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set("850", "0001", body)])]))
        #expect(Self.setBody(Self.segments(ack.bytes))[2...3] == ["AK3*PO1*8*PO1*8", "AK4*4**6*12.5O"])
        Self.expectValid(ack)
    }

    @Test func componentErrorIsReportedInTheCompositeForm() throws {
        var body = Self.goodBody
        body.insert("MEA*PD*WT*10*XYZ", at: 3)  // MEA04-01, the unit, is 2 characters
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set("850", "0001", body)])]))
        #expect(Self.setBody(Self.segments(ack.bytes))[2...3] == ["AK3*MEA*5**8", "AK4*4>1**5*XYZ"])
        Self.expectValid(ack)
    }

    @Test func wrongSegmentCountInSE01RejectsTheSetWithAK502Code4() throws {
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set(segmentCount: 5)])]))
        #expect(
            Self.setBody(Self.segments(ack.bytes)) == ["AK1*PO*101", "AK2*850*0001", "AK5*R*4", "AK9*R*1*1*0"]
        )
        Self.expectValid(ack)
    }

    @Test func groupCountMismatchIsNotedWithTheRealCounts() throws {
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set()], declared: 2)]))
        #expect(
            Self.setBody(Self.segments(ack.bytes)) == ["AK1*PO*101", "AK2*850*0001", "AK5*A", "AK9*E*2*1*1*5"]
        )
        Self.expectValid(ack)
        #expect(ack.summary.status == .acceptedWithErrors)
        #expect(ack.summary.groups.first?.codes == ["5"])
    }

    @Test func unknownSegmentIsReportedAsUnrecognised() throws {
        var body = Self.goodBody
        body.insert("ZZ9*X", at: 1)
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set("850", "0001", body)])]))
        #expect(
            Self.setBody(Self.segments(ack.bytes)) == [
                "AK1*PO*101", "AK2*850*0001", "AK3*ZZ9*3**1", "AK5*R*5", "AK9*R*1*1*0",
            ]
        )
        Self.expectValid(ack)
    }

    @Test func missingMandatorySegmentIsReportedWhereItWasExpected() throws {
        let body = Array(Self.goodBody.dropFirst())  // no BEG
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set("850", "0001", body)])]))
        #expect(Self.setBody(Self.segments(ack.bytes))[2...3] == ["AK3*BEG*2**3", "AK5*R*5"])
        Self.expectValid(ack)
    }

    @Test func setsOfOneGroupAreCountedSeparatelyInAK9() throws {
        var bad = Self.goodBody
        bad[0] = "BEG*00*SA***20240301"
        let ack = try Self.make997(
            Self.x12([Self.group(sets: [Self.set(), Self.set("850", "0002", bad), Self.set("850", "0003")])])
        )
        let body = Self.setBody(Self.segments(ack.bytes))
        #expect(
            body.filter { $0.hasPrefix("AK2") || $0.hasPrefix("AK5") } == [
                "AK2*850*0001", "AK5*A", "AK2*850*0002", "AK5*R*5", "AK2*850*0003", "AK5*A",
            ]
        )
        #expect(body.last == "AK9*P*3*3*2")
        Self.expectValid(ack)
        #expect(ack.summary.status == .partiallyAccepted)
        #expect(ack.summary.acceptedSetCount == 2)
        #expect(ack.summary.rejectedSetCount == 1)
    }

    @Test func duplicateSetControlNumberRejectsTheSecondSetWithCode23() throws {
        let bytes = Self.x12([Self.group(sets: [Self.set(), Self.set()])])
        let isMisfiled = try Self.interchange(bytes).groups.first?.sets.last?.errors.isEmpty == true
        try withKnownIssue("EDIReader reports a duplicate ST02 before the set starts; it lands in the interchange") {
            let ack = try Self.make997(bytes)
            let body = Self.setBody(Self.segments(ack.bytes))
            #expect(body == ["AK1*PO*101", "AK2*850*0001", "AK5*A", "AK2*850*0001", "AK5*R*23", "AK9*P*2*2*1"])
            Self.expectValid(ack)
        } when: {
            isMisfiled
        }
    }

    @Test func severalGroupsGetOneAcknowledgementSetEachInOneGroup() throws {
        var bad = Self.goodBody
        bad[6] = "PO1*1*10*EA*12.5O**BP*ABC"
        let ack = try Self.make997(
            Self.x12([
                Self.group("PO", "101", sets: [Self.set()]),
                Self.group("PO", "102", sets: [Self.set("850", "0001", bad)]),
                Self.group("PR", "103", sets: [Self.set("855", "0001", ["BAK*00*AD*PO-1*20240301"])]),
            ])
        )
        let segments = Self.segments(ack.bytes)
        #expect(
            segments.filter { $0.hasPrefix("GS") || $0.hasPrefix("ST") || $0.hasPrefix("GE") } == [
                "GS*FA*SELLER*BUYER*20240302*0930*77*X*004010", "ST*997*0001", "ST*997*0002", "ST*997*0003", "GE*3*77",
            ]
        )
        #expect(Self.setBody(segments, number: 1) == ["AK1*PO*101", "AK2*850*0001", "AK5*A", "AK9*A*1*1*1"])
        #expect(Self.setBody(segments, number: 2).first == "AK1*PO*102")
        #expect(Self.setBody(segments, number: 2).last == "AK9*R*1*1*0")
        #expect(Self.setBody(segments, number: 3) == ["AK1*PR*103", "AK2*855*0001", "AK5*A", "AK9*A*1*1*1"])
        #expect(segments.last == "IEA*1*000005001")
        Self.expectValid(ack)
        #expect(ack.summary.groups.map(\.status) == [.accepted, .rejected, .accepted])
        #expect(ack.summary.status == .partiallyAccepted)
    }

    @Test func groupsOfDifferentVersionsAreAnsweredInGroupsOfTheirOwnVersion() throws {
        let ack = try Self.make997(
            Self.x12([
                Self.group("PO", "101", sets: [Self.set()]),
                Self.group("PO", "102", version: "005010", sets: [Self.set()]),
            ])
        )
        let segments = Self.segments(ack.bytes)
        #expect(
            segments.filter { $0.hasPrefix("GS") || $0.hasPrefix("GE") || $0.hasPrefix("AK1") } == [
                "GS*FA*SELLER*BUYER*20240302*0930*77*X*004010", "AK1*PO*101", "GE*1*77",
                "GS*FA*SELLER*BUYER*20240302*0930*78*X*005010", "AK1*PO*102*005010", "GE*1*78",
            ]
        )
        #expect(segments.last == "IEA*2*000005001")
        #expect(ack.summary.groupControlNumbers == [77, 78])
        Self.expectValid(ack)
    }

    @Test func version5010AcknowledgementEchoesVersionAndImplementationReference() throws {
        let ack = try Self.make997(
            Self.x12(
                [Self.group(version: "005010", sets: [Self.set(reference: "X-GUIDE")])],
                isaVersion: "00501"
            )
        )
        let segments = Self.segments(ack.bytes)
        #expect(segments[0].contains("*^*00501*000005001*0*P*>"))
        #expect(segments[1] == "GS*FA*SELLER*BUYER*20240302*0930*77*X*005010")
        #expect(Self.setBody(segments) == ["AK1*PO*101*005010", "AK2*850*0001*X-GUIDE", "AK5*A", "AK9*A*1*1*1"])
        Self.expectValid(ack)
    }

    // MARK: - 999

    @Test func implementationAcknowledgementUsesIKSegmentsAndItsOwnConvention() throws {
        var body = Self.goodBody
        body[6] = "PO1*1*10*EA*12.5O**BP*ABC"
        let ack = try Self.make997(
            Self.x12(
                [Self.group(version: "005010", sets: [Self.set("850", "0001", body, reference: "X-GUIDE")])],
                isaVersion: "00501"
            ),
            type: .implementation
        )
        let segments = Self.segments(ack.bytes)
        #expect(segments[1] == "GS*FA*SELLER*BUYER*20240302*0930*77*X*005010X231A1")
        #expect(segments[2] == "ST*999*0001*005010X231A1")
        #expect(
            Self.setBody(segments) == [
                "AK1*PO*101*005010", "AK2*850*0001*X-GUIDE", "IK3*PO1*8*PO1*8", "IK4*4**6*12.5O", "IK5*R*5",
                "AK9*R*1*1*0",
            ]
        )
        Self.expectValid(ack)
        #expect(ack.summary.contents == ["999"])
    }

    @Test func implementationAcknowledgementOf4010GroupNamesItsVersionInAK103() throws {
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set()])]), type: .implementation)
        #expect(
            Self.setBody(Self.segments(ack.bytes)) == ["AK1*PO*101*004010", "AK2*850*0001", "IK5*A", "AK9*A*1*1*1"]
        )
        Self.expectValid(ack)
    }

    // MARK: - TA1

    @Test func interchangeControlMismatchIsAnsweredByTA1AndTheGroupsAreStillAcknowledged() throws {
        let ack = try Self.make997(
            Self.x12([Self.group(sets: [Self.set()])], trailerControl: "000000999", isAcknowledgementRequested: true),
            includesTA1: true
        )
        let segments = Self.segments(ack.bytes)
        #expect(segments[1] == "TA1*000000101*240301*1200*E*001")
        #expect(segments[2].hasPrefix("GS*FA*SELLER*BUYER"))
        #expect(Self.setBody(segments) == ["AK1*PO*101", "AK2*850*0001", "AK5*A", "AK9*A*1*1*1"])
        Self.expectValid(ack)
        #expect(ack.summary.contents == ["TA1", "997"])
        #expect(ack.summary.interchangeCode == "E")
        #expect(ack.summary.interchangeNoteCode == "001")
        #expect(ack.summary.status == .acceptedWithErrors)
    }

    @Test func cleanInterchangeGetsTA1WithNoteCode000() throws {
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set()])]), includesTA1: true)
        #expect(Self.segments(ack.bytes)[1] == "TA1*000000101*240301*1200*A*000")
        #expect(ack.summary.interchangeNoteCode == nil)
        Self.expectValid(ack)
    }

    @Test func interchangeWithoutGroupsCanOnlyBeAnsweredByTA1() throws {
        let report = try Self.interchange(Self.x12([]))
        #expect(FunctionalAcknowledgement.scope(of: report) == .interchangeOnly)
        let none = try FunctionalAcknowledgement.makeX12(
            for: report,
            includesInterchangeAcknowledgement: false,
            parameters: Self.parameters
        )
        #expect(none == nil)
        let ack = try #require(
            try FunctionalAcknowledgement.makeX12(
                for: report,
                includesInterchangeAcknowledgement: true,
                parameters: Self.parameters
            )
        )
        #expect(Self.segments(ack.bytes).dropFirst() == ["TA1*000000101*240301*1200*A*000", "IEA*0*000005001"])
        #expect(ack.summary.contents == ["TA1"])
        Self.expectValid(ack)
    }

    @Test func unusableISAIsRejectedByTA1AloneEvenWithGroups() throws {
        let report = try Self.interchange(Self.x12([Self.group(sets: [Self.set()])], usage: "X"))
        try withKnownIssue(
            "EDIReader reports ISA field errors before the interchange starts; they land in the document"
        ) {
            try Self.expectTA1Rejection(report)
        } when: {
            report.errors.isEmpty
        }
    }

    static func expectTA1Rejection(_ report: InterchangeReport) throws {
        #expect(FunctionalAcknowledgement.scope(of: report) == .interchangeOnly)
        let none = try FunctionalAcknowledgement.makeX12(
            for: report,
            includesInterchangeAcknowledgement: false,
            parameters: Self.parameters
        )
        #expect(none == nil)
        let ack = try #require(
            try FunctionalAcknowledgement.makeX12(
                for: report,
                includesInterchangeAcknowledgement: true,
                parameters: Self.parameters
            )
        )
        #expect(Self.segments(ack.bytes).dropFirst() == ["TA1*000000101*240301*1200*R*020", "IEA*0*000005001"])
        #expect(ack.summary.status == .rejected)
        #expect(ack.summary.unacknowledgedGroupCount == 1)
        Self.expectValid(ack)
    }

    @Test func standaloneTA1LeavesTheGroupsOut() throws {
        let report = try Self.interchange(Self.x12([Self.group(sets: [Self.set()])]))
        let ack = try FunctionalAcknowledgement.makeInterchangeAcknowledgement(for: report, parameters: Self.parameters)
        #expect(Self.segments(ack.bytes).dropFirst() == ["TA1*000000101*240301*1200*A*000", "IEA*0*000005001"])
        #expect(ack.summary.unacknowledgedGroupCount == 1)
        Self.expectValid(ack)
    }

    @Test func interchangeWithoutISACannotBeAcknowledged() throws {
        let bytes = Self.x12([]) + Array(Self.group(sets: [Self.set()]).map { $0 + "~\n" }.joined().utf8)
        let report = EDIValidator().validate(bytes: bytes)
        let headless = try #require(report.interchanges.last)
        #expect(headless.header == nil)
        #expect(FunctionalAcknowledgement.scope(of: headless) == .nothing)
        let error = try #require(throws: AcknowledgementError.self) {
            try FunctionalAcknowledgement.makeX12(
                for: headless,
                includesInterchangeAcknowledgement: true,
                parameters: Self.parameters
            )
        }
        #expect(error.code == .missingInterchangeHeader)
    }

    // MARK: - Values that cannot be copied, parameters

    @Test func badDataHoldingAnOutboundDelimiterIsNotCopied() throws {
        var body = Self.goodBody
        body[6] = "PO1*1*10*EA*12#5**BP*ABC"
        let text = String(decoding: Self.x12([Self.group(sets: [Self.set("850", "0001", body)])]), as: UTF8.self)
            .replacingOccurrences(of: "*", with: "|").replacingOccurrences(of: "#", with: "*")
        let ack = try Self.make997(Array(text.utf8))
        #expect(Self.setBody(Self.segments(ack.bytes))[2...3] == ["AK3*PO1*8*PO1*8", "AK4*4**6"])
        Self.expectValid(ack)
    }

    @Test func malformedParametersAreRefused() throws {
        let report = try Self.interchange(Self.x12([Self.group(sets: [Self.set()])]))
        var parameters = Self.parameters
        parameters.date = "240302"
        let error = try #require(throws: AcknowledgementError.self) {
            try FunctionalAcknowledgement.makeX12(
                for: report,
                includesInterchangeAcknowledgement: false,
                parameters: parameters
            )
        }
        #expect(error.code == .invalidParameter)
    }

    @Test func x12AcknowledgementOfAnEDIFACTInterchangeIsRefused() throws {
        let report = try Self.interchange(Self.edifact(Self.ordersBody))
        let error = try #require(throws: AcknowledgementError.self) {
            try FunctionalAcknowledgement.makeX12(
                for: report,
                includesInterchangeAcknowledgement: true,
                parameters: Self.parameters
            )
        }
        #expect(error.code == .wrongDialect)
    }

    // MARK: - CONTRL

    static let ordersBody = [
        "BGM+220+PO-1+9", "DTM+137:20240301:102", "NAD+BY+5412345000013::9", "NAD+SU+4012345500004::9",
        "LIN+1++4000862141404:EN", "QTY+21:48", "PRI+AAA:12.5", "UNS+S", "CNT+2:1",
    ]

    /// An interchange from SENDER to RECEIVER with one ORDERS message per reference.
    static func edifact(
        _ body: [String],
        references: [String] = ["1"],
        syntax: String = "UNOC:3",
        date: String = "240301",
        trailerReference: String = "REF1"
    ) -> [UInt8] {
        let messages = references.map { reference in
            let segments = ["UNH+\(reference)+ORDERS:D:96A:UN:EAN008"] + body + ["UNT+\(body.count + 2)+\(reference)"]
            return segments.map { $0 + "'\n" }.joined()
        }
        let text =
            "UNB+\(syntax)+SENDER:14+RECEIVER:ZZ+\(date):1200+REF1'\n" + messages.joined()
            + "UNZ+\(references.count)+\(trailerReference)'\n"
        return Array(text.utf8)
    }

    static func contrl(_ bytes: [UInt8], isReceiptOnly: Bool = false) throws -> FunctionalAcknowledgement {
        try FunctionalAcknowledgement.makeCONTRL(
            for: try Self.interchange(bytes),
            isReceiptOnly: isReceiptOnly,
            parameters: Self.parameters
        )
    }

    @Test func goodOrdersIsAcknowledgedByCONTRLWithSwappedParties() throws {
        let ack = try Self.contrl(Self.edifact(Self.ordersBody))
        #expect(
            Self.segments(ack.bytes) == [
                "UNB+UNOC:3+RECEIVER:ZZ+SENDER:14+240302:0930+5001", "UNH+ACK1+CONTRL:D:3:UN",
                "UCI+REF1+SENDER:14+RECEIVER:ZZ+7", "UCM+1+ORDERS:D:96A:UN:EAN008+7", "UNT+4+ACK1", "UNZ+1+5001",
            ]
        )
        Self.expectValid(ack)
        #expect(ack.summary.status == .accepted)
        #expect(ack.summary.interchangeCode == "7")
        #expect(ack.summary.messages.map(\.status) == [.accepted])
    }

    @Test func badOrdersIsRejectedWithSegmentAndElementErrors() throws {
        var body = Self.ordersBody
        body[5] = "QTY+21:4X8"  // not a number
        body[2] = "NAD+BUYER+5412345000013::9"  // 3035 is an..3
        body.remove(at: 0)  // BGM missing
        let ack = try Self.contrl(Self.edifact(body))
        #expect(
            Self.segments(ack.bytes)[2...] == [
                "UCI+REF1+SENDER:14+RECEIVER:ZZ+7", "UCM+1+ORDERS:D:96A:UN:EAN008+4", "UCS+2+13", "UCS+3",
                "UCD+39+1", "UCS+6", "UCD+37+1:2", "UNT+9+ACK1", "UNZ+1+5001",
            ]
        )
        Self.expectValid(ack)
        #expect(ack.summary.status == .rejected)
        #expect(ack.summary.messages.first?.codes == ["13", "39", "37"])
    }

    @Test func interchangeReferenceMismatchRejectsTheInterchangeInUCI() throws {
        let ack = try Self.contrl(Self.edifact(Self.ordersBody, trailerReference: "REF2"))
        #expect(
            Self.segments(ack.bytes)[2...3] == [
                "UCI+REF1+SENDER:14+RECEIVER:ZZ+4+28+UNZ+2", "UCM+1+ORDERS:D:96A:UN:EAN008+4",
            ]
        )
        Self.expectValid(ack)
        #expect(ack.summary.status == .rejected)
        #expect(ack.summary.interchangeNoteCode == "28")
    }

    @Test func duplicateMessageReferenceRejectsThatMessageAndNotTheInterchange() throws {
        let bytes = Self.edifact(Self.ordersBody, references: ["1", "2", "1"])
        let isMisfiled = try Self.interchange(bytes).messages.last?.errors.isEmpty == true
        let ack = try Self.contrl(bytes)
        let segments = Self.segments(ack.bytes)
        #expect(segments[2] == "UCI+REF1+SENDER:14+RECEIVER:ZZ+7")
        withKnownIssue("EDIReader reports a duplicate UNH 0062 before the message starts; it lands in the interchange")
        {
            #expect(
                segments[3...5] == [
                    "UCM+1+ORDERS:D:96A:UN:EAN008+7", "UCM+2+ORDERS:D:96A:UN:EAN008+7",
                    "UCM+1+ORDERS:D:96A:UN:EAN008+4+26+UNH+1",
                ]
            )
            #expect(ack.summary.status == .partiallyAccepted)
        } when: {
            isMisfiled
        }
        Self.expectValid(ack)
    }

    @Test func syntaxVersion4IsAnsweredWithTheSyntax4CONTRLAndALongDate() throws {
        let ack = try Self.contrl(Self.edifact(Self.ordersBody, syntax: "UNOC:4", date: "20240301"))
        let segments = Self.segments(ack.bytes)
        #expect(segments[0] == "UNB+UNOC:4+RECEIVER:ZZ+SENDER:14+20240302:0930+5001")
        #expect(segments[1] == "UNH+ACK1+CONTRL:4:1:UN")
        Self.expectValid(ack)
    }

    @Test func receiptOnlyCONTRLHoldsTheUCIAlone() throws {
        let ack = try Self.contrl(Self.edifact(Self.ordersBody), isReceiptOnly: true)
        #expect(
            Self.segments(ack.bytes)[1...3] == [
                "UNH+ACK1+CONTRL:D:3:UN", "UCI+REF1+SENDER:14+RECEIVER:ZZ+8", "UNT+3+ACK1",
            ]
        )
        Self.expectValid(ack)
    }

    @Test func messagesInAGroupAreAnsweredAfterAUCF() throws {
        let report = try Self.interchange(try Fixtures.bytes("corpus/edifact/orders-with-ung-group-staedi.edi"))
        let ack = try FunctionalAcknowledgement.makeCONTRL(for: report, parameters: Self.parameters)
        // The message's UNT counts 21 segments for 20, and its association code EAN008B is longer than an..6 (so
        // the UCM leaves it out).
        #expect(
            Self.segments(ack.bytes)[2...] == [
                "UCI+2722166169492+5400110000009:14+5013546107732:14+7", "UCF+1+5400110000009+5013546107732+7",
                "UCM+1+ORDERS:D:96B:UN+4+29+UNT+1", "UCS+1", "UCD+39+2:5", "UNT+7+ACK1", "UNZ+1+5001",
            ]
        )
        #expect(ack.summary.groups.map(\.status) == [.rejected])
        Self.expectValid(ack)
    }

    @Test func summaryRoundTripsThroughJSON() throws {
        let ack = try Self.make997(Self.x12([Self.group(sets: [Self.set(), Self.set("850", "0002", ["BEG*00"])])]))
        let data = try JSONEncoder().encode(ack.summary)
        #expect(try JSONDecoder().decode(AcknowledgementSummary.self, from: data) == ack.summary)
        #expect(ack.summary.groups.first?.sets.map(\.status) == [.accepted, .rejected])
    }

    // MARK: - The corpus

    @Test(arguments: Fixtures.corpus.filter { $0.dialect == "x12" })
    func everyX12CorpusInterchangeGetsAValidAcknowledgement(_ expected: CorpusExpectation) throws {
        let report = EDIValidator().validate(bytes: try Fixtures.bytes(expected.path))
        for interchange in report.interchanges where FunctionalAcknowledgement.scope(of: interchange) != .nothing {
            for type in [X12AcknowledgementType.functional, .implementation] {
                let ack = try #require(
                    try FunctionalAcknowledgement.makeX12(
                        for: interchange,
                        type: type,
                        includesInterchangeAcknowledgement: true,
                        parameters: Self.parameters
                    )
                )
                let errors = EDIValidator().validate(bytes: ack.bytes).allErrors
                #expect(errors.map(\.description) == [], "\(type.rawValue)")
            }
        }
    }

    @Test(arguments: Fixtures.corpus.filter { $0.dialect == "edifact" && $0.interchanges > 0 })
    func everyEDIFACTCorpusInterchangeGetsAValidCONTRL(_ expected: CorpusExpectation) throws {
        let report = EDIValidator().validate(bytes: try Fixtures.bytes(expected.path))
        for interchange in report.interchanges where interchange.header != nil {
            let ack = try FunctionalAcknowledgement.makeCONTRL(for: interchange, parameters: Self.parameters)
            #expect(EDIValidator().validate(bytes: ack.bytes).allErrors.map(\.description) == [])
        }
    }
}
