import Foundation
import OrderMapping
import OrderRules

/// A `mappings/` folder that cannot be read.
public struct MappingFolderError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String

    public var description: String { "\(self.path): \(self.reason)" }
}

/// Reads a `mappings/` folder (every `.yaml` below it) and compiles it into a `MappingSet`.
public enum MappingFolder {
    /// The default folder: `mappings/` in the working directory.
    public static let defaultPath = "mappings"

    public static func files(in folder: String) throws(MappingFolderError) -> [(path: String, text: String)] {
        let root = URL(fileURLWithPath: folder)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MappingFolderError(path: folder, reason: "no such folder")
        }
        var result: [(String, String)] = []
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        for case let relative as String in enumerator where relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") {
            let url = root.appendingPathComponent(relative)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw MappingFolderError(path: url.path, reason: "cannot read")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw MappingFolderError(path: url.path, reason: "not UTF-8 text")
            }
            result.append((relative, text))
        }
        return result.sorted { $0.0 < $1.0 }
    }

    /// Loads and compiles the folder; diagnostics are thrown as `MappingDiagnostics`, an unreadable folder or file as
    /// `MappingFolderError`.
    public static func load(_ folder: String) throws -> MappingSet {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        let set = try MappingSet.load(files: try self.files(in: folder), displayPrefix: prefix)
        var diagnostics: [MappingDiagnostic] = []
        for partner in set.partners.values.sorted(by: { $0.id < $1.id }) {
            let checked = Result { () throws(RuleSettingsError) in try partner.ruleSettings() }
            if case .failure(let error) = checked {
                let line = partner.ruleLines[error.setting] ?? partner.ruleLines["rules"] ?? 1
                diagnostics.append(
                    MappingDiagnostic(file: partner.file, line: line, column: 1, message: error.description)
                )
            }
        }
        if !diagnostics.isEmpty { throw MappingDiagnostics(diagnostics: diagnostics) }
        return set
    }
}
