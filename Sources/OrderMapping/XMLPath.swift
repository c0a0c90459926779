import XMLSyntax

/// A path into an XML record: element steps by local name (prefixes are ignored, so `cbc:ID` and `ID` match the same
/// element whatever prefix a partner binds), with optional predicates, ending in an element (its trimmed text) or an
/// attribute.
///
/// Grammar: `step ("/" step)* ("/@" attribute)?`, where `step` is `name`, `*`, `.`, or `name[pred]...`, and `pred` is
/// `@attr='value'`, `child='value'` (either quote, or none), `@attr` (present), or a 1-based index `2`.
struct XMLPath: Hashable, Sendable, CustomStringConvertible {
    enum Predicate: Hashable, Sendable {
        case attributeEquals(String, String)
        case attributePresent(String)
        case childEquals(String, String)
        case index(Int)
    }

    struct Step: Hashable, Sendable {
        var name: String
        var predicates: [Predicate]
    }

    var steps: [Step]
    var attribute: String?
    let text: String
    var isAbsolute: Bool { self.text.hasPrefix("/") }

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

    /// The elements the steps select under `element`, in document order.
    func elements(from element: XMLElement) -> [XMLElement] {
        var current = [element]
        for step in self.steps {
            var next: [XMLElement] = []
            for parent in current {
                var matches = parent.children.filter { step.name == "*" || $0.localName == step.name }
                for predicate in step.predicates {
                    switch predicate {
                    case .attributeEquals(let name, let value):
                        matches = matches.filter { $0.attribute(name) == value }
                    case .attributePresent(let name):
                        matches = matches.filter { $0.attribute(name) != nil }
                    case .childEquals(let name, let value):
                        matches = matches.filter { candidate in
                            candidate.children.contains { $0.localName == name && $0.text.trimmed() == value }
                        }
                    case .index(let index):
                        matches = index <= matches.count ? [matches[index - 1]] : []
                    }
                }
                next += matches
            }
            current = next
            if current.isEmpty { break }
        }
        return current
    }

    /// The values the path selects: attribute values, or the trimmed text of the selected elements; with the element
    /// each came from.
    func values(from element: XMLElement) -> [(value: String, element: XMLElement)] {
        self.elements(from: element).compactMap { selected in
            if let attribute = self.attribute {
                return selected.attribute(attribute).map { ($0, selected) }
            }
            return (String(selected.text.trimmed()), selected)
        }
    }
}
