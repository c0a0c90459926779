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
    }

    /// The child loop called `name` (its first tag, or `SGnn`).
    func childLoop(named name: String) -> LoopShape? {
        if self.isHierarchical, name == self.name { return self }
        if name.hasPrefix("SG"), let number = Int(name.dropFirst(2)) {
            return self.loops.lazy.compactMap { $0 }.first { $0.groupNumber == number }
        }
        return self.loops.lazy.compactMap { $0 }.first { $0.name == name }
    }

    /// Whether `tag` is a segment directly in this loop (its first segment counts; child loops' do not).
    func hasSegment(_ tag: SegmentTag) -> Bool {
        for (index, candidate) in self.tags.enumerated() where candidate == tag {
            if index == 0 || self.loops[index] == nil { return true }
        }
        return false
    }
}

/// One occurrence of a loop (or the whole set): its own segments in order, and its child loop occurrences.
final class LoopInstance {
    let shape: LoopShape
    @exclusivity(unchecked) var segments: [Segment] = []
    @exclusivity(unchecked) var children: [LoopInstance] = []
    /// The whole set's occurrence (nil for the set itself), for paths that start with `/`.
    unowned(unsafe) var root: LoopInstance?

    init(shape: LoopShape, root: LoopInstance? = nil) {
        self.shape = shape
        self.root = root
    }

    /// The set this occurrence belongs to.
    var top: LoopInstance { self.root ?? self }

    /// The first segment of the instance (the one that started the loop).
    var trigger: Segment? { self.segments.first }
}

/// Builds the loop tree of one transaction set from its segments, as the schema's structure says they nest.
///
/// The builder is tolerant: a segment that fits nowhere is kept in the innermost open loop, so that no data is
/// dropped from a document that the validator would reject. X12 HL and EDIFACT CPS loops are then re-nested by their
/// parent references (HL02, CPS02), so that "the packs of this order" is a path like any other.
struct SegmentTreeBuilder {
    private struct Frame {
        let instance: LoopInstance
        var position: Int
    }

    private var stack: [Frame]
    let root: LoopInstance

    init(shape: LoopShape) {
        self.root = LoopInstance(shape: shape)
        self.stack = [Frame(instance: self.root, position: 0)]
    }

    mutating func append(_ segment: Segment) {
        let tag = segment.tag
        var depth = self.stack.count - 1
        while depth >= 0 {
            let frame = self.stack[depth]
            let shape = frame.instance.shape
            // A loop's first position is its trigger: meeting it again starts a new occurrence, one level up.
            var index = depth == 0 ? frame.position : max(frame.position, 1)
            while index < shape.tags.count {
                if shape.tags[index] == tag {
                    self.stack.removeLast(self.stack.count - depth - 1)
                    if let loop = shape.loops[index] {
                        let child = LoopInstance(shape: loop, root: self.root)
                        child.segments.append(segment)
                        frame.instance.children.append(child)
                        self.stack[depth].position = index
                        self.stack.append(Frame(instance: child, position: 0))
                    } else {
                        frame.instance.segments.append(segment)
                        self.stack[depth].position = index
                    }
                    return
                }
                index += 1
            }
            depth -= 1
        }
        // Out of order or unknown: keep it where we are.
        self.stack[self.stack.count - 1].instance.segments.append(segment)
    }

    /// The finished tree, with hierarchical loops nested by their parent references.
    func finish() -> LoopInstance {
        Self.nestHierarchy(self.root)
        return self.root
    }

    private static func nestHierarchy(_ instance: LoopInstance) {
        for child in instance.children { self.nestHierarchy(child) }
        guard instance.children.contains(where: { $0.shape.isHierarchical }) else { return }
        var byID: [String: LoopInstance] = [:]
        var kept: [LoopInstance] = []
        for child in instance.children {
            guard child.shape.isHierarchical, let trigger = child.trigger else {
                kept.append(child)
                continue
            }
            let id = trigger[1]
            let parent = trigger[2]
            if !parent.isEmpty, let parentInstance = byID[parent] {
                parentInstance.children.append(child)
            } else {
                kept.append(child)
            }
            if !id.isEmpty { byID[id] = child }
        }
        instance.children = kept
    }
}
