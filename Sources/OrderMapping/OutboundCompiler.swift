import EDISyntax
import OrderModel

/// A compiled outbound mapping file: how a canonical record becomes an 855, 856, 810, ORDRSP, DESADV, INVOIC, or an
/// XML document.
public struct OutboundMap: Sendable {
    public let id: String
    public let file: String
    public let format: MapFormat
    /// X12 set ID, EDIFACT message type, or the XML document's name (`OrderResponse`).
    public let document: String
    /// X12 version (GS08: `004010`), EDIFACT directory (`D96A`).
    public let documentVersion: String
    public let record: RecordKind
    /// X12 GS01 for the group (`PR`, `SH`, `IN`).
    public let functionalGroup: String?
    /// X12 ST03 or the EDIFACT association code (`EAN008`).
    public let implementationReference: String?
    public let version: String
    let body: AnyOutboundBody

    /// The segments between ST and SE (UNH and UNT) for a value of the map's record kind.
    public func renderSegments(_ value: MappedDocument, context: RenderContext) throws(RenderError) -> [SegmentValue] {
        try self.body.renderSegments(value, RenderState(context: context), map: self)
    }

    /// The whole XML document for a value of the map's record kind.
    public func renderXML(_ value: MappedDocument, context: RenderContext) throws(RenderError) -> String {
        try self.body.renderXML(value, RenderState(context: context), map: self)
    }
}

/// The layout of an outbound map, by record kind and format.
enum AnyOutboundBody: Sendable {
    case edi(EDILayout)
    case xml(XMLLayout, namespaces: [(String, String)], doctype: String?)

    func renderSegments(
        _ value: MappedDocument,
        _ state: RenderState,
        map: OutboundMap
    ) throws(RenderError)
        -> [SegmentValue]
    {
        guard case .edi(let layout) = self else {
            throw RenderError(message: "\(map.id) writes XML, not EDI segments", rule: map.file)
        }
        var output: [SegmentValue] = []
        switch (layout, value) {
        case (.order(let items), .order(let record)): try Self.render(items, record, state, &output)
        case (.acknowledgement(let items), .acknowledgement(let record)): try Self.render(items, record, state, &output)
        case (.shipNotice(let items), .shipNotice(let record)): try Self.render(items, record, state, &output)
        case (.invoice(let items), .invoice(let record)): try Self.render(items, record, state, &output)
        default: throw RenderError(message: "\(map.id) renders a \(map.record.rawValue)", rule: map.file)
        }
        return output
    }

    private static func render<Root>(
        _ items: [any SegmentItem<Root>],
        _ record: Root,
        _ state: RenderState,
        _ output: inout [SegmentValue]
    ) throws(RenderError) {
        for item in items { try item.render(record, state, into: &output) }
    }

    func renderXML(_ value: MappedDocument, _ state: RenderState, map: OutboundMap) throws(RenderError) -> String {
        guard case .xml(let layout, let namespaces, let doctype) = self else {
            throw RenderError(message: "\(map.id) writes EDI, not XML", rule: map.file)
        }
        var document = XMLOutput(name: "#document")
        func render<Root>(_ items: [any XMLItem<Root>], _ record: Root) throws(RenderError) {
            for item in items { _ = try item.render(record, state, into: &document) }
        }
        switch (layout, value) {
        case (.order(let items), .order(let record)): try render(items, record)
        case (.acknowledgement(let items), .acknowledgement(let record)): try render(items, record)
        case (.shipNotice(let items), .shipNotice(let record)): try render(items, record)
        case (.invoice(let items), .invoice(let record)): try render(items, record)
        default: throw RenderError(message: "\(map.id) renders a \(map.record.rawValue)", rule: map.file)
        }
        guard var root = document.children.first else {
            throw RenderError(message: "the layout produced no root element", rule: map.file)
        }
        for (prefix, uri) in namespaces.reversed() {
            root.attributes.insert((prefix.isEmpty ? "xmlns" : "xmlns:\(prefix)", uri), at: 0)
        }
        var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        if let doctype { text += "<!DOCTYPE \(doctype)>\n" }
        root.write(into: &text, depth: 0)
        return text
    }
}

/// An EDI layout for one of the record kinds, its items typed by the record (no cast when it renders).
enum EDILayout: Sendable {
    case order([any SegmentItem<Order>])
    case acknowledgement([any SegmentItem<Acknowledgement>])
    case shipNotice([any SegmentItem<ShipNotice>])
    case invoice([any SegmentItem<Invoice>])
}

/// An XML layout for one of the record kinds, its items typed by the record.
enum XMLLayout: Sendable {
    case order([any XMLItem<Order>])
    case acknowledgement([any XMLItem<Acknowledgement>])
    case shipNotice([any XMLItem<ShipNotice>])
    case invoice([any XMLItem<Invoice>])
}

/// Compiles an outbound mapping file.
final class OutboundCompiler: MapCompilerBase {
    static let topKeys = [
        "mapping", "description", "direction", "format", "document", "version", "record", "functionalGroup",
        "implementationReference", "codes", "segments", "xml", "root",
    ]
    static let specKeys = [
        "field", "value", "context", "now", "count", "sum", "hash", "hl", "format", "codes", "implied", "places",
        "index",
        "default", "required", "when",
    ]
    var scope = CompileScope(edi: [], isXML: true)
    /// The enclosing records of the block being compiled, innermost last: each resolves a field name of its record
    /// type to a reader of that record at render time (`^field`, `^^field`).
    var enclosing: [(name: String, resolve: (String) -> (@Sendable (RenderState) -> [CanonicalValue])?)] = []

    /// Compiles `body` with `Parent` as the innermost enclosing record.
    func withEnclosing<Parent: MappableRecord, T>(_ type: Parent.Type, _ body: () -> T) -> T {
        let depth = self.enclosing.count
        self.enclosing.append(
            (
                Parent.recordName,
                { name in
                    guard let slot = Parent.catalog.fields[name] else { return nil }
                    return { state in
                        guard depth < state.parents.count, let parent = state.parents[depth] as? Parent else {
                            return []
                        }
                        return slot.get(parent)
                    }
                }
            )
        )
        defer { self.enclosing.removeLast() }
        return body()
    }

    static func compile(_ root: YAMLNode, id: String, version: String) throws(MappingDiagnostics) -> OutboundMap {
        var diagnostics: [MappingDiagnostic] = []
        do throws(MappingDiagnostic) {
            let top = try root.keyed("a mapping file", allowed: Self.topKeys)
            let (format, document, _, record) = try MapCompilerBase.header(top)
            let compiler = OutboundCompiler(file: root.file, format: format)
            compiler.compileCodeTables(top["codes"])
            var documentVersion = ""
            let body: AnyOutboundBody
            if format == .xml {
                let layoutNode = try top.required("root", in: "an XML mapping")
                var namespaces: [(String, String)] = []
                var doctype: String?
                if let xmlNode = top["xml"] {
                    let xml = try xmlNode.keyed("xml", allowed: ["namespaces", "doctype"])
                    for (prefix, _, uri) in try xml["namespaces"]?.pairs("namespaces") ?? [] {
                        namespaces.append((prefix, try uri.scalar("a namespace URI")))
                    }
                    doctype = try xml.string("doctype")
                }
                documentVersion = try top.string("version") ?? ""
                let layout: XMLLayout
                switch record {
                case .order: layout = .order(compiler.xmlItems(Order.self, layoutNode))
                case .acknowledgement: layout = .acknowledgement(compiler.xmlItems(Acknowledgement.self, layoutNode))
                case .shipNotice: layout = .shipNotice(compiler.xmlItems(ShipNotice.self, layoutNode))
                case .invoice: layout = .invoice(compiler.xmlItems(Invoice.self, layoutNode))
                }
                body = .xml(layout, namespaces: namespaces, doctype: doctype)
            } else {
                let versionNode = try top.required("version", in: "an EDI mapping")
                documentVersion = try versionNode.scalar("version")
                compiler.scope = try MapCompilerBase.ediScope(
                    format: format,
                    document: document,
                    versions: [documentVersion],
                    at: versionNode
                )
                let layoutNode = try top.required("segments", in: "an EDI mapping")
                let layout: EDILayout
                switch record {
                case .order: layout = .order(compiler.segmentItems(Order.self, layoutNode, compiler.scope))
                case .acknowledgement:
                    layout = .acknowledgement(compiler.segmentItems(Acknowledgement.self, layoutNode, compiler.scope))
                case .shipNotice:
                    layout = .shipNotice(compiler.segmentItems(ShipNotice.self, layoutNode, compiler.scope))
                case .invoice: layout = .invoice(compiler.segmentItems(Invoice.self, layoutNode, compiler.scope))
                }
                body = .edi(layout)
            }
            diagnostics = compiler.diagnostics
            if diagnostics.isEmpty {
                return OutboundMap(
                    id: id,
                    file: root.file,
                    format: format,
                    document: document,
                    documentVersion: documentVersion,
                    record: record,
                    functionalGroup: try top.string("functionalGroup"),
                    implementationReference: try top.string("implementationReference"),
                    version: version,
                    body: body
                )
            }
        } catch {
            diagnostics.append(error)
        }
        throw MappingDiagnostics(diagnostics: diagnostics)
    }

    // MARK: EDI layouts

    func segmentItems<Root: MappableRecord>(
        _ type: Root.Type,
        _ node: YAMLNode,
        _ scope: CompileScope
    )
        -> [any SegmentItem<Root>]
    {
        var items: [any SegmentItem<Root>] = []
        guard let list = self.collect({ () throws(MappingDiagnostic) in try node.list("segments") }) else { return [] }
        for itemNode in list {
            if let item = self.collect({ () throws(MappingDiagnostic) in
                try self.segmentItem(Root.self, itemNode, scope)
            }) {
                items.append(item)
            }
        }
        return items
    }

    private func segmentItem<Root: MappableRecord>(
        _ type: Root.Type,
        _ node: YAMLNode,
        _ scope: CompileScope
    )
        throws(MappingDiagnostic) -> any SegmentItem<Root>
    {
        let pairs = try node.pairs("a segment or block")
        if pairs.contains(where: { ["each", "hl", "segments"].contains($0.key) }) {
            let keyed = try node.keyed("a block", allowed: ["each", "hl", "segments"])
            let isLevel = keyed["hl"] != nil
            let inner = try keyed.required("segments", in: "a block")
            guard let eachNode = keyed["each"] else {
                guard isLevel else { throw node.error("a block needs 'each' (a collection) or 'hl'") }
                return LevelBlock<Root>(items: self.segmentItems(Root.self, inner, scope))
            }
            let name = try eachNode.scalar("each")
            guard let collection = Root.catalog.collections[name] else {
                throw eachNode.error(
                    "unknown collection '\(name)' for \(Root.recordName) (known: "
                        + Root.catalog.collections.keys.sorted().joined(separator: ", ") + ")"
                )
            }
            let visitor = SegmentBlockCompiler<Root>(compiler: self, node: inner, scope: scope, isLevel: isLevel)
            return try self.visit(collection, visitor, at: node)
        }
        guard pairs.count == 1, let (tag, keyNode, elementsNode) = pairs.first else {
            throw node.error("a segment is written as TAG: { TAG01: ..., TAG02: ... }")
        }
        return try self.segmentTemplate(Root.self, tag: tag, keyNode: keyNode, elementsNode, scope)
    }

    private func segmentTemplate<Root: MappableRecord>(
        _ type: Root.Type,
        tag: String,
        keyNode: YAMLNode,
        _ node: YAMLNode,
        _ scope: CompileScope
    ) throws(MappingDiagnostic) -> SegmentTemplate<Root> {
        let segmentTag = SegmentTag(tag)
        for (schema, _, _) in scope.edi
        where schema.segments[segmentTag] == nil || !schema.tagsInStructure.contains(segmentTag) {
            throw keyNode.error("unknown segment \(tag) (not in \(schema.identifier) \(schema.version))")
        }
        var elements: [(Int, [OutputSpec<Root>])] = []
        if node.isMapping {
            for (key, elementKey, specNode) in try node.pairs("the elements of \(tag)") {
                guard let reference = ElementReference(Substring(key)), reference.tag == tag, reference.component == nil
                else { throw elementKey.error("'\(key)' is not an element of \(tag) (like \(tag)01)") }
                let segmentScope = CompileScope(edi: scope.edi.map { ($0.schema, $0.shape, tag) }, isXML: false)
                try self.checkElement(reference, in: segmentScope, at: elementKey, conditions: [])
                let components: [OutputSpec<Root>]
                if specNode.isSequence {
                    components = try specNode.list("components").map { item throws(MappingDiagnostic) in
                        try self.spec(Root.self, item)
                    }
                    for (schema, _, _) in scope.edi {
                        let definition = schema.segments[segmentTag]!.elements[reference.element - 1]
                        if components.count > max(definition.components.count, 1) {
                            throw specNode.error(
                                "\(key) has \(max(definition.components.count, 1)) component(s), not \(components.count)"
                            )
                        }
                    }
                } else {
                    components = [try self.spec(Root.self, specNode)]
                }
                if let (schema, _, _) = scope.edi.first, let definition = schema.segments[segmentTag],
                    reference.element <= definition.elements.count
                {
                    let element = definition.elements[reference.element - 1]
                    for index in components.indices {
                        let target = element.components.isEmpty ? element : element.components[index]
                        if target.type == .alphanumeric || target.type == .alphabetic, target.maximumLength > 0 {
                            components[index].maximumLength = target.maximumLength
                        }
                        if components[index].isHashTotal, target.maximumLength > 0 {
                            components[index].hashDigits = target.maximumLength
                        }
                    }
                }
                elements.append((reference.element, components))
            }
        } else if !(node.isScalar && (try? node.scalar("")) == "") {
            throw node.error("the elements of \(tag) are written as { \(tag)01: ..., \(tag)02: ... }")
        }
        elements.sort { $0.0 < $1.0 }
        return SegmentTemplate(tag: tag, elements: elements)
    }

    // MARK: XML layouts

    func xmlItems<Root: MappableRecord>(_ type: Root.Type, _ node: YAMLNode) -> [any XMLItem<Root>] {
        guard let list = self.collect({ () throws(MappingDiagnostic) in try node.list("XML content") }) else {
            return []
        }
        return list.compactMap { item in
            self.collect { () throws(MappingDiagnostic) in try self.xmlItem(Root.self, item) }
        }
    }

    private func xmlItem<Root: MappableRecord>(
        _ type: Root.Type,
        _ node: YAMLNode
    ) throws(MappingDiagnostic)
        -> any XMLItem<Root>
    {
        let pairs = try node.pairs("an XML item")
        if pairs.contains(where: { $0.key == "each" }) {
            let keyed = try node.keyed("an 'each' block", allowed: ["each", "content"])
            let eachNode = try keyed.required("each", in: "a block")
            let name = try eachNode.scalar("each")
            guard let collection = Root.catalog.collections[name] else {
                throw eachNode.error(
                    "unknown collection '\(name)' for \(Root.recordName) (known: "
                        + Root.catalog.collections.keys.sorted().joined(separator: ", ") + ")"
                )
            }
            let visitor = XMLBlockCompiler<Root>(compiler: self, node: try keyed.required("content", in: "a block"))
            return try self.visit(collection, visitor, at: node)
        }
        guard pairs.count == 1, let (name, keyNode, content) = pairs.first, !name.hasPrefix("@"), !name.hasPrefix("#")
        else { throw node.error("an XML element is written as Name: content") }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.:".contains($0) }) else {
            throw keyNode.error("'\(name)' is not an XML element name")
        }
        var attributes: [(String, OutputSpec<Root>)] = []
        var text: OutputSpec<Root>?
        var children: [any XMLItem<Root>] = []
        if content.isSequence {
            for item in try content.list("content") {
                let itemPairs = try item.pairs("an XML item")
                if itemPairs.count == 1, let (key, _, value) = itemPairs.first, key.hasPrefix("@") || key == "#text" {
                    let spec = try self.spec(Root.self, value)
                    if key == "#text" { text = spec } else { attributes.append((String(key.dropFirst()), spec)) }
                } else if let child = self.collect({ () throws(MappingDiagnostic) in try self.xmlItem(Root.self, item) }
                ) {
                    children.append(child)
                }
            }
        } else {
            text = try self.spec(Root.self, content)
        }
        let readsRecord =
            attributes.contains { $0.1.readsRecord } || text?.readsRecord == true
            || children.contains { $0.readsRecord }
        return XMLElementTemplate(
            name: name,
            attributes: attributes,
            text: text,
            children: children,
            readsRecord: readsRecord
        )
    }

    // MARK: Values

    func spec<Root: MappableRecord>(_ type: Root.Type, _ node: YAMLNode) throws(MappingDiagnostic) -> OutputSpec<Root> {
        let spec = OutputSpec<Root>(source: .constant(""), file: self.file, line: node.line)
        if node.isScalar {
            spec.source = try self.fieldSource(Root.self, try node.scalar("a field"), index: nil, at: node)
            return spec
        }
        let keyed = try node.keyed("an output value", allowed: Self.specKeys)
        var fieldType: CanonicalFieldType = .text
        if let field = keyed["field"] {
            let index = try keyed["index"]?.integer("index")
            if let index, index < 1 { throw keyed["index"]!.error("index counts from 1 (the first value of the list)") }
            spec.source = try self.fieldSource(Root.self, try field.scalar("field"), index: index, at: field)
            if case .field(let slot, _) = spec.source { fieldType = slot.type }
        } else if let value = keyed["value"] {
            spec.source = .constant(try value.scalar("value"))
        } else if let context = keyed["context"] {
            spec.source = .context(try context.scalar("context"))
        } else if keyed["now"] != nil {
            spec.source = .now
            fieldType = .date
        } else if let count = keyed["count"] {
            spec.source = .aggregate(
                try self.aggregate(Root.self, try count.scalar("count"), at: count, field: false),
                isCount: true
            )
        } else if let sum = keyed["sum"] {
            spec.source = .aggregate(
                try self.aggregate(Root.self, try sum.scalar("sum"), at: sum, field: true),
                isCount: false
            )
        } else if let hash = keyed["hash"] {
            spec.source = .aggregate(
                try self.aggregate(Root.self, try hash.scalar("hash"), at: hash, field: true),
                isCount: false
            )
            spec.isHashTotal = true
        } else if let hl = keyed["hl"] {
            guard let which = OutputSpec<Root>.HierarchyValue(rawValue: try hl.scalar("hl")) else {
                throw hl.error("hl is one of: id, parent, children, count")
            }
            spec.source = .hierarchy(which)
        } else if keyed["default"] == nil {
            throw node.error("an output value needs 'field', 'value', 'context', 'now', 'count', 'sum', 'hash' or 'hl'")
        }
        if let format = keyed["format"] {
            let name = try format.scalar("format")
            guard let parsed = OutputFormat(name: name) else {
                throw format.error("unknown date format '\(name)' (expected one of: \(OutputFormat.names))")
            }
            guard fieldType == .date else { throw format.error("'format' is for dates") }
            spec.format = parsed
        }
        if let codes = keyed["codes"] { spec.codes = try self.codeTable(codes, for: .text, field: "a value") }
        spec.impliedDecimals = try keyed["implied"]?.integer("implied")
        spec.places = try keyed["places"]?.integer("places")
        spec.defaultValue = try keyed.string("default")
        spec.isRequired = try keyed["required"]?.bool("required") ?? false
        if let when = keyed["when"] {
            let name = try when.scalar("when")
            guard let slot = Root.catalog.fields[name] else {
                throw when.error("unknown canonical field '\(name)' for \(Root.recordName)")
            }
            spec.condition = slot
        }
        return spec
    }

    private func fieldSource<Root: MappableRecord>(
        _ type: Root.Type,
        _ name: String,
        index: Int?,
        at node: YAMLNode
    )
        throws(MappingDiagnostic) -> OutputSpec<Root>.Source
    {
        if name.hasPrefix("^") {
            let levels = name.prefix { $0 == "^" }.count
            let field = String(name.dropFirst(levels))
            guard levels <= self.enclosing.count else {
                throw node.error(
                    "'\(name)' goes \(levels) record(s) up, but this block is inside \(self.enclosing.count)"
                )
            }
            let parent = self.enclosing[self.enclosing.count - levels]
            guard let reader = parent.resolve(field) else {
                throw node.error("unknown canonical field '\(field)' for \(parent.name)")
            }
            return .parent(reader, index: index)
        }
        guard let slot = Root.catalog.fields[name] else {
            throw node.error(
                "unknown canonical field '\(name)' for \(Root.recordName) (known: "
                    + Root.catalog.fields.keys.sorted().joined(separator: ", ") + ")"
            )
        }
        return .field(slot, index: index)
    }

    /// `count: lines`, `sum: lines.orderedQuantity`, `count: orders.packs` — values gathered through collections.
    func aggregate<Root: MappableRecord>(
        _ type: Root.Type,
        _ path: String,
        at node: YAMLNode,
        field: Bool
    )
        throws(MappingDiagnostic) -> @Sendable (Root) -> [CanonicalValue]
    {
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        guard let collection = Root.catalog.collections[parts[0]] else {
            throw node.error(
                "unknown collection '\(parts[0])' for \(Root.recordName) (known: "
                    + Root.catalog.collections.keys.sorted().joined(separator: ", ") + ")"
            )
        }
        let visitor = AggregateCompiler<Root>(
            compiler: self,
            rest: parts.count > 1 ? parts[1] : nil,
            node: node,
            field: field
        )
        return try self.visit(collection, visitor, at: node)
    }
}

struct SegmentBlockCompiler<Root: MappableRecord>: CollectionVisitor {
    let compiler: OutboundCompiler
    let node: YAMLNode
    let scope: CompileScope
    let isLevel: Bool

    func visit<Element: MappableRecord>(_ slot: CollectionSlot<Root, Element>) throws -> any SegmentItem<Root> {
        EachBlock<Root, Element>(
            path: StoredPath(slot.path),
            items: self.compiler.withEnclosing(Root.self) {
                self.compiler.segmentItems(Element.self, self.node, self.scope)
            },
            isLevel: self.isLevel
        )
    }
}

struct XMLBlockCompiler<Root: MappableRecord>: CollectionVisitor {
    let compiler: OutboundCompiler
    let node: YAMLNode

    func visit<Element: MappableRecord>(_ slot: CollectionSlot<Root, Element>) throws -> any XMLItem<Root> {
        XMLEachBlock<Root, Element>(
            path: StoredPath(slot.path),
            items: self.compiler.withEnclosing(Root.self) { self.compiler.xmlItems(Element.self, self.node) }
        )
    }
}

struct AggregateCompiler<Root>: CollectionVisitor {
    let compiler: OutboundCompiler
    let rest: String?
    let node: YAMLNode
    let field: Bool

    func visit<Element: MappableRecord>(
        _ slot: CollectionSlot<Root, Element>
    ) throws -> @Sendable (Root) -> [CanonicalValue] {
        let path = StoredPath(slot.path)
        guard let rest = self.rest else {
            if self.field { throw self.node.error("'sum' needs a field: collection.field (like lines.quantity)") }
            return { root in path.read(root).map { _ in CanonicalValue.integer(1) } }
        }
        if let field = Element.catalog.fields[rest], self.field {
            // A field holds one value, read without an array; a list holds several.
            guard case .textList = field.type else {
                return { root in path.read(root).compactMap { field.firstValue(of: $0) } }
            }
            return { root in path.read(root).flatMap { field.get($0) } }
        }
        let inner = try self.compiler.aggregate(Element.self, rest, at: self.node, field: self.field)
        return { root in path.read(root).flatMap { inner($0) } }
    }
}
