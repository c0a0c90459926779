import Testing
import XMLSyntax

/// Every limit holds exactly at its value, is refused one past it with its own code and the place, and is refused
/// without reading or keeping what lies beyond.
@Suite struct LimitsTests {
    @Test func defaultsAreTheSafeOnes() {
        let limits = XMLLimits.default
        #expect(limits.maximumBytes == 64 << 20)
        #expect(limits.maximumDepth == 64)
        #expect(limits.maximumNodes == 2_000_000)
        #expect(limits.maximumTextLength == 1 << 20)
        #expect(limits.maximumAttributes == 256)
        #expect(limits.allowedDoctypes.isEmpty)
        #expect(limits.maximumNamespaceDeclarations == 256)
    }

    @Test func depthIsLimited() throws {
        let limits = XMLLimits(maximumDepth: 5)
        let five = "<a>" + String(repeating: "<b>", count: 4) + String(repeating: "</b>", count: 4) + "</a>"
        _ = try readDocument(five, limits: limits)
        let six = "<a>\n" + String(repeating: "<b>", count: 5) + String(repeating: "</b>", count: 5) + "</a>"
        let error = try #require(syntaxError { () throws(XMLSyntaxError) in try readDocument(six, limits: limits) })
        #expect(error.code == .tooDeep)
        #expect(error.line == 2 && error.column == 13)
        #expect(error.description == "line 2, column 13: elements are nested deeper than 5 levels")
    }

    @Test func defaultDepthRefusesDeepNestingQuickly() {
        let deep = String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)
        var error: XMLSyntaxError?
        let time = elapsed { error = syntaxError { () throws(XMLSyntaxError) in try readDocument(deep) } }
        #expect(error?.code == .tooDeep)
        #expect(time < HardeningTests.quickly)
    }

    @Test func nodeCountIsLimited() throws {
        // Elements, text runs, comments and processing instructions count; attributes and end tags do not.
        let limits = XMLLimits(maximumNodes: 6)
        let six = "<r a=\"1\" b=\"2\"><a/>text<!-- c --><?pi x?><b/></r>"
        _ = try readDocument(six, limits: limits)
        let seven = "<r><a/>text<!-- c --><?pi x?><b/><c/></r>"
        #expect(
            syntaxError { () throws(XMLSyntaxError) in try readDocument(seven, limits: limits) }?.code == .tooManyNodes
        )
    }

    @Test func sizeIsLimitedAsBytesAreFed() throws {
        let document = "<r>" + String(repeating: "x", count: 93) + "</r>"  // 100 bytes
        _ = try readDocument(document, limits: XMLLimits(maximumBytes: 100))
        for chunk in [1, 7, Int.max] {
            let error = syntaxError { () throws(XMLSyntaxError) in
                try readDocument(document, limits: XMLLimits(maximumBytes: 99), chunk: chunk)
            }
            #expect(error?.code == .tooLarge)
            #expect(error?.message == "the document is larger than 99 bytes")
        }
    }

    @Test func endlessInputStopsAtTheSizeLimit() {
        var delivered = 0
        let reader = XMLStreamReader(limits: XMLLimits(maximumBytes: 1 << 20)) { buffer in
            let prefix = delivered == 0 ? Array("<r>".utf8) : []
            for index in 0..<buffer.count { buffer[index] = index < prefix.count ? prefix[index] : 0x61 }
            delivered += buffer.count
            return buffer.count
        }
        #expect(syntaxError { () throws(XMLSyntaxError) in try reader.readDocument() }?.code == .tooLarge)
        #expect(delivered <= (1 << 20) + (64 << 10))
    }

    @Test func textLengthIsLimited() throws {
        let limits = XMLLimits(maximumTextLength: 10)
        _ = try readDocument("<r>0123456789</r>", limits: limits)
        let error = try #require(
            syntaxError { () throws(XMLSyntaxError) in try readDocument("<r>\n <a>01234567890</a></r>", limits: limits)
            }
        )
        #expect(error.code == .textTooLong)
        #expect(error.line == 2 && error.column == 2)
        // Text in pieces (CDATA, character references, entities) counts as one value.
        let pieces = "<r>0123<![CDATA[4567]]>&#56;&amp;9</r>"
        #expect(
            syntaxError { () throws(XMLSyntaxError) in try readDocument(pieces, limits: limits) }?.code == .textTooLong
        )
        // Multibyte characters count in UTF-8 bytes: five two-byte characters fit, six do not.
        _ = try readDocument("<r>ééééé</r>", limits: limits)
        #expect(
            syntaxError { () throws(XMLSyntaxError) in try readDocument("<r>éééééé</r>", limits: limits) }?.code
                == .textTooLong
        )
    }

    @Test func attributeValueLengthIsLimited() throws {
        let limits = XMLLimits(maximumTextLength: 10)
        _ = try readDocument("<r a=\"0123456789\"/>", limits: limits)
        let error = syntaxError { () throws(XMLSyntaxError) in
            try readDocument("<r a=\"01234567890\"/>", limits: limits)
        }
        #expect(error?.code == .textTooLong)
        #expect(error?.message == "the value of attribute a is longer than 10 bytes")
    }

    @Test func textAndAttributesOutsideRecordsAreLimitedToo() {
        let limits = XMLLimits(maximumTextLength: 10)
        let longText = "<batch>01234567890<order/></batch>"
        let longAttribute = "<batch id=\"01234567890\"><order/></batch>"
        for document in [longText, longAttribute] {
            let reader = XMLStreamReader(bytes: Array(document.utf8), limits: limits)
            #expect(throws: XMLSyntaxError.self) { try reader.readRecords(named: ["order"]) { _ in } }
        }
    }

    @Test func attributeCountIsLimited() throws {
        let limits = XMLLimits(maximumAttributes: 3)
        _ = try readDocument("<r a=\"1\" b=\"2\" c=\"3\"/>", limits: limits)
        let four = "<r>\n  <e a=\"1\" b=\"2\" c=\"3\" d=\"4\"/></r>"
        let error = try #require(syntaxError { () throws(XMLSyntaxError) in try readDocument(four, limits: limits) })
        #expect(error.code == .tooManyAttributes)
        #expect(error.line == 2 && error.column == 3)
        let withNamespaces = "<r xmlns=\"urn:a\" xmlns:b=\"urn:b\" a=\"1\" b:c=\"2\"/>"
        #expect(
            syntaxError { () throws(XMLSyntaxError) in try readDocument(withNamespaces, limits: limits) }?.code
                == .tooManyAttributes
        )
        // An equals sign inside a value is not an attribute.
        _ = try readDocument("<r a=\"x=1&amp;y=2\" b='=' c=\"==\"/>", limits: limits)
    }

    @Test func namespaceDeclarationsInScopeAreLimited() throws {
        let limits = XMLLimits(maximumNamespaceDeclarations: 3)
        let three = "<a xmlns=\"urn:a\" xmlns:b=\"urn:b\"><c xmlns:c=\"urn:c\"/><d xmlns:d=\"urn:d\"/></a>"
        _ = try readDocument(three, limits: limits)
        let four = "<a xmlns=\"urn:a\" xmlns:b=\"urn:b\"><c xmlns:c=\"urn:c\">\n <d xmlns:d=\"urn:d\"/></c></a>"
        let error = try #require(syntaxError { () throws(XMLSyntaxError) in try readDocument(four, limits: limits) })
        #expect(error.code == .tooManyAttributes)
        #expect(error.line == 2 && error.column == 2)
        #expect(error.message == "more than 3 namespace declarations are in scope")
    }

    @Test func thousandsOfNamespacesInScopeAreRefusedQuickly() {
        // libxml2 2.9 scans every declaration in scope for each prefixed name: 15 000 in scope and 150 000 small
        // elements (1.3 MB) cost it over a second; past the limit the document is refused at once.
        let declarations = { (level: Int) in
            (0..<250).map { "xmlns:p\(level)_\($0)=\"urn:\(level):\($0)\"" }.joined(separator: " ")
        }
        let document =
            "<z:r xmlns:z=\"urn:z\">" + (0..<60).map { "<a \(declarations($0))>" }.joined()
            + String(repeating: "<z:b/>", count: 150_000) + String(repeating: "</a>", count: 60) + "</z:r>"
        var error: XMLSyntaxError?
        let time = elapsed { error = syntaxError { () throws(XMLSyntaxError) in try readDocument(document) } }
        #expect(error?.code == .tooManyAttributes)
        #expect(time < HardeningTests.quickly)
    }
}
