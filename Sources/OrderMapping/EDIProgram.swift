import EDISyntax
import Foundation
import OrderModel

/// The EDI side of a compiled block, in plain values: its rules' sources (paths, conditions, pair qualifiers,
/// constants) and its collections' selectors, as records in columns that the translation hot path reads through
/// pointers. Reading them costs no reference counting and no copies of arrays or strings, which is where the general
/// resolver (`Resolver`, over `ValueSource` enums and path objects) spent most of its time.
///
/// A program is built once, when its map is compiled, and never changes; the columns are freed with it. Its lookups
/// find what `Resolver.first` finds for the same sources (a value whose bytes are only a release character is found
/// with empty text, as there; the caller treats that as no value).
final class EDIProgram: @unchecked Sendable {
    /// An element (and component) reference.
    struct Element {
        var tag: UInt32
        var element: Int32
        /// 1 when the reference names no component.
        var component: Int32
        var hasComponent: Bool
        /// The tag as text, in `names` (for origins).
        var name: Int32
        /// The tag packed for a record's origins (`FieldOrigins.tagCode`); 0 when it cannot be.
        var tagCode: UInt32 = 0
    }

    /// A run of records in another column: `start..<end`.
    struct Span {
        var start: Int32
        var end: Int32

        static let empty = Span(start: 0, end: 0)
    }

    /// `N101=ST|BY` or `DTM01!=137`: the values are `Span` of `values`.
    struct Condition {
        var element: Element
        var isNegated: Bool
        var values: Span
    }

    /// One accepted value: its bytes in `bytes`, its text in `names` (for values with release characters).
    struct Value {
        var start: Int32
        var count: Int32
        var text: Int32
    }

    struct Step {
        var tag: UInt32
        /// The `SGnn` number; -1 when the step names a tag.
        var groupNumber: Int32
        var conditions: Span
    }

    struct Path {
        var steps: Span
        var leaf: Element
        var conditions: Span
        var isAbsolute: Bool
    }

    enum Source {
        case path(Int32)
        /// X12 qualifier/value pairs from `start` on: the value after the first qualifier in `qualifiers` (a span of
        /// `values`).
        case pairs(start: Element, qualifiers: Span)
        /// A non-empty constant, in `names`.
        case constant(Int32)
    }

    /// Where a value was found: a segment's element (its byte range in the arena), or a constant.
    struct Hit {
        /// -1 for a constant.
        var segment: Int32
        var start: Int
        var end: Int
        /// The reference the value answers, for its origin; for a constant, `name` is the constant.
        var reference: Element
    }

    // Written only while the map compiles; read without exclusivity checks.
    @exclusivity(unchecked) private(set) var sources = ArenaColumn<Source>(capacity: 16)
    @exclusivity(unchecked) private(set) var paths = ArenaColumn<Path>(capacity: 16)
    @exclusivity(unchecked) private(set) var steps = ArenaColumn<Step>(capacity: 8)
    @exclusivity(unchecked) private(set) var conditions = ArenaColumn<Condition>(capacity: 8)
    @exclusivity(unchecked) private(set) var values = ArenaColumn<Value>(capacity: 8)
    @exclusivity(unchecked) private(set) var bytes = ArenaColumn<UInt8>(capacity: 64)
    /// Tags, constants and condition values as text.
    @exclusivity(unchecked) private(set) var names: [String] = []
    private var nameNumbers: [String: Int32] = [:]

    deinit {
        self.sources.deallocate()
        self.paths.deallocate()
        self.steps.deallocate()
        self.conditions.deallocate()
        self.values.deallocate()
        self.bytes.deallocate()
    }

    // MARK: Building

    /// Compiles `sources` into the program; nil when one of them is not an EDI source (the rule then takes the
    /// general path).
    func add(_ sources: [ValueSource]) -> Span? {
        var compiled: [Source] = []
        for source in sources {
            switch source {
            case .edi(let path):
                compiled.append(.path(self.add(path)))
            case .pairs(let pairs):
                compiled.append(.pairs(start: self.element(pairs.start), qualifiers: self.addValues(pairs.qualifiers)))
            case .constant(let text):
                // `Resolver.first` passes over empty constants.
                if !text.isEmpty { compiled.append(.constant(self.name(text))) }
            case .xml:
                return nil
            }
        }
        let start = Int32(self.sources.count)
        for source in compiled { self.sources.append(source) }
        return Span(start: start, end: Int32(self.sources.count))
    }

    /// Compiles selector steps; returns their span in `steps`.
    func add(_ steps: [EDIStep]) -> Span {
        let compiled = steps.map { step in
            Step(
                tag: step.tag.rawValue,
                groupNumber: Int32(step.groupNumber ?? -1),
                conditions: self.add(step.conditions)
            )
        }
        let start = Int32(self.steps.count)
        for step in compiled { self.steps.append(step) }
        return Span(start: start, end: Int32(self.steps.count))
    }

    private func add(_ path: EDIPath) -> Int32 {
        let compiled = Path(
            steps: self.add(path.steps),
            leaf: self.element(path.leaf),
            conditions: self.add(path.leafConditions),
            isAbsolute: path.isAbsolute
        )
        self.paths.append(compiled)
        return Int32(self.paths.count - 1)
    }

    private func add(_ conditions: [ElementCondition]) -> Span {
        let compiled = conditions.map { condition in
            Condition(
                element: self.element(condition.element),
                isNegated: condition.isNegated,
                values: self.addValues(condition.values)
            )
        }
        let start = Int32(self.conditions.count)
        for condition in compiled { self.conditions.append(condition) }
        return Span(start: start, end: Int32(self.conditions.count))
    }

    private func addValues(_ texts: [String]) -> Span {
        let start = Int32(self.values.count)
        for text in texts {
            let utf8 = Array(text.utf8)
            let offset = Int32(self.bytes.count)
            for byte in utf8 { self.bytes.append(byte) }
            self.values.append(Value(start: offset, count: Int32(utf8.count), text: self.name(text)))
        }
        return Span(start: start, end: Int32(self.values.count))
    }

    private func element(_ reference: ElementReference) -> Element {
        Element(
            tag: reference.segmentTag.rawValue,
            element: Int32(clamping: reference.element),
            component: Int32(clamping: reference.component ?? 1),
            hasComponent: reference.component != nil,
            name: self.name(reference.tag),
            tagCode: FieldOrigins.tagCode(reference.tag) ?? 0
        )
    }

    private func name(_ text: String) -> Int32 {
        if let number = self.nameNumbers[text] { return number }
        self.names.append(text)
        let number = Int32(self.names.count - 1)
        self.nameNumbers[text] = number
        return number
    }

    // MARK: Reading

    /// The first non-empty value of `sources` in `scope`, as `Resolver.first` finds it: sources in order, each in
    /// document order.
    func first(_ sources: Span, in scope: EDIScope) -> Hit? {
        var index = sources.start
        while index < sources.end {
            switch self.sources[index] {
            case .path(let number):
                let path = self.paths[number]
                if let hit = self.first(path, step: path.steps.start, in: path.isAbsolute ? scope.top : scope) {
                    return hit
                }
            case .pairs(let start, let qualifiers):
                if let hit = self.firstPair(start, qualifiers, in: scope) { return hit }
            case .constant(let name):
                return Hit(
                    segment: -1,
                    start: 0,
                    end: 0,
                    reference: Element(tag: 0, element: 0, component: 0, hasComponent: false, name: name)
                )
            }
            index += 1
        }
        return nil
    }

    /// Loop occurrences the path's steps name, depth first (document order), then the leaf.
    private func first(_ path: Path, step: Int32, in scope: EDIScope) -> Hit? {
        if step == path.steps.end { return self.firstLeaf(path, in: scope) }
        let view = scope.view
        let code = self.steps[step]
        if code.groupNumber < 0, scope.single < 0, !view.mayHaveChild(SetArena.tagBit(code.tag), in: scope.loop) {
            return nil
        }
        var child = scope.firstChild
        while child >= 0 {
            if self.matches(code, loop: child, in: view),
                let hit = self.first(path, step: step + 1, in: scope.occurrence(child))
            {
                return hit
            }
            child = scope.child(after: child)
        }
        return nil
    }

    /// The scope's own segments with the leaf's tag; when it has none, the first segments of its child loops.
    private func firstLeaf(_ path: Path, in scope: EDIScope) -> Hit? {
        let view = scope.view
        let tag = path.leaf.tag
        let bit = SetArena.tagBit(tag)
        var sawDirect = false
        // The loop's tag summaries skip the walks that cannot find the tag.
        var segment = scope.single >= 0 || view.mayHave(bit, in: scope.loop) ? scope.firstSegment : -1
        while segment >= 0 {
            if view.tag(segment) == tag {
                sawDirect = true
                if let hit = self.leafValue(path, segment, view) { return hit }
            }
            segment = scope.segment(after: segment)
        }
        if sawDirect || scope.single >= 0 || !view.mayHaveChild(bit, in: scope.loop) { return nil }
        var child = scope.firstChild
        while child >= 0 {
            let trigger = view.trigger(child)
            if trigger >= 0, view.tag(trigger) == tag, let hit = self.leafValue(path, trigger, view) {
                return hit
            }
            child = scope.child(after: child)
        }
        return nil
    }

    @inline(__always)
    private func leafValue(_ path: Path, _ segment: Int32, _ view: ArenaView) -> Hit? {
        // A segment that stops before the leaf's element has no value: its conditions need not be read (a path per
        // repeat of a composite, `PIA03`..`PIA06`, mostly meets such segments).
        guard Int32(path.leaf.element) < Int32(view.segments[Int(segment)].fieldCount),
            self.holdsAll(path.conditions, segment, view),
            let range = view.range(segment, element: Int(path.leaf.element), component: Int(path.leaf.component)),
            !range.isEmpty
        else { return nil }
        return Hit(segment: segment, start: range.lowerBound, end: range.upperBound, reference: path.leaf)
    }

    /// The first segment with the pair's tag among the scope's own segments, then its qualifier/value pairs.
    private func firstPair(_ start: Element, _ qualifiers: Span, in scope: EDIScope) -> Hit? {
        let view = scope.view
        if scope.single < 0, !view.mayHave(SetArena.tagBit(start.tag), in: scope.loop) { return nil }
        var segment = scope.firstSegment
        while segment >= 0, view.tag(segment) != start.tag { segment = scope.segment(after: segment) }
        guard segment >= 0 else { return nil }
        let count = Int32(view.segments[Int(segment)].fieldCount) - 1
        var position = start.element
        while position < count {
            if let qualifier = view.range(segment, element: Int(position)), !qualifier.isEmpty,
                self.isOne(of: qualifiers, qualifier, view),
                let value = view.range(segment, element: Int(position + 1)), !value.isEmpty,
                // A value that is only a release character has no text: the next pair is tried, as the general
                // resolver does.
                !view.hasRelease(value) || !view.text(value).isEmpty
            {
                var reference = start
                reference.element = position + 1
                return Hit(segment: segment, start: value.lowerBound, end: value.upperBound, reference: reference)
            }
            position += 2
        }
        return nil
    }

    @inline(__always)
    private func matches(_ step: Step, loop: Int32, in view: ArenaView) -> Bool {
        let trigger = view.trigger(loop)
        guard trigger >= 0 else { return false }
        if step.groupNumber >= 0 {
            guard
                view.loops[Int(loop)].shapeReference._withUnsafeGuaranteedRef({ $0.groupNumber })
                    == Int(step.groupNumber)
            else { return false }
        } else {
            guard view.tag(trigger) == step.tag else { return false }
        }
        return self.holdsAll(step.conditions, trigger, view)
    }

    @inline(__always)
    private func holdsAll(_ conditions: Span, _ segment: Int32, _ view: ArenaView) -> Bool {
        var index = conditions.start
        while index < conditions.end {
            let condition = self.conditions[index]
            let range =
                view.range(
                    segment,
                    element: Int(condition.element.element),
                    component: Int(condition.element.component)
                ) ?? 0..<0
            if self.isOne(of: condition.values, range, view) == condition.isNegated {
                return false
            }
            index += 1
        }
        return true
    }

    /// Whether the bytes at `range` are one of `values` (as text when they hold release characters).
    private func isOne(of values: Span, _ range: Range<Int>, _ view: ArenaView) -> Bool {
        if view.hasRelease(range) {
            let text = view.text(range)
            var index = values.start
            while index < values.end {
                if self.names[Int(self.values[index].text)] == text { return true }
                index += 1
            }
            return false
        }
        let count = range.count
        var index = values.start
        while index < values.end {
            let value = self.values[index]
            if Int(value.count) == count, self.equal(value, view.bytes + range.lowerBound) { return true }
            index += 1
        }
        return false
    }

    @inline(__always)
    private func equal(_ value: Value, _ bytes: UnsafePointer<UInt8>) -> Bool {
        let expected = self.bytes.base + Int(value.start)
        for offset in 0..<Int(value.count) where expected[offset] != bytes[offset] { return false }
        return true
    }

    // MARK: Selectors

    /// Calls `body` with each occurrence a selector picks in `scope`, in the order `Resolver.scopes` gives them:
    /// loop occurrences the steps name, or (when the last step names no loop here) single segments as scopes.
    func forEachScope(
        _ steps: Span,
        in scope: EDIScope,
        step: Int32? = nil,
        _ body: (EDIScope) throws(DocumentMappingError) -> Void
    ) throws(DocumentMappingError) {
        let step = step ?? steps.start
        if step == steps.end {
            try body(scope)
            return
        }
        let code = self.steps[step]
        let view = scope.view
        let bit = SetArena.tagBit(code.tag)
        let whole = scope.single < 0
        var found = false
        var child = code.groupNumber >= 0 || !whole || view.mayHaveChild(bit, in: scope.loop) ? scope.firstChild : -1
        while child >= 0 {
            if self.matches(code, loop: child, in: view) {
                found = true
                try self.forEachScope(steps, in: scope.occurrence(child), step: step + 1, body)
            }
            child = scope.child(after: child)
        }
        if found || step + 1 < steps.end
            || view.loops[Int(scope.loop)].shapeReference._withUnsafeGuaranteedRef({
                $0.hasChildLoop(tag: code.tag, groupNumber: code.groupNumber)
            })
        {
            return
        }
        // Single segments: the scope's own, else its child loops' first segments.
        var segment = !whole || view.mayHave(bit, in: scope.loop) ? scope.firstSegment : -1
        while segment >= 0 {
            if view.tag(segment) == code.tag, self.holdsAll(code.conditions, segment, view) {
                found = true
                try body(scope.single(segment))
            }
            segment = scope.segment(after: segment)
        }
        if found { return }
        child = whole && view.mayHaveChild(bit, in: scope.loop) ? scope.firstChild : -1
        while child >= 0 {
            let trigger = view.trigger(child)
            if trigger >= 0, view.tag(trigger) == code.tag, self.holdsAll(code.conditions, trigger, view) {
                try body(scope.single(trigger))
            }
            child = scope.child(after: child)
        }
    }

    // MARK: Values

    /// The text of a hit (release characters removed).
    func text(of hit: Hit, in view: ArenaView) -> String {
        if hit.segment < 0 { return self.names[Int(hit.reference.name)] }
        return view.text(hit.start..<hit.end)
    }

    /// The number a hit holds, read from its bytes; nil when it is not one. Values with release characters (and
    /// constants) go through their text.
    func decimal(of hit: Hit, in view: ArenaView) -> Decimal? {
        let base = view.bytes
        guard hit.segment >= 0, !view.hasRelease(hit.start..<hit.end) else {
            return DecimalText.parse(Substring(self.text(of: hit, in: view)).trimmed().utf8)
        }
        var start = hit.start
        var end = hit.end
        while start < end, isBlank(base[start]) { start += 1 }
        while end > start, isBlank(base[end - 1]) { end -= 1 }
        return DecimalText.parse(bytes: UnsafeBufferPointer(start: base + start, count: end - start))
    }

    /// Records in `origins` where a hit's value is in the set (nothing for a constant): what `origin(of:in:)` gives,
    /// kept compact without building it.
    @inline(__always)
    func appendOrigin(of hit: Hit, in scope: EDIScope, field: String, to origins: inout FieldOrigins) {
        guard hit.segment >= 0 else { return }
        guard hit.reference.tagCode != 0 else {
            if let origin = self.origin(of: hit, in: scope) { origins.append(field, origin) }
            return
        }
        let record = scope.view.segments[Int(hit.segment)]
        origins.append(
            field,
            segment: record.index - scope.setStart + 1,
            tagCode: hit.reference.tagCode,
            element: Int(hit.reference.element),
            component: hit.reference.hasComponent ? Int(hit.reference.component) : nil,
            line: record.line,
            column: record.column
        )
    }

    /// Where a hit's value is in the set; nil for a constant.
    func origin(of hit: Hit, in scope: EDIScope) -> FieldOrigin? {
        guard hit.segment >= 0 else { return nil }
        let record = scope.view.segments[Int(hit.segment)]
        return FieldOrigin(
            segment: record.index - scope.setStart + 1,
            tag: self.names[Int(hit.reference.name)],
            element: Int(hit.reference.element),
            component: hit.reference.hasComponent ? Int(hit.reference.component) : nil,
            line: record.line,
            column: record.column
        )
    }
}
