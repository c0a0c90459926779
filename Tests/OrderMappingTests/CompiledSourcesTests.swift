import EDISyntax
import Foundation
import OrderModel
import Testing

@_spi(Testing) @testable import OrderMapping

/// EDI maps read their values through compiled programs (`EDIProgram`: paths, conditions and pair qualifiers as plain
/// values). The general resolver stays for XML and for what programs do not cover; these tests map the same
/// documents both ways and expect the same canonical JSON, origins included, and the same issues.
@Suite("Compiled EDI sources")
struct CompiledSourcesTests {
    /// The shipped mappings compiled without EDI programs: every value through the general resolver.
    static let general: Result<MappingSet, MappingDiagnostics> = {
        MappingCompilation.$compilesEDIPrograms.withValue(false) {
            do {
                return .success(
                    try MappingSet.load(files: try Repository.mappingFiles(), displayPrefix: "mappings/")
                )
            } catch let error as MappingDiagnostics {
                return .failure(error)
            } catch {
                return .failure(MappingDiagnostics(diagnostics: []))
            }
        }
    }()

    /// Every EDI document of the corpus fixtures and of `examples/`.
    static let files: [String] = {
        var files: [String] = []
        for folder in ["Tests/OrderMappingTests/Fixtures/corpus", "examples"] {
            let base = Repository.root.appendingPathComponent(folder)
            let enumerator = FileManager.default.enumerator(atPath: base.path)
            while let relative = enumerator?.nextObject() as? String {
                guard relative.hasSuffix(".edi") || relative.hasSuffix(".txt") else { continue }
                files.append(folder + "/" + relative)
            }
        }
        return files.sorted()
    }()

    /// Translates `bytes` with `mappings`; the documents as canonical JSON and the issues as text.
    static func translate(_ bytes: [UInt8], with mappings: MappingSet, partner: String? = nil) throws -> [String] {
        var results: [String] = []
        let issues = try Translator(mappings: mappings).translateEDI(
            source: BufferByteSource(bytes),
            partnerID: partner
        ) { document in
            switch document.value {
            case .order(let order): results.append(try CanonicalJSON.encode(order))
            case .acknowledgement(let value): results.append(try CanonicalJSON.encode(value))
            case .shipNotice(let value): results.append(try CanonicalJSON.encode(value))
            case .invoice(let value): results.append(try CanonicalJSON.encode(value))
            }
        }
        return results + issues.map { "issue: \($0.message) at \($0.byteOffset ?? -1)" }
    }

    /// Expects the same results both ways; `documents` is how many canonical values the document must give.
    static func expectSameResults(_ bytes: [UInt8], name: String, partner: String? = nil, documents: Int? = nil) throws
    {
        let compiled = try Self.translate(bytes, with: try Repository.mappings.get(), partner: partner)
        let general = try Self.translate(bytes, with: try Self.general.get(), partner: partner)
        let values = compiled.filter { !$0.hasPrefix("issue: ") }.count
        if let documents {
            #expect(values == documents, "\(name): \(values) documents")
        } else {
            #expect(values > 0, "\(name): nothing translated")
        }
        #expect(compiled == general, "\(name): the compiled and the general paths differ")
    }

    @Test func theDocumentsAreFound() {
        #expect(Self.files.count >= 20)
    }

    @Test(arguments: Self.files)
    func compiledSourcesReadWhatTheGeneralResolverReads(_ file: String) throws {
        try Self.expectSameResults(Repository.bytes(Repository.root.appendingPathComponent(file)), name: file)
    }

    /// The read-back maps of the outbound documents cover HL hierarchies (856), qualifier selections and dates of
    /// other shapes: the rendered 855, 856 and 810 read back the same both ways.
    @Test(arguments: RenderRoundTripTests.cases.filter { $0.partner == "acme" })
    func renderedDocumentsReadBackTheSameBothWays(_ testCase: RenderRoundTripTests.Case) throws {
        let (bytes, _) = try RenderRoundTripTests.render(testCase)
        try Self.expectSameResults(bytes, name: testCase.testDescription)
    }

    /// Each loop occurrence summarises the tags of its own segments and of its children's first segments, so that a
    /// lookup skips occurrences that cannot hold its tag. A summary may say "maybe" wrongly, never "no": every tag
    /// there has its bit, in the corpus and examples and in the rendered 855, 856 (HL levels re-nested by their
    /// parents) and 810.
    @Test func tagSummariesNeverRuleOutATagThatIsThere() throws {
        var documents = try Self.files.map { try Repository.bytes(Repository.root.appendingPathComponent($0)) }
        for testCase in RenderRoundTripTests.cases where testCase.partner == "acme" {
            documents.append(try RenderRoundTripTests.render(testCase).0)
        }
        var loopsChecked = 0
        var hierarchies = 0
        for bytes in documents {
            let reader = EDIReader(source: BufferByteSource(bytes))
            let arena = SetArena()
            var builder: SegmentTreeBuilder?
            var version = ""
            while let event = try? reader.next() {
                switch event {
                case .groupStart(let header): version = String((header?[8] ?? "").prefix(6))
                case .transactionSetStart(let header):
                    let dialect = reader.dialect ?? .x12
                    let type = header.element(2)
                    let identifier = dialect == .x12 ? header[1] : type.component(1)
                    let schema = SchemaLibrary.standard.nearestSchema(
                        dialect: dialect,
                        identifier: identifier,
                        version: dialect == .x12 ? version : type.component(2) + type.component(3)
                    )
                    builder = schema.map {
                        SegmentTreeBuilder(arena: arena, shape: LoopShapeCache.shape(for: $0), header: header)
                    }
                case .segment(let segment): builder?.append(segment)
                case .transactionSetEnd(let trailer):
                    guard builder != nil else { continue }
                    if let trailer { builder!.append(trailer) }
                    builder!.finish()
                    builder = nil
                    let view = arena.view
                    for loop in 0..<Int32(arena.loops.count) {
                        loopsChecked += 1
                        var segment = view.loops[Int(loop)].firstSegment
                        while segment >= 0 {
                            #expect(view.mayHave(SetArena.tagBit(view.tag(segment)), in: loop))
                            segment = view.segments[Int(segment)].next
                        }
                        var child = view.loops[Int(loop)].firstChild
                        while child >= 0 {
                            if view.loops[Int(child)].shape.isHierarchical { hierarchies += 1 }
                            let trigger = view.trigger(child)
                            if trigger >= 0 { #expect(view.mayHaveChild(SetArena.tagBit(view.tag(trigger)), in: loop)) }
                            child = view.loops[Int(child)].nextSibling
                        }
                    }
                default: continue
                }
            }
        }
        #expect(loopsChecked > 200)
        #expect(hierarchies > 3, "the rendered 856 nests HL levels")
    }

    /// Rendering reads a code table backwards (canonical value → code): the first code in code order that maps to
    /// the value, from a table computed once and kept with the entries as they change.
    @Test func aCodeTableReadBackwardsGivesTheFirstCodeInCodeOrder() {
        let table = CodeTable(
            name: "t",
            entries: ["IB": "backordered", "BP": "backordered", "IA": "accepted"],
            fallback: nil,
            positions: [:]
        )
        #expect(table.reverse("backordered") == "BP")
        #expect(table.reverse("accepted") == "IA")
        #expect(table.reverse("rejected") == nil)
        table.entries["AB"] = "accepted"
        #expect(table.reverse("accepted") == "AB")
    }

    /// Release characters in values and in qualifiers that conditions compare, a decimal comma, a format code after
    /// a date, a missing required value and a bad number: what the programs read, and the errors they raise, are
    /// the general resolver's.
    @Test(arguments: [
        // Released separators in a party name and in a free-text qualifier; decimal comma; 203 date with time.
        (
            1,
            """
            UNA:+,? 'UNB+UNOC:3+4012345000009:14+5790000000005:14+261123:1000+55'UNH+1+ORDERS:D:96A:UN:EAN008'\
            BGM+220+PO?+77+9'DTM+137:202611231030:203'NAD+BY+4012345000009::9++N?:ORD ?'HANDEL'\
            LIN+1++4000862141404:SRV'QTY+21:12,5:PCE'PRI+AAA:3,25'UNS+S'UNT+8+1'UNZ+1+55'
            """
        ),
        // No order number (required), then a bad quantity: each set is reported with its place.
        (
            0,
            """
            UNA:+.? 'UNB+UNOC:3+4012345000009:14+5790000000005:14+261123:1000+56'UNH+1+ORDERS:D:96A:UN:EAN008'\
            BGM+220'DTM+137:20261123:102'LIN+1++4000862141404:SRV'QTY+21:2'UNS+S'UNT+7+1'\
            UNH+2+ORDERS:D:96A:UN:EAN008'BGM+220+PO-2'DTM+137:20261123:102'LIN+1++4000862141404:SRV'\
            QTY+21:abc'UNS+S'UNT+7+2'UNZ+2+56'
            """
        ),
        // The input ends in a release character, so the order number's bytes (`?`) have no text: no value, so the
        // required-value error (found by a review: the compiled path stored an empty number).
        (
            0,
            """
            UNA:+.? 'UNB+UNOC:3+4012345000009:14+5790000000005:14+261123:1000+57'\
            UNH+1+ORDERS:D:96A:UN:EAN008'BGM+220+?
            """
        ),
    ])
    func edgeCasesReadTheSameBothWays(_ documents: Int, _ document: String) throws {
        try Self.expectSameResults(
            Array(document.utf8),
            name: String(document.prefix(60)),
            partner: "nordhandel",
            documents: documents
        )
    }

    /// Slots that write in place (at a stored property's offset, `FieldSlot.store`) write exactly what their `set`
    /// closure writes, and read in place (`firstValue`, for rendering) what `get` reads, for values of every kind (a text into a decimal field is parsed, a date into a text field is
    /// written as text, a value of the wrong kind for a date or integer field is ignored), over an empty record and
    /// over a record that already has a value there.
    @Test func slotsThatWriteInPlaceWriteWhatTheirSettersWrite() {
        var checked = 0
        checked += Self.checkSlots(Order.self)
        checked += Self.checkSlots(OrderLine.self)
        checked += Self.checkSlots(Party.self)
        checked += Self.checkSlots(Reference.self)
        checked += Self.checkSlots(Note.self)
        checked += Self.checkSlots(Acknowledgement.self)
        checked += Self.checkSlots(AcknowledgedLine.self)
        checked += Self.checkSlots(LineDisposition.self)
        checked += Self.checkSlots(ShipNotice.self)
        checked += Self.checkSlots(ShippedOrder.self)
        checked += Self.checkSlots(Pack.self)
        checked += Self.checkSlots(ShippedItem.self)
        checked += Self.checkSlots(Invoice.self)
        checked += Self.checkSlots(InvoiceLine.self)
        checked += Self.checkSlots(AllowanceCharge.self)
        // Text, dates, numbers, quantities and money of the order and its lines, item identifiers through `item`.
        #expect(checked >= 40, "slots that write in place: \(checked)")
    }

    static let samples: [CanonicalValue] = [
        .text("PO-1"), .text("A text longer than fifteen bytes"), .text("12.50"), .decimal(Decimal(string: "1.5")!),
        .integer(7), .date(DocumentDate(year: 2026, month: 11, day: 23)!), .quantity(2, unit: "EA"),
        .quantity(3, unit: nil), .money(Decimal(string: "3.25")!, currency: "USD"), .money(4, currency: nil),
    ]

    static func checkSlots<Record: MappableRecord & Equatable>(_ type: Record.Type) -> Int {
        var checked = 0
        // Every slot reads its first value (for rendering) as `get` gives it, in place or not.
        for slot in Record.catalog.fields.values where slot.offset == nil {
            for value in Self.samples {
                var record = Record()
                slot.set(&record, value)
                #expect(slot.firstValue(of: record) == slot.get(record).first, "\(Record.recordName).\(slot.name)")
            }
            #expect(slot.firstValue(of: Record()) == slot.get(Record()).first, "\(Record.recordName).\(slot.name)")
        }
        for slot in Record.catalog.fields.values where slot.offset != nil {
            checked += 1
            #expect(slot.firstValue(of: Record()) == slot.get(Record()).first, "\(Record.recordName).\(slot.name)")
            for first in Self.samples {
                for second in Self.samples {
                    var viaSet = Record()
                    var viaStore = Record()
                    slot.set(&viaSet, first)
                    slot.store(first, in: &viaStore)
                    #expect(viaSet == viaStore, "\(Record.recordName).\(slot.name) = \(first)")
                    slot.set(&viaSet, second)
                    slot.store(second, in: &viaStore)
                    #expect(viaSet == viaStore, "\(Record.recordName).\(slot.name) = \(first), then \(second)")
                    #expect(
                        slot.firstValue(of: viaStore) == slot.get(viaStore).first,
                        "\(Record.recordName).\(slot.name) read back after \(first), then \(second)"
                    )
                }
            }
        }
        return checked
    }
}
