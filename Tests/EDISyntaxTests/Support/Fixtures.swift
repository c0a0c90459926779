import EDISyntax
import Foundation
import Testing

/// Fixture files beside the tests. The corpus copies keep their provenance in Fixtures/corpus/PROVENANCE.md.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: self.root.appendingPathComponent(relativePath)))
    }

    /// What a person found in each corpus file (Fixtures/corpus/expectations.json).
    static let corpus: [CorpusExpectation] = {
        let url = root.appendingPathComponent("corpus/expectations.json")
        guard let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode([CorpusExpectation].self, from: data)) ?? []
    }()
}

struct CorpusExpectation: Decodable, Sendable, CustomTestStringConvertible {
    struct EnvelopeError: Decodable, Sendable {
        var level: String
        var what: String
        var declared: String?
        var actual: String?
        var segmentTag: String?
    }

    var file: String
    var dialect: String
    var elementSeparator: String?
    var componentSeparator: String?
    var segmentTerminator: String?
    var repetitionSeparator: String?
    var releaseCharacter: String?
    var interchanges: Int
    var groups: Int
    var sets: Int
    var setTypes: [String]
    var segmentsPerSet: [Int]
    var envelopeErrors: [EnvelopeError]

    var testDescription: String { self.file }
    var path: String { "corpus/" + self.file }
}

extension EDISyntaxError.Code {
    /// The codes that describe the envelope (counts, references, trailers, headers), as opposed to content.
    static let envelopeCodes: Set<EDISyntaxError.Code> = [
        .interchangeControlMismatch, .interchangeCountMismatch, .missingInterchangeTrailer, .missingInterchangeHeader,
        .groupControlMismatch, .groupCountMismatch, .missingGroupTrailer, .missingGroupHeader, .setControlMismatch,
        .segmentCountMismatch, .missingSetTrailer, .truncated, .segmentOutsideEnvelope, .unknownDialect,
        .duplicateControlNumber,
    ]
}

/// Reads a document from memory into its outline.
func outline(_ bytes: [UInt8]) throws -> DocumentOutline {
    try DocumentOutline(reader: EDIReader(bytes: bytes))
}

func outline(_ text: String) throws -> DocumentOutline {
    try outline(Array(text.utf8))
}

/// Validates a document from memory.
func validate(_ text: String) -> DocumentReport {
    EDIValidator().validate(bytes: Array(text.utf8))
}
