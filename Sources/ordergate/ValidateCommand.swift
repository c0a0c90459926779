import ArgumentParser
import EDISyntax
import Foundation

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check X12 and EDIFACT files: envelopes, counts, segment order and every element.",
        discussion: """
            Prints one line per error, compiler style, with the acknowledgement code each maps to. \
            Exits 0 when every file is valid, 65 when any is not, 66 when a file cannot be read.
            """
    )

    @Flag(name: .long, help: "Print the errors as JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print nothing for valid files.")
    var quiet = false

    @Argument(help: "The files to check.")
    var files: [String]

    func validate() throws {
        guard !self.files.isEmpty else { throw ValidationError("give at least one file") }
    }

    func run() throws {
        var anyInvalid = false
        var anyUnreadable = false
        var jsonResults: [FileResult] = []
        let validator = EDIValidator()
        for path in self.files {
            let input: InputFile
            do {
                input = try InputFile(path: path)
            } catch {
                printError("ordergate: \(error)")
                anyUnreadable = true
                continue
            }
            let reader = input.makeReader()
            var progress = Progress(label: "validating \(path)", total: input.size)
            var result = FileResult(file: path, valid: true, interchanges: 0, sets: 0, errors: [])
            var dialect = Dialect.x12
            func emit(_ error: EDISyntaxError) {
                result.valid = false
                dialect = reader.dialect ?? dialect
                if self.json {
                    result.errors.append(error)
                } else {
                    progress.finish()
                    let codes = error.ackCodes.summary(for: reader.dialect ?? .x12)
                    print("\(path): \(error.location): \(error.message)" + (codes.isEmpty ? "" : " [\(codes)]"))
                }
            }
            do {
                try validator.validate(reader) { event in
                    switch event {
                    case .transactionSet(let set):
                        result.sets += 1
                        set.errors.forEach(emit)
                        progress.update(reader.bytesConsumed)
                    case .group(let group):
                        group.errors.forEach(emit)
                    case .interchange(let interchange):
                        result.interchanges += 1
                        interchange.errors.forEach(emit)
                    case .inputError(let error):
                        emit(error)
                    }
                }
            } catch {
                progress.finish()
                printError("ordergate: \(path): \(error)")
                anyUnreadable = true
                continue
            }
            progress.finish()
            anyInvalid = anyInvalid || !result.valid
            if self.json {
                jsonResults.append(result)
            } else if result.valid && !self.quiet {
                print("\(path): valid (\(result.interchanges) interchanges, \(result.sets) sets)")
            }
        }
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(jsonResults))
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
        if anyUnreadable { throw ExitStatus.noInput }
        if anyInvalid { throw ExitStatus.dataError }
    }

    struct FileResult: Encodable {
        var file: String
        var valid: Bool
        var interchanges: Int
        var sets: Int
        var errors: [EDISyntaxError]
    }
}
