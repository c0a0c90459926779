/// The bounds a document must stay within, and the DOCTYPEs that are tolerated.
///
/// Every limit is checked while the document streams in, so a document that exceeds one is refused as soon as the
/// limit is crossed, without building what lies beyond it.
public struct XMLLimits: Hashable, Sendable {
    /// Input bytes, counted as the `read` closure delivers them (before decoding). Default 64 MiB.
    public var maximumBytes: Int
    /// Element nesting; the root element is at depth 1. Default 64.
    public var maximumDepth: Int
    /// Nodes in the whole document (elements, text and CDATA runs, comments, processing instructions; attributes and
    /// end tags do not count), also across all records of `readRecords`. Default 2 000 000.
    public var maximumNodes: Int
    /// UTF-8 bytes of one text value (an element's character data) or attribute value. Default 1 MiB.
    public var maximumTextLength: Int
    /// Attributes of one element, namespace declarations (`xmlns`, `xmlns:p`) included. Default 256.
    public var maximumAttributes: Int
    /// Namespace declarations in scope at once (on an element and all its ancestors). libxml2 2.9 looks every prefixed
    /// name up by scanning them all, so thousands in scope make each element slow. Default 256.
    public var maximumNamespaceDeclarations: Int
    /// Root element names whose DOCTYPE is tolerated when it has no internal subset (e.g. `["cXML"]` for
    /// `<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">`). The external DTD is never
    /// loaded. Default: none, so any DOCTYPE is refused.
    public var allowedDoctypes: Set<String>

    /// Limits with the safe defaults for any value not given.
    public init(
        maximumBytes: Int = 64 << 20,
        maximumDepth: Int = 64,
        maximumNodes: Int = 2_000_000,
        maximumTextLength: Int = 1 << 20,
        maximumAttributes: Int = 256,
        allowedDoctypes: Set<String> = [],
        maximumNamespaceDeclarations: Int = 256
    ) {
        self.maximumBytes = maximumBytes
        self.maximumDepth = maximumDepth
        self.maximumNodes = maximumNodes
        self.maximumTextLength = maximumTextLength
        self.maximumAttributes = maximumAttributes
        self.allowedDoctypes = allowedDoctypes
        self.maximumNamespaceDeclarations = maximumNamespaceDeclarations
    }

    /// 64 MiB, depth 64, 2 000 000 nodes, 1 MiB per value, 256 attributes, no DOCTYPE, 256 namespace declarations in
    /// scope.
    public static let `default` = XMLLimits()
}
