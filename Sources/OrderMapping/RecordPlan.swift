import EDISyntax
import Foundation
import OrderModel
import XMLSyntax

/// The part of a document a mapping block reads from: a loop occurrence of an EDI set, or an XML element.
enum MappingScope {
    case edi(EDIScope)
    case xml(XMLElement, path: String, root: XMLElement? = nil)
}

/// A loop occurrence of a set in its arena, or one segment taken as a scope of its own (`each: REF` where REF is not
/// a loop).
struct EDIScope {
    /// The translator keeps the arena alive while the set is mapped, and nothing keeps a scope longer.
    unowned(unsafe) let arena: SetArena
    let loop: Int32
    /// The scope's only segment when a selector picked single segments; -1 for the whole occurrence.
    let single: Int32

    init(arena: SetArena, loop: Int32 = 0, single: Int32 = -1) {
        self.arena = arena
        self.loop = loop
        self.single = single
    }

    /// The whole set, for paths that start with `/`.
    var top: EDIScope { EDIScope(arena: self.arena) }
    var shape: LoopShape { self.arena.loops[self.loop].shape }
    var setStart: Int { self.arena.setStart }

    /// The scope's first segment (the one that started the occurrence); -1 when none.
    var firstSegment: Int32 { self.single >= 0 ? self.single : self.arena.loops[self.loop].firstSegment }

    /// The scope's segment after `segment`; -1 after the last.
    @inline(__always)
    func segment(after segment: Int32) -> Int32 {
        self.single >= 0 ? -1 : self.arena.segments[segment].next
    }

    /// The first child loop occurrence; -1 when none.
    var firstChild: Int32 { self.single >= 0 ? -1 : self.arena.loops[self.loop].firstChild }

    /// The child occurrence after `child`; -1 after the last.
    @inline(__always)
    func child(after child: Int32) -> Int32 { self.arena.loops[child].nextSibling }
}

/// How a block chooses its occurrences: `each: PO1`, `each: N1[N101=ST]`, `each: ItemOut`.
enum Selector: Sendable {
    case edi([EDIStep])
    case xml(XMLPath)
}

/// A compiled inbound block for one record type: its field rules and its collections.
final class RecordPlan<Root: MappableRecord>: @unchecked Sendable {
    var fields: [FieldRule<Root>] = []
    var collections: [CollectionPlan<Root>] = []

    @_specialize(exported:false,where Root == Order)
    @_specialize(exported:false,where Root == OrderLine)
    @_specialize(exported:false,where Root == Party)
    @_specialize(exported:false,where Root == Reference)
    @_specialize(exported:false,where Root == Note)
    func apply(_ scope: MappingScope, to root: inout Root) throws(DocumentMappingError) {
        for field in self.fields {
            let slot = field.slot
            let rule = field.rule
            if field.isList {
                for (text, origin) in Resolver.all(rule.sources, in: scope) where !text.isEmpty {
                    slot.set(&root, .text(try Self.translated(text, rule: rule, origin: origin)))
                    if let origin { root.origins.append(rule.field, origin) }
                }
            } else {
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
                    guard case .edi(let path) = source, let companion = Resolver.companion(of: path, in: scope) else {
                        continue
                    }
                    code = companion
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
    /// A list field read value by value (every matching source value is appended), not a concatenation.
    let isList: Bool

    init(slot: FieldSlot<Root>, rule: ValueRule) {
        self.slot = slot
        self.rule = rule
        self.isList = slot.type == .textList && rule.concatenation == nil
    }
}

/// A collection block, type-erased over its element type (a class rather than an existential: calling through a
/// class costs no runtime type lookup on the hot path).
class CollectionPlan<Root>: @unchecked Sendable {
    func apply(_ scope: MappingScope, to root: inout Root) throws(DocumentMappingError) {
        preconditionFailure("CollectionPlan is abstract")
    }
}

final class CollectionBlocks<Root, Element: MappableRecord>: CollectionPlan<Root>, @unchecked Sendable {
    let path: WritableKeyPath<Root, [Element]>
    var blocks: [(selector: Selector, plan: RecordPlan<Element>)] = []

    init(path: WritableKeyPath<Root, [Element]>) {
        self.path = path
    }

    @_specialize(exported:false,where Root == Order, Element == OrderLine)
    @_specialize(exported:false,where Root == Order, Element == Party)
    @_specialize(exported:false,where Root == Order, Element == Reference)
    @_specialize(exported:false,where Root == Order, Element == Note)
    @_specialize(exported:false,where Root == OrderLine, Element == Party)
    @_specialize(exported:false,where Root == OrderLine, Element == Reference)
    override func apply(_ scope: MappingScope, to root: inout Root) throws(DocumentMappingError) {
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
        if case .edi(let scope) = scope {
            for source in sources {
                switch source {
                case .edi(let path):
                    if let found = self.firstEDI(path, in: path.isAbsolute ? scope.top : scope) { return found }
                case .constant(let text):
                    if !text.isEmpty { return (text, nil) }
                case .pairs(let start, let qualifiers):
                    if let found = self.firstPair(start, qualifiers, in: scope) { return found }
                case .xml:
                    continue
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
        if case .edi(let scope) = scope, sources.count > 1 {
            let paths = sources.compactMap { if case .edi(let path) = $0 { return path } else { return nil } }
            if paths.count == sources.count, let first = paths.first,
                paths.allSatisfy({ $0.steps.isEmpty && !$0.isAbsolute && $0.leafTag == first.leafTag })
            {
                var results: [(String, FieldOrigin?)] = []
                for segment in self.segments(matching: first.leafTag, [], in: scope) {
                    for path in paths where scope.arena.holdsAll(path.leafConditions, for: segment) {
                        results.append(
                            (scope.arena.text(segment, path.leaf), self.origin(of: path.leaf, segment, scope))
                        )
                    }
                }
                return results
            }
        }
        return sources.flatMap { self.values($0, in: scope, all: true) }
    }

    /// The value after the first qualifier listed, scanning qualifier/value pairs (X12 PO106/PO107, ...) of the
    /// first segment with the tag.
    private static func firstPair(
        _ start: ElementReference,
        _ qualifiers: [String],
        in scope: EDIScope
    ) -> (value: String, origin: FieldOrigin?)? {
        let tag = start.segmentTag
        var segment = scope.firstSegment
        while segment >= 0, scope.arena.segments[segment].tag != tag { segment = scope.segment(after: segment) }
        guard segment >= 0 else { return nil }
        return self.pairValue(start, qualifiers, segment, scope)
    }

    /// The value after the first of `qualifiers` among the pairs of `segment` from `start` on.
    private static func pairValue(
        _ start: ElementReference,
        _ qualifiers: [String],
        _ segment: Int32,
        _ scope: EDIScope
    ) -> (value: String, origin: FieldOrigin?)? {
        let arena = scope.arena
        let count = Int(arena.segments[segment].fieldCount) - 1
        var position = start.element
        while position < count {
            if arena.matches(segment, element: position, anyOf: qualifiers) {
                let value = arena.elementText(segment, element: position + 1)
                if !value.isEmpty {
                    let record = arena.segments[segment]
                    return (
                        value,
                        FieldOrigin(
                            segment: record.index - arena.setStart + 1,
                            tag: start.tag,
                            element: position + 1,
                            line: record.line,
                            column: record.column
                        )
                    )
                }
            }
            position += 2
        }
        return nil
    }

    /// The first non-empty value of an EDI path, without building lists (the translation hot path): the loop
    /// occurrences its steps name are visited depth first, which is their document order.
    private static func firstEDI(
        _ path: EDIPath,
        in scope: EDIScope,
        step: Int = 0
    ) -> (value: String, origin: FieldOrigin?)? {
        if step == path.steps.count { return self.firstLeaf(path, in: scope) }
        let arena = scope.arena
        var child = scope.firstChild
        while child >= 0 {
            if self.step(path.steps[step], matches: child, in: arena),
                let found = self.firstEDI(path, in: EDIScope(arena: arena, loop: child), step: step + 1)
            {
                return found
            }
            child = scope.child(after: child)
        }
        return nil
    }

    /// Whether loop occurrence `loop` is one that `step` names, its trigger meeting the step's conditions.
    @inline(__always)
    private static func step(_ step: EDIStep, matches loop: Int32, in arena: SetArena) -> Bool {
        let trigger = arena.trigger(loop)
        guard trigger >= 0 else { return false }
        if let number = step.groupNumber {
            guard arena.loops[loop].shape.groupNumber == number else { return false }
        } else {
            guard arena.segments[trigger].tag == step.tag else { return false }
        }
        return arena.holdsAll(step.conditions, for: trigger)
    }

    @inline(__always)
    private static func firstLeaf(_ path: EDIPath, in scope: EDIScope) -> (value: String, origin: FieldOrigin?)? {
        let arena = scope.arena
        let tag = path.leafTag
        var sawDirect = false
        var segment = scope.firstSegment
        while segment >= 0 {
            if arena.segments[segment].tag == tag {
                sawDirect = true
                if let found = self.leafValue(path, segment, scope) { return found }
            }
            segment = scope.segment(after: segment)
        }
        if sawDirect { return nil }
        var child = scope.firstChild
        while child >= 0 {
            let trigger = arena.trigger(child)
            if trigger >= 0, arena.segments[trigger].tag == tag, let found = self.leafValue(path, trigger, scope) {
                return found
            }
            child = scope.child(after: child)
        }
        return nil
    }

    @inline(__always)
    private static func leafValue(
        _ path: EDIPath,
        _ segment: Int32,
        _ scope: EDIScope
    ) -> (value: String, origin: FieldOrigin?)? {
        let arena = scope.arena
        guard arena.holdsAll(path.leafConditions, for: segment), !arena.isEmpty(segment, path.leaf) else { return nil }
        return (arena.text(segment, path.leaf), self.origin(of: path.leaf, segment, scope))
    }

    /// Where an element reference's value is: the segment's position in its set, the element, the line.
    static func origin(of reference: ElementReference, _ segment: Int32, _ scope: EDIScope) -> FieldOrigin {
        let record = scope.arena.segments[segment]
        return FieldOrigin(
            segment: record.index - scope.setStart + 1,
            tag: reference.tag,
            element: reference.element,
            component: reference.component,
            line: record.line,
            column: record.column
        )
    }

    static func scopeOrigin(_ scope: MappingScope) -> FieldOrigin? {
        switch scope {
        case .edi(let scope):
            let segment = scope.firstSegment
            guard segment >= 0 else { return nil }
            let record = scope.arena.segments[segment]
            return FieldOrigin(
                segment: record.index - scope.setStart + 1,
                tag: record.tag.description,
                line: record.line,
                column: record.column
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
        case (.edi(let path), .edi(let scope)):
            var results: [(String, FieldOrigin?)] = []
            for owner in self.descend(path.steps, from: path.isAbsolute ? scope.top : scope) {
                for segment in self.segments(matching: path.leafTag, path.leafConditions, in: owner) {
                    let value = owner.arena.text(segment, path.leaf)
                    results.append((value, self.origin(of: path.leaf, segment, owner)))
                    if !all && !value.isEmpty { return results }
                }
            }
            return results
        case (.pairs(let start, let qualifiers), .edi(let scope)):
            for segment in self.segments(matching: start.segmentTag, [], in: scope) {
                if let found = self.pairValue(start, qualifiers, segment, scope) { return [found] }
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

    /// The text of the component after a path's leaf, in the first segment that gives the leaf a value (EDIFACT
    /// date format codes: `DTM+137:20261123:102`); nil when no segment does.
    static func companion(of path: EDIPath, in scope: MappingScope) -> String? {
        guard case .edi(let scope) = scope else { return nil }
        for owner in self.descend(path.steps, from: path.isAbsolute ? scope.top : scope) {
            for segment in self.segments(matching: path.leafTag, path.leafConditions, in: owner)
            where !owner.arena.isEmpty(segment, path.leaf) {
                let next = ElementReference(
                    tag: path.leaf.tag,
                    element: path.leaf.element,
                    component: (path.leaf.component ?? 1) + 1
                )
                return owner.arena.text(segment, next)
            }
        }
        return nil
    }

    private static func descend(_ steps: [EDIStep], from scope: EDIScope) -> [EDIScope] {
        var current = [scope]
        for step in steps {
            current = current.flatMap { self.loops(step, in: $0) }
            if current.isEmpty { break }
        }
        return current
    }

    /// The child loop occurrences of `scope` that a step names and whose trigger meets the step's conditions.
    private static func loops(_ step: EDIStep, in scope: EDIScope) -> [EDIScope] {
        var found: [EDIScope] = []
        var child = scope.firstChild
        while child >= 0 {
            if self.step(step, matches: child, in: scope.arena) {
                found.append(EDIScope(arena: scope.arena, loop: child))
            }
            child = scope.child(after: child)
        }
        return found
    }

    /// Segments with `tag` directly in the scope, else the first segments of child loops that start with it.
    private static func segments(
        matching tag: SegmentTag,
        _ conditions: [ElementCondition],
        in scope: EDIScope
    ) -> [Int32] {
        let arena = scope.arena
        var found: [Int32] = []
        var segment = scope.firstSegment
        while segment >= 0 {
            if arena.segments[segment].tag == tag, arena.holdsAll(conditions, for: segment) { found.append(segment) }
            segment = scope.segment(after: segment)
        }
        guard found.isEmpty else { return found }
        var child = scope.firstChild
        while child >= 0 {
            let trigger = arena.trigger(child)
            if trigger >= 0, arena.segments[trigger].tag == tag, arena.holdsAll(conditions, for: trigger) {
                found.append(trigger)
            }
            child = scope.child(after: child)
        }
        return found
    }

    /// The occurrences a selector picks in a scope: loop occurrences, or single segments as scopes of their own.
    static func scopes(_ selector: Selector, in scope: MappingScope) -> [MappingScope] {
        switch (selector, scope) {
        case (.edi(let steps), .edi(let scope)):
            var current = [scope]
            for (offset, step) in steps.enumerated() {
                var next: [EDIScope] = []
                for owner in current {
                    let loops = self.loops(step, in: owner)
                    if !loops.isEmpty || offset < steps.count - 1 || owner.shape.childLoop(step) != nil {
                        next += loops
                    } else {
                        for segment in self.segments(matching: step.tag, step.conditions, in: owner) {
                            next.append(EDIScope(arena: owner.arena, loop: owner.loop, single: segment))
                        }
                    }
                }
                current = next
            }
            return current.map { .edi($0) }
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
