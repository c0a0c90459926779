import EDISyntax
import Foundation
import OrderModel
import Testing

@testable import OrderMapping

/// EDI maps read their values through compiled programs (`EDIProgram`: paths, conditions and pair qualifiers as plain
/// values). The general resolver stays for XML and for what programs do not cover; these tests map the same
/// documents both ways and expect the same canonical JSON, origins included, and the same issues.
@Suite("Compiled EDI sources")
struct CompiledSourcesTests {
    /// The shipped mappings compiled without EDI programs: every value through the general resolver.
    static let general: Result<MappingSet, MappingDiagnostics> = {
        InboundCompiler.$compilesEDIPrograms.withValue(false) {
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

    static func expectSameResults(_ bytes: [UInt8], name: String, partner: String? = nil) throws {
        let compiled = try Self.translate(bytes, with: try Repository.mappings.get(), partner: partner)
        let general = try Self.translate(bytes, with: try Self.general.get(), partner: partner)
        #expect(!compiled.isEmpty, "\(name): nothing translated")
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

    /// Release characters in values and in qualifiers that conditions compare, a decimal comma, a format code after
    /// a date, a missing required value and a bad number: what the programs read, and the errors they raise, are
    /// the general resolver's.
    @Test(arguments: [
        // Released separators in a party name and in a free-text qualifier; decimal comma; 203 date with time.
        """
        UNA:+,? 'UNB+UNOC:3+4012345000009:14+5790000000005:14+261123:1000+55'UNH+1+ORDERS:D:96A:UN:EAN008'\
        BGM+220+PO?+77+9'DTM+137:202611231030:203'NAD+BY+4012345000009::9++N?:ORD ?'HANDEL'\
        LIN+1++4000862141404:SRV'QTY+21:12,5:PCE'PRI+AAA:3,25'UNS+S'UNT+8+1'UNZ+1+55'
        """,
        // No order number (required): the set is reported, the next one is read.
        """
        UNA:+.? 'UNB+UNOC:3+4012345000009:14+5790000000005:14+261123:1000+56'UNH+1+ORDERS:D:96A:UN:EAN008'\
        BGM+220'DTM+137:20261123:102'LIN+1++4000862141404:SRV'QTY+21:2'UNS+S'UNT+7+1'\
        UNH+2+ORDERS:D:96A:UN:EAN008'BGM+220+PO-2'DTM+137:20261123:102'LIN+1++4000862141404:SRV'\
        QTY+21:abc'UNS+S'UNT+7+2'UNZ+2+56'
        """,
    ])
    func edgeCasesReadTheSameBothWays(_ document: String) throws {
        try Self.expectSameResults(Array(document.utf8), name: String(document.prefix(60)), partner: "nordhandel")
    }
}
