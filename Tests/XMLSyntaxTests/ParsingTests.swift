import Testing
import XMLSyntax

/// What a well-formed document becomes: names and namespaces, text, attributes, positions, encodings.
@Suite struct ParsingTests {
    static let ubl = "urn:oasis:names:specification:ubl:schema:xsd:Order-2"
    static let cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    static let cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"

    @Test func ublPrefixesResolveToTheirNamespaces() throws {
        let reader = XMLStreamReader(bytes: try Fixtures.bytes("corpus/ubl21-order-phubl.xml"))
        let order = try reader.readDocument()
        #expect(reader.rootLocalName == "Order")
        #expect(reader.rootNamespaceURI == Self.ubl)
        #expect(order.localName == "Order" && order.prefix == nil && order.namespaceURI == Self.ubl)
        let id = try #require(order.firstChild("ID"))
        #expect(id.prefix == "cbc" && id.namespaceURI == Self.cbc)
        #expect(id.text == "34")
        let line = try #require(order.firstChild("OrderLine"))
        #expect(line.prefix == "cac" && line.namespaceURI == Self.cac)
        let quantity = try #require(line.firstChild("LineItem")?.firstChild("Quantity"))
        #expect(quantity.attribute("unitCode") == "LTR")
        #expect(quantity.attributes.first?.namespaceURI == nil)
        #expect(order.children("OrderLine").count == 2)
    }

    @Test func defaultNamespaceAppliesToElementsNotAttributes() throws {
        let root = try readDocument(
            "<a xmlns=\"urn:x\" xmlns:p=\"urn:p\" k=\"1\" p:k=\"2\"><b><c xmlns=\"\"/></b><p:d/></a>"
        )
        #expect(root.namespaceURI == "urn:x" && root.prefix == nil)
        #expect(root.attributes.map(\.namespaceURI) == [nil, "urn:p"])
        #expect(root.attributes.map(\.prefix) == [nil, "p"])
        let b = try #require(root.firstChild("b"))
        #expect(b.namespaceURI == "urn:x")
        #expect(b.firstChild("c")?.namespaceURI == nil)
        #expect(root.firstChild("d")?.namespaceURI == "urn:p")
        // Namespace declarations are not attributes.
        #expect(root.attributes.map(\.localName) == ["k", "k"])
    }

    @Test func undeclaredPrefixIsMalformed() {
        #expect(syntaxError { () throws(XMLSyntaxError) in try readDocument("<r><p:a/></r>") }?.code == .malformed)
    }

    @Test func xmlLangIsFoundByItsLocalName() throws {
        let root = try readDocument("<cXML xml:lang=\"en-US\"/>")
        #expect(root.attribute("lang") == "en-US")
        #expect(root.attributes.first?.prefix == "xml")
        #expect(root.attributes.first?.namespaceURI == "http://www.w3.org/XML/1998/namespace")
    }

    @Test func cdataComesThroughAsText() throws {
        let root = try readDocument("<r>a<![CDATA[<not> & markup ]]>]]&gt;c</r>")
        #expect(root.text == "a<not> & markup ]]>c")
        #expect(root.children.isEmpty)
    }

    @Test func whitespaceBetweenChildElementsIsDroppedButMixedTextIsKept() throws {
        let indented = try readDocument("<r>\n  <a> x </a>\n  <b/>\n</r>")
        #expect(indented.text == "")
        #expect(indented.firstChild("a")?.text == " x ")
        let mixed = try readDocument("<r> one <a/> two </r>")
        #expect(mixed.text == " one  two ")
        let onlySpace = try readDocument("<r>  </r>")
        #expect(onlySpace.text == "  ")
        // A run that starts with whitespace after a child is kept whole, however libxml2 splits it.
        let afterChild = try readDocument("<r><a/>  &amp; x<b/>\n</r>")
        #expect(afterChild.text == "  & x")
        let long = String(repeating: " ", count: 70_000)
        let longRun = try readDocument("<r><a/>" + long + "x" + long + "<b/>" + long + "</r>")
        #expect(longRun.text == long + "x" + long)
    }

    @Test func utf8ByteOrderMarkIsSkipped() throws {
        let root = try readDocument([0xEF, 0xBB, 0xBF] + Array("<r>\n <a>ü</a></r>".utf8))
        #expect(root.localName == "r")
        #expect(root.firstChild("a")?.text == "ü")
        #expect(root.line == 1 && root.column == 1)
        #expect(root.firstChild("a")?.line == 2 && root.firstChild("a")?.column == 2)
    }

    @Test func isoLatin1DocumentDecodesToTheRightString() throws {
        let bytes: [UInt8] =
            Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<r a=\"".utf8) + [0xE9]
            + Array("\">caf".utf8) + [0xE9, 0x20, 0xFC, 0xDF, 0x20, 0xA3] + Array("</r>".utf8)
        for chunk in [1, 3, Int.max] {
            let root = try readDocument(bytes, chunk: chunk)
            #expect(root.text == "café üß £")
            #expect(root.attribute("a") == "é")
        }
        let peru = try readDocument(try Fixtures.bytes("corpus/ubl20-despatchadvice-peru-phubl.xml"))
        #expect(peru.localName == "DespatchAdvice")
    }

    @Test func utf16DocumentsAreRead() throws {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<r a=\"ü\">\n  <b>€ 𝄞</b></r>"
        let littleEndian: [UInt8] = [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let bigEndian: [UInt8] = [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        for bytes in [littleEndian, bigEndian] {
            for chunk in [1, 3, Int.max] {
                let root = try readDocument(bytes, chunk: chunk)
                #expect(root.attribute("a") == "ü")
                #expect(root.firstChild("b")?.text == "€ 𝄞")
                #expect(root.firstChild("b")?.line == 3 && root.firstChild("b")?.column == 3)
            }
        }
    }

    @Test func otherDeclaredEncodingsAreDecoded() throws {
        let shiftJIS: [UInt8] =
            Array("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n<r>".utf8) + [0x83, 0x65, 0x83, 0x58, 0x83, 0x67]
            + Array("</r>".utf8)
        #expect(try readDocument(shiftJIS).text == "テスト")
        let windows1252: [UInt8] =
            Array("<?xml version=\"1.0\" encoding=\"windows-1252\"?><r>".utf8) + [0x80, 0x20, 0x93, 0x94]
            + Array("</r>".utf8)
        #expect(try readDocument(windows1252).text == "€ \u{201C}\u{201D}")
    }

    @Test func encodingErrorsAreReportedNotPrinted() throws {
        let invalid: [UInt8] =
            Array("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n<r>".utf8) + [0x81, 0xFF, 0x80]
            + Array("</r>".utf8)
        var error: XMLSyntaxError?
        let printed = try capturingStandardError {
            error = syntaxError { () throws(XMLSyntaxError) in try readDocument(invalid) }
        }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("conversion failed") == true)
        #expect(printed.isEmpty, "libxml2 printed: \(printed)")
    }

    @Test func unclosedTagReportsItsLineAndColumn() throws {
        let error = try #require(syntaxError { () throws(XMLSyntaxError) in try readDocument("<r>\n  <a>\n</r>\n") })
        #expect(error.code == .malformed)
        #expect(error.line == 3 && error.column == 5)
        #expect(error.message == "Opening and ending tag mismatch: a line 2 and r")
        #expect(error.description == "line 3, column 5: Opening and ending tag mismatch: a line 2 and r")
        let truncated = try #require(syntaxError { () throws(XMLSyntaxError) in try readDocument("<r>\n  <a>text") })
        #expect(truncated.code == .malformed)
        #expect(truncated.line == 2)
    }

    @Test func malformedBytesAreRefused() {
        #expect(
            syntaxError { () throws(XMLSyntaxError) in
                try readDocument([0x3C, 0x72, 0x3E, 0xFF, 0xFE, 0x3C, 0x2F, 0x72, 0x3E])
            }?.code == .malformed
        )
        #expect(
            syntaxError { () throws(XMLSyntaxError) in
                try readDocument("<?xml version=\"1.0\" encoding=\"bogus\"?><r/>")
            }?.code == .malformed
        )
        #expect(syntaxError { () throws(XMLSyntaxError) in try readDocument("<r/><r/>") }?.code == .malformed)
        #expect(
            syntaxError { () throws(XMLSyntaxError) in try readDocument("<r a=\"1\" a=\"2\"/>") }?.code == .malformed
        )
    }

    @Test(arguments: ["", "   \n", "<?xml version=\"1.0\"?>", "<!-- nothing -->", "no markup"])
    func documentWithoutAnElementHasNoRoot(_ document: String) {
        #expect(syntaxError { () throws(XMLSyntaxError) in try readDocument(document) }?.code == .noRootElement)
    }

    @Test func elementsKnowWhereTheirStartTagIs() throws {
        let root = try readDocument(
            "<?xml version=\"1.0\"?>\r\n<r>\r\n  <a\r\n   x=\"--> ]]> ?> >\" y='\"'>\r\n"
                + "    <!-- <c/> --><![CDATA[<d/>]]><?pi <e/>?><b/>  <ß/><é/></a>\r\n</r>"
        )
        #expect(root.line == 2 && root.column == 1)
        let a = try #require(root.firstChild("a"))
        #expect(a.line == 3 && a.column == 3)
        #expect(a.attribute("x") == "--> ]]> ?> >")
        #expect(a.attribute("y") == "\"")
        #expect(a.children.map(\.localName) == ["b", "ß", "é"])
        #expect(a.children.map(\.line) == [5, 5, 5])
        #expect(a.children.map(\.column) == [45, 51, 55])
    }

    @Test func oneByteAtATimeGivesTheSameTreeAsAllAtOnce() throws {
        for name in Fixtures.corpus {
            let bytes = try Fixtures.bytes("corpus/" + name)
            let limits = XMLLimits(allowedDoctypes: ["cXML"])
            let whole = try readDocument(bytes, limits: limits)
            #expect(try readDocument(bytes, limits: limits, chunk: 1) == whole, "\(name)")
            #expect(try readDocument(bytes, limits: limits, chunk: 5) == whole, "\(name)")
        }
    }

    @Test func readFailuresAreReported() {
        struct Broken: Error {}
        let throwing = XMLStreamReader { _ in throw Broken() }
        #expect(syntaxError { () throws(XMLSyntaxError) in try throwing.readDocument() }?.code == .readFailed)
        let lying = XMLStreamReader { buffer in buffer.count + 1 }
        #expect(syntaxError { () throws(XMLSyntaxError) in try lying.readDocument() }?.code == .readFailed)
        var calls = 0
        let failingLater = XMLStreamReader { buffer in
            calls += 1
            guard calls == 1 else { throw Broken() }
            buffer.copyBytes(from: "<r><a>".utf8)
            return 6
        }
        #expect(syntaxError { () throws(XMLSyntaxError) in try failingLater.readDocument() }?.code == .readFailed)
    }

    @Test func aReaderReadsOnce() throws {
        let reader = XMLStreamReader(bytes: Array("<r/>".utf8))
        _ = try reader.readDocument()
        let error = syntaxError { () throws(XMLSyntaxError) in try reader.readDocument() }
        #expect(error?.code == .readFailed)
        #expect(error?.message == "the document was already read")
        #expect(reader.rootLocalName == "r")
    }

    @Test func errorCodesHaveKebabNames() {
        let codes: [XMLSyntaxError.Code] = [
            .malformed, .doctypeNotAllowed, .entityNotAllowed, .tooLarge, .tooDeep, .tooManyNodes, .textTooLong,
            .tooManyAttributes, .noRootElement, .readFailed,
        ]
        #expect(
            codes.map(\.description) == [
                "malformed", "doctype-not-allowed", "entity-not-allowed", "too-large", "too-deep", "too-many-nodes",
                "text-too-long", "too-many-attributes", "no-root-element", "read-failed",
            ]
        )
        #expect(XMLSyntaxError(code: .tooLarge, message: "big").description == "big")
        #expect(XMLSyntaxError(code: .tooDeep, message: "deep", line: 4).description == "line 4: deep")
    }

    @Test func elementHelpersFindByLocalName() {
        let element = XMLElement(
            localName: "r",
            attributes: [XMLAttribute(localName: "a", prefix: "p", namespaceURI: "urn:p", value: "1")],
            children: [
                XMLElement(localName: "x", text: "1"), XMLElement(localName: "y"),
                XMLElement(localName: "x", text: "2"),
            ]
        )
        #expect(element.attribute("a") == "1")
        #expect(element.attribute("b") == nil)
        #expect(element.firstChild("x")?.text == "1")
        #expect(element.children("x").map(\.text) == ["1", "2"])
        #expect(element.firstChild("z") == nil)
    }
}
