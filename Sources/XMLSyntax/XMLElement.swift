/// One attribute of an element, with its namespace resolved.
///
/// Namespace declarations (`xmlns`, `xmlns:p`) are not attributes here: they are resolved into the names.
public struct XMLAttribute: Hashable, Sendable {
    /// The name without prefix (`lang` for `xml:lang`).
    public var localName: String
    /// The prefix as written (`xml` for `xml:lang`); `nil` when unprefixed.
    public var prefix: String?
    /// The namespace the prefix is bound to; `nil` for an unprefixed attribute (the default namespace does not apply
    /// to attributes).
    public var namespaceURI: String?
    /// The normalized value, entities and character references replaced.
    public var value: String

    /// Makes an attribute.
    public init(localName: String, prefix: String? = nil, namespaceURI: String? = nil, value: String) {
        self.localName = localName
        self.prefix = prefix
        self.namespaceURI = namespaceURI
        self.value = value
    }
}

/// One element with its subtree. Value type.
public struct XMLElement: Hashable, Sendable {
    /// The name without prefix (`ID` for `cbc:ID`).
    public var localName: String
    /// The prefix as written; `nil` when unprefixed.
    public var prefix: String?
    /// The namespace the element is in (its prefix's, or the default namespace); `nil` when in no namespace.
    public var namespaceURI: String?
    /// The attributes in document order, namespace declarations left out.
    public var attributes: [XMLAttribute]
    /// The element's own character data (text and CDATA nodes that are direct children), concatenated in order,
    /// untrimmed. Whitespace-only text between child elements may be dropped when the element has child elements.
    public var text: String
    /// The child elements in document order.
    public var children: [XMLElement]
    /// 1-based line of the start tag's `<`; 0 when unknown.
    public var line: Int
    /// 1-based column (characters) of the start tag's `<`; 0 when unknown.
    public var column: Int

    /// Makes an element.
    public init(
        localName: String,
        prefix: String? = nil,
        namespaceURI: String? = nil,
        attributes: [XMLAttribute] = [],
        text: String = "",
        children: [XMLElement] = [],
        line: Int = 0,
        column: Int = 0
    ) {
        self.localName = localName
        self.prefix = prefix
        self.namespaceURI = namespaceURI
        self.attributes = attributes
        self.text = text
        self.children = children
        self.line = line
        self.column = column
    }

    /// The value of the first attribute with this local name, in any namespace (`"lang"` finds `xml:lang`).
    public func attribute(_ localName: String) -> String? {
        for attribute in self.attributes where attribute.localName == localName {
            return attribute.value
        }
        return nil
    }

    /// The first child element with this local name, in any namespace.
    public func firstChild(_ localName: String) -> XMLElement? {
        for child in self.children where child.localName == localName {
            return child
        }
        return nil
    }

    /// Every child element with this local name, in any namespace, in document order.
    public func children(_ localName: String) -> [XMLElement] {
        self.children.filter { $0.localName == localName }
    }
}
