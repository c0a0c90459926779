import EDISyntax
import Foundation
import OrderModel
import XMLSyntax

/// The part of a document a mapping block reads from: a loop occurrence of an EDI set, or an XML element.
enum MappingScope {
    case edi(LoopInstance, setStart: Int)
    case xml(XMLElement, path: String, root: XMLElement? = nil)
}

/// How a block chooses its occurrences: `each: PO1`, `each: N1[N101=ST]`, `each: ItemOut`.
enum Selector: Sendable {
    case edi([EDIStep])
    case xml(XMLPath)
}

/// A compiled inbound block for one record type: its field rules and its collections.
final class RecordPlan<Root: MappableRecord>: @unchecked Sendable {
    var fields: [FieldRule<Root>] = []
    var collections: [any CollectionPlan<Root>] = []

    func apply(_ scope: MappingScope, to root: inout Root) throws(DocumentMappingError) {
        for field in self.fields {
            let slot = field.slot
            let rule = field.rule
            switch slot.type {
            case .textList where rule.concatenation == nil:
                for (text, origin) in Resolver.all(rule.sources, in: scope) where !text.isEmpty {
                    slot.set(&root, .text(try Self.translated(text, rule: rule, origin: origin)))
                    if let origin { root.origins.append(rule.field, origin) }
                }
            default:
                guard let (value, origin) = try Self.value(of: rule, in: scope) else { continue }
                slot.set(&root, value)
                if let origin { root.origins.append(rule.field, origin) }
            }
        }
        for collection in self.collections {
            try collection.apply(scope, to: &root)
        }
    }

    private static func translated(
        _ text: String,
        rule: ValueRule,
        origin: FieldOrigin?
    ) throws(DocumentMappingError)
        -> String
    {
        guard let codes = rule.codes else { return text }
        if let value = codes.translate(text) { return value }
        if case .code = rule.type {
            throw DocumentMappingError(
                field: rule.field,
                message: "code '\(text)' is not in code table '\(codes.name)'",
                origin: origin,
                rule: "\(rule.file):\(rule.line)"
            )
        }
        return text
    }

    /// The rule's value in the scope, converted to the field's type; nil when the document gives none.
    static func value(
        of rule: ValueRule,
        in scope: MappingScope
    ) throws(DocumentMappingError)
        -> (CanonicalValue, FieldOrigin?)?
    {
        var text: String?
        var origin: FieldOrigin?
        if let (sources, separator) = rule.concatenation {
            let parts = Resolver.all(sources, in: scope).filter { !$0.value.isEmpty }
            if !parts.isEmpty {
                text = parts.map(\.value).joined(separator: separator)
                origin = parts[0].origin
            }
        } else if let found = Resolver.first(rule.sources, in: scope) {
            (text, origin) = (found.value, found.origin)
        }
        if text == nil || text!.isEmpty { text = rule.defaultValue }
        guard var text, !text.isEmpty else {
            if rule.isRequired {
                throw DocumentMappingError(
                    field: rule.field,
                    message: "required value is missing",
                    origin: Resolver.scopeOrigin(scope),
                    rule: "\(rule.file):\(rule.line)"
                )
            }
            return nil
        }
        text = try self.translated(text, rule: rule, origin: origin)
        func fail(_ message: String) -> DocumentMappingError {
            DocumentMappingError(field: rule.field, message: message, origin: origin, rule: "\(rule.file):\(rule.line)")
        }
        switch rule.type {
        case .text, .textList, .code:
            return (.text(text), origin)
        case .integer:
            guard let number = Int(text.trimmed()) else { throw fail("\"\(text)\" is not a whole number") }
            return (.integer(number), origin)
        case .decimal, .quantity, .money:
            guard var number = DecimalText.parse(Substring(text).trimmed().utf8) else {
                throw fail("\"\(text)\" is not a number")
            }
            if let places = rule.impliedDecimals, places > 0 {
                number = Decimal(sign: number.sign, exponent: number.exponent - places, significand: number.significand)
            }
            if rule.type == .quantity {
                var unit = Resolver.first(rule.unit, in: scope)?.value
                if let unitCodes = rule.unitCodes, let code = unit { unit = unitCodes.translate(code) ?? code }
                return (.quantity(number, unit: unit?.isEmpty == true ? nil : unit), origin)
            }
            if rule.type == .money {
                let currency = Resolver.first(rule.currency, in: scope)?.value
                return (.money(number, currency: currency?.isEmpty == true ? nil : currency), origin)
            }
            return (.decimal(number), origin)
        case .date:
            let format = rule.dateFormat ?? .ccyymmdd
            var code: String?
            if format == .edifactQualified {
                // The format code sits in the component after the value, in the segment the value came from.
                for source in rule.sources {
                    guard case .edi(let path) = source, let segment = Resolver.segment(for: path, in: scope) else {
                        continue
                    }
                    code = ElementReference(
                        tag: path.leaf.tag,
                        element: path.leaf.element,
                        component: (path.leaf.component ?? 1) + 1
                    ).value(in: segment)
                    break
                }
            }
            let time = rule.time.flatMap { Resolver.first([$0], in: scope)?.value }
            guard let date = format.parse(text, code: code, time: time) else {
                throw fail("\"\(text)\" is not a date in the format the mapping expects")
            }
            return (.date(date), origin)
        }
    }
}

/// One compiled field: the canonical slot and the rule that fills it (a class, so the hot loop copies nothing).
final class FieldRule<Root>: @unchecked Sendable {
    let slot: FieldSlot<Root>
    let rule: ValueRule

    init(slot: FieldSlot<Root>, rule: ValueRule) {
        self.slot = slot
        self.rule = rule
    }
}

/// A collection block, type-erased over its element type.
protocol CollectionPlan<Root>: Sendable {
    associatedtype Root
    func apply(_ scope: MappingScope, to root: inout Root) throws(DocumentMappingError)
}

final class CollectionBlocks<Root, Element: MappableRecord>: CollectionPlan, @unchecked Sendable {
    let path: WritableKeyPath<Root, [Element]>
    var blocks: [(selector: Selector, plan: RecordPlan<Element>)] = []

    init(path: WritableKeyPath<Root, [Element]>) {
        self.path = path
    }

    func apply(_ scope: MappingScope, to root: inout Root) throws(DocumentMappingError) {
        for (selector, plan) in self.blocks {
            for child in Resolver.scopes(selector, in: scope) {
                var element = Element()
                try plan.apply(child, to: &element)
                root[keyPath: self.path].append(element)
            }
        }
    }
}

/// Finds values and sub-scopes in a document scope.
enum Resolver {
    static func first(_ sources: [ValueSource], in scope: MappingScope) -> (value: String, origin: FieldOrigin?)? {
        if case .edi(let instance, let setStart) = scope {
            for source in sources {
                switch source {
                case .edi(let path):
                    let owner = path.isAbsolute ? instance.top : instance
                    if let found = self.firstEDI(path, in: owner, setStart: setStart) { return found }
                case .constant(let text):
                    if !text.isEmpty { return (text, nil) }
                case .pairs(let start, let qualifiers):
                    if let found = self.firstPair(start, qualifiers, in: instance, setStart: setStart) { return found }
                default:
                    if let found = self.values(source, in: scope, all: false).first(where: { !$0.value.isEmpty }) {
                        return found
                    }
                }
            }
            return nil
        }
        for source in sources {
            if let found = self.values(source, in: scope, all: false).first(where: { !$0.value.isEmpty }) {
                return found
            }
        }
        return nil
    }

    static func all(_ sources: [ValueSource], in scope: MappingScope) -> [(value: String, origin: FieldOrigin?)] {
        // Several elements of one repeated segment (`[N301, N302]` over two N3s) are read segment by segment:
        // N3#1-01, N3#1-02, N3#2-01, ...
        if case .edi(let instance, let setStart) = scope, sources.count > 1 {
            let paths = sources.compactMap { if case .edi(let path) = $0 { return path } else { return nil } }
            if paths.count == sources.count, let first = paths.first,
                paths.allSatisfy({ $0.steps.isEmpty && !$0.isAbsolute && $0.leafTag == first.leafTag })
            {
                var results: [(String, FieldOrigin?)] = []
                for segment in self.segments(matching: first.leafTag, [], in: instance) {
                    for path in paths where path.leafConditions.allSatisfy({ $0.holds(for: segment) }) {
                        let value = path.leaf.value(in: segment)
                        results.append(
                            (
                                value,
                                Self.origin(of: path.leaf, in: segment, setStart: setStart)
                            )
                        )
                    }
                }
                return results
            }
        }
        return sources.flatMap { self.values($0, in: scope, all: true) }
    }

    /// The value after the first qualifier listed, scanning qualifier/value pairs (X12 PO106/PO107, ...).
    private static func firstPair(
        _ start: ElementReference,
        _ qualifiers: [String],
        in instance: LoopInstance,
        setStart: Int
    ) -> (value: String, origin: FieldOrigin?)? {
        let tag = start.segmentTag
        for segment in instance.segments where segment.tag == tag {
            var position = start.element
            let count = segment.elementCount
            while position < count {
                let element = segment.element(position)
                if !element.isEmpty, qualifiers.contains(element.text) {
                    let value = segment[position + 1]
                    if !value.isEmpty {
                        return (
                            value,
                            FieldOrigin(
                                segment: segment.index - setStart + 1,
                                tag: start.tag,
                                element: position + 1,
                                line: segment.line,
                                column: segment.column
                            )
                        )
                    }
                }
                position += 2
            }
            return nil
        }
        return nil
    }

    /// The first non-empty value of an EDI path, without building lists (the translation hot path).
    private static func firstEDI(
        _ path: EDIPath,
        in instance: LoopInstance,
        setStart: Int
    )
        -> (value: String, origin: FieldOrigin?)?
    {
        if path.steps.isEmpty { return self.firstLeaf(path, in: instance, setStart: setStart) }
        for owner in self.descend(path.steps, from: instance) {
            if let found = self.firstLeaf(path, in: owner, setStart: setStart) { return found }
        }
        return nil
    }

    @inline(__always)
    private static func firstLeaf(
        _ path: EDIPath,
        in instance: LoopInstance,
        setStart: Int
    )
        -> (value: String, origin: FieldOrigin?)?
    {
        let tag = path.leafTag
        var sawDirect = false
        for segment in instance.segments where segment.tag == tag {
            sawDirect = true
            if let found = self.leafValue(path, segment, setStart: setStart) { return found }
        }
        if sawDirect { return nil }
        for child in instance.children {
            guard let trigger = child.segments.first, trigger.tag == tag else { continue }
            if let found = self.leafValue(path, trigger, setStart: setStart) { return found }
        }
        return nil
    }

    @inline(__always)
    private static func leafValue(
        _ path: EDIPath,
        _ segment: Segment,
        setStart: Int
    )
        -> (value: String, origin: FieldOrigin?)?
    {
        for condition in path.leafConditions where !condition.holds(for: segment) { return nil }
        let value = path.leaf.value(in: segment)
        guard !value.isEmpty else { return nil }
        return (
            value,
            Self.origin(of: path.leaf, in: segment, setStart: setStart)
        )
    }

    /// Where an element reference's value is: the segment's position in its set, the element, the line.
    static func origin(of reference: ElementReference, in segment: Segment, setStart: Int) -> FieldOrigin {
        FieldOrigin(
            segment: segment.index - setStart + 1,
            tag: reference.tag,
            element: reference.element,
            component: reference.component,
            line: segment.line,
            column: segment.column
        )
    }

    static func scopeOrigin(_ scope: MappingScope) -> FieldOrigin? {
        switch scope {
        case .edi(let instance, let setStart):
            guard let segment = instance.trigger else { return nil }
            return FieldOrigin(
                segment: segment.index - setStart + 1,
                tag: segment.tag.description,
                line: segment.line,
                column: segment.column
            )
        case .xml(let element, let path, _):
            return FieldOrigin(path: path, line: element.line, column: element.column)
        }
    }

    private static func values(
        _ source: ValueSource,
        in scope: MappingScope,
        all: Bool
    )
        -> [(value: String, origin: FieldOrigin?)]
    {
        switch (source, scope) {
        case (.constant(let text), _):
            return [(text, nil)]
        case (.edi(let path), .edi(let instance, let setStart)):
            var results: [(String, FieldOrigin?)] = []
            for owner in self.descend(path.steps, from: path.isAbsolute ? instance.top : instance) {
                for segment in self.segments(matching: path.leafTag, path.leafConditions, in: owner) {
                    let value = path.leaf.value(in: segment)
                    let origin = Self.origin(of: path.leaf, in: segment, setStart: setStart)
                    results.append((value, origin))
                    if !all && !value.isEmpty { return results }
                }
            }
            return results
        case (.pairs(let start, let qualifiers), .edi(let instance, let setStart)):
            for segment in self.segments(matching: start.segmentTag, [], in: instance) {
                var position = start.element
                while position < segment.elementCount {
                    if qualifiers.contains(segment[position]) {
                        let value = segment[position + 1]
                        if !value.isEmpty {
                            let origin = FieldOrigin(
                                segment: segment.index - setStart + 1,
                                tag: start.tag,
                                element: position + 1,
                                line: segment.line,
                                column: segment.column
                            )
                            return [(value, origin)]
                        }
                    }
                    position += 2
                }
            }
            return []
        case (.xml(let path), .xml(let element, let scopePath, let root)):
            let base = path.isAbsolute ? (root ?? element) : element
            let basePath = path.isAbsolute ? String(scopePath.prefix { $0 != "/" }) : scopePath + "/"
            return path.values(from: base).map { value, selected in
                (value, FieldOrigin(path: basePath + path.text, line: selected.line, column: selected.column))
            }
        default:
            return []
        }
    }

    /// The first segment a path's leaf reads, for companion values (EDIFACT date format codes).
    static func segment(for path: EDIPath, in scope: MappingScope) -> Segment? {
        guard case .edi(let instance, _) = scope else { return nil }
        for owner in self.descend(path.steps, from: path.isAbsolute ? instance.top : instance) {
            if let segment = self.segments(matching: path.leafTag, path.leafConditions, in: owner).first(where: {
                !path.leaf.value(in: $0).isEmpty
            }) {
                return segment
            }
        }
        return nil
    }

    private static func descend(_ steps: [EDIStep], from instance: LoopInstance) -> [LoopInstance] {
        var current = [instance]
        for step in steps {
            current = current.flatMap { self.loops(step, in: $0) }
            if current.isEmpty { break }
        }
        return current
    }

    private static func loops(_ step: EDIStep, in instance: LoopInstance) -> [LoopInstance] {
        instance.children.filter { child in
            guard let trigger = child.segments.first else { return false }
            if let number = step.groupNumber {
                guard child.shape.groupNumber == number else { return false }
            } else {
                guard trigger.tag == step.tag else { return false }
            }
            return step.conditions.allSatisfy { $0.holds(for: trigger) }
        }
    }

    /// Segments with `tag` directly in the occurrence, else the first segments of child loops that start with it.
    private static func segments(
        matching tag: SegmentTag,
        _ conditions: [ElementCondition],
        in instance: LoopInstance
    )
        -> [Segment]
    {
        let segmentTag = tag
        var found = instance.segments.filter { segment in
            segment.tag == segmentTag && conditions.allSatisfy { $0.holds(for: segment) }
        }
        if found.isEmpty {
            found = instance.children.compactMap { child in
                guard let trigger = child.trigger, trigger.tag == segmentTag,
                    conditions.allSatisfy({ $0.holds(for: trigger) })
                else { return nil }
                return trigger
            }
        }
        return found
    }

    /// The occurrences a selector picks in a scope: loop occurrences, or single segments as scopes of their own.
    static func scopes(_ selector: Selector, in scope: MappingScope) -> [MappingScope] {
        switch (selector, scope) {
        case (.edi(let steps), .edi(let instance, let setStart)):
            var current = [instance]
            for (offset, step) in steps.enumerated() {
                var next: [LoopInstance] = []
                for owner in current {
                    let loops = self.loops(step, in: owner)
                    if !loops.isEmpty || offset < steps.count - 1 || owner.shape.childLoop(named: step.name) != nil {
                        next += loops
                    } else {
                        for segment in self.segments(matching: step.tag, step.conditions, in: owner) {
                            let single = LoopInstance(shape: owner.shape, root: owner.top)
                            single.segments = [segment]
                            next.append(single)
                        }
                    }
                }
                current = next
            }
            return current.map { .edi($0, setStart: setStart) }
        case (.xml(let path), .xml(let element, let scopePath, let root)):
            let elements = path.elements(from: element)
            return elements.enumerated().map { offset, child in
                .xml(
                    child,
                    path: scopePath + "/" + path.text + (elements.count > 1 ? "[\(offset + 1)]" : ""),
                    root: root ?? element
                )
            }
        default:
            return []
        }
    }
}
