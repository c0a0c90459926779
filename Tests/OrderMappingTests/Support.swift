import EDISyntax
import Foundation
import OrderMapping
import OrderModel

/// The repository's folders and files, and translation helpers shared by the mapping tests.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/OrderMappingTests/Fixtures")

    static func bytes(_ url: URL) throws -> [UInt8] {
        Array(try Data(contentsOf: url))
    }

    /// Every file of `mappings/`, as the CLI reads them.
    static func mappingFiles() throws -> [(path: String, text: String)] {
        let folder = self.root.appendingPathComponent("mappings")
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        var files: [(String, String)] = []
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".yaml") else { continue }
            files.append((relative, try String(contentsOf: folder.appendingPathComponent(relative), encoding: .utf8)))
        }
        return files
    }

    /// The shipped mappings, compiled once.
    static let mappings: Result<MappingSet, MappingDiagnostics> = {
        do {
            return .success(try MappingSet.load(files: try Repository.mappingFiles(), displayPrefix: "mappings/"))
        } catch let error as MappingDiagnostics {
            return .failure(error)
        } catch {
            return .failure(MappingDiagnostics(diagnostics: []))
        }
    }()

    /// Translates a document with the shipped mappings (no partner: the envelope decides).
    static func translate(
        _ bytes: [UInt8],
        name: String,
        partner: String? = nil,
        pipelined: Bool = false
    ) throws
        -> (documents: [TranslatedDocument], issues: [TranslationIssue])
    {
        let translator = Translator(mappings: try self.mappings.get())
        var documents: [TranslatedDocument] = []
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        let isXML = body.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "<")
        let issues: [TranslationIssue]
        if isXML {
            var offset = 0
            issues = try translator.translateXML(
                documentName: name,
                partnerID: partner,
                pipelined: pipelined,
                read: { buffer in
                    let count = min(buffer.count, bytes.count - offset)
                    bytes.withUnsafeBytes { source in
                        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]))
                    }
                    offset += count
                    return count
                },
                { documents.append($0) }
            )
        } else {
            issues = try translator.translateEDI(
                source: BufferByteSource(bytes),
                partnerID: partner,
                pipelined: pipelined
            ) {
                documents.append($0)
            }
        }
        return (documents, issues)
    }

    static func orders(_ documents: [TranslatedDocument]) -> [Order] {
        documents.compactMap { if case .order(let order) = $0.value { return order } else { return nil } }
    }
}
