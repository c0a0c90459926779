import ArgumentParser
import Foundation
import OrderMapping

/// Reads a `mappings/` folder (every `.yaml` below it) and compiles it; the CLI's only file handling for mappings.
enum MappingFolder {
    /// The default folder: `mappings/` in the working directory.
    static let defaultPath = "mappings"

    static func files(in folder: String) throws -> [(path: String, text: String)] {
        let root = URL(fileURLWithPath: folder)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputFileError(path: folder, reason: "no such folder")
        }
        var result: [(String, String)] = []
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        for case let relative as String in enumerator where relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") {
            let url = root.appendingPathComponent(relative)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw InputFileError(path: url.path, reason: "cannot read")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw InputFileError(path: url.path, reason: "not UTF-8 text")
            }
            result.append((relative, text))
        }
        return result.sorted { $0.0 < $1.0 }
    }

    /// Loads the folder for a command that needs it; mapping errors are printed and end the command with 78
    /// (EX_CONFIG), and `partner`, when given, must be one of the folder's partners.
    static func loadForCommand(_ folder: String, partner: String? = nil) throws -> MappingSet {
        let set: MappingSet
        do {
            set = try self.load(folder)
        } catch let error as MappingDiagnostics {
            printError(error.description)
            throw ExitStatus.configurationError
        }
        if let partner, set.partners[partner] == nil {
            throw ValidationError("no partner '\(partner)' in \(folder)/partners")
        }
        return set
    }

    /// Loads and compiles the folder; diagnostics are thrown as `MappingDiagnostics`.
    static func load(_ folder: String) throws -> MappingSet {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        return try MappingSet.load(files: try self.files(in: folder), displayPrefix: prefix)
    }
}
