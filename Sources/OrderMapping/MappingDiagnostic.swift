import Yams

/// A mistake in a mapping or partner file, found when the file is loaded: `file:line:column: message`.
public struct MappingDiagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(self.file):\(self.line):\(self.column): \(self.message)" }
}

/// Several diagnostics at once (a file is checked to the end, not to the first mistake, where that is possible).
public struct MappingDiagnostics: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [MappingDiagnostic]

    public init(diagnostics: [MappingDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String { self.diagnostics.map(\.description).joined(separator: "\n") }
}

/// A YAML node with the file it came from, and helpers that turn shape mistakes into diagnostics with positions.
struct YAMLNode: @unchecked Sendable {
    let node: Node
    let file: String

    var line: Int { self.node.mark?.line ?? 1 }
    var column: Int { self.node.mark?.column ?? 1 }

    func error(_ message: String) -> MappingDiagnostic {
        MappingDiagnostic(file: self.file, line: self.line, column: self.column, message: message)
    }

    /// Parses a whole file; YAML syntax errors and duplicate keys become diagnostics with their position.
    static func parse(_ text: String, file: String) throws(MappingDiagnostic) -> YAMLNode {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw MappingDiagnostic(file: file, line: 1, column: 1, message: "the file is empty")
            }
            return YAMLNode(node: node, file: file)
        } catch let diagnostic as MappingDiagnostic {
            throw diagnostic
        } catch let error as YamlError {
            throw Self.diagnostic(for: error, text: text, file: file)
        } catch {
            throw MappingDiagnostic(file: file, line: 1, column: 1, message: "cannot read YAML: \(error)")
        }
    }

    private static func diagnostic(for error: YamlError, text: String, file: String) -> MappingDiagnostic {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return MappingDiagnostic(
                file: file,
                line: mark.line,
                column: mark.column,
                message: "YAML syntax error: \(problem)"
            )
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams points at the first occurrence; a compiler points at the repeated one.
            let key = duplicates.first ?? ""
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let first = context.mark
            for number in first.line..<max(first.line, lines.count) {
                let line = lines[number]
                let indent = line.prefix { $0 == " " }.count
                let rest = line.dropFirst(indent)
                if indent == first.column - 1, rest.hasPrefix(key + ":") || rest.hasPrefix("\"\(key)\":") {
                    return MappingDiagnostic(
                        file: file,
                        line: number + 1,
                        column: indent + 1,
                        message: "duplicate key '\(key)' (first at line \(first.line))"
                    )
                }
            }
            return MappingDiagnostic(
                file: file,
                line: first.line,
                column: first.column,
                message: "duplicate key '\(key)'"
            )
        case .reader(let problem, _, _, _):
            return MappingDiagnostic(file: file, line: 1, column: 1, message: "cannot read the file: \(problem)")
        default:
            return MappingDiagnostic(file: file, line: 1, column: 1, message: "YAML error: \(error)")
        }
    }

    var isScalar: Bool { if case .scalar = self.node { return true } else { return false } }
    var isMapping: Bool { if case .mapping = self.node { return true } else { return false } }
    var isSequence: Bool { if case .sequence = self.node { return true } else { return false } }

    /// The text of a scalar.
    func scalar(_ what: String) throws(MappingDiagnostic) -> String {
        guard case .scalar(let scalar) = self.node else { throw self.error("\(what) must be a single value") }
        return scalar.string
    }

    /// A scalar read as a boolean (`true`/`false`, `yes`/`no`).
    func bool(_ what: String) throws(MappingDiagnostic) -> Bool {
        switch try self.scalar(what).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw self.error("\(what) must be true or false")
        }
    }

    /// A scalar read as a whole number.
    func integer(_ what: String) throws(MappingDiagnostic) -> Int {
        guard let value = Int(try self.scalar(what)) else { throw self.error("\(what) must be a whole number") }
        return value
    }

    /// The items of a sequence; a single scalar counts as a sequence of one.
    func list(_ what: String) throws(MappingDiagnostic) -> [YAMLNode] {
        switch self.node {
        case .sequence(let sequence): return sequence.map { YAMLNode(node: $0, file: self.file) }
        case .scalar: return [self]
        default: throw self.error("\(what) must be a list")
        }
    }

    /// The key/value pairs of a mapping, in file order.
    func pairs(_ what: String) throws(MappingDiagnostic) -> [(key: String, keyNode: YAMLNode, value: YAMLNode)] {
        guard case .mapping(let mapping) = self.node else { throw self.error("\(what) must be a mapping of keys") }
        var result: [(String, YAMLNode, YAMLNode)] = []
        for (key, value) in mapping {
            let keyNode = YAMLNode(node: key, file: self.file)
            result.append((try keyNode.scalar("a key"), keyNode, YAMLNode(node: value, file: self.file)))
        }
        return result
    }

    /// A mapping whose keys must come from `allowed`; unknown keys are reported with their position.
    func keyed(_ what: String, allowed: [String]) throws(MappingDiagnostic) -> KeyedYAML {
        var values: [String: YAMLNode] = [:]
        var keys: [String: YAMLNode] = [:]
        for (key, keyNode, value) in try self.pairs(what) {
            guard allowed.contains(key) else {
                throw keyNode.error(
                    "unknown key '\(key)' in \(what) (expected one of: \(allowed.joined(separator: ", ")))"
                )
            }
            values[key] = value
            keys[key] = keyNode
        }
        return KeyedYAML(node: self, values: values, keys: keys)
    }
}

/// A checked mapping: values by key, with the key nodes for positions.
struct KeyedYAML {
    let node: YAMLNode
    let values: [String: YAMLNode]
    let keys: [String: YAMLNode]

    subscript(key: String) -> YAMLNode? { self.values[key] }

    func required(_ key: String, in what: String) throws(MappingDiagnostic) -> YAMLNode {
        guard let value = self.values[key] else { throw self.node.error("\(what) needs '\(key)'") }
        return value
    }

    func string(_ key: String) throws(MappingDiagnostic) -> String? {
        try self.values[key]?.scalar(key)
    }
}
