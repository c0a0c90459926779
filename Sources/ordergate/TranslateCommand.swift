import ArgumentParser
import EDISyntax
import Foundation
import Gateway
import OrderMapping
import OrderModel

struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Show the canonical orders (JSON) that a purchase order file becomes.",
        discussion: """
            Reads X12, EDIFACT or XML (cXML, UBL), finds the partner from the envelope identities unless --partner \
            is given, maps every transaction set or XML record with the partner's mapping file, and prints a JSON \
            array of canonical documents. Exits 65 when a set cannot be mapped, 66 when the file cannot be read, \
            78 when the mapping files have errors.
            """
    )

    @Option(help: "The partner whose maps to use (default: found from the envelope).")
    var partner: String?

    @Option(help: "The mappings folder.")
    var mappings = MappingFolder.defaultPath

    @Argument(help: "The document to translate.")
    var file: String

    func run() throws {
        let set = try MappingFolder.loadForCommand(self.mappings, partner: self.partner)
        let input: InputFile
        do {
            input = try InputFile(path: self.file)
        } catch {
            printError("ordergate: \(error)")
            throw ExitStatus.noInput
        }
        let translator = Translator(mappings: set)
        // Each document is printed as it comes (a JSON array, closed whatever happens), so that memory stays bounded
        // on a large file.
        var printed = 0
        defer { print(printed == 0 ? "[]" : "\n]") }
        let issues: [TranslationIssue]
        let collect: (TranslatedDocument) throws -> Void = { document in
            print((printed == 0 ? "[\n" : ",\n") + (try Self.json(document.value)), terminator: "")
            printed += 1
        }
        // A large file is read on a thread of its own and mapped on every core.
        var status = stat()
        let large = fstat(input.descriptor, &status) == 0 && status.st_size >= 1 << 20
        if try Self.isXML(input) {
            let descriptor = input.descriptor
            issues = try translator.translateXML(
                documentName: self.file,
                partnerID: self.partner,
                pipelined: large,
                read: { buffer in
                    let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
                    if count < 0 { throw InputFileError(path: "", reason: String(cString: strerror(errno))) }
                    return count
                },
                collect
            )
        } else {
            issues = try translator.translateEDI(
                source: FileDescriptorByteSource(fileDescriptor: input.descriptor),
                partnerID: self.partner,
                pipelined: large,
                collect
            )
        }
        for issue in issues { printError("\(self.file): \(issue)") }
        if !issues.isEmpty { throw ExitStatus.dataError }
    }

    static func json(_ value: MappedDocument) throws -> String {
        switch value {
        case .order(let order): return try CanonicalJSON.encode(order)
        case .acknowledgement(let acknowledgement): return try CanonicalJSON.encode(acknowledgement)
        case .shipNotice(let notice): return try CanonicalJSON.encode(notice)
        case .invoice(let invoice): return try CanonicalJSON.encode(invoice)
        }
    }

    /// Whether the file starts (after a BOM and white space) with `<`.
    static func isXML(_ input: InputFile) throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = pread(input.descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return false }
        var bytes = buffer[0..<count]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        return bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "<")
    }
}
