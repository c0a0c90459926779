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
        let notEDI: EDISyntaxError?
        if self.summary {
            let summary = try DocumentSummary(reader: reader)
            data = try encoder.encode(summary)
            notEDI = reader.dialect == nil ? summary.firstError : nil
        } else {
            let outline = try DocumentOutline(reader: reader)
            data = try encoder.encode(outline)
            notEDI = outline.dialect == nil ? outline.errors.first : nil
        }
        if let notEDI {
            printError("ordergate: \(input.path): \(notEDI.message)")
            throw ExitStatus.dataError
        }
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}
