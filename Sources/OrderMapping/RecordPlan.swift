import EDISyntax
import Foundation
import OrderModel
import XMLSyntax

/// The part of a document a mapping block reads from: a loop occurrence of an EDI set, or an XML element.
enum MappingScope {
    case edi(EDIScope)
    case xml(XMLScope)
}

/// An XML element a block reads from, with its path for origins and the record it is in (for absolute paths).
///
/// The element is read in place: copying an element copies its whole subtree's references, and mapping a record
/// reads its elements hundreds of times. A record's scope owns a copy of the record element; the scopes of elements
/// inside it point into that copy's tree and hold the record's scope, so the tree outlives them (it is never changed
/// once parsed, so the arrays that hold its elements never move).
final class XMLScope: @unchecked Sendable {
    let element: UnsafePointer<XMLElement>
    /// `Order/OrderLine[3]`.
    let path: String
    /// The record's scope; nil when this scope is the record.
    let record: XMLScope?
    private let owned: UnsafeMutablePointer<XMLElement>?

    /// The scope of a record.
    init(record element: XMLElement, path: String) {
        let owned = UnsafeMutablePointer<XMLElement>.allocate(capacity: 1)
        owned.initialize(to: element)
        self.owned = owned
        self.element = UnsafePointer(owned)
        self.path = path
        self.record = nil
    }

    /// The scope of an element inside `record`'s tree.
    init(_ element: UnsafePointer<XMLElement>, path: String, record: XMLScope) {
        self.owned = nil
        self.element = element
        self.path = path
        self.record = record
    }

    deinit {
        self.owned?.deinitialize(count: 1)
        self.owned?.deallocate()
    }

    /// The scope an absolute path starts from.
    var recordScope: XMLScope { self.record ?? self }
}

/// A loop occurrence of a set in its arena, or one segment taken as a scope of its own (`each: REF` where REF is not
/// a loop).
struct EDIScope {
    /// The translator keeps the arena alive while the set is mapped, and nothing keeps a scope longer.
    unowned(unsafe) let arena: SetArena
    /// The arena's columns, read without touching the arena object.
    let view: ArenaView
    let loop: Int32
    /// The scope's only segment when a selector picked single segments; -1 for the whole occurrence.
    let single: Int32

    init(arena: SetArena, loop: Int32 = 0, single: Int32 = -1) {
        self.init(arena: arena, view: arena.view, loop: loop, single: single)
    }

    private init(arena: SetArena, view: ArenaView, loop: Int32, single: Int32) {
        self.arena = arena
        self.view = view
        self.loop = loop
        self.single = single
    }

    /// The whole set, for paths that start with `/`.
    var top: EDIScope { EDIScope(arena: self.arena, view: self.view, loop: 0, single: -1) }
    /// Occurrence `loop` of the same set.
    @inline(__always)
    func occurrence(_ loop: Int32) -> EDIScope { EDIScope(arena: self.arena, view: self.view, loop: loop, single: -1) }
    /// Segment `segment` of this occurrence as a scope of its own.
    @inline(__always)
    func single(_ segment: Int32) -> EDIScope {
        EDIScope(arena: self.arena, view: self.view, loop: self.loop, single: segment)
    }
    var shape: LoopShape { self.view.loops[Int(self.loop)].shape }
    var setStart: Int { self.view.setStart }

    /// The scope's first segment (the one that started the occurrence); -1 when none.
    var firstSegment: Int32 { self.single >= 0 ? self.single : self.view.loops[Int(self.loop)].firstSegment }

    /// The scope's segment after `segment`; -1 after the last.
    @inline(__always)
    func segment(after segment: Int32) -> Int32 {
        self.single >= 0 ? -1 : self.view.segments[Int(segment)].next
    }

    /// The first child loop occurrence; -1 when none.
    var firstChild: Int32 { self.single >= 0 ? -1 : self.view.loops[Int(self.loop)].firstChild }

    /// The child occurrence after `child`; -1 after the last.
    @inline(__always)
    func child(after child: Int32) -> Int32 { self.view.loops[Int(child)].nextSibling }
}

/// How a block chooses its occurrences: `each: PO1`, `each: N1[N101=ST]`, `each: ItemOut`.
enum Selector: Sendable {
    case edi([EDIStep])
    case xml(XMLPath)
}

/// A compiled inbound block for one record type: its field rules and its collections.
final class RecordPlan<Root: MappableRecord>: @unchecked Sendable {
    /// Filled by the compiler, then `compile(edi:)` prepares them for mapping (the hot path reads its columns).
    var fields: [FieldRule<Root>] = []
    var collections: [CollectionPlan<Root>] = []

    /// The EDI sources of `fields` in plain values (`compile`); nil for XML maps.
    private(set) var program: EDIProgram?
    @exclusivity(unchecked) private var codes = ArenaColumn<FieldCode>(capacity: 1)
    /// Each field's slot, unretained (`fields` keeps them), so that the hot path touches no reference count.
    @exclusivity(unchecked) private var slots = ArenaColumn<Unmanaged<FieldSlot<Root>>>(capacity: 1)
    /// The collections and the program, unretained (`collections` and `program` keep them): every thread that maps
    /// reads the same plans, and counting references to shared objects makes the threads wait for one another.
    @exclusivity(unchecked) private var collectionReferences = ArenaColumn<Unmanaged<CollectionPlan<Root>>>(capacity: 1)
    @exclusivity(unchecked) private var programReference: Unmanaged<EDIProgram>?

    deinit {
        self.codes.deallocate()
        self.slots.deallocate()
        self.collectionReferences.deallocate()
    }

    /// Prepares the fields for mapping, after they are added: unretained references for the hot path and, for EDI
    /// maps, the sources compiled into a program.
    func compile(edi: Bool) {
        let program = EDIProgram()
        self.codes.removeAll()
        self.slots.removeAll()
        for field in self.fields {
            let rule = field.rule
            var code = FieldCode(rule: Unmanaged.passUnretained(rule), isList: field.isList)
            if edi, !field.isList, rule.concatenation == nil, let sources = program.add(rule.sources),
                let unit = program.add(rule.unit), let currency = program.add(rule.currency),
                let time = program.add(rule.time.map { [$0] } ?? [])
            {
                code.isCompiled = true
                code.sources = sources
                code.unit = unit
                code.currency = currency
                code.time = time
                code.missNeedsRule = rule.defaultValue != nil || rule.isRequired
                code.parsesBytes = rule.codes == nil
                code.readsNumber = code.parsesBytes && [.decimal, .quantity, .money].contains(rule.type)
            }
            self.codes.append(code)
            self.slots.append(Unmanaged.passUnretained(field.slot))
        }
        self.program = edi ? program : nil
        self.programReference = edi ? Unmanaged.passUnretained(program) : nil
        self.collectionReferences.removeAll()
        for collection in self.collections { self.collectionReferences.append(Unmanaged.passUnretained(collection)) }
    }

    @_specialize(exported:false,where Root == Order)
    @_specialize(exported:false,where Root == OrderLine)
    @_specialize(exported:false,where Root == Party)
    @_specialize(exported:false,where Root == Reference)
    @_specialize(exported:false,where Root == Note)
    func apply(_ scope: MappingScope, to root: inout Root) throws(DocumentMappingError) {
        assert(self.codes.count == self.fields.count, "compile(edi:) runs after the fields are added")
        assert(self.collectionReferences.count == self.collections.count, "compile(edi:) runs after the collections")
        if case .edi(let edi) = scope, let reference = self.programReference {
            let outcome = reference._withUnsafeGuaranteedRef { program in
                Result { () throws(DocumentMappingError) in try self.apply(edi, program, to: &root) }
            }
            try outcome.get()
            return
        }
        if root.origins.isEmpty { root.origins.reserveCapacity(self.fields.count) }
        for index in 0..<Int32(self.codes.count) {
            unowned(unsafe) let rule = self.codes[index].rule.takeUnretainedValue()
            unowned(unsafe) let slot = self.slots[index].takeUnretainedValue()
            try Self.apply(rule, slot, isList: self.codes[index].isList, in: scope, to: &root)
        }
        try self.applyCollections(scope, to: &root)
    }

    private func applyCollections(_ scope: MappingScope, to root: inout Root) throws(DocumentMappingError) {
        for index in 0..<Int32(self.collectionReferences.count) {
            let outcome = self.collectionReferences[index]._withUnsafeGuaranteedRef { collection in
                Result { () throws(DocumentMappingError) in try collection.apply(scope, to: &root) }
            }
            try outcome.get()
        }
    }

    /// The EDI hot path: each compiled rule's value found by its program; the rest by the general resolver.
    private func apply(_ scope: EDIScope, _ program: EDIProgram, to root: inout Root) throws(DocumentMappingError) {
        let count = self.codes.count
        if root.origins.isEmpty { root.origins.reserveCapacity(count) }
        let view = scope.view
        for index in 0..<Int32(count) {
            let code = self.codes[index]
            // Rule and slot are borrowed (`fields` keeps them): no reference counting per field.
            let outcome = code.rule._withUnsafeGuaranteedRef { rule in
                self.slots[index]._withUnsafeGuaranteedRef { slot in
                    Result { () throws(DocumentMappingError) in
                        try self.apply(rule, slot, code, program, in: scope, view, to: &root)
                    }
                }
            }
            try outcome.get()
        }
        try self.applyCollections(.edi(scope), to: &root)
    }

    /// One EDI field: its compiled sources' first value, else (for a default or a required value) the general path.
    @inline(__always)
    private func apply(
        _ rule: ValueRule,
        _ slot: FieldSlot<Root>,
        _ code: FieldCode,
        _ program: EDIProgram,
        in scope: EDIScope,
        _ view: ArenaView,
        to root: inout Root
    ) throws(DocumentMappingError) {
        guard code.isCompiled else {
            try Self.apply(rule, slot, isList: code.isList, in: .edi(scope), to: &root)
            return
        }
        guard let hit = program.first(code.sources, in: scope) else {
            // A default or a required-value error: the general path says which.
            if code.missNeedsRule { try Self.apply(rule, slot, isList: code.isList, in: .edi(scope), to: &root) }
            return
        }
        // A number read from plain bytes needs no text (the text is made when the bytes are not a number, for the
        // error that says so).
        if code.readsNumber, hit.segment >= 0, !view.hasRelease(hit.start..<hit.end),
            let number = program.decimal(of: hit, in: view)
        {
            let value = Self.numeric(
                number,
                rule: rule,
                unit: { program.first(code.unit, in: scope).map { program.text(of: $0, in: view) } },
                currency: { program.first(code.currency, in: scope).map { program.text(of: $0, in: view) } }
            )
            slot.store(value, in: &root)
            program.appendOrigin(of: hit, in: scope, field: rule.field, to: &root.origins)
            return
        }
        let text = program.text(of: hit, in: view)
        guard !text.isEmpty else {
            // Only a release character: no value, and the general path applies the default or the requirement.
            if code.missNeedsRule { try Self.apply(rule, slot, isList: code.isList, in: .edi(scope), to: &root) }
            return
        }
        // The origin is built whole only for an error; the record keeps it compact.
        let value = try Self.convert(
            text,
            rule: rule,
            origin: { program.origin(of: hit, in: scope) },
            number: { text in code.parsesBytes ? program.decimal(of: hit, in: view) : Self.number(text) },
            unit: { program.first(code.unit, in: scope).map { program.text(of: $0, in: view) } },
            currency: { program.first(code.currency, in: scope).map { program.text(of: $0, in: view) } },
            time: { program.first(code.time, in: scope).map { program.text(of: $0, in: view) } },
            // EDIFACT dates: the format code as the general resolver finds it (rare enough not to compile).
            dateCode: { Self.dateCode(rule, in: .edi(scope)) }
        )
        slot.store(value, in: &root)
        program.appendOrigin(of: hit, in: scope, field: rule.field, to: &root.origins)
    }

    /// One field by the general resolver (XML, lists, concatenations, defaults).
    private static func apply(
        _ rule: ValueRule,
        _ slot: FieldSlot<Root>,
        isList: Bool,
        in scope: MappingScope,
        to root: inout Root
    ) throws(DocumentMappingError) {
        if isList {
            for (text, origin) in Resolver.all(rule.sources, in: scope) where !text.isEmpty {
                slot.store(.text(try Self.translated(text, rule: rule, origin: origin)), in: &root)
                if let origin { root.origins.append(rule.field, origin) }
            }
        } else {
            guard let (value, origin) = try Self.value(of: rule, in: scope) else { return }
            slot.store(value, in: &root)
            if let origin { root.origins.append(rule.field, origin) }
        }
    }

    private static func translated(
        _ text: String,
        rule: ValueRule,
        origin: @autoclosure () -> FieldOrigin?
    ) throws(DocumentMappingError)
        -> String
    {
        guard let codes = rule.codes else { return text }
        if let value = codes.translate(text) { return value }
        if case .code = rule.type {
            throw DocumentMappingError(
                field: rule.field,
                message: "code '\(text)' is not in code table '\(codes.name)'",
                origin: origin(),
                rule: "\(rule.file):\(rule.line)"
            )
        }
        return text
    }

    private static func number(_ text: String) -> Decimal? {
        DecimalText.parse(Substring(text).trimmed().utf8)
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
        guard let text, !text.isEmpty else {
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
        let value = try Self.convert(
            text,
            rule: rule,
            origin: { origin },
            number: Self.number,
            unit: { Resolver.first(rule.unit, in: scope)?.value },
            currency: { Resolver.first(rule.currency, in: scope)?.value },
            time: { rule.time.flatMap { Resolver.first([$0], in: scope)?.value } },
            dateCode: { Self.dateCode(rule, in: scope) }
        )
        return (value, origin)
    }

    /// The EDIFACT date format code of a rule's value: the component after the value, in the first segment one of the
    /// rule's paths gives a value from.
    private static func dateCode(_ rule: ValueRule, in scope: MappingScope) -> String? {
        for source in rule.sources {
            guard case .edi(let path) = source, let companion = Resolver.companion(of: path, in: scope) else {
                continue
            }
            return companion
        }
        return nil
    }

    /// Converts a found text to the field's type. The closures find what the conversion may need besides the text
    /// (the number it holds, read in place where possible; the unit, currency, time, or date format code).
    private static func convert(
        _ text: String,
        rule: ValueRule,
        origin: () -> FieldOrigin?,
        number: (String) -> Decimal?,
        unit: () -> String?,
        currency: () -> String?,
        time: () -> String?,
        dateCode: () -> String?
    ) throws(DocumentMappingError) -> CanonicalValue {
        let text = try self.translated(text, rule: rule, origin: origin())
        func fail(_ message: String) -> DocumentMappingError {
            DocumentMappingError(
                field: rule.field,
                message: message,
                origin: origin(),
                rule: "\(rule.file):\(rule.line)"
            )
        }
        switch rule.type {
        case .text, .textList, .code:
            return .text(text)
        case .integer:
            guard let number = Int(text.trimmed()) else { throw fail("\"\(text)\" is not a whole number") }
            return .integer(number)
        case .decimal, .quantity, .money:
            guard let number = number(text) else { throw fail("\"\(text)\" is not a number") }
            return Self.numeric(number, rule: rule, unit: unit, currency: currency)
        case .date:
            let format = rule.dateFormat ?? .ccyymmdd
            let code = format == .edifactQualified ? dateCode() : nil
            guard let date = format.parse(text, code: code, time: time()) else {
                throw fail("\"\(text)\" is not a date in the format the mapping expects")
            }
            return .date(date)
        }
    }
}

extension RecordPlan {
    /// A number found for a decimal, quantity or money field, as the field's value: implied decimals applied, with its
    /// unit (translated by the rule's unit codes) or currency.
    fileprivate static func numeric(
        _ number: Decimal,
        rule: ValueRule,
        unit: () -> String?,
        currency: () -> String?
    ) -> CanonicalValue {
        var number = number
        if let places = rule.impliedDecimals, places > 0 {
            number = Decimal(sign: number.sign, exponent: number.exponent - places, significand: number.significand)
        }
        if rule.type == .quantity {
            var unit = unit()
            if let unitCodes = rule.unitCodes, let code = unit { unit = unitCodes.translate(code) ?? code }
            return .quantity(number, unit: unit?.isEmpty == true ? nil : unit)
        }
        if rule.type == .money {
            let currency = currency()
            return .money(number, currency: currency?.isEmpty == true ? nil : currency)
        }
        return .decimal(number)
    }
}

/// A field as the hot path reads it: its rule, and for EDI maps its compiled sources (spans of the plan's
/// `EDIProgram`).
struct FieldCode {
    /// The field's rule, unretained (the plan's `fields` keep it).
    var rule: Unmanaged<ValueRule>
    var isList: Bool
    /// False when the rule takes the general path (lists, concatenations).
    var isCompiled = false
    var sources = EDIProgram.Span.empty
    var unit = EDIProgram.Span.empty
    var currency = EDIProgram.Span.empty
    var time = EDIProgram.Span.empty
    /// A rule with a default or a required value: when its sources give nothing, the general path decides.
    var missNeedsRule = false
    /// Numbers are read from the document's bytes (no code table rewrites the text first).
    var parsesBytes = false
    /// A decimal, quantity or money field whose number is read from the bytes: its text is not made.
    var readsNumber = false
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
    private(set) var blocks: [(selector: Selector, plan: RecordPlan<Element>)] = []
    /// The EDI selectors' steps in plain values, one per block, with the block's plan unretained (`blocks` keeps it);
    /// a block whose selector is not compiled (XML, or maps loaded without programs) goes through `Resolver.scopes`.
    private let program = EDIProgram()
    @exclusivity(unchecked) private var codes = ArenaColumn<BlockCode>(capacity: 1)

    private struct BlockCode {
        /// Empty when the selector is not compiled.
        var steps: EDIProgram.Span
        var isCompiled: Bool
        var plan: Unmanaged<RecordPlan<Element>>
    }

    init(path: WritableKeyPath<Root, [Element]>) {
        self.path = path
    }

    deinit { self.codes.deallocate() }

    func add(_ selector: Selector, _ plan: RecordPlan<Element>) {
        self.blocks.append((selector, plan))
        var steps = EDIProgram.Span.empty
        var isCompiled = false
        if case .edi(let ediSteps) = selector, MappingCompilation.compilesEDIPrograms {
            steps = self.program.add(ediSteps)
            isCompiled = true
        }
        self.codes.append(BlockCode(steps: steps, isCompiled: isCompiled, plan: Unmanaged.passUnretained(plan)))
    }

    @_specialize(exported:false,where Root == Order, Element == OrderLine)
    @_specialize(exported:false,where Root == Order, Element == Party)
    @_specialize(exported:false,where Root == Order, Element == Reference)
    @_specialize(exported:false,where Root == Order, Element == Note)
    @_specialize(exported:false,where Root == OrderLine, Element == Party)
    @_specialize(exported:false,where Root == OrderLine, Element == Reference)
    override func apply(_ scope: MappingScope, to root: inout Root) throws(DocumentMappingError) {
        for index in 0..<Int32(self.codes.count) {
            let block = self.codes[index]
            unowned(unsafe) let plan = block.plan.takeUnretainedValue()
            if case .edi(let owner) = scope, block.isCompiled {
                try self.program.forEachScope(block.steps, in: owner) { child throws(DocumentMappingError) in
                    var element = Element()
                    try plan.apply(.edi(child), to: &element)
                    root[keyPath: self.path].append(consume element)
                }
                continue
            }
            for child in Resolver.scopes(self.blocks[Int(index)].selector, in: scope) {
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
                case .pairs(let pairs):
                    if let found = self.firstPair(pairs.start, pairs.qualifiers, in: scope) { return found }
                case .xml:
                    continue
                }
            }
            return nil
        }
        guard case .xml(let xml) = scope else { return nil }
        for source in sources {
            switch source {
            case .xml(let path):
                if let found = path.firstValue(from: (path.isAbsolute ? xml.recordScope : xml).element) {
                    return (found.value, self.origin(of: path, xml.path, line: found.line, column: found.column))
                }
            case .constant(let text):
                if !text.isEmpty { return (text, nil) }
            case .edi, .pairs:
                continue
            }
        }
        return nil
    }

    /// Where an XML value is: the scope's path joined with the value's path (an absolute path starts from the record).
    private static func origin(of path: XMLPath, _ scopePath: String, line: Int, column: Int) -> FieldOrigin {
        let base = path.isAbsolute ? scopePath.utf8.prefix { $0 != UInt8(ascii: "/") } : scopePath.utf8[...]
        var text = ""
        text.reserveCapacity(base.count + 1 + path.text.utf8.count)
        text += Substring(base)
        if !path.isAbsolute { text += "/" }
        text += path.text
        return FieldOrigin(path: text, line: line, column: column)
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
                let found = self.firstEDI(path, in: scope.occurrence(child), step: step + 1)
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
        case .xml(let xml):
            return FieldOrigin(path: xml.path, line: xml.element.pointee.line, column: xml.element.pointee.column)
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
        case (.pairs(let pairs), .edi(let scope)):
            for segment in self.segments(matching: pairs.start.segmentTag, [], in: scope) {
                if let found = self.pairValue(pairs.start, pairs.qualifiers, segment, scope) { return [found] }
            }
            return []
        case (.xml(let path), .xml(let xml)):
            return path.values(from: (path.isAbsolute ? xml.recordScope : xml).element).map { value, line, column in
                (value, self.origin(of: path, xml.path, line: line, column: column))
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
                found.append(scope.occurrence(child))
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
                            next.append(owner.single(segment))
                        }
                    }
                }
                current = next
            }
            return current.map { .edi($0) }
        case (.xml(let path), .xml(let xml)):
            let elements = path.selected(from: xml.element)
            return elements.enumerated().map { offset, child in
                .xml(
                    XMLScope(
                        child,
                        path: xml.path + "/" + path.text + (elements.count > 1 ? "[\(offset + 1)]" : ""),
                        record: xml.recordScope
                    )
                )
            }
        default:
            return []
        }
    }
}
