import CLibXML2
import Glibc

// libxml2's SAX2 callbacks: each forwards to the DocumentBuilder that is the parser's user data. Callbacks that are
// left out stay null on purpose: no getEntity/getParameterEntity/resolveEntity (so no entity is ever found or
// loaded), no externalSubset (so the external DTD is never read), no startDocument (so libxml2 builds no tree).

/// The DocumentBuilder that a callback's context points to.
@inline(__always)
private func builder(_ context: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<DocumentBuilder> {
    context!.assumingMemoryBound(to: DocumentBuilder.self)
}

/// The SAX2 handler that forwards to a DocumentBuilder; libxml2 copies it when the parser is created.
func makeSAXHandler() -> xmlSAXHandler {
    var handler = xmlSAXHandler()
    handler.initialized = XML_SAX2_MAGIC
    handler.startElementNs = { context, localName, prefix, uri, namespaceCount, _, attributeCount, _, attributes in
        builder(context).pointee.startElement(
            localName,
            prefix,
            uri,
            namespaceCount: Int(namespaceCount),
            attributeCount: Int(attributeCount),
            attributes
        )
    }
    handler.endElementNs = { context, _, _, _ in builder(context).pointee.endElement() }
    let characters: charactersSAXFunc = { context, text, length in
        builder(context).pointee.characters(text, Int(length))
    }
    handler.characters = characters
    handler.ignorableWhitespace = characters
    handler.cdataBlock = characters
    handler.comment = { context, _ in builder(context).pointee.otherNode() }
    handler.processingInstruction = { context, _, _ in builder(context).pointee.otherNode() }
    handler.reference = { context, name in builder(context).pointee.entityReference(name) }
    handler.internalSubset = { context, name, _, _ in builder(context).pointee.doctype(name) }
    handler.entityDecl = { context, _, _, _, _, _ in builder(context).pointee.internalSubsetFound() }
    handler.notationDecl = { context, _, _, _ in builder(context).pointee.internalSubsetFound() }
    handler.attributeDecl = { context, _, _, _, _, _, tree in
        xmlFreeEnumeration(tree)  // the handler owns the enumeration it is given
        builder(context).pointee.internalSubsetFound()
    }
    handler.elementDecl = { context, _, _, _ in builder(context).pointee.internalSubsetFound() }
    handler.unparsedEntityDecl = { context, _, _, _, _ in builder(context).pointee.internalSubsetFound() }
    handler.serror = errorCallback
    return handler
}

/// libxml2's structured error callback, both the parser's and (while we parse) the thread's global one.
let errorCallback: xmlStructuredErrorFunc = { context, error in
    guard let context, let error else { return }
    builder(context).pointee.record(error.pointee)
}

/// A `FILE` that discards what is written to it (a full 64-byte memory stream: no file, no system call, later writes
/// fail quietly): the generic error channel's target while a document is parsed, so that the few libxml2 messages
/// that bypass the structured handlers never reach stderr.
nonisolated(unsafe) private let discardingFile: UnsafeMutablePointer<FILE>? = {
    guard let file = fmemopen(nil, 64, "w") else { return nil }
    setvbuf(file, nil, _IONBF, 0)
    return file
}()

/// libxml2's per-thread error channels, swapped for ours while libxml2 runs and restored afterwards.
///
/// Errors that libxml2 raises without a parser context (encoding conversion, I/O) go to the thread's global handlers
/// rather than to the parser's; routing them to the builder keeps them out of stderr and in the error we throw.
struct ErrorChannels {
    private let structured: xmlStructuredErrorFunc?
    private let structuredContext: UnsafeMutableRawPointer?
    private let generic: OpaquePointer?
    private let genericContext: UnsafeMutableRawPointer?

    /// Routes the current thread's libxml2 errors to `builder` until `restore()`.
    init(routingTo builder: UnsafeMutablePointer<DocumentBuilder>) {
        self.structured = __xmlStructuredError()?.pointee
        self.structuredContext = __xmlStructuredErrorContext()?.pointee
        self.generic = __xmlGenericError()?.pointee
        self.genericContext = __xmlGenericErrorContext()?.pointee
        xmlSetStructuredErrorFunc(builder, errorCallback)
        xmlSetGenericErrorFunc(discardingFile.map { UnsafeMutableRawPointer($0) }, nil)
    }

    /// Puts back the handlers that were there before.
    func restore() {
        xmlSetStructuredErrorFunc(self.structuredContext, self.structured)
        xmlSetGenericErrorFunc(self.genericContext, self.generic)
    }
}
