import EDISyntax

/// A reference to one element (and optionally one component) of a segment: `BEG03`, `DTM01-02`, `N101`.
struct ElementReference: Hashable, Sendable, CustomStringConvertible {
    var tag: String
    /// 1-based.
    var element: Int
    /// 1-based component of a composite; nil for the whole (first) value.
    var component: Int?

    /// Parses `TAGnn` or `TAGnn-cc`: the last two digits before the optional `-cc` are the element position.
    init?(_ text: Substring) {
        var main = text
        var component: Int?
        if let dash = text.firstIndex(of: "-") {
            guard let value = Int(text[text.index(after: dash)...]), value >= 1 else { return nil }
            component = value
            main = text[..<dash]
        }
        guard main.count >= 4, main.count <= 5 else { return nil }
        let tag = main.dropLast(2)
        guard let position = Int(main.suffix(2)), position >= 1,
            tag.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }), tag.first?.isLetter == true
        else { return nil }
        self.tag = String(tag)
        self.element = position
        self.component = component
    }

    init(tag: String, element: Int, component: Int?) {
        self.tag = tag
        self.element = element
        self.component = component
    }

    var description: String {
        let position = self.element < 10 ? "0\(self.element)" : "\(self.element)"
        return self.tag + position + (self.component.map { "-\($0 < 10 ? "0" : "")\($0)" } ?? "")
    }

    /// The tag as a `SegmentTag`, for comparisons on the hot path.
    var segmentTag: SegmentTag { SegmentTag(self.tag) }
}

/// A condition on elements of one segment: `N101=ST`, `REF01=DP|IA`, `DTM01-01!=137`.
struct ElementCondition: Hashable, Sendable {
    let element: ElementReference
    let values: [String]
    let isNegated: Bool
    /// `values` as bytes, to compare with a document's bytes without making text.
    let valueBytes: [[UInt8]]

    init(element: ElementReference, values: [String], isNegated: Bool) {
        self.element = element
        self.values = values
        self.isNegated = isNegated
        self.valueBytes = values.map { Array($0.utf8) }
    }
}

/// One step of an EDI path: a tag (a segment, or the loop that a segment starts, or `SGnn`) with conditions.
struct EDIStep: Hashable, Sendable {
    var name: String
    var conditions: [ElementCondition]
    /// The name as a tag (a loop's first segment), and the `SGnn` number when the name is one.
    let tag: SegmentTag
    let groupNumber: Int?

    init(name: String, conditions: [ElementCondition]) {
        self.name = name
        self.conditions = conditions
        self.tag = SegmentTag(name)
        self.groupNumber = name.hasPrefix("SG") ? Int(name.dropFirst(2)) : nil
    }
}

/// A parsed EDI path: loop steps, then an element reference with conditions on its segment.
///
/// Grammar: `step ( "/" step )* "/" leaf` or just `leaf`, where `step` is `NAME` or `NAME[COND,COND]`, `leaf` is an
/// element reference with optional `[COND,...]`, and `COND` is `ELEMREF=VALUE|VALUE` or `ELEMREF!=VALUE`.
/// (A class: paths are shared by the compiled rules and read on the hot path without copying their arrays.)
final class EDIPath: Sendable, CustomStringConvertible {
    let steps: [EDIStep]
    let leaf: ElementReference
    let leafConditions: [ElementCondition]
    let text: String
    /// A path written with a leading `/` reads from the whole set, whatever block it is used in.
    let isAbsolute: Bool
    /// `leaf.tag` as a `SegmentTag`.
    var leafTag: SegmentTag { self.tagValue }
    private let tagValue: SegmentTag

    init(steps: [EDIStep], leaf: ElementReference, leafConditions: [ElementCondition], text: String) {
        self.steps = steps
        self.leaf = leaf
        self.leafConditions = leafConditions
        self.text = text
        self.isAbsolute = text.hasPrefix("/")
        self.tagValue = leaf.segmentTag
    }

    var description: String { self.text }

    /// Parses path text; the error message says what is wrong with it.
    static func parse(_ text: String) -> Result<EDIPath, PathSyntaxError> {
        let parts = Self.splitSteps(text.hasPrefix("/") ? String(text.dropFirst()) : text)
        guard let last = parts.last, !text.isEmpty else { return .failure(PathSyntaxError("empty path")) }
        var steps: [EDIStep] = []
        for part in parts.dropLast() {
            switch Self.parseStep(part) {
            case .success(let step): steps.append(step)
            case .failure(let error): return .failure(error)
            }
        }
        switch Self.parseStep(last, isLeaf: true) {
        case .failure(let error): return .failure(error)
        case .success(let leafStep):
            guard let leaf = ElementReference(Substring(leafStep.name)) else {
                return .failure(
                    PathSyntaxError("'\(leafStep.name)' is not an element reference (like BEG03 or DTM01-02)")
                )
            }
            return .success(EDIPath(steps: steps, leaf: leaf, leafConditions: leafStep.conditions, text: text))
        }
    }

    /// Parses a selector (`N1`, `N1[N101=ST]`, `SG25`): one step, no leaf.
    static func parseSelector(_ text: String) -> Result<[EDIStep], PathSyntaxError> {
        var steps: [EDIStep] = []
        for part in Self.splitSteps(text) {
            switch Self.parseStep(part) {
            case .success(let step): steps.append(step)
            case .failure(let error): return .failure(error)
            }
        }
        return steps.isEmpty ? .failure(PathSyntaxError("empty selector")) : .success(steps)
    }

    private static func splitSteps(_ text: String) -> [Substring] {
        text.splitOutsideBrackets()
    }

    private static func parseStep(_ text: Substring, isLeaf: Bool = false) -> Result<EDIStep, PathSyntaxError> {
        let text = text.trimmed()
        func isValid(_ name: Substring) -> Bool {
            isLeaf ? ElementReference(name) != nil : Self.isName(name)
        }
        let what = isLeaf ? "an element reference (like BEG03 or DTM01-02)" : "a segment or loop name"
        guard let open = text.firstIndex(of: "[") else {
            guard isValid(text) else { return .failure(PathSyntaxError("'\(text)' is not \(what)")) }
            return .success(EDIStep(name: String(text), conditions: []))
        }
        guard text.hasSuffix("]") else { return .failure(PathSyntaxError("missing ']' in '\(text)'")) }
        let name = text[..<open]
        guard isValid(name) else { return .failure(PathSyntaxError("'\(name)' is not \(what)")) }
        let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
        var conditions: [ElementCondition] = []
        for clause in inside.split(separator: ",") {
            let isNegated = clause.contains("!=")
            let pieces = clause.split(separator: isNegated ? "!" : "=", maxSplits: 1)
            guard pieces.count == 2, let element = ElementReference(Substring(pieces[0].trimmed()))
            else { return .failure(PathSyntaxError("'\(clause)' is not a condition like N101=ST")) }
            var valueText = pieces[1]
            if isNegated { valueText = valueText.drop { $0 == "=" } }
            let values = valueText.split(separator: "|", omittingEmptySubsequences: false).map {
                String($0.trimmed())
            }
            conditions.append(ElementCondition(element: element, values: values, isNegated: isNegated))
        }
        return .success(EDIStep(name: String(name), conditions: conditions))
    }

    private static func isName(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.count <= 5 && text.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }
}

/// A path that cannot be parsed.
struct PathSyntaxError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

extension String {
    /// Splits on `/` that are not inside `[...]` (path steps with predicates).
    func splitOutsideBrackets() -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var start = self.startIndex
        for index in self.indices {
            switch self[index] {
            case "[": depth += 1
            case "]": depth -= 1
            case "/" where depth == 0:
                parts.append(self[start..<index])
                start = self.index(after: index)
            default: break
            }
        }
        parts.append(self[start...])
        return parts
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks (compared as bytes: no grapheme breaking
    /// on the mapping hot path).
    func trimmed() -> Substring {
        let text = Substring(self)
        let utf8 = text.utf8
        guard let first = utf8.firstIndex(where: { !isBlank($0) }) else { return text[text.endIndex...] }
        let last = utf8.lastIndex(where: { !isBlank($0) })!
        return text[first...last]
    }
}

/// Whether a byte is one that `trimmed()` removes: space, tab, line feed, carriage return.
@inline(__always)
func isBlank(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
}
