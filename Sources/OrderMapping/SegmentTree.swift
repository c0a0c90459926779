import EDISyntax

/// A transaction set's loop structure, prepared for building trees and resolving mapping paths: for each loop, the
/// tags of its positions, its child loops by name (first tag, and `SGnn` for EDIFACT groups), and its segments.
final class LoopShape: @unchecked Sendable {
    let definition: LoopDefinition
    /// Tag at each position of `definition.children`.
    let tags: [SegmentTag]
    /// Child loop at each position (nil for a segment).
    let loops: [LoopShape?]
    /// `SGnn` number in EDIFACT's depth-first numbering (0 for the message itself).
    let groupNumber: Int
    /// Whether instances nest by a parent reference (X12 HL, EDIFACT CPS) rather than by position.
    let isHierarchical: Bool
    /// What `childLoop(_:)` can find, as plain keys (`stepKey`): the first tags and `SGnn` numbers of the child
    /// loops, and a hierarchical loop's own tag, so that the mapping hot path compares integers.
    private let childLoopKeys: UnsafeMutableBufferPointer<UInt64>
    /// `tags` (raw values) and `loops` (unretained: `loops` keeps them) as plain buffers, for the tree builder.
    let tagValues: UnsafeMutableBufferPointer<UInt32>
    let childShapes: UnsafeMutableBufferPointer<Unmanaged<LoopShape>?>

    var name: String { self.definition.identifier }

    init(_ definition: LoopDefinition, counter: inout Int) {
        self.definition = definition
        self.groupNumber = counter
        counter += 1
        self.tags = definition.children.map(\.tag)
        var loops: [LoopShape?] = []
        for child in definition.children {
            if case .loop(let loop) = child {
                loops.append(LoopShape(loop, counter: &counter))
            } else {
                loops.append(nil)
            }
        }
        self.loops = loops
        let first = definition.children.first?.tag.description
        self.isHierarchical = first == "HL" || first == "CPS"
        var keys: [UInt64] = []
        if self.isHierarchical, let tag = self.tags.first {
            keys.append(Self.stepKey(tag: tag.rawValue, groupNumber: -1))
        }
        for case let loop? in loops {
            keys.append(Self.stepKey(tag: loop.tags.first?.rawValue ?? 0, groupNumber: -1))
            keys.append(Self.stepKey(tag: 0, groupNumber: Int32(loop.groupNumber)))
        }
        self.childLoopKeys = .allocate(capacity: keys.count)
        _ = self.childLoopKeys.initialize(from: keys)
        self.tagValues = .allocate(capacity: self.tags.count)
        _ = self.tagValues.initialize(from: self.tags.map(\.rawValue))
        self.childShapes = .allocate(capacity: loops.count)
        _ = self.childShapes.initialize(from: loops.map { $0.map { Unmanaged.passUnretained($0) } })
    }

    deinit {
        self.childLoopKeys.deallocate()
        self.tagValues.deallocate()
        self.childShapes.deallocate()
    }

    /// The key of a step: its `SGnn` number when it has one, else its tag.
    static func stepKey(tag: UInt32, groupNumber: Int32) -> UInt64 {
        groupNumber >= 0 ? 1 << 40 | UInt64(groupNumber) : UInt64(tag)
    }

    /// Whether `childLoop(_:)` finds a loop for a step with this tag and `SGnn` number (-1 for none). A loop's name
    /// is its first tag, so comparing tags is comparing names.
    func hasChildLoop(tag: UInt32, groupNumber: Int32) -> Bool {
        let key = Self.stepKey(tag: tag, groupNumber: groupNumber)
        for candidate in self.childLoopKeys where candidate == key { return true }
        return false
    }

    /// The child loop called `name` (its first tag, or `SGnn`).
    func childLoop(named name: String) -> LoopShape? {
        self.childLoop(EDIStep(name: name, conditions: []))
    }

    /// The child loop a step names (a hierarchical loop names itself). The step's tag and `SGnn` number are parsed
    /// once, so that mapping a document (selectors ask this for every occurrence) compares integers first.
    func childLoop(_ step: EDIStep) -> LoopShape? {
        if self.isHierarchical, step.name == self.name { return self }
        if let number = step.groupNumber {
            return self.loops.lazy.compactMap { $0 }.first { $0.groupNumber == number }
        }
        // A loop's name is its first tag.
        return self.loops.lazy.compactMap { $0 }.first { $0.tags.first == step.tag && $0.name == step.name }
    }

    /// Whether `tag` is a segment directly in this loop (its first segment counts; child loops' do not).
    func hasSegment(_ tag: SegmentTag) -> Bool {
        for (index, candidate) in self.tags.enumerated() where candidate == tag {
            if index == 0 || self.loops[index] == nil { return true }
        }
        return false
    }
}

/// Memory managed by hand for plain values (no reference counting, no exclusivity checks on the hot path): the
/// arena's columns. Cleared without giving back its capacity.
struct ArenaColumn<Value: BitwiseCopyable> {
    private(set) var base: UnsafeMutablePointer<Value>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        self.base = .allocate(capacity: capacity)
    }

    func deallocate() { self.base.deallocate() }

    mutating func removeAll() { self.count = 0 }

    /// Makes room for `extra` more values; returns where they go.
    @inline(__always)
    mutating func grow(by extra: Int) -> UnsafeMutablePointer<Value> {
        if self.count + extra > self.capacity {
            let capacity = max(self.count + extra, self.capacity * 2)
            let grown = UnsafeMutablePointer<Value>.allocate(capacity: capacity)
            grown.update(from: self.base, count: self.count)
            self.base.deallocate()
            self.base = grown
            self.capacity = capacity
        }
        let start = self.base + self.count
        self.count += extra
        return start
    }

    @inline(__always)
    mutating func append(_ value: Value) {
        self.grow(by: 1).initialize(to: value)
    }

    @inline(__always)
    subscript(index: Int32) -> Value {
        get { self.base[Int(index)] }
        nonmutating set { self.base[Int(index)] = newValue }
    }
}

/// One transaction set, as the mapping reads it: every segment's bytes copied into one buffer, and the loop tree as
/// links between plain records. Reading a value costs no allocation and no reference counting; the arena is reused
/// from set to set, so a file's sets cost no allocation either once it has grown to the largest.
///
/// Segments and loop occurrences are numbered from 0 in the order they were read; -1 is "none". Loop 0 is the set.
final class SetArena {
    struct SegmentRecord {
        /// The `SegmentTag`'s raw value (a plain integer keeps the record bitwise-copyable).
        var tagValue: UInt32
        /// Index in `fieldEnds` of the end of the tag; the element ends follow.
        var firstField: Int32
        /// Elements + 1.
        var fieldCount: Int32
        /// The next segment of the same loop occurrence.
        var next: Int32 = -1
        /// 1-based position in the input.
        var index: Int
        var line: Int
        var column: Int

        var tag: SegmentTag { SegmentTag(rawValue: self.tagValue) }
    }

    struct LoopRecord {
        /// Kept alive by `rootShape`. Unmanaged, so that the mapping threads, which all read the same shapes, need
        /// not count references to them (`_withUnsafeGuaranteedRef` on the hot paths).
        var shapeReference: Unmanaged<LoopShape>
        var shape: LoopShape { self.shapeReference.takeUnretainedValue() }
        var firstSegment: Int32 = -1
        var lastSegment: Int32 = -1
        var firstChild: Int32 = -1
        var lastChild: Int32 = -1
        var nextSibling: Int32 = -1
        /// A bit per tag of the occurrence's own segments (`SetArena.tagBit`): a lookup skips an occurrence whose
        /// summary lacks its tag's bit (two tags may share a bit, so a set bit only says "maybe").
        var ownTags: UInt64 = 0
        /// The same for the first segments of the child occurrences.
        var childTags: UInt64 = 0
    }

    /// The bit a tag sets in a loop's tag summaries.
    @inline(__always)
    static func tagBit(_ tag: UInt32) -> UInt64 { 1 &<< ((tag &* 0x9E37_79B1) &>> 26) }

    @exclusivity(unchecked) private(set) var bytes = ArenaColumn<UInt8>(capacity: 16_384)
    @exclusivity(unchecked) private(set) var fieldEnds = ArenaColumn<Int>(capacity: 1_024)
    @exclusivity(unchecked) private(set) var segments = ArenaColumn<SegmentRecord>(capacity: 128)
    @exclusivity(unchecked) private(set) var loops = ArenaColumn<LoopRecord>(capacity: 64)
    @exclusivity(unchecked) private(set) var delimiters = ElementDelimiters(component: 0, repetition: nil, release: nil)
    private(set) var rootShape: LoopShape?
    /// `index` of the set's header segment, so that origins count segments from it (ST or UNH is 1).
    private(set) var setStart = 0

    deinit {
        self.bytes.deallocate()
        self.fieldEnds.deallocate()
        self.segments.deallocate()
        self.loops.deallocate()
    }

    /// Empties the arena for a set of `shape` whose header is at input position `setStart`.
    func reset(shape: LoopShape, setStart: Int) {
        self.bytes.removeAll()
        self.fieldEnds.removeAll()
        self.segments.removeAll()
        self.loops.removeAll()
        self.rootShape = shape
        self.setStart = setStart
        self.loops.append(LoopRecord(shapeReference: Unmanaged.passUnretained(shape)))
    }

    // MARK: Building

    /// Copies `segment` in; returns its number.
    func copy(_ segment: Segment) -> Int32 {
        if self.segments.count == 0 { self.delimiters = segment.elementDelimiters }
        let number = Int32(self.segments.count)
        let firstField = Int32(self.fieldEnds.count)
        let fieldCount = segment.withUnsafeParts { bytes, fields in
            let base = self.bytes.count
            self.bytes.grow(by: bytes.count).update(from: bytes.baseAddress!, count: bytes.count)
            let ends = self.fieldEnds.grow(by: fields.count)
            for (offset, end) in fields.enumerated() { ends[offset] = base + Int(end) }
            return Int32(fields.count)
        }
        self.segments.append(
            SegmentRecord(
                tagValue: segment.tag.rawValue,
                firstField: firstField,
                fieldCount: fieldCount,
                index: segment.index,
                line: segment.line,
                column: segment.column
            )
        )
        return number
    }

    /// Adds a loop occurrence of `shape`, started by a segment with tag `trigger`, as the last child of `parent`;
    /// returns its number.
    func addLoop(_ shape: LoopShape, trigger: UInt32, parent: Int32) -> Int32 {
        let number = Int32(self.loops.count)
        self.loops.append(LoopRecord(shapeReference: Unmanaged.passUnretained(shape)))
        self.link(child: number, to: parent)
        self.loops[parent].childTags |= Self.tagBit(trigger)
        return number
    }

    private func link(child: Int32, to parent: Int32) {
        let trigger = self.loops[child].firstSegment
        if trigger >= 0 { self.loops[parent].childTags |= Self.tagBit(self.segments[trigger].tagValue) }
        self.loops[child].nextSibling = -1
        let last = self.loops[parent].lastChild
        if last < 0 { self.loops[parent].firstChild = child } else { self.loops[last].nextSibling = child }
        self.loops[parent].lastChild = child
    }

    /// Appends segment `segment` to loop occurrence `loop`'s own segments.
    func attach(_ segment: Int32, to loop: Int32) {
        let last = self.loops[loop].lastSegment
        if last < 0 { self.loops[loop].firstSegment = segment } else { self.segments[last].next = segment }
        self.loops[loop].lastSegment = segment
        self.loops[loop].ownTags |= Self.tagBit(self.segments[segment].tagValue)
    }

    /// Re-nests hierarchical loops (X12 HL, EDIFACT CPS) under the occurrence their parent reference names.
    func nestHierarchy(_ loop: Int32 = 0) {
        var child = self.loops[loop].firstChild
        var hasHierarchy = false
        while child >= 0 {
            self.nestHierarchy(child)
            hasHierarchy = hasHierarchy || self.loops[child].shape.isHierarchical
            child = self.loops[child].nextSibling
        }
        guard hasHierarchy else { return }
        var byID: [String: Int32] = [:]
        child = self.loops[loop].firstChild
        self.loops[loop].firstChild = -1
        self.loops[loop].lastChild = -1
        self.loops[loop].childTags = 0
        while child >= 0 {
            let next = self.loops[child].nextSibling
            let trigger = self.loops[child].firstSegment
            if self.loops[child].shape.isHierarchical, trigger >= 0 {
                let id = self.elementText(trigger, element: 1)
                let parent = self.elementText(trigger, element: 2)
                if !parent.isEmpty, let parentLoop = byID[parent] {
                    self.link(child: child, to: parentLoop)
                } else {
                    self.link(child: child, to: loop)
                }
                if !id.isEmpty { byID[id] = child }
            } else {
                self.link(child: child, to: loop)
            }
            child = next
        }
    }

    // MARK: Reading

    /// The byte range of element `position` (1-based) of segment `segment`; nil when the segment has fewer.
    @inline(__always)
    func range(_ segment: Int32, element position: Int) -> Range<Int>? {
        let record = self.segments[segment]
        guard position >= 1, position < Int(record.fieldCount) else { return nil }
        let first = record.firstField + Int32(position)
        return self.fieldEnds[first - 1] + 1..<self.fieldEnds[first]
    }

    /// The byte range of a reference's value (its component, or the element's first) in `segment`; nil when absent.
    @inline(__always)
    func range(_ segment: Int32, _ reference: ElementReference) -> Range<Int>? {
        self.range(segment, element: reference.element, component: reference.component ?? 1)
    }

    /// The byte range of component `component` (1-based) of element `position` in `segment`; nil when absent.
    @inline(__always)
    func range(_ segment: Int32, element position: Int, component: Int) -> Range<Int>? {
        guard let element = self.range(segment, element: position), !element.isEmpty else { return nil }
        return self.delimiters.componentRange(in: self.bytes.base, element, position: component)
    }

    /// The text of a reference's value in `segment`; "" when absent.
    func text(_ segment: Int32, _ reference: ElementReference) -> String {
        guard let range = self.range(segment, reference), !range.isEmpty else { return "" }
        return self.delimiters.text(in: self.bytes.base, range)
    }

    /// The whole text of element `position`, component separators included; "" when absent.
    func elementText(_ segment: Int32, element position: Int) -> String {
        guard let range = self.range(segment, element: position) else { return "" }
        return self.delimiters.text(in: self.bytes.base, range)
    }

    /// Whether the value of `reference` in `segment` is empty.
    @inline(__always)
    func isEmpty(_ segment: Int32, _ reference: ElementReference) -> Bool {
        self.range(segment, reference)?.isEmpty ?? true
    }

    /// Whether a condition holds for `segment`, comparing bytes (no text is made unless the value has release
    /// characters).
    func holds(_ condition: ElementCondition, for segment: Int32) -> Bool {
        let range = self.range(segment, condition.element) ?? 0..<0
        let base = self.bytes.base
        if self.delimiters.hasRelease(in: base, range) {
            return condition.values.contains(self.delimiters.text(in: base, range)) != condition.isNegated
        }
        let bytes = UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
        for value in condition.valueBytes where value.elementsEqual(bytes) {
            return !condition.isNegated
        }
        return condition.isNegated
    }

    /// Whether element `position` of `segment`, as a whole, is one of `values` (compared as bytes unless it has
    /// release characters).
    func matches(_ segment: Int32, element position: Int, anyOf values: [String]) -> Bool {
        guard let range = self.range(segment, element: position), !range.isEmpty else { return false }
        let base = self.bytes.base
        if self.delimiters.hasRelease(in: base, range) {
            return values.contains(self.delimiters.text(in: base, range))
        }
        let bytes = UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
        for value in values where value.utf8.elementsEqual(bytes) { return true }
        return false
    }

    @inline(__always)
    func holdsAll(_ conditions: [ElementCondition], for segment: Int32) -> Bool {
        for condition in conditions where !self.holds(condition, for: segment) { return false }
        return true
    }

    /// The first segment of a loop occurrence (the one that started it).
    func trigger(_ loop: Int32) -> Int32 { self.loops[loop].firstSegment }

    /// The columns as pointers, for reading a finished set.
    var view: ArenaView {
        ArenaView(
            segments: self.segments.base,
            loops: self.loops.base,
            bytes: self.bytes.base,
            fieldEnds: self.fieldEnds.base,
            delimiters: self.delimiters,
            setStart: self.setStart
        )
    }
}

/// A finished arena's columns as plain pointers: what the mapping hot path reads (no reference to the arena object,
/// so no reference counting and no exclusivity checks). Valid while the arena is neither changed nor freed: the
/// translator maps a set only after building it, and keeps the arena alive while it does.
struct ArenaView {
    let segments: UnsafeMutablePointer<SetArena.SegmentRecord>
    let loops: UnsafeMutablePointer<SetArena.LoopRecord>
    let bytes: UnsafeMutablePointer<UInt8>
    let fieldEnds: UnsafeMutablePointer<Int>
    let delimiters: ElementDelimiters
    let setStart: Int

    /// The byte range of element `position` (1-based) of `segment`; nil when the segment has fewer.
    @inline(__always)
    func range(_ segment: Int32, element position: Int) -> Range<Int>? {
        let record = self.segments[Int(segment)]
        guard position >= 1, position < Int(record.fieldCount) else { return nil }
        let first = Int(record.firstField) + position
        return self.fieldEnds[first - 1] + 1..<self.fieldEnds[first]
    }

    /// The byte range of component `component` (1-based) of element `position`; nil when absent.
    @inline(__always)
    func range(_ segment: Int32, element position: Int, component: Int) -> Range<Int>? {
        guard let element = self.range(segment, element: position), !element.isEmpty else { return nil }
        return self.delimiters.componentRange(in: self.bytes, element, position: component)
    }

    @inline(__always)
    func tag(_ segment: Int32) -> UInt32 { self.segments[Int(segment)].tagValue }

    /// Whether occurrence `loop` may have own segments with this tag bit (`SetArena.tagBit`); false means none.
    @inline(__always)
    func mayHave(_ bit: UInt64, in loop: Int32) -> Bool { self.loops[Int(loop)].ownTags & bit != 0 }

    /// Whether a child occurrence of `loop` may start with a segment with this tag bit; false means none.
    @inline(__always)
    func mayHaveChild(_ bit: UInt64, in loop: Int32) -> Bool { self.loops[Int(loop)].childTags & bit != 0 }

    /// The first segment of a loop occurrence (the one that started it).
    @inline(__always)
    func trigger(_ loop: Int32) -> Int32 { self.loops[Int(loop)].firstSegment }

    /// The text of the bytes at `range`, release characters removed.
    func text(_ range: Range<Int>) -> String { self.delimiters.text(in: self.bytes, range) }

    @inline(__always)
    func hasRelease(_ range: Range<Int>) -> Bool { self.delimiters.hasRelease(in: self.bytes, range) }
}

/// Builds a set's loop tree in a `SetArena` from its segments, as the schema's structure says they nest.
///
/// The builder is tolerant: a segment that fits nowhere is kept in the innermost open loop, so that no data is
/// dropped from a document that the validator would reject. X12 HL and EDIFACT CPS loops are then re-nested by their
/// parent references (HL02, CPS02), so that "the packs of this order" is a path like any other.
struct SegmentTreeBuilder {
    private struct Frame {
        let loop: Int32
        /// The loop's shape: its tags and child loops, read without reference counting (the shape outlives the set).
        let tags: UnsafeMutableBufferPointer<UInt32>
        let children: UnsafeMutableBufferPointer<Unmanaged<LoopShape>?>
        var position: Int

        init(loop: Int32, shape: LoopShape, position: Int) {
            self.loop = loop
            self.tags = shape.tagValues
            self.children = shape.childShapes
            self.position = position
        }
    }

    private var stack: [Frame]
    let arena: SetArena

    /// Starts a set of `shape` in `arena` (emptied), with its header segment.
    init(arena: SetArena, shape: LoopShape, header: Segment) {
        self.arena = arena
        arena.reset(shape: shape, setStart: header.index)
        self.stack = [Frame(loop: 0, shape: shape, position: 0)]
        self.append(header)
    }

    mutating func append(_ segment: Segment) {
        let tag = segment.tag.rawValue
        let number = self.arena.copy(segment)
        var depth = self.stack.count - 1
        while depth >= 0 {
            let frame = self.stack[depth]
            // A loop's first position is its trigger: meeting it again starts a new occurrence, one level up.
            var index = depth == 0 ? frame.position : max(frame.position, 1)
            while index < frame.tags.count {
                if frame.tags[index] == tag {
                    self.stack.removeLast(self.stack.count - depth - 1)
                    self.stack[depth].position = index
                    if let loop = frame.children[index] {
                        let child = loop._withUnsafeGuaranteedRef {
                            self.arena.addLoop($0, trigger: tag, parent: frame.loop)
                        }
                        self.arena.attach(number, to: child)
                        self.stack.append(
                            loop._withUnsafeGuaranteedRef { Frame(loop: child, shape: $0, position: 0) }
                        )
                    } else {
                        self.arena.attach(number, to: frame.loop)
                    }
                    return
                }
                index += 1
            }
            depth -= 1
        }
        // Out of order or unknown: keep it where we are.
        self.arena.attach(number, to: self.stack[self.stack.count - 1].loop)
    }

    /// Finishes the tree: hierarchical loops nested by their parent references.
    func finish() {
        self.arena.nestHierarchy()
    }
}
