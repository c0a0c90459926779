import EDISyntax
import Foundation
import Testing

/// The schema files: they parse, cover every message the gateway handles, and the embedded copy is current.
@Suite struct SchemaTests {
    @Test(arguments: [
        ("850", "004010"), ("855", "004010"), ("856", "004010"), ("810", "004010"), ("860", "004010"),
        ("865", "004010"), ("846", "004010"), ("997", "004010"), ("850", "005010"), ("855", "005010"),
        ("856", "005010"), ("810", "005010"), ("860", "005010"), ("865", "005010"), ("846", "005010"),
        ("997", "005010"), ("999", "005010"),
    ])
    func x12SchemaExists(_ identifier: String, _ version: String) throws {
        let schema = try #require(
            SchemaLibrary.standard.schema(dialect: .x12, identifier: identifier, version: version)
        )
        #expect(schema.structure.children.first?.tag == "ST")
        #expect(schema.segments["SE"] != nil)
    }

    @Test(arguments: ["ORDERS", "ORDRSP", "DESADV", "INVOIC", "ORDCHG", "APERAK"], ["D96A", "D01B"])
    func edifactSchemaExists(_ identifier: String, _ version: String) throws {
        let schema = try #require(
            SchemaLibrary.standard.schema(dialect: .edifact, identifier: identifier, version: version)
        )
        #expect(schema.structure.children.first?.tag == "UNH")
    }

    @Test func contrlSchemaAnswersEverySyntaxVersion() {
        for version in ["D3", "41", "D4"] {
            #expect(SchemaLibrary.standard.schema(dialect: .edifact, identifier: "CONTRL", version: version) != nil)
        }
    }

    @Test func embeddedSchemasMatchTheFiles() throws {
        let folder = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/EDISyntax/Schemas")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".schema") }
        let files = try names.sorted().map {
            ($0, try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8))
        }
        let fromFiles = try SchemaLibrary(files: files)
        #expect(
            fromFiles.available.map { "\($0.dialect) \($0.identifier) \($0.version)" }
                == SchemaLibrary.standard.available.map { "\($0.dialect) \($0.identifier) \($0.version)" }
        )
    }

    @Test(arguments: [
        ("schema\tx12\t004010\nset\t850\t(ST BEG", "missing `)`"),
        ("schema\tx12\t004010\nset\t850\t(ST ZZZ SE)", "has no elements"),
        ("schema\tx12\t004010\nelement\tST\t1\tST01\tM\t3\t3\tXX", "bad position"),
        ("schema\tx12\t004010\nbogus\tline", "unknown record"),
        ("set\t850\t(ST SE)", "no `schema` record"),
        ("schema\tx12\t004010\nrule\tST\tQ0102", "expected `rule"),
    ])
    func badSchemaFilesAreRefusedWithTheirLine(_ text: String, _ message: String) {
        #expect {
            _ = try SchemaLibrary(files: [("bad.schema", text)])
        } throws: { error in
            String(describing: error).contains(message) && String(describing: error).hasPrefix("bad.schema:")
        }
    }
}
