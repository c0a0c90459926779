import EDISyntax
import OrderModel

/// One item of an outbound EDI layout: a segment, or a block repeated for each element of a collection.
protocol SegmentItem<Root>: Sendable {
    associatedtype Root
    /// Whether the item (or any item inside it) is a hierarchical level (X12 HL, EDIFACT CPS).
    var isHierarchy: Bool { get }
    func render(_ record: Root, _ state: RenderState, into output: inout [SegmentValue]) throws(RenderError)
}

/// A segment with its elements (and their components) made from specs.
struct SegmentTemplate<Root>: SegmentItem, @unchecked Sendable {
    let tag: String
    /// Element position → component specs (one for a simple element).
    let elements: [(position: Int, components: [OutputSpec<Root>])]
    let isHierarchy = false

    // Specialised for the records outbound maps render, which a layout reaches through `any SegmentItem`.
    @_specialize(exported:false,where Root == Acknowledgement)
    @_specialize(exported:false,where Root == AcknowledgedLine)
    @_specialize(exported:false,where Root == LineDisposition)
    @_specialize(exported:false,where Root == Party)
    @_specialize(exported:false,where Root == Reference)
    @_specialize(exported:false,where Root == ShipNotice)
    @_specialize(exported:false,where Root == ShippedOrder)
    @_specialize(exported:false,where Root == Pack)
    @_specialize(exported:false,where Root == ShippedItem)
    @_specialize(exported:false,where Root == Invoice)
    @_specialize(exported:false,where Root == InvoiceLine)
    @_specialize(exported:false,where Root == AllowanceCharge)
    func render(_ record: Root, _ state: RenderState, into output: inout [SegmentValue]) throws(RenderError) {
        var readsRecord = false
        var hasRecordValue = false
        var values: [ElementValue] = []
        values.reserveCapacity(self.elements.last?.position ?? 0)
        for index in self.elements.indices {
            let position = self.elements[index].position
            while values.count < position - 1 { values.append(ElementValue("")) }
            let components = self.elements[index].components
            // Most elements are one value: no array of texts for them.
            if components.count == 1 {
                let spec = components[0]
                let text = try spec.render(record, state)
                if spec.readsRecord {
                    readsRecord = true
                    if !text.isEmpty { hasRecordValue = true }
                }
                values.append(ElementValue(text))
                continue
            }
            var texts: [String] = []
            texts.reserveCapacity(components.count)
            for spec in components {
                let text = try spec.render(record, state)
                if spec.readsRecord {
                    readsRecord = true
                    if !text.isEmpty { hasRecordValue = true }
                }
                texts.append(text)
            }
            while texts.count > 1, texts.last?.isEmpty == true { texts.removeLast() }
            values.append(texts.count == 1 ? ElementValue(texts[0]) : ElementValue(components: texts))
        }
        // A segment that reads the record but found nothing in it is left out (a REF without a value, an N3 without
        // a street); one made only of constants is always written.
        if readsRecord && !hasRecordValue { return }
        while values.last?.isEmpty == true { values.removeLast() }
        output.append(SegmentValue(self.tag, values))
    }
}

/// Items rendered once per element of a collection (`each: lines`), optionally as a hierarchical level.
struct EachBlock<Root, Element: MappableRecord>: SegmentItem, @unchecked Sendable {
    let path: StoredPath<Root, [Element]>
    let items: [any SegmentItem<Element>]
    let isLevel: Bool
    /// A level itself, or a plain block that holds levels (`each: orders` around `each: packs, hl: P`): either way
    /// it is rendered with its enclosing level's children.
    var isHierarchy: Bool { self.isLevel || self.items.contains { $0.isHierarchy } }

    func render(_ record: Root, _ state: RenderState, into output: inout [SegmentValue]) throws(RenderError) {
        state.parents.append(record)
        defer { state.parents.removeLast() }
        for element in self.path.read(record) {
            try SegmentItems.render(self.items, element, state, isLevel: self.isLevel, into: &output)
        }
    }
}

/// Renders a block's items for one record; as a hierarchical level, its child levels after its own segments, with the
/// level's ID, parent and whether it has children known to its HL segment.
enum SegmentItems {
    @_specialize(exported:false,where Value == Acknowledgement)
    @_specialize(exported:false,where Value == AcknowledgedLine)
    @_specialize(exported:false,where Value == LineDisposition)
    @_specialize(exported:false,where Value == Party)
    @_specialize(exported:false,where Value == Reference)
    @_specialize(exported:false,where Value == ShipNotice)
    @_specialize(exported:false,where Value == ShippedOrder)
    @_specialize(exported:false,where Value == Pack)
    @_specialize(exported:false,where Value == ShippedItem)
    @_specialize(exported:false,where Value == Invoice)
    @_specialize(exported:false,where Value == InvoiceLine)
    @_specialize(exported:false,where Value == AllowanceCharge)
    static func render<Value>(
        _ items: [any SegmentItem<Value>],
        _ value: Value,
        _ state: RenderState,
        isLevel: Bool,
        into output: inout [SegmentValue]
    ) throws(RenderError) {
        guard isLevel else {
            for item in items { try item.render(value, state, into: &output) }
            return
        }
        let id = state.nextHierarchyID
        state.nextHierarchyID += 1
        let parent = state.currentLevel
        state.currentLevel = id
        var children: [SegmentValue] = []
        for item in items where item.isHierarchy { try item.render(value, state, into: &children) }
        state.currentLevel = parent
        state.hierarchyID = id
        state.hierarchyParent = parent
        state.hasHierarchyChildren = !children.isEmpty
        for item in items where !item.isHierarchy { try item.render(value, state, into: &output) }
        output += children
    }
}

/// A hierarchical level on the record itself (the shipment level of an 856: `hl: S` without `each`).
struct LevelBlock<Root>: SegmentItem, @unchecked Sendable {
    let items: [any SegmentItem<Root>]
    let isHierarchy = true

    func render(_ record: Root, _ state: RenderState, into output: inout [SegmentValue]) throws(RenderError) {
        try SegmentItems.render(self.items, record, state, isLevel: true, into: &output)
    }
}

/// One item of an outbound XML layout.
protocol XMLItem<Root>: Sendable {
    associatedtype Root
    /// Whether any value inside comes from the record.
    var readsRecord: Bool { get }
    /// Adds the item's output to `parent`; returns whether a record value was non-empty.
    func render(_ record: Root, _ state: RenderState, into parent: inout XMLOutput) throws(RenderError) -> Bool
}

/// An element being written: name, attributes, text, children.
struct XMLOutput {
    var name: String
    var attributes: [(String, String)] = []
    var text: String?
    var children: [XMLOutput] = []

    /// Serialises with two-space indentation.
    func write(into text: inout String, depth: Int) {
        let indent = String(repeating: "  ", count: depth)
        text += indent + "<" + self.name
        for (name, value) in self.attributes { text += " \(name)=\"\(Self.escape(value, isAttribute: true))\"" }
        if self.children.isEmpty {
            if let value = self.text, !value.isEmpty {
                text += ">" + Self.escape(value, isAttribute: false) + "</" + self.name + ">\n"
            } else {
                text += "/>\n"
            }
            return
        }
        text += ">\n"
        if let value = self.text, !value.isEmpty {
            text += indent + "  " + Self.escape(value, isAttribute: false) + "\n"
        }
        for child in self.children { child.write(into: &text, depth: depth + 1) }
        text += indent + "</" + self.name + ">\n"
    }

    static func escape(_ value: String, isAttribute: Bool) -> String {
        var result = ""
        result.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"" where isAttribute: result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}

/// An element with attributes, text and children; left out when it reads the record and found nothing.
struct XMLElementTemplate<Root>: XMLItem, @unchecked Sendable {
    let name: String
    let attributes: [(String, OutputSpec<Root>)]
    let text: OutputSpec<Root>?
    let children: [any XMLItem<Root>]
    let readsRecord: Bool

    func render(_ record: Root, _ state: RenderState, into parent: inout XMLOutput) throws(RenderError) -> Bool {
        var output = XMLOutput(name: self.name)
        var hasRecordValue = false
        for (name, spec) in self.attributes {
            let value = try spec.render(record, state)
            if spec.readsRecord && !value.isEmpty { hasRecordValue = true }
            if !value.isEmpty { output.attributes.append((name, value)) }
        }
        if let text = self.text {
            let value = try text.render(record, state)
            if text.readsRecord && !value.isEmpty { hasRecordValue = true }
            output.text = value
        }
        for child in self.children where try child.render(record, state, into: &output) {
            hasRecordValue = true
        }
        if self.readsRecord && !hasRecordValue { return false }
        parent.children.append(output)
        return hasRecordValue
    }
}

/// Items rendered once per element of a collection.
struct XMLEachBlock<Root, Element: MappableRecord>: XMLItem, @unchecked Sendable {
    let path: StoredPath<Root, [Element]>
    let items: [any XMLItem<Element>]
    let readsRecord = true

    func render(_ record: Root, _ state: RenderState, into parent: inout XMLOutput) throws(RenderError) -> Bool {
        state.parents.append(record)
        defer { state.parents.removeLast() }
        var any = false
        for element in self.path.read(record) {
            for item in self.items where try item.render(element, state, into: &parent) { any = true }
        }
        return any
    }
}
