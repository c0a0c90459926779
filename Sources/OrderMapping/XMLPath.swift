import XMLSyntax

/// A path into an XML record: element steps by local name (prefixes are ignored, so `cbc:ID` and `ID` match the same
/// element whatever prefix a partner binds), with optional predicates, ending in an element (its trimmed text) or an
/// attribute.
///
/// Grammar: `step ("/" step)* ("/@" attribute)?`, where `step` is `name`, `*`, `.`, or `name[pred]...`, and `pred` is
/// `@attr='value'`, `child='value'` (either quote, or none), `@attr` (present), or a 1-based index `2`.
/// (A class: rules hold paths in enums that the mapping hot path reads; copying one is then one reference.)
final class XMLPath: Sendable, CustomStringConvertible {
    enum Predicate: Hashable, Sendable {
        case attributeEquals(String, String)
        case attributePresent(String)
        case childEquals(String, String)
        case index(Int)
    }

    struct Step: Hashable, Sendable {
        let name: String
        let predicates: [Predicate]
        let isWildcard: Bool
        /// `name.utf8.count`: most siblings with another name are told apart by length alone.
        let nameLength: Int

        init(name: String, predicates: [Predicate]) {
            self.name = name
            self.predicates = predicates
            self.isWildcard = name == "*"
            self.nameLength = name.utf8.count
        }

        /// Whether an element with this local name is one the step names.
        @inline(__always)
        func matches(_ localName: String) -> Bool {
            self.isWildcard || (localName.utf8.count == self.nameLength && localName == self.name)
        }
    }

    let steps: [Step]
    let attribute: String?
    let text: String
    /// A path written with a leading `/` reads from the record element, whatever block it is used in.
    let isAbsolute: Bool

    init(steps: [Step], attribute: String?, text: String) {
        self.steps = steps
        self.attribute = attribute
        self.text = text
        self.isAbsolute = text.utf8.first == UInt8(ascii: "/")
    }

    var description: String { self.text }

    static func parse(_ text: String) -> Result<XMLPath, PathSyntaxError> {
        // A leading `/` reads from the record element, whatever block the path is used in.
        let relative = text.hasPrefix("/") ? String(text.dropFirst()) : text
        let pieces = relative.splitOutsideBrackets()
        guard !relative.isEmpty, !relative.hasPrefix("/") else {
            return .failure(PathSyntaxError("'\(text)' is not a path"))
        }
        var steps: [Step] = []
        var attribute: String?
        for (offset, piece) in pieces.enumerated() {
            if piece.hasPrefix("@") {
                guard offset == pieces.count - 1, piece.count > 1 else {
                    return .failure(PathSyntaxError("an attribute ('\(piece)') can only be the last step"))
                }
                attribute = Self.localName(piece.dropFirst())
                continue
            }
            if piece == "text()" && offset == pieces.count - 1 { continue }
            if piece == "." { continue }
            var name = piece
            var predicates: [Predicate] = []
            if let open = piece.firstIndex(of: "[") {
                name = piece[..<open]
                var rest = piece[open...]
                while rest.hasPrefix("[") {
                    guard let close = rest.firstIndex(of: "]") else {
                        return .failure(PathSyntaxError("missing ']' in '\(piece)'"))
                    }
                    let inside = rest[rest.index(after: rest.startIndex)..<close]
                    guard let predicate = Self.predicate(inside) else {
                        return .failure(
                            PathSyntaxError("'[\(inside)]' is not a predicate like [@role='shipTo'] or [2]")
                        )
                    }
                    predicates.append(predicate)
                    rest = rest[rest.index(after: close)...]
                }
                guard rest.isEmpty else { return .failure(PathSyntaxError("unexpected '\(rest)' in '\(piece)'")) }
            }
            guard !name.isEmpty, name == "*" || name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.:".contains($0) })
            else { return .failure(PathSyntaxError("'\(name)' is not an element name")) }
            steps.append(Step(name: Self.localName(name), predicates: predicates))
        }
        return .success(XMLPath(steps: steps, attribute: attribute, text: text))
    }

    private static func localName(_ name: Substring) -> String {
        if let colon = name.lastIndex(of: ":") { return String(name[name.index(after: colon)...]) }
        return String(name)
    }

    private static func predicate(_ text: Substring) -> Predicate? {
        let text = text.trimmed()
        if let index = Int(text), index >= 1 { return .index(index) }
        if let equals = text.firstIndex(of: "=") {
            let left = text[..<equals].trimmed()
            var right = text[text.index(after: equals)...].trimmed()
            if right.count >= 2, let quote = right.first, quote == "'" || quote == "\"", right.last == quote {
                right = right.dropFirst().dropLast()
            }
            if left.hasPrefix("@") { return .attributeEquals(Self.localName(left.dropFirst()), String(right)) }
            return .childEquals(Self.localName(left), String(right))
        }
        if text.hasPrefix("@") { return .attributePresent(Self.localName(text.dropFirst())) }
        return nil
    }

    /// The elements the steps select under `element`, in document order, in place in the tree `element` belongs to:
    /// the pointers stay valid while that tree is alive (a tree is never changed once parsed; the arrays that hold
    /// its elements do not move).
    func selected(from element: UnsafePointer<XMLElement>) -> [UnsafePointer<XMLElement>] {
        var selected: [UnsafePointer<XMLElement>] = []
        self.visit(element) { found in
            selected.append(found)
            return true
        }
        return selected
    }

    /// Whether the steps select anything under `element`.
    func selectsAny(in element: XMLElement) -> Bool {
        withUnsafePointer(to: element) { root in !self.visit(root) { _ in false } }
    }

    /// The values the path selects: attribute values, or the trimmed text of the selected elements; with the line
    /// and column of the element each came from.
    func values(from element: XMLElement) -> [(value: String, line: Int, column: Int)] {
        withUnsafePointer(to: element) { self.values(from: $0) }
    }

    func values(from element: UnsafePointer<XMLElement>) -> [(value: String, line: Int, column: Int)] {
        var values: [(value: String, line: Int, column: Int)] = []
        self.visit(element) { selected in
            if let value = self.value(of: selected) {
                values.append((value, selected.pointee.line, selected.pointee.column))
            }
            return true
        }
        return values
    }

    /// The first non-empty value the path selects, with the line and column of its element; nil when none.
    func firstValue(from element: UnsafePointer<XMLElement>) -> (value: String, line: Int, column: Int)? {
        var first: (value: String, line: Int, column: Int)?
        self.visit(element) { selected in
            guard let value = self.value(of: selected), !value.isEmpty else { return true }
            first = (value, selected.pointee.line, selected.pointee.column)
            return false
        }
        return first
    }

    /// A selected element's value: its attribute's, or its trimmed text; nil when the attribute is absent.
    private func value(of selected: UnsafePointer<XMLElement>) -> String? {
        if let attribute = self.attribute { return selected.pointee.attribute(attribute) }
        let text = selected.pointee.text
        // Most values have nothing to trim: the text is shared rather than copied.
        guard let first = text.utf8.first, let last = text.utf8.last, !isBlank(first), !isBlank(last) else {
            return String(text.trimmed())
        }
        return text
    }

    /// Visits the elements that steps `step...` select under `element`, in document order and in place (mapping a
    /// record copies no element: copying one copies its whole subtree's references). `body` returns false to stop;
    /// `visit` then returns false.
    @discardableResult
    private func visit(
        _ element: UnsafePointer<XMLElement>,
        step: Int = 0,
        _ body: (UnsafePointer<XMLElement>) -> Bool
    ) -> Bool {
        if step == self.steps.count { return body(element) }
        return self.steps.withUnsafeBufferPointer { steps in
            let current = steps.baseAddress! + step
            return element.pointee.children.withUnsafeBufferPointer { children in
                guard !children.isEmpty else { return true }
                let predicates = current.pointee.predicates.count
                // Index predicates count the children that passed the predicates before them.
                return withUnsafeTemporaryAllocation(of: Int.self, capacity: max(predicates, 1)) { counts in
                    counts.initialize(repeating: 0)
                    for index in children.indices {
                        let child = children.baseAddress! + index
                        guard current.pointee.matches(child.pointee.localName),
                            Self.passes(child, current.pointee.predicates, counts)
                        else { continue }
                        if !self.visit(child, step: step + 1, body) { return false }
                    }
                    return true
                }
            }
        }
    }

    private static func passes(
        _ candidate: UnsafePointer<XMLElement>,
        _ predicates: [Predicate],
        _ counts: UnsafeMutableBufferPointer<Int>
    ) -> Bool {
        for (position, predicate) in predicates.enumerated() {
            switch predicate {
            case .attributeEquals(let name, let value):
                guard candidate.pointee.attribute(name) == value else { return false }
            case .attributePresent(let name):
                guard candidate.pointee.attribute(name) != nil else { return false }
            case .childEquals(let name, let value):
                guard candidate.pointee.children.contains(where: { $0.localName == name && $0.text.trimmed() == value })
                else { return false }
            case .index(let index):
                counts[position] += 1
                guard counts[position] == index else { return false }
            }
        }
        return true
    }
}
