import EDISyntax
import Glibc
import OrderModel
import XMLSyntax

/// The document family a mapping file reads or writes.
public enum MapFormat: String, Hashable, Sendable, CaseIterable {
    case x12, edifact, xml

    /// The extension of documents in this format in the outbox (`x12`, `edi`, `xml`).
    public var fileExtension: String {
        switch self {
        case .x12: "x12"
        case .edifact: "edi"
        case .xml: "xml"
        }
    }

    var dialect: Dialect? {
        switch self {
        case .x12: return .x12
        case .edifact: return .edifact
        case .xml: return nil
        }
    }
}

/// The canonical record a mapping file produces or renders.
public enum RecordKind: String, Hashable, Sendable, CaseIterable {
    case order, acknowledgement, shipNotice, invoice
}

/// What a compiler checks paths against: for EDI, the loop of each schema version the map covers; for XML, nothing
/// beyond syntax (XML documents have no schema here).
struct CompileScope {
    /// One entry per version: the schema and the loop (or single segment) that paths are relative to.
    var edi: [(schema: TransactionSetSchema, shape: LoopShape, segment: String?)]
    var isXML: Bool
}

/// Shared machinery of the inbound and outbound compilers: diagnostics, code tables, EDI path checks.
class MapCompilerBase {
    let file: String
    let format: MapFormat
    var diagnostics: [MappingDiagnostic] = []
    var codeTables: [String: CodeTable] = [:]
    /// The whole set's scope, for paths that start with `/`.
    var rootScope: CompileScope?

    init(file: String, format: MapFormat) {
        self.file = file
        self.format = format
    }

    /// Runs `body`, recording its diagnostic instead of stopping, so one run reports every mistake it can.
    func collect<T>(_ body: () throws(MappingDiagnostic) -> T) -> T? {
        do {
            return try body()
        } catch {
            self.diagnostics.append(error)
            return nil
        }
    }

    /// The header every mapping file starts with: its format, document and the record kind it reads or writes.
    static func header(
        _ top: KeyedYAML
    ) throws(MappingDiagnostic)
        -> (format: MapFormat, document: String, documentNode: YAMLNode, record: RecordKind)
    {
        let formatNode = try top.required("format", in: "a mapping file")
        guard let format = MapFormat(rawValue: try formatNode.scalar("format")) else {
            throw formatNode.error("format must be one of: x12, edifact, xml")
        }
        let documentNode = try top.required("document", in: "a mapping file")
        let document = try documentNode.scalar("document")
        let recordNode = try top.required("record", in: "a mapping file")
        guard let record = RecordKind(rawValue: try recordNode.scalar("record")) else {
            throw recordNode.error(
                "record must be one of: \(RecordKind.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return (format, document, documentNode, record)
    }

    /// Opens a collection with a visitor, turning what it throws into a diagnostic at `node`.
    func visit<Root, Visitor: CollectionVisitor>(
        _ slot: any CollectionSlotProtocol<Root>,
        _ visitor: Visitor,
        at node: YAMLNode
    ) throws(MappingDiagnostic) -> Visitor.Result where Visitor.Root == Root {
        do {
            return try slot.accept(visitor)
        } catch {
            if let diagnostic = error as? MappingDiagnostic { throw diagnostic }
            throw node.error("\(error)")
        }
    }

    func compileCodeTables(_ node: YAMLNode?) {
        guard let node else { return }
        _ = self.collect { () throws(MappingDiagnostic) in
            for (name, _, tableNode) in try node.pairs("codes") {
                let table = CodeTable(name: name, entries: [:], fallback: nil, positions: [:])
                var entries: [String: String] = [:]
                _ = self.collect { () throws(MappingDiagnostic) in
                    for (code, _, valueNode) in try tableNode.pairs("code table '\(name)'") {
                        let value = try valueNode.scalar("a code table value")
                        if code == "*" { table.fallback = value } else { entries[code] = value }
                        table.positions[code] = (valueNode.line, valueNode.column)
                    }
                }
                // Set once: each change of the entries computes the reverse table again.
                table.entries = entries
                self.codeTables[name] = table
            }
        }
    }

    /// The code table a rule names, checked against the field's canonical values.
    func codeTable(_ node: YAMLNode, for type: CanonicalFieldType, field: String) throws(MappingDiagnostic) -> CodeTable
    {
        let name = try node.scalar("codes")
        guard let table = self.codeTables[name] else {
            throw node.error(
                "no code table '\(name)' (defined: \(self.codeTables.keys.sorted().joined(separator: ", ")))"
            )
        }
        if case .code(let allowed) = type {
            for (code, value) in table.entries.sorted(by: { $0.key < $1.key })
                + (table.fallback.map { [("*", $0)] } ?? [])
            where !allowed.contains(value) {
                let position = table.positions[code] ?? (node.line, node.column)
                throw MappingDiagnostic(
                    file: self.file,
                    line: position.line,
                    column: position.column,
                    message: "code table '\(name)' maps '\(code)' to '\(value)', which is not a value of \(field) "
                        + "(expected one of: \(allowed.joined(separator: ", ")))"
                )
            }
        }
        return table
    }

    /// Checks an EDI path against every schema version in scope; returns the loop scopes its steps lead to.
    @discardableResult
    func checkEDIPath(
        _ path: EDIPath,
        in scope: CompileScope,
        at node: YAMLNode
    ) throws(MappingDiagnostic)
        -> CompileScope
    {
        let inner = try self.checkSteps(path.steps, in: scope, at: node, isSelector: false)
        try self.checkElement(path.leaf, in: inner, at: node, conditions: path.leafConditions)
        return inner
    }

    func checkSteps(
        _ steps: [EDIStep],
        in scope: CompileScope,
        at node: YAMLNode,
        isSelector: Bool
    )
        throws(MappingDiagnostic) -> CompileScope
    {
        var result = scope
        for (offset, step) in steps.enumerated() {
            var next: [(TransactionSetSchema, LoopShape, String?)] = []
            for (schema, shape, segment) in result.edi {
                if segment == nil, let loop = shape.childLoop(named: step.name) {
                    for condition in step.conditions {
                        try self.checkElement(
                            condition.element,
                            in: CompileScope(edi: [(schema, loop, loop.name)], isXML: false),
                            at: node,
                            conditions: []
                        )
                        guard condition.element.tag == loop.definition.children[0].tag.description else {
                            throw node.error(
                                "condition \(condition.element) must be on \(loop.name), the segment that starts the loop"
                            )
                        }
                    }
                    next.append((schema, loop, nil))
                } else if isSelector, offset == steps.count - 1, segment == nil,
                    shape.hasSegment(SegmentTag(step.name))
                {
                    for condition in step.conditions where condition.element.tag != step.name {
                        throw node.error("condition \(condition.element) must be on \(step.name)")
                    }
                    next.append((schema, shape, step.name))
                } else {
                    let place =
                        segment.map { "segment \($0)" } ?? (shape.groupNumber == 0 ? "the set" : "loop \(shape.name)")
                    throw node.error(
                        "\(schema.identifier) \(schema.version) has no \(isSelector ? "loop or segment" : "loop") "
                            + "\(step.name) in \(place)"
                    )
                }
            }
            result.edi = next
        }
        return result
    }

    func checkElement(
        _ reference: ElementReference,
        in scope: CompileScope,
        at node: YAMLNode,
        conditions: [ElementCondition]
    ) throws(MappingDiagnostic) {
        let tag = SegmentTag(reference.tag)
        for (schema, shape, segment) in scope.edi {
            if let segment {
                guard segment == reference.tag else {
                    throw node.error("\(reference) is not in segment \(segment), the segment this block reads")
                }
            } else if !shape.hasSegment(tag) && shape.childLoop(named: reference.tag) == nil {
                let place = shape.groupNumber == 0 ? "at the top of the set" : "in loop \(shape.name)"
                if schema.segments[tag] == nil {
                    throw node.error("unknown segment \(reference.tag) (not in \(schema.identifier) \(schema.version))")
                }
                throw node.error("segment \(reference.tag) is not \(place) in \(schema.identifier) \(schema.version)")
            }
            guard let definition = schema.segments[tag] else {
                throw node.error("unknown segment \(reference.tag) (not in \(schema.identifier) \(schema.version))")
            }
            guard reference.element <= definition.elements.count else {
                throw node.error(
                    "element \(reference.tag)\(reference.element < 10 ? "0" : "")\(reference.element) does not exist "
                        + "(\(reference.tag) has \(definition.elements.count) elements)"
                )
            }
            if let component = reference.component {
                let element = definition.elements[reference.element - 1]
                let count = max(element.components.count, 1)
                guard component <= count else {
                    throw node.error(
                        "component \(reference) does not exist (\(reference.tag)\(reference.element < 10 ? "0" : "")"
                            + "\(reference.element) has \(count) component\(count == 1 ? "" : "s"))"
                    )
                }
            }
        }
        for condition in conditions {
            guard condition.element.tag == reference.tag else {
                throw node.error("condition \(condition.element) must be on segment \(reference.tag)")
            }
            try self.checkElement(condition.element, in: scope, at: node, conditions: [])
        }
    }

    /// Parses a value source written as path text.
    func source(_ text: String, in scope: CompileScope, at node: YAMLNode) throws(MappingDiagnostic) -> ValueSource {
        if scope.isXML {
            switch XMLPath.parse(text) {
            case .success(let path): return .xml(path)
            case .failure(let error): throw node.error("bad XML path '\(text)': \(error.message)")
            }
        }
        switch EDIPath.parse(text) {
        case .success(let path):
            try self.checkEDIPath(path, in: path.isAbsolute ? (self.rootScope ?? scope) : scope, at: node)
            return .edi(path)
        case .failure(let error):
            throw node.error("bad path '\(text)': \(error.message)")
        }
    }

    func selector(_ node: YAMLNode, in scope: CompileScope) throws(MappingDiagnostic) -> (Selector, CompileScope) {
        let text = try node.scalar("each")
        if scope.isXML {
            switch XMLPath.parse(text) {
            case .success(let path) where path.attribute == nil: return (.xml(path), scope)
            case .success: throw node.error("'each' selects elements, not an attribute")
            case .failure(let error): throw node.error("bad XML path '\(text)': \(error.message)")
            }
        }
        switch EDIPath.parseSelector(text) {
        case .success(let steps):
            return (.edi(steps), try self.checkSteps(steps, in: scope, at: node, isSelector: true))
        case .failure(let error):
            throw node.error("bad selector '\(text)': \(error.message)")
        }
    }

    /// The schemas and root loop shapes for the versions a map covers.
    static func ediScope(
        format: MapFormat,
        document: String,
        versions: [String],
        at node: YAMLNode
    )
        throws(MappingDiagnostic) -> CompileScope
    {
        guard let dialect = format.dialect else { return CompileScope(edi: [], isXML: true) }
        var entries: [(TransactionSetSchema, LoopShape, String?)] = []
        for version in versions {
            guard let schema = SchemaLibrary.standard.schema(dialect: dialect, identifier: document, version: version)
            else {
                let known = SchemaLibrary.standard.available.filter { $0.dialect == dialect }
                    .map { "\($0.identifier) \($0.version)" }.joined(separator: ", ")
                throw node.error("no schema for \(format.rawValue) \(document) \(version) (known: \(known))")
            }
            entries.append((schema, LoopShapeCache.shape(for: schema), nil))
        }
        return CompileScope(edi: entries, isXML: false)
    }
}

/// Loop shapes are built once per schema.
enum LoopShapeCache {
    private static let cache = ShapeStore()

    static func shape(for schema: TransactionSetSchema) -> LoopShape {
        cache.shape(for: schema)
    }
}

final class ShapeStore: @unchecked Sendable {
    private var shapes: [String: LoopShape] = [:]
    private let lock = NSLockLite()

    func shape(for schema: TransactionSetSchema) -> LoopShape {
        let key = "\(schema.dialect.rawValue)/\(schema.identifier)/\(schema.version)"
        return self.lock.withLock {
            if let shape = self.shapes[key] { return shape }
            var counter = 0
            let shape = LoopShape(schema.structure, counter: &counter)
            self.shapes[key] = shape
            return shape
        }
    }
}

/// A small mutex over pthread (keeps OrderMapping free of Foundation's lock types in hot paths).
final class NSLockLite: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&self.mutex, nil) }
    deinit { pthread_mutex_destroy(&self.mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&self.mutex)
        defer { pthread_mutex_unlock(&self.mutex) }
        return try body()
    }
}
