// XMLSyntax: a hardened, streaming XML reader over libxml2's SAX2 push parser.
//
// Trading partners send XML we do not control, so the reader assumes every document is hostile. The design, in the
// order the bytes meet it:
//
// 1. Bytes come only from the caller's `read` closure: XMLSyntax does no I/O of its own and gives libxml2 nothing it
//    could open. The reader counts the bytes (`maximumBytes`) and runs each chunk through the MarkupGuard before
//    libxml2 sees it. The guard refuses a start tag with more than `maximumAttributes` attributes (libxml2 2.9
//    checks duplicate attributes pairwise: one 1 MB start tag costs it 45 s) and any internal DTD subset
//    (`<!DOCTYPE r [`), so entity declarations, parameter entities, billion laughs and quadratic blow-ups never reach
//    libxml2 at all. It also records where each start tag begins, which libxml2 does not keep.
// 2. libxml2 parses with XML_PARSE_NONET (no network, even for a system id), NOERROR and NOWARNING (nothing printed)
//    and NOCDATA (CDATA arrives as text); never NOENT, DTDLOAD, DTDATTR, DTDVALID, HUGE or XINCLUDE, and the
//    parser's replaceEntities, loadsubset and validate stay 0. libxml2's own limits (10 MB text, 256 levels,
//    50 000-byte names) stay in force.
// 3. The SAX handler (SAXCallbacks.swift) leaves getEntity, getParameterEntity, resolveEntity and externalSubset null:
//    no entity other than the five predefined ones is ever found, nothing is ever loaded, and the external DTD of an
//    allowed DOCTYPE is not even looked at. Its internalSubset callback refuses a DOCTYPE whose name is not in
//    `allowedDoctypes`, or that is followed by `[`; any declaration callback refuses the document too. An entity
//    reference (reported by libxml2 only for an undeclared entity in a document with an external subset) is refused.
//    No tree is built by libxml2 (no startDocument), so XInclude cannot happen.
// 4. Errors go to a structured handler (the parser's and, while libxml2 runs, the thread's global one, so that
//    context-less encoding errors are caught too), never to stderr. The first error (not warning) refuses the
//    document with libxml2's line and column. Our own checks (depth, node count, text and attribute lengths,
//    attribute count, namespace declarations in scope, which libxml2 2.9 scans linearly for every prefixed name) run
//    in the callbacks. A callback cannot throw, so the first failure is stored and SAX switched
//    off (`disableSAX`); the reader throws it as soon as the current chunk returns.
//
// Why SAX and not xmlTextReader: on the 2-core build machine xmlTextReader itself, doing nothing per node, reads a
// 100 MB UBL batch at 71 MB/s; the SAX2 push parser parses it at 137 MB/s. The reader builds Swift value trees
// straight from the callbacks: names are interned by libxml2, so each distinct name becomes a Swift string once
// (NameCache); text becomes a string once. Input is parsed in 16 KiB chunks and completed records are handed out
// after each chunk, so memory is bounded by the open elements plus the records completed in one chunk.

import CLibXML2

/// A streaming XML reader that refuses DTDs, entities, oversized and overdeep documents, and builds value trees.
///
/// A reader reads one document once, with either `readDocument()` or `readRecords(named:_:)`. It is not thread-safe;
/// use it from one thread (or task) at a time.
public final class XMLStreamReader {
    /// The limits this reader enforces.
    public let limits: XMLLimits
    /// The name the document goes by in libxml2 (its base URI; nothing is ever resolved against it).
    public let documentName: String
    /// The root element's local name, available after the first call of either read method.
    public var rootLocalName: String? { self.builder?.pointee.rootLocalName }
    /// The root element's namespace URI, available after the first call of either read method.
    public var rootNamespaceURI: String? { self.builder?.pointee.rootNamespaceURI }

    private static let libraryInitialized: Void = xmlInitParser()
    private static let options = Int32(
        XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
            | XML_PARSE_NOCDATA.rawValue
    )
    private static let chunkSize = 16 << 10

    private let read: (UnsafeMutableRawBufferPointer) throws -> Int
    /// Allocated by the first read method and kept until deinit (it holds the root names); the SAX user data.
    private var builder: UnsafeMutablePointer<DocumentBuilder>?
    private var parser: xmlParserCtxtPtr?
    private var buffer: UnsafeMutableRawBufferPointer?
    private var bytesRead = 0
    private var isAtEnd = false
    private var inputEnded = false

    /// A reader over bytes that `read` supplies: it fills the buffer and returns the byte count, 0 at the end; it may
    /// throw (the document then fails with `.readFailed`). `read` is called only from the read methods.
    public init(
        limits: XMLLimits = .default,
        documentName: String = "document",
        read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int
    ) {
        self.limits = limits
        self.documentName = documentName
        self.read = read
    }

    /// A reader over bytes already in memory.
    public convenience init(bytes: [UInt8], limits: XMLLimits = .default, documentName: String = "document") {
        var offset = 0
        self.init(limits: limits, documentName: documentName) { buffer in
            let count = min(buffer.count, bytes.count - offset)
            guard count > 0 else { return 0 }
            bytes.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
            }
            offset += count
            return count
        }
    }

    deinit {
        self.finish()
        if let builder = self.builder {
            builder.deinitialize(count: 1)
            builder.deallocate()
        }
    }

    /// Reads the whole document into one tree (bounded by the limits).
    public func readDocument() throws(XMLSyntaxError) -> XMLElement {
        defer { self.finish() }
        try self.start(recordNames: nil)
        guard let root = try self.nextRecord() else {
            throw XMLSyntaxError(code: .noRootElement, message: "the document has no root element")
        }
        if try self.nextRecord() != nil {
            throw XMLSyntaxError(code: .malformed, message: "the document has more than one root element")
        }
        return root
    }

    /// Streams the document and builds a tree only for each element whose local name is in `localNames`
    /// (the outermost such element; matching elements nested inside a record are part of that record), calling
    /// `body` for each in document order and forgetting it afterwards, so memory is bounded by one record.
    /// Everything outside the records is checked (well-formed, limits, DOCTYPE policy) but not kept.
    /// Returns the number of records.
    ///
    /// Throws `XMLSyntaxError` for the document, and what `body` throws, unchanged. A document error is thrown after
    /// `body` has seen every record that ends before the error.
    @discardableResult
    public func readRecords(named localNames: Set<String>, _ body: (XMLElement) throws -> Void) throws -> Int {
        defer { self.finish() }
        try self.start(recordNames: localNames)
        var count = 0
        while let record = try self.nextRecord() {
            try body(record)
            count += 1
        }
        return count
    }

    private func start(recordNames: Set<String>?) throws(XMLSyntaxError) {
        guard self.builder == nil else {
            throw XMLSyntaxError(code: .readFailed, message: "the document was already read")
        }
        _ = Self.libraryInitialized
        let builder = UnsafeMutablePointer<DocumentBuilder>.allocate(capacity: 1)
        builder.initialize(to: DocumentBuilder(limits: self.limits, recordNames: recordNames))
        self.builder = builder
        self.buffer = .allocate(byteCount: Self.chunkSize, alignment: 16)
    }

    /// Frees the parser and the buffer as soon as the document is done with, whatever the outcome.
    private func finish() {
        if let parser = self.parser {
            self.parser = nil
            self.builder?.pointee.parser = nil
            if let document = parser.pointee.myDoc {  // never built (no startDocument); freed if it ever were
                parser.pointee.myDoc = nil
                xmlFreeDoc(document)
            }
            xmlFreeParserCtxt(parser)
        }
        self.buffer?.deallocate()
        self.buffer = nil
        self.isAtEnd = true
    }

    /// The next completed tree; nil at the end of a document that was entirely fine.
    private func nextRecord() throws(XMLSyntaxError) -> XMLElement? {
        guard let builder = self.builder else { return nil }
        while true {
            if let record = builder.pointee.takeRecord() { return record }
            if let failure = builder.pointee.failure { throw self.reported(failure, builder) }
            if self.isAtEnd { return nil }
            try self.parseNextChunk(builder)
        }
    }

    /// Maps libxml2's complaints about an empty document onto `noRootElement`.
    private func reported(
        _ failure: XMLSyntaxError,
        _ builder: UnsafeMutablePointer<DocumentBuilder>
    ) -> XMLSyntaxError {
        let number = builder.pointee.failureNumber
        let isEmpty =
            number == Int32(XML_ERR_DOCUMENT_EMPTY.rawValue) || number == Int32(XML_ERR_DOCUMENT_END.rawValue)
        guard isEmpty && builder.pointee.rootLocalName == nil else { return failure }
        return XMLSyntaxError(code: .noRootElement, message: "the document has no root element")
    }

    /// Fills the buffer (or reads to the end), has the markup guard look at it, and gives it to libxml2.
    ///
    /// The buffer is always filled before parsing, so libxml2 sees the same chunks whatever sizes `read` returns:
    /// the result for a document never depends on how its bytes arrive.
    private func parseNextChunk(_ builder: UnsafeMutablePointer<DocumentBuilder>) throws(XMLSyntaxError) {
        guard let buffer = self.buffer else { return }
        var count = 0
        while count < buffer.count && !self.inputEnded {
            let got = try self.readChunk(UnsafeMutableRawBufferPointer(rebasing: buffer[count...]))
            if got == 0 { self.inputEnded = true }
            count += got
        }
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<count])
        guard builder.pointee.markup.scan(chunk) else {
            throw MarkupGuard.error(for: builder.pointee.markup.violation)
        }

        let channels = ErrorChannels(routingTo: builder)
        defer { channels.restore() }
        let base = chunk.baseAddress?.assumingMemoryBound(to: CChar.self)
        if let parser = self.parser {
            if count > 0 { xmlParseChunk(parser, base, Int32(count), 0) }
        } else {
            // The first chunk goes in with the parser, which detects the encoding from its first bytes.
            try self.makeParser(builder, initialBytes: base, count: count)
        }
        if self.inputEnded { self.endOfInput(builder) }
    }

    private func makeParser(
        _ builder: UnsafeMutablePointer<DocumentBuilder>,
        initialBytes: UnsafePointer<CChar>?,
        count: Int
    ) throws(XMLSyntaxError) {
        var handler = makeSAXHandler()
        guard
            let parser = xmlCreatePushParserCtxt(&handler, builder, initialBytes, Int32(count), self.documentName)
        else {
            throw XMLSyntaxError(code: .readFailed, message: "libxml2 could not create a parser")
        }
        self.parser = parser
        builder.pointee.parser = parser
        xmlCtxtUseOptions(parser, Self.options)
        parser.pointee.replaceEntities = 0
        parser.pointee.loadsubset = 0
        parser.pointee.validate = 0
        if count > 0 { xmlParseChunk(parser, nil, 0, 0) }
    }

    /// Tells libxml2 the input is complete and checks what only the end can tell.
    private func endOfInput(_ builder: UnsafeMutablePointer<DocumentBuilder>) {
        self.isAtEnd = true
        guard let parser = self.parser else { return }
        xmlParseChunk(parser, nil, 0, 1)
        guard builder.pointee.failure == nil else { return }
        if builder.pointee.rootLocalName == nil {
            builder.pointee.fail(XMLSyntaxError(code: .noRootElement, message: "the document has no root element"))
        } else if parser.pointee.wellFormed == 0 || builder.pointee.openElementCount > 0 {
            builder.pointee.fail(XMLSyntaxError(code: .malformed, message: "the document is not well-formed"))
        }
    }

    /// Calls the caller's `read`, checking what it returns and counting the bytes.
    private func readChunk(_ buffer: UnsafeMutableRawBufferPointer) throws(XMLSyntaxError) -> Int {
        guard buffer.count > 0 else { return 0 }
        let count: Int
        do {
            count = try self.read(buffer)
        } catch {
            throw XMLSyntaxError(code: .readFailed, message: "reading the document failed: \(error)")
        }
        guard count >= 0 && count <= buffer.count else {
            let message = "read returned \(count) for a buffer of \(buffer.count) bytes"
            throw XMLSyntaxError(code: .readFailed, message: message)
        }
        guard count <= self.limits.maximumBytes - self.bytesRead else {
            throw XMLSyntaxError(
                code: .tooLarge,
                message: "the document is larger than \(self.limits.maximumBytes) bytes"
            )
        }
        self.bytesRead += count
        return count
    }
}
