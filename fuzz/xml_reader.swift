// libFuzzer target: XMLStreamReader (XMLSyntax) on arbitrary bytes.
//
// Built by fuzz/run.sh together with every Sources/XMLSyntax/*.swift into one module (not with fuzz/Support/, which is
// EDISyntax's), and linked with the system libxml2, which is not instrumented: coverage and ASan cover the Swift
// side (the markup guard, the SAX callbacks, the tree building, the memory it manages by hand).
//
// The last input byte is a selector: bits 0-2 pick how many bytes each `read` returns, bit 3 small limits (so that
// every limit is reached), bit 4 the allowed DOCTYPE names r, cXML and Order. Per input the target
// - reads the document with `readDocument`, fed in the selected chunks, and touches every value of the tree or error;
// - reads it again all at once and traps if the outcome differs in any way (the reader fills its own buffer before
//   parsing, so the outcome must not depend on how the bytes arrive);
// - when the document was read, streams it with `readRecords` named after some of the root's children and traps
//   unless the records are exactly the outermost such elements of the tree, and checks that an error thrown by the
//   body comes out unchanged.

private let chunkSizes = [1, 2, 3, 7, 64, 4096, Int.max, 5]

private let smallLimits = XMLLimits(
    maximumBytes: 4096,
    maximumDepth: 8,
    maximumNodes: 200,
    maximumTextLength: 64,
    maximumAttributes: 4,
    maximumNamespaceDeclarations: 6
)

private struct BodyStop: Error, Equatable {
    var record: Int
}

/// A `read` closure handing `bytes` over `chunk` bytes at a time.
private func reading(_ bytes: [UInt8], chunk: Int) -> (UnsafeMutableRawBufferPointer) throws -> Int {
    var offset = 0
    return { buffer in
        let count = min(buffer.count, chunk, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}

private func read(_ bytes: [UInt8], limits: XMLLimits, chunk: Int) -> Result<XMLElement, XMLSyntaxError> {
    let reader = XMLStreamReader(limits: limits, documentName: "fuzz.xml", read: reading(bytes, chunk: chunk))
    let result = Result { () throws(XMLSyntaxError) in try reader.readDocument() }
    if case .success(let root) = result, reader.rootLocalName != root.localName {
        fatalError("rootLocalName \(String(describing: reader.rootLocalName)) differs from the root \(root.localName)")
    }
    return result
}

/// Reads every value of the tree, so that nothing the reader built goes unused.
@inline(never)
private func touch(_ element: XMLElement) -> Int {
    var sink = element.localName.utf8.count &+ element.text.utf8.count &+ element.line &+ element.column
    sink &+= (element.prefix?.utf8.count ?? 0) &+ (element.namespaceURI?.utf8.count ?? 0)
    for attribute in element.attributes {
        sink &+= attribute.localName.utf8.count &+ attribute.value.utf8.count
        sink &+= (attribute.prefix?.utf8.count ?? 0) &+ (attribute.namespaceURI?.utf8.count ?? 0)
        sink &+= element.attribute(attribute.localName)?.utf8.count ?? 0
    }
    for child in element.children { sink &+= touch(child) }
    if let first = element.children.first {
        sink &+= element.firstChild(first.localName)?.line ?? 0
        sink &+= element.children(first.localName).count
    }
    return sink
}

/// The outermost elements whose local name is in `names`, in document order (what `readRecords` must return).
private func outermost(_ names: Set<String>, in element: XMLElement) -> [XMLElement] {
    if names.contains(element.localName) { return [element] }
    return element.children.flatMap { outermost(names, in: $0) }
}

private func checkRecords(_ bytes: [UInt8], _ root: XMLElement, limits: XMLLimits, chunk: Int) {
    var names = Set(root.children.prefix(2).map(\.localName))
    if names.isEmpty { names = [root.localName] }
    let expected = outermost(names, in: root)
    var records: [XMLElement] = []
    do {
        let reader = XMLStreamReader(limits: limits, read: reading(bytes, chunk: chunk))
        let count = try reader.readRecords(named: names) { records.append($0) }
        guard count == records.count, records == expected else {
            fatalError(
                "readRecords returned \(records.count) records, the tree holds \(expected.count) (or they differ)"
            )
        }
    } catch let error as XMLSyntaxError {
        // Outside the records text is counted per run, whitespace included: stricter than in a tree.
        guard error.code == .textTooLong else { fatalError("readRecords failed where readDocument did not: \(error)") }
    } catch {
        fatalError("readRecords threw \(error)")
    }
    guard expected.count >= 2 else { return }
    // An error thrown by the body comes out unchanged, and stops the reading.
    var calls = 0
    do {
        let reader = XMLStreamReader(limits: limits, read: reading(bytes, chunk: chunk))
        try reader.readRecords(named: names) { _ in
            calls += 1
            if calls == 2 { throw BodyStop(record: calls) }
        }
        fatalError("the body's error did not come out")
    } catch let error as BodyStop {
        guard error == BodyStop(record: 2), calls == 2 else { fatalError("the body's error came out changed") }
    } catch let error as XMLSyntaxError {
        guard error.code == .textTooLong else { fatalError("readRecords failed where readDocument did not: \(error)") }
    } catch {
        fatalError("readRecords threw \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXMLReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let selector = Int(data[size - 1])
    let bytes = Array(UnsafeBufferPointer(start: data, count: size - 1))
    var limits = selector & 8 != 0 ? smallLimits : XMLLimits.default
    if selector & 16 != 0 { limits.allowedDoctypes = ["r", "cXML", "Order"] }
    let chunk = chunkSizes[selector & 7]

    let chunked = read(bytes, limits: limits, chunk: chunk)
    switch chunked {
    case .success(let root):
        if touch(root) == -1 { print("unreachable") }
    case .failure(let error):
        if error.description.isEmpty || error.code.description.isEmpty || error.line < 0 || error.column < 0 {
            fatalError("an error without a description or with a negative position: \(error)")
        }
    }
    let whole = read(bytes, limits: limits, chunk: Int.max)
    guard chunked == whole else {
        fatalError("reading in \(chunk)-byte chunks gave \(chunked), all at once \(whole)")
    }
    if case .success(let root) = whole {
        checkRecords(bytes, root, limits: limits, chunk: chunk)
    }
    return 0
}
