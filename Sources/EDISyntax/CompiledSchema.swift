/// A transaction-set schema flattened into tables of plain values, built once per schema.
///
/// The validator's hot loop reads these through pointers: no reference counting, no hashing of strings, no copies
/// of definitions. Names and messages come from the original definitions, and only when an error is reported.
final class CompiledSchema: @unchecked Sendable {
    enum TypeCode: UInt8 {
        case alphanumeric, alphabetic, identifier, decimal, numeric, date, time, binary, composite
    }

    struct Element {
        var type: TypeCode
        var isMandatory: Bool
        var minimumLength: Int32
        var maximumLength: Int32
        var maximumRepetitions: Int32
        /// Components of a composite: `[componentStart, componentStart + componentCount)` in `elements`.
        var componentStart: Int32
        var componentCount: Int32
        /// Index of a code list in `codeLists`, or -1.
        var codes: Int32
    }

    struct Segment {
        var elementStart: Int32
        var elementCount: Int32
        var ruleStart: Int32
        var ruleCount: Int32
    }

    /// An X12 syntax note: kind, and up to eight element positions packed one per byte, plus the same positions
    /// as a bit mask (bit n = element n) so that a rule is checked with a few integer operations.
    struct Rule {
        var kind: SyntaxRule.Kind
        var count: Int
        var positions: UInt64
        var mask: UInt64
        var firstBit: UInt64

        func position(_ index: Int) -> Int { Int((self.positions >> (8 * UInt64(index))) & 0xFF) }
    }

    struct Node {
        var tag: UInt32
        var isMandatory: Bool
        var maximumUse: Int32
        /// Index in `loops` when the node is a loop, -1 for a segment.
        var loop: Int32
    }

    struct Loop {
        var firstChild: Int32
        var childCount: Int32
        var firstTag: UInt32
    }

    let elements: UnsafeMutableBufferPointer<Element>
    let rules: UnsafeMutableBufferPointer<Rule>
    let nodes: UnsafeMutableBufferPointer<Node>
    let loops: UnsafeMutableBufferPointer<Loop>
    /// Loop names, by loop index (0 is the set itself).
    let loopIdentifiers: [String]
    /// The loop definition behind each loop index, for messages.
    let loopDefinitions: [LoopDefinition]
    /// Sorted codes, each packed into a UInt64 (codes are at most 8 bytes; longer ones never match).
    let codeLists: [UnsafeMutableBufferPointer<UInt64>]
    /// Open-addressing table from tag to segment: `tagKeys[slot]` holds the tag (0 for empty).
    private let tagKeys: UnsafeMutablePointer<UInt32>
    private let tagSegments: UnsafeMutablePointer<Segment>
    private let tagMask: Int
    /// For each node, the index (within its loop) of the first mandatory child at or after it.
    let nextMandatory: UnsafeMutableBufferPointer<Int32>
    /// Tags in the structure, for telling "not in this set" from "out of sequence".
    let structureTags: Set<UInt32>

    init(structure: LoopDefinition, segments: [SegmentTag: SegmentDefinition], tagsInStructure: Set<SegmentTag>) {
        var elements: [Element] = []
        var rules: [Rule] = []
        var codeLists: [[UInt64]] = []
        var codeListIndex: [Set<String>: Int32] = [:]
        var segmentIndex: [UInt32: Segment] = [:]
        func codes(_ set: Set<String>?) -> Int32 {
            guard let set else { return -1 }
            if let index = codeListIndex[set] { return index }
            codeLists.append(set.compactMap(CompiledSchema.pack).sorted())
            codeListIndex[set] = Int32(codeLists.count - 1)
            return Int32(codeLists.count - 1)
        }
        func compile(_ definition: ElementDefinition) -> Element {
            Element(
                type: CompiledSchema.typeCode(definition.type),
                isMandatory: definition.isMandatory,
                minimumLength: Int32(definition.minimumLength),
                maximumLength: Int32(definition.maximumLength),
                maximumRepetitions: Int32(definition.maximumRepetitions),
                componentStart: 0,
                componentCount: Int32(definition.components.count),
                codes: codes(definition.codes)
            )
        }
        for (tag, definition) in segments {
            let start = elements.count
            elements += definition.elements.map(compile)
            for (offset, element) in definition.elements.enumerated() where !element.components.isEmpty {
                elements[start + offset].componentStart = Int32(elements.count)
                elements += element.components.map(compile)
            }
            let ruleStart = rules.count
            for rule in definition.rules {
                var packed: UInt64 = 0
                var mask: UInt64 = 0
                for (index, position) in rule.positions.prefix(8).enumerated() {
                    packed |= UInt64(position & 0xFF) << (8 * UInt64(index))
                    mask |= 1 << UInt64(min(position, 63))
                }
                rules.append(
                    Rule(
                        kind: rule.kind,
                        count: min(8, rule.positions.count),
                        positions: packed,
                        mask: mask,
                        firstBit: 1 << UInt64(min(rule.positions[0], 63))
                    )
                )
            }
            segmentIndex[tag.rawValue] = Segment(
                elementStart: Int32(start),
                elementCount: Int32(definition.elements.count),
                ruleStart: Int32(ruleStart),
                ruleCount: Int32(rules.count - ruleStart)
            )
        }
        var nodes: [Node] = []
        var loops: [Loop] = []
        var identifiers: [String] = []
        var definitions: [LoopDefinition] = []
        // Breadth by loop: each loop's children are contiguous in `nodes`.
        func add(_ loop: LoopDefinition) -> Int32 {
            let index = loops.count
            loops.append(Loop(firstChild: 0, childCount: Int32(loop.children.count), firstTag: loop.firstTag.rawValue))
            identifiers.append(loop.identifier)
            definitions.append(loop)
            let first = nodes.count
            loops[index].firstChild = Int32(first)
            for child in loop.children {
                nodes.append(
                    Node(
                        tag: child.tag.rawValue,
                        isMandatory: child.isMandatory,
                        maximumUse: Int32(clamping: child.maximumUse),
                        loop: -1
                    )
                )
            }
            for (offset, child) in loop.children.enumerated() {
                if case .loop(let inner) = child {
                    nodes[first + offset].loop = add(inner)
                }
            }
            return Int32(index)
        }
        _ = add(structure)
        self.elements = .allocate(capacity: elements.count)
        _ = self.elements.initialize(from: elements)
        self.rules = .allocate(capacity: max(1, rules.count))
        _ = self.rules.initialize(from: rules)
        self.nodes = .allocate(capacity: nodes.count)
        _ = self.nodes.initialize(from: nodes)
        self.loops = .allocate(capacity: loops.count)
        _ = self.loops.initialize(from: loops)
        self.codeLists = codeLists.map { list in
            let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(1, list.count))
            _ = buffer.initialize(from: list)
            return UnsafeMutableBufferPointer(rebasing: buffer[0..<list.count])
        }
        self.loopIdentifiers = identifiers
        self.loopDefinitions = definitions
        var slots = 64
        while slots < segmentIndex.count * 4 { slots *= 2 }
        self.tagMask = slots - 1
        self.tagKeys = .allocate(capacity: slots)
        self.tagKeys.initialize(repeating: 0, count: slots)
        self.tagSegments = .allocate(capacity: slots)
        self.tagSegments.initialize(
            repeating: Segment(elementStart: 0, elementCount: 0, ruleStart: 0, ruleCount: 0),
            count: slots
        )
        for (key, segment) in segmentIndex {
            var slot = Self.slot(key, mask: slots - 1)
            while self.tagKeys[slot] != 0 { slot = (slot + 1) & (slots - 1) }
            self.tagKeys[slot] = key
            self.tagSegments[slot] = segment
        }
        self.nextMandatory = .allocate(capacity: nodes.count)
        for loop in loops {
            var next = loop.childCount
            for child in stride(from: Int(loop.childCount) - 1, through: 0, by: -1) {
                if nodes[Int(loop.firstChild) + child].isMandatory { next = Int32(child) }
                self.nextMandatory[Int(loop.firstChild) + child] = next
            }
        }
        self.structureTags = Set(tagsInStructure.map(\.rawValue))
    }

    deinit {
        self.elements.deallocate()
        self.rules.deallocate()
        self.nodes.deallocate()
        self.loops.deallocate()
        self.tagKeys.deallocate()
        self.tagSegments.deallocate()
        self.nextMandatory.deallocate()
        for list in self.codeLists { list.baseAddress.map { $0.deallocate() } }
    }

    func segment(_ tag: SegmentTag) -> Segment? {
        let key = tag.rawValue
        guard key != 0 else { return nil }
        var slot = Self.slot(key, mask: self.tagMask)
        while true {
            let found = self.tagKeys[slot]
            if found == key { return self.tagSegments[slot] }
            if found == 0 { return nil }
            slot = (slot + 1) & self.tagMask
        }
    }

    private static func slot(_ key: UInt32, mask: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    /// True when `value` is in code list `index`.
    func contains(_ value: UnsafeBufferPointer<UInt8>, codeList index: Int32) -> Bool {
        guard value.count <= 8 else { return false }
        var packed: UInt64 = 0
        for byte in value { packed = packed << 8 | UInt64(byte) }
        packed |= UInt64(value.count) << 60
        let list = self.codeLists[Int(index)]
        var low = 0
        var high = list.count
        while low < high {
            let middle = (low + high) / 2
            if list[middle] < packed { low = middle + 1 } else { high = middle }
        }
        return low < list.count && list[low] == packed
    }

    private static func pack(_ code: String) -> UInt64? {
        let bytes = Array(code.utf8)
        guard bytes.count <= 7 else { return nil }
        var packed: UInt64 = 0
        for byte in bytes { packed = packed << 8 | UInt64(byte) }
        return packed | UInt64(bytes.count) << 60
    }

    private static func typeCode(_ type: ElementType) -> TypeCode {
        switch type {
        case .alphanumeric: return .alphanumeric
        case .alphabetic: return .alphabetic
        case .identifier: return .identifier
        case .decimal: return .decimal
        case .numeric: return .numeric
        case .date: return .date
        case .time: return .time
        case .binary: return .binary
        case .composite: return .composite
        }
    }
}
