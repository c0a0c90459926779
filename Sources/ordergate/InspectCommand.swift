import ArgumentParser
import EDISyntax
import Foundation

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print the structure of an X12 or EDIFACT file as JSON (envelopes, sets, segments, byte offsets).",
        discussion: "Without a schema check: use `ordergate validate` for that."
    )

    @Flag(name: .long, help: "Print only the counts of interchanges, groups, sets and segments.")
    var summary = false

    @Argument(help: "The file to inspect.")
    var file: String

    func run() throws {
        let input: InputFile
        do {
            input = try InputFile(path: self.file)
        } catch {
            printError("ordergate: \(error)")
            throw ExitStatus.noInput
        }
        let reader = input.makeReader()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        let errors: [EDISyntaxError]
        if self.summary {
            let summary = try DocumentSummary(reader: reader)
            data = try encoder.encode(summary)
            errors = []
            if reader.dialect == nil { return try self.notEDI(reader: reader, path: input.path) }
        } else {
            let outline = try DocumentOutline(reader: reader)
            errors = outline.errors
            if outline.dialect == nil, let first = errors.first {
                printError("ordergate: \(input.path): \(first.message)")
                throw ExitStatus.dataError
            }
            data = try encoder.encode(outline)
        }
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
        _ = errors
    }

    private func notEDI(reader: EDIReader, path: String) throws {
        printError("ordergate: \(path): not an X12 or EDIFACT document")
        throw ExitStatus.dataError
    }
}
