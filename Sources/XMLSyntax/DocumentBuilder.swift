import CLibXML2

/// The SAX user data: receives libxml2's callbacks for one document, enforces the limits and the DOCTYPE and entity
/// policy on them, and builds the trees (the whole document, or each record).
///
/// Callbacks cannot throw into C, so the first violation is stored in `failure` and SAX is switched off on the
/// parser (`disableSAX`, the flag libxml2 sets itself on a fatal error): the rest of the chunk being parsed produces
/// no more callbacks, and the reader throws `failure` as soon as `xmlParseChunk` returns.
///
/// A struct that the reader keeps behind a pointer (the pointer is the SAX user data), so that the callbacks mutate
/// it without the dynamic exclusivity checks that a class's stored properties would cost on every access.
struct DocumentBuilder: ~Copyable {
    private let limits: XMLLimits
    /// Local names of the records; `nil`: the root element is the one record (`readDocument`).
    private let recordNames: Set<String>?
    /// The parser whose callbacks these are (set right after it is created).
    var parser: xmlParserCtxtPtr?
    /// The pre-scan of the raw bytes; the reader runs each chunk through it before parsing.
    var markup: MarkupGuard
    /// The first reason the document is refused.
    private(set) var failure: XMLSyntaxError?
    /// libxml2's error number for `failure`, when libxml2 reported it.
    private(set) var failureNumber: Int32?
    /// The root element's names, once its start tag has been parsed.
    private(set) var rootLocalName: String?
    private(set) var rootNamespaceURI: String?
    /// Elements opened and not closed yet.
    var openElementCount: Int { self.open.count }

    private var records: [XMLElement] = []
    private var recordsHead = 0
    private var names = NameCache()
    private var nodeCount = 0
    private var isInText = false
    /// Whitespace of the current text run that follows a child element, held back until the run shows whether it is
    /// only whitespace (dropped) or not (kept in full). libxml2 may deliver one run in several pieces.
    private var pendingBlank = ""
    /// Whether the current text run has had a piece that is not whitespace.
    private var isRunSignificant = false
    private var outsideTextLength = 0
    /// Where each open element's start tag is, and how many namespaces it declares; its count is the depth.
    private var open: [(position: MarkupGuard.Position, namespaces: Int)] = []
    /// Namespace declarations in scope (on the open elements).
    private var namespacesInScope = 0
    /// The open elements of the tree being built (the innermost ones of `open`), without their children yet.
    private var building = ElementStack()
    /// For each element of `building`: where its children start in `finished`, and whether it has text that is not
    /// whitespace.
    private var frames: [(childrenStart: Int, hasSignificantText: Bool)] = []
    /// Closed elements of the tree being built whose parent is still open.
    private var finished = ElementStack()

    init(limits: XMLLimits, recordNames: Set<String>?) {
        self.limits = limits
        self.recordNames = recordNames
        self.markup = MarkupGuard(maximumAttributes: limits.maximumAttributes)
    }

    /// The next completed tree, in document order.
    mutating func takeRecord() -> XMLElement? {
        guard self.recordsHead < self.records.count else { return nil }
        let record = self.records[self.recordsHead]
        self.recordsHead += 1
        if self.recordsHead == self.records.count {
            self.records.removeAll(keepingCapacity: true)
            self.recordsHead = 0
        }
        return record
    }

    /// Refuses the document (the first call wins) and switches libxml2's callbacks off.
    mutating func fail(_ error: XMLSyntaxError, number: Int32? = nil) {
        guard self.failure == nil else { return }
        self.failure = error
        self.failureNumber = number
        self.parser?.pointee.disableSAX = 1
    }

    /// An error at the innermost open element's start tag.
    private mutating func fail(_ code: XMLSyntaxError.Code, _ message: String) {
        let position = self.open.last?.position
        self.fail(
            XMLSyntaxError(code: code, message: message, line: position?.line ?? 0, column: position?.column ?? 0)
        )
    }

    /// The parser's current line, for the rare node the markup guard has no position for.
    private var parserLine: Int {
        Int(self.parser?.pointee.input?.pointee.line ?? 0)
    }

    // MARK: - Errors

    /// libxml2's structured error: the first error (not warning) refuses the document, with libxml2's position.
    mutating func record(_ error: xmlError) {
        guard error.level.rawValue >= XML_ERR_ERROR.rawValue, self.failure == nil else { return }
        var message = error.message.map { String(cString: $0) } ?? "XML error \(error.code)"
        while let last = message.last, last.isWhitespace { message.removeLast() }
        if message.utf8.count > 300 { message = String(message.prefix(300)) + "…" }
        // An undeclared entity that libxml2 lets through because the document names an external subset (which might
        // have declared it): it is the reference itself that is refused.
        let code: XMLSyntaxError.Code =
            error.code == Int32(XML_WAR_UNDECLARED_ENTITY.rawValue) ? .entityNotAllowed : .malformed
        self.fail(
            XMLSyntaxError(code: code, message: message, line: Int(error.line), column: Int(error.int2)),
            number: error.code
        )
    }

    // MARK: - Elements

    mutating func startElement(
        _ localName: UnsafePointer<xmlChar>?,
        _ prefix: UnsafePointer<xmlChar>?,
        _ uri: UnsafePointer<xmlChar>?,
        namespaceCount: Int,
        attributeCount: Int,
        _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        guard self.failure == nil else { return }
        let position = self.markup.nextStartTag() ?? MarkupGuard.Position(line: self.parserLine, column: 0)
        self.open.append((position, namespaceCount))
        self.namespacesInScope += namespaceCount
        self.isInText = false
        self.outsideTextLength = 0
        guard self.countNode() else { return }
        if self.open.count > self.limits.maximumDepth {
            return self.fail(.tooDeep, "elements are nested deeper than \(self.limits.maximumDepth) levels")
        }
        if self.namespacesInScope > self.limits.maximumNamespaceDeclarations {
            return self.fail(
                .tooManyAttributes,
                "more than \(self.limits.maximumNamespaceDeclarations) namespace declarations are in scope"
            )
        }
        if namespaceCount + attributeCount > self.limits.maximumAttributes {
            return self.fail(
                .tooManyAttributes,
                "an element has more than \(self.limits.maximumAttributes) attributes"
            )
        }
        if self.rootLocalName == nil {
            self.names.use(dictionaryOf: self.parser)
            self.rootLocalName = self.names.string(localName)
            self.rootNamespaceURI = uri.map { self.names.string($0) }
        }
        if self.building.count == 0, let recordNames = self.recordNames,
            !recordNames.contains(self.names.string(localName))
        {
            // Outside the records: checked, not kept.
            for index in 0..<attributeCount {
                let start = attributes![5 * index + 3]!
                let end = attributes![5 * index + 4]!
                if end - start > self.limits.maximumTextLength {
                    return self.failAttributeTooLong(attributes![5 * index])
                }
            }
            return
        }
        var attributeList: [XMLAttribute] = []
        if attributeCount > 0, let attributes {
            attributeList.reserveCapacity(attributeCount)
            for index in 0..<attributeCount {
                let fields = attributes + 5 * index
                let start = fields[3]!
                let length = fields[4]! - start
                if length > self.limits.maximumTextLength { return self.failAttributeTooLong(fields[0]) }
                attributeList.append(
                    XMLAttribute(
                        localName: self.names.string(fields[0]),
                        prefix: fields[1].map { self.names.string($0) },
                        namespaceURI: fields[2].map { self.names.string($0) },
                        value: attributeValue(start, count: length)
                    )
                )
            }
        }
        _ = self.building.push(
            localName: self.names.string(localName),
            prefix: prefix.map { self.names.string($0) },
            namespaceURI: uri.map { self.names.string($0) },
            attributes: attributeList,
            line: position.line,
            column: position.column
        )
        self.frames.append((self.finished.count, false))
    }

    mutating func endElement() {
        guard self.failure == nil else { return }
        if let closed = self.open.popLast() { self.namespacesInScope -= closed.namespaces }
        self.isInText = false
        self.outsideTextLength = 0
        guard self.building.count > 0 else { return }
        let top = self.building.top
        let frame = self.frames.removeLast()
        if self.finished.count > frame.childrenStart {
            top.pointee.children = self.finished.popArray(from: frame.childrenStart)
            if !frame.hasSignificantText && !top.pointee.text.isEmpty { top.pointee.text = "" }
        }
        if self.building.count == 1 {
            self.records.append(self.building.pop())
        } else {
            self.building.moveTop(onto: &self.finished)
        }
    }

    private mutating func failAttributeTooLong(_ name: UnsafePointer<xmlChar>?) {
        let name = name.map { makeString($0) } ?? "?"
        self.fail(.textTooLong, "the value of attribute \(name) is longer than \(self.limits.maximumTextLength) bytes")
    }

    // MARK: - Character data and other nodes

    /// Text and CDATA. libxml2 may deliver one run of text in several calls.
    mutating func characters(_ text: UnsafePointer<xmlChar>?, _ length: Int) {
        guard self.failure == nil, let text, length > 0 else { return }
        if !self.isInText {
            self.isInText = true
            self.pendingBlank = ""
            self.isRunSignificant = false
            guard self.countNode() else { return }
        }
        guard self.building.count > 0 else {
            self.outsideTextLength += length
            if self.outsideTextLength > self.limits.maximumTextLength { self.failTextTooLong() }
            return
        }
        let top = self.building.top
        let isBlank = Self.isBlank(text, length)
        let total = length + self.pendingBlank.utf8.count + top.pointee.text.utf8.count
        if total > self.limits.maximumTextLength { return self.failTextTooLong() }
        if isBlank && !self.isRunSignificant && self.finished.count > self.frames[self.frames.count - 1].childrenStart {
            self.pendingBlank += makeString(text, count: length)
            return
        }
        var string = makeString(text, count: length)
        if !self.pendingBlank.isEmpty {
            string = self.pendingBlank + string
            self.pendingBlank = ""
        }
        if top.pointee.text.isEmpty {
            top.pointee.text = string
        } else {
            top.pointee.text += string
        }
        if !isBlank {
            self.isRunSignificant = true
            self.frames[self.frames.count - 1].hasSignificantText = true
        }
    }

    private mutating func failTextTooLong() {
        self.fail(.textTooLong, "a text is longer than \(self.limits.maximumTextLength) bytes")
    }

    /// A comment or processing instruction: counted, not kept; inside a DTD it means an internal subset.
    mutating func otherNode() {
        guard self.failure == nil else { return }
        if self.parser?.pointee.inSubset ?? 0 != 0 { return self.internalSubsetFound() }
        self.isInText = false
        _ = self.countNode()
    }

    /// `&name;` for anything but the five predefined entities (which libxml2 replaces itself).
    mutating func entityReference(_ name: UnsafePointer<xmlChar>?) {
        guard self.failure == nil else { return }
        let name = name.map { makeString($0) } ?? ""
        self.fail(.entityNotAllowed, "entity references are not allowed (&\(name);)")
    }

    @inline(__always)
    private mutating func countNode() -> Bool {
        self.nodeCount += 1
        guard self.nodeCount > self.limits.maximumNodes else { return true }
        self.fail(.tooManyNodes, "the document has more than \(self.limits.maximumNodes) nodes")
        return false
    }

    // MARK: - DOCTYPE

    /// `<!DOCTYPE name ExternalID`: called before any internal subset is parsed, with the parser on the character
    /// that follows, which is `[` exactly when an internal subset follows.
    mutating func doctype(_ name: UnsafePointer<xmlChar>?) {
        guard self.failure == nil else { return }
        let name = name.map { makeString($0) } ?? ""
        let next = self.parser?.pointee.input?.pointee.cur?.pointee
        if next == 0x5B {
            return self.fail(self.doctypeError("a DOCTYPE with an internal subset is not allowed (\(name))"))
        }
        if !self.limits.allowedDoctypes.contains(name) {
            self.fail(self.doctypeError("DOCTYPE is not allowed (\(name))"))
        }
    }

    /// Any declaration (entity, element, attribute list, notation) or other content of an internal subset.
    mutating func internalSubsetFound() {
        let name = self.parser?.pointee.intSubName.map { makeString($0) } ?? ""
        self.fail(self.doctypeError("a DOCTYPE with an internal subset is not allowed (\(name))"))
    }

    private func doctypeError(_ message: String) -> XMLSyntaxError {
        let position = self.markup.doctypePosition
        return XMLSyntaxError(
            code: .doctypeNotAllowed,
            message: message,
            line: position?.line ?? self.parserLine,
            column: position?.column ?? 0
        )
    }

    @inline(__always)
    private static func isBlank(_ text: UnsafePointer<xmlChar>, _ length: Int) -> Bool {
        for index in 0..<length {
            switch text[index] {
            case 0x20, 0x0A, 0x09, 0x0D: continue
            default: return false
            }
        }
        return true
    }
}

/// An attribute value as libxml2's SAX2 parser hands it over without entity substitution: already normalized and
/// decoded, except that every `&` (from `&amp;` or `&#38;`) arrives re-encoded as `&#38;` (libxml2 does this so
/// that its own tree builder can re-parse the value; it is the only `&` that can occur, since no other entity can be
/// declared). Decoded back here.
private func attributeValue(_ start: UnsafePointer<xmlChar>, count: Int) -> String {
    let bytes = UnsafeBufferPointer(start: start, count: count)
    guard bytes.contains(0x26) else { return String(decoding: bytes, as: UTF8.self) }
    var decoded: [UInt8] = []
    decoded.reserveCapacity(count)
    var index = 0
    while index < count {
        if bytes[index] == 0x26, index + 4 < count, bytes[index + 1] == 0x23, bytes[index + 2] == 0x33,
            bytes[index + 3] == 0x38, bytes[index + 4] == 0x3B
        {
            decoded.append(0x26)
            index += 5
        } else {
            decoded.append(bytes[index])
            index += 1
        }
    }
    return String(decoding: decoded, as: UTF8.self)
}
