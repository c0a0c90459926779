import EDISyntax
import OrderModel
import XMLSyntax

/// A canonical value a mapping produced from one transaction set or XML record.
public enum MappedDocument: Hashable, Sendable {
    case order(Order)
    case acknowledgement(Acknowledgement)
    case shipNotice(ShipNotice)
    case invoice(Invoice)
}

/// A compiled inbound mapping file: how one document type (in one or more versions) becomes a canonical record.
public struct InboundMap: Sendable {
    /// `x12/850-004010`: the file's path under `mappings/` without `.yaml`.
    public let id: String
    public let file: String
    public let format: MapFormat
    /// X12 set ID or EDIFACT message type; for XML, the record element's local name.
    public let document: String
    /// X12/EDIFACT versions the map was checked against (`004010`, `D96A`).
    public let versions: [String]
    public let record: RecordKind
    /// A hash of the file's text plus any partner overrides: stored with each order it produces.
    public let version: String
    /// XML: a path that must select something in the record for this map to apply (`Request/OrderRequest`).
    let xmlMatch: XMLPath?
    /// XML: root names whose DOCTYPE (without internal subset) is tolerated.
    public let allowedDoctypes: Set<String>
    /// XML: where the sender's and receiver's identities are, relative to the record.
    let senderPath: XMLPath?
    let receiverPath: XMLPath?
    let plan: AnyRecordPlan

    /// Whether the map applies to an XML record (its `match:` path selects something).
    func matches(_ element: XMLElement) -> Bool {
        guard element.localName == self.document else { return false }
        guard let match = self.xmlMatch else { return true }
        return match.selectsAny(in: element)
    }

    /// Maps one scope (an EDI set tree or an XML record).
    func map(_ scope: MappingScope) throws(DocumentMappingError) -> MappedDocument {
        try self.plan.map(scope)
    }
}

/// The record plan of a map, by record kind.
enum AnyRecordPlan: Sendable {
    case order(RecordPlan<Order>)
    case acknowledgement(RecordPlan<Acknowledgement>)
    case shipNotice(RecordPlan<ShipNotice>)
    case invoice(RecordPlan<Invoice>)

    func map(_ scope: MappingScope) throws(DocumentMappingError) -> MappedDocument {
        switch self {
        case .order(let plan):
            var value = Order()
            try plan.apply(scope, to: &value)
            return .order(value)
        case .acknowledgement(let plan):
            var value = Acknowledgement()
            try plan.apply(scope, to: &value)
            return .acknowledgement(value)
        case .shipNotice(let plan):
            var value = ShipNotice()
            try plan.apply(scope, to: &value)
            return .shipNotice(value)
        case .invoice(let plan):
            var value = Invoice()
            try plan.apply(scope, to: &value)
            return .invoice(value)
        }
    }
}

/// How maps are compiled, for tests and fuzz targets that compare the compiled EDI programs with the general resolver.
@_spi(Testing)
public enum MappingCompilation {
    /// Whether EDI rules are compiled into `EDIProgram`s (the translation hot path). Maps loaded with it off read every
    /// value through the general resolver, which must give the same canonical values.
    @TaskLocal public static var compilesEDIPrograms = true
}

/// Compiles an inbound mapping file.
final class InboundCompiler: MapCompilerBase {

    static let topKeys = [
        "mapping", "description", "direction", "format", "document", "versions", "record", "codes", "fields", "xml",
    ]
    static let ruleKeys = [
        "path", "paths", "pairs", "qualifier", "concat", "separator", "value", "default", "required", "codes", "format",
        "time", "implied", "unit", "unitCodes", "currency",
    ]

    /// Compiles `root` (already known to be `direction: inbound`); `overrides` are a partner's replacement rules by
    /// dotted field path (`lines.item.sku`).
    static func compile(
        _ root: YAMLNode,
        id: String,
        version: String,
        overrides: [(path: String, node: YAMLNode)] = []
    ) throws(MappingDiagnostics) -> InboundMap {
        var diagnostics: [MappingDiagnostic] = []
        do throws(MappingDiagnostic) {
            let top = try root.keyed("a mapping file", allowed: Self.topKeys)
            let (format, document, documentNode, record) = try MapCompilerBase.header(top)
            let versions =
                try top["versions"]?.list("versions").map { node throws(MappingDiagnostic) in
                    try node.scalar("a version")
                } ?? []
            if format != .xml && versions.isEmpty {
                throw (top.keys["document"] ?? root).error("an \(format.rawValue) mapping needs 'versions'")
            }
            let scope = try MapCompilerBase.ediScope(
                format: format,
                document: document,
                versions: versions,
                at: top.keys["versions"] ?? documentNode
            )
            let compiler = InboundCompiler(file: root.file, format: format)
            compiler.rootScope = scope
            compiler.compileCodeTables(top["codes"])
            var xmlMatch: XMLPath?
            var sender: XMLPath?
            var receiver: XMLPath?
            var doctypes: Set<String> = []
            if let xmlNode = top["xml"] {
                guard format == .xml else { throw xmlNode.error("'xml' settings are only for format: xml") }
                let xml = try xmlNode.keyed("xml", allowed: ["match", "sender", "receiver", "allowDoctype"])
                func path(_ key: String) throws(MappingDiagnostic) -> XMLPath? {
                    guard let node = xml[key] else { return nil }
                    guard case .xml(let path) = try compiler.source(try node.scalar(key), in: scope, at: node) else {
                        return nil
                    }
                    return path
                }
                xmlMatch = try path("match")
                sender = try path("sender")
                receiver = try path("receiver")
                doctypes = Set(
                    try xml["allowDoctype"]?.list("allowDoctype").map { n throws(MappingDiagnostic) in
                        try n.scalar("a DOCTYPE name")
                    } ?? []
                )
            }
            let fieldsNode = try top.required("fields", in: "a mapping file")
            let plan: AnyRecordPlan
            switch record {
            case .order: plan = .order(compiler.compileRecord(Order.self, fieldsNode, scope, overrides))
            case .acknowledgement:
                plan = .acknowledgement(compiler.compileRecord(Acknowledgement.self, fieldsNode, scope, overrides))
            case .shipNotice:
                plan = .shipNotice(compiler.compileRecord(ShipNotice.self, fieldsNode, scope, overrides))
            case .invoice: plan = .invoice(compiler.compileRecord(Invoice.self, fieldsNode, scope, overrides))
            }
            diagnostics = compiler.diagnostics
            if diagnostics.isEmpty {
                return InboundMap(
                    id: id,
                    file: root.file,
                    format: format,
                    document: document,
                    versions: versions,
                    record: record,
                    version: version,
                    xmlMatch: xmlMatch,
                    allowedDoctypes: doctypes,
                    senderPath: sender,
                    receiverPath: receiver,
                    plan: plan
                )
            }
        } catch {
            diagnostics.append(error)
        }
        throw MappingDiagnostics(diagnostics: diagnostics)
    }

    /// Compiles the `fields:` mapping of one record type.
    func compileRecord<Root: MappableRecord>(
        _ type: Root.Type,
        _ node: YAMLNode,
        _ scope: CompileScope,
        _ overrides: [(path: String, node: YAMLNode)]
    ) -> RecordPlan<Root> {
        let plan = RecordPlan<Root>()
        let catalog = Root.catalog
        var entries: [(String, YAMLNode, YAMLNode)] = []
        _ = self.collect { () throws(MappingDiagnostic) in
            entries = try node.pairs("fields").map { ($0.key, $0.keyNode, $0.value) }
        }
        // A partner's override of a field replaces the shared rule; an override of a field the map does not set adds it.
        for override in overrides where !override.path.contains(".") || catalog.fields[override.path] != nil {
            if let index = entries.firstIndex(where: { $0.0 == override.path }) {
                entries[index].2 = override.node
            } else {
                entries.append((override.path, override.node, override.node))
            }
        }
        for (name, keyNode, valueNode) in entries {
            if let slot = catalog.fields[name] {
                if let rule = self.collect({ () throws(MappingDiagnostic) in
                    try self.compileRule(valueNode, slot: slot, scope: scope)
                }) {
                    plan.fields.append(FieldRule(slot: slot, rule: rule))
                }
            } else if let collection = catalog.collections[name] {
                let nested = overrides.compactMap { override -> (String, YAMLNode)? in
                    guard override.path.hasPrefix(name + ".") else { return nil }
                    return (String(override.path.dropFirst(name.count + 1)), override.node)
                }
                let visitor = CollectionCompiler<Root>(compiler: self, node: valueNode, scope: scope, overrides: nested)
                if let compiled = self.collect({ () throws(MappingDiagnostic) in
                    try self.visit(collection, visitor, at: valueNode)
                }) {
                    plan.collections.append(compiled)
                }
            } else {
                self.diagnostics.append(
                    keyNode.error(
                        "unknown canonical field '\(name)' for \(Root.recordName) (known: "
                            + catalog.allNames.joined(separator: ", ") + ")"
                    )
                )
            }
        }
        plan.compile(edi: self.format != .xml && MappingCompilation.compilesEDIPrograms)
        return plan
    }

    func compileRule<Root>(
        _ node: YAMLNode,
        slot: FieldSlot<Root>,
        scope: CompileScope
    ) throws(MappingDiagnostic)
        -> ValueRule
    {
        let rule = ValueRule(field: slot.name, type: slot.type, file: self.file, line: node.line)
        if node.isScalar {
            rule.sources = [try self.source(try node.scalar("a path"), in: scope, at: node)]
            return rule
        }
        if node.isSequence {
            rule.sources = try node.list("paths").map { item throws(MappingDiagnostic) in
                try self.source(try item.scalar("a path"), in: scope, at: item)
            }
            return rule
        }
        let keyed = try node.keyed("the rule for \(slot.name)", allowed: Self.ruleKeys)
        func sources(_ key: String) throws(MappingDiagnostic) -> [ValueSource] {
            guard let value = keyed[key] else { return [] }
            return try value.list(key).map { item throws(MappingDiagnostic) in
                try self.source(try item.scalar("a path"), in: scope, at: item)
            }
        }
        rule.sources = try sources("path") + sources("paths")
        if let pairsNode = keyed["pairs"] {
            guard !scope.isXML else { throw pairsNode.error("'pairs' reads X12 qualifier/value pairs; not for XML") }
            let text = try pairsNode.scalar("pairs")
            guard let start = ElementReference(Substring(text)), start.component == nil else {
                throw pairsNode.error("'pairs' names the first qualifier element, like PO106")
            }
            try self.checkElement(start, in: scope, at: pairsNode, conditions: [])
            let qualifierNode = try keyed.required("qualifier", in: "a 'pairs' rule")
            let qualifiers = try qualifierNode.list("qualifier").map { n throws(MappingDiagnostic) in
                try n.scalar("a qualifier")
            }
            rule.sources.append(.pairs(PairSource(start: start, qualifiers: qualifiers)))
        } else if let qualifierNode = keyed["qualifier"] {
            throw qualifierNode.error("'qualifier' goes with 'pairs'")
        }
        if let concat = keyed["concat"] {
            let parts = try concat.list("concat").map { item throws(MappingDiagnostic) in
                try self.source(try item.scalar("a path"), in: scope, at: item)
            }
            rule.concatenation = (parts, try keyed.string("separator") ?? " ")
        }
        if let value = keyed["value"] { rule.sources.append(.constant(try value.scalar("value"))) }
        if rule.sources.isEmpty && rule.concatenation == nil && keyed["default"] == nil {
            throw node.error("the rule for \(slot.name) needs 'path', 'paths', 'pairs', 'concat', 'value' or 'default'")
        }
        rule.defaultValue = try keyed.string("default")
        rule.isRequired = try keyed["required"]?.bool("required") ?? false
        if let codes = keyed["codes"] { rule.codes = try self.codeTable(codes, for: slot.type, field: slot.name) }
        if case .code(let allowed) = slot.type {
            for constant in rule.sources.compactMap({ if case .constant(let c) = $0 { return c } else { return nil } })
                + (rule.defaultValue.map { [$0] } ?? []) where rule.codes == nil && !allowed.contains(constant)
            {
                throw node.error(
                    "'\(constant)' is not a value of \(slot.name) (expected one of: \(allowed.joined(separator: ", ")))"
                )
            }
        }
        if let formatNode = keyed["format"] {
            guard slot.type == .date else {
                throw formatNode.error("'format' is for dates; \(slot.name) is \(slot.type)")
            }
            let name = try formatNode.scalar("format")
            guard let format = DateFormat(name: name) else {
                throw formatNode.error("unknown date format '\(name)' (expected one of: \(DateFormat.names))")
            }
            rule.dateFormat = format
        } else if slot.type == .date {
            rule.dateFormat = scope.isXML ? .iso8601 : .ccyymmdd
        }
        if let time = keyed["time"] {
            guard slot.type == .date else { throw time.error("'time' is for dates") }
            rule.time = try self.source(try time.scalar("time"), in: scope, at: time)
        }
        if let implied = keyed["implied"] {
            guard [.decimal, .quantity, .money].contains(slot.type) else {
                throw implied.error("'implied' is for numbers; \(slot.name) is \(slot.type)")
            }
            let places = try implied.integer("implied")
            guard (0...9).contains(places) else { throw implied.error("'implied' must be 0 to 9 decimal places") }
            rule.impliedDecimals = places
        }
        if let unit = keyed["unit"] {
            guard slot.type == .quantity else { throw unit.error("'unit' is for quantities") }
            rule.unit = try sources("unit")
        }
        if let unitCodes = keyed["unitCodes"] {
            rule.unitCodes = try self.codeTable(unitCodes, for: .text, field: "unit")
        }
        if let currency = keyed["currency"] {
            guard slot.type == .money else { throw currency.error("'currency' is for money") }
            rule.currency = try sources("currency")
        }
        return rule
    }
}

/// Compiles a collection's block(s) for its element type.
struct CollectionCompiler<Root>: CollectionVisitor {
    let compiler: InboundCompiler
    let node: YAMLNode
    let scope: CompileScope
    let overrides: [(path: String, node: YAMLNode)]

    func visit<Element: MappableRecord>(_ slot: CollectionSlot<Root, Element>) throws -> CollectionPlan<Root> {
        let collection = CollectionBlocks<Root, Element>(path: slot.path)
        let blocks = self.node.isSequence ? try self.node.list(slot.name) : [self.node]
        for block in blocks {
            let keyed = try block.keyed("the '\(slot.name)' block", allowed: ["each", "fields"])
            let (selector, inner) = try self.compiler.selector(
                try keyed.required("each", in: "a '\(slot.name)' block"),
                in: self.scope
            )
            let fields = try keyed.required("fields", in: "a '\(slot.name)' block")
            collection.add(selector, self.compiler.compileRecord(Element.self, fields, inner, self.overrides))
        }
        return collection
    }
}
