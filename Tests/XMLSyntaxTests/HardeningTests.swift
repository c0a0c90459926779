import Foundation
import Testing
import XMLSyntax

/// The attacks a hostile partner can send: every one is refused with the right code, quickly, and nothing is read or
/// fetched.
@Suite struct HardeningTests {
    /// Generous: these are safety checks, not benchmarks.
    static let quickly = Duration.seconds(2)

    @Test func externalEntityToALocalFileIsRefusedAndNotRead() throws {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("xmlsyntax-secret-\(getpid()).txt")
        try "TOP-SECRET-CONTENT".write(to: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secret) }
        for target in [secret.absoluteString, "file:///etc/passwd"] {
            let document = """
                <?xml version="1.0"?>
                <!DOCTYPE r [<!ENTITY x SYSTEM "\(target)">]>
                <r>&x;</r>
                """
            let error = try #require(syntaxError { () throws(XMLSyntaxError) in try readDocument(document) })
            #expect(error.code == .doctypeNotAllowed)
            #expect(!error.description.contains("TOP-SECRET") && !error.description.contains("root:"))
            // Allowing the root name does not allow an internal subset.
            let allowed = XMLLimits(allowedDoctypes: ["r"])
            #expect(
                syntaxError { () throws(XMLSyntaxError) in try readDocument(document, limits: allowed) }?.code
                    == .doctypeNotAllowed
            )
        }
    }

    @Test func externalEntityToTheNetworkIsRefusedAndNothingConnects() throws {
        let listener = try LocalListener()
        for url in ["http://127.0.0.1:9/x", "http://127.0.0.1:\(listener.port)/x"] {
            let document = "<!DOCTYPE r [<!ENTITY x SYSTEM \"\(url)\">]><r>&x;</r>"
            #expect(syntaxError { () throws(XMLSyntaxError) in try readDocument(document) }?.code == .doctypeNotAllowed)
        }
        #expect(!listener.wasContacted)
    }

    @Test func parameterEntitiesAreRefusedAndNothingConnects() throws {
        let listener = try LocalListener()
        let documents = [
            "<!DOCTYPE r [<!ENTITY % pe SYSTEM \"http://127.0.0.1:\(listener.port)/pe.dtd\"> %pe;]><r/>",
            "<!DOCTYPE r [<!ENTITY % pe \"<!ENTITY x 'boom'>\"> %pe;]><r>&x;</r>",
            "<!DOCTYPE cXML SYSTEM \"cXML.dtd\" [ %undeclared; ]><cXML/>",
        ]
        for document in documents {
            let error = syntaxError { () throws(XMLSyntaxError) in
                try readDocument(document, limits: XMLLimits(allowedDoctypes: ["r", "cXML"]))
            }
            #expect(error?.code == .doctypeNotAllowed, "\(document)")
        }
        #expect(!listener.wasContacted)
    }

    @Test func externalDTDOfADoctypeThatIsNotAllowedIsRefused() throws {
        let listener = try LocalListener()
        let document = "<!DOCTYPE r SYSTEM \"http://127.0.0.1:\(listener.port)/r.dtd\"><r/>"
        let error = try #require(syntaxError { () throws(XMLSyntaxError) in try readDocument(document) })
        #expect(error.code == .doctypeNotAllowed)
        #expect(error.message == "DOCTYPE is not allowed (r)")
        #expect(error.line == 1 && error.column == 1)
        #expect(!listener.wasContacted)
    }

    @Test func allowedDoctypeWithoutInternalSubsetParsesWithoutFetchingItsDTD() throws {
        let listener = try LocalListener()
        let document = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE cXML SYSTEM "http://127.0.0.1:\(listener.port)/schemas/cXML/1.2.014/cXML.dtd">
            <cXML payloadID="1@example.com"><Header/></cXML>
            """
        let root = try readDocument(document, limits: XMLLimits(allowedDoctypes: ["cXML"]))
        #expect(root.localName == "cXML")
        #expect(root.attribute("payloadID") == "1@example.com")
        #expect(root.children.map(\.localName) == ["Header"])
        #expect(!listener.wasContacted)
        // Another root name is still refused, and so is any DOCTYPE by default.
        #expect(syntaxError { () throws(XMLSyntaxError) in try readDocument(document) }?.code == .doctypeNotAllowed)
        let other = XMLLimits(allowedDoctypes: ["Order"])
        #expect(
            syntaxError { () throws(XMLSyntaxError) in try readDocument(document, limits: other) }?.code
                == .doctypeNotAllowed
        )
    }

    @Test(arguments: [
        "<!DOCTYPE cXML SYSTEM \"cXML.dtd\" []><cXML/>",
        "<!DOCTYPE cXML SYSTEM \"cXML.dtd\" [ ]><cXML/>",
        "<!DOCTYPE cXML [<!-- only a comment -->]><cXML/>",
        "<!DOCTYPE cXML [<?pi only a processing instruction?>]><cXML/>",
        "<!DOCTYPE cXML SYSTEM \"cXML.dtd\" [<!ENTITY x \"y\">]><cXML>&x;</cXML>",
        "<!DOCTYPE cXML [<!ELEMENT cXML ANY>]><cXML/>",
        "<!DOCTYPE cXML [<!ATTLIST cXML a CDATA \"injected\">]><cXML/>",
        "<!DOCTYPE cXML [<!NOTATION n SYSTEM \"x\">]><cXML/>",
        "<!DOCTYPE cXML PUBLIC \"-//x//y\" \"cXML.dtd\"\n[\n]><cXML/>",
    ])
    func allowedDoctypeWithAnyInternalSubsetIsRefused(_ document: String) {
        let error = syntaxError { () throws(XMLSyntaxError) in
            try readDocument(document, limits: XMLLimits(allowedDoctypes: ["cXML"]))
        }
        #expect(error?.code == .doctypeNotAllowed)
        #expect(error?.message == "a DOCTYPE with an internal subset is not allowed (cXML)")
    }

    @Test func xIncludeStaysAnOrdinaryElementAndNothingIsRead() throws {
        let document = """
            <r xmlns:xi="http://www.w3.org/2001/XInclude">
              <xi:include href="file:///etc/passwd" parse="text"/>
              <xi:include href="http://127.0.0.1:9/x.xml"/>
            </r>
            """
        let root = try readDocument(document)
        #expect(root.children.count == 2)
        let include = try #require(root.firstChild("include"))
        #expect(include.prefix == "xi")
        #expect(include.namespaceURI == "http://www.w3.org/2001/XInclude")
        #expect(include.attribute("href") == "file:///etc/passwd")
        #expect(include.children.isEmpty && include.text.isEmpty)
        #expect(root.text.isEmpty)
    }

    @Test func billionLaughsIsRefusedQuickly() {
        var document = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
        document += " <!ENTITY lol1 \"" + String(repeating: "&lol;", count: 10) + "\">\n"
        for level in 2...9 {
            document += " <!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">\n"
        }
        document += "]>\n<lolz>&lol9;</lolz>\n"
        for limits in [XMLLimits.default, XMLLimits(allowedDoctypes: ["lolz"])] {
            var error: XMLSyntaxError?
            let time = elapsed {
                error = syntaxError { () throws(XMLSyntaxError) in try readDocument(document, limits: limits) }
            }
            #expect(error?.code == .doctypeNotAllowed)
            #expect(error?.line == 2 && error?.column == 1)
            #expect(time < Self.quickly)
        }
    }

    @Test func quadraticBlowUpIsRefusedQuickly() {
        let entity = String(repeating: "a", count: 50_000)
        let document =
            "<!DOCTYPE r [<!ENTITY a \"\(entity)\">]><r>" + String(repeating: "&a;", count: 50_000) + "</r>"
        var error: XMLSyntaxError?
        let time = elapsed {
            error = syntaxError { () throws(XMLSyntaxError) in
                try readDocument(document, limits: XMLLimits(allowedDoctypes: ["r"]))
            }
        }
        #expect(error?.code == .doctypeNotAllowed)
        #expect(time < Self.quickly)
    }

    @Test func entityReferenceIsRefusedEvenWhenTheDTDCouldHaveDeclaredIt() {
        let limits = XMLLimits(allowedDoctypes: ["cXML"])
        let inText = "<!DOCTYPE cXML SYSTEM \"cXML.dtd\"><cXML>a &nbsp; b</cXML>"
        #expect(
            syntaxError { () throws(XMLSyntaxError) in try readDocument(inText, limits: limits) }?.code
                == .entityNotAllowed
        )
        let inAttribute = "<!DOCTYPE cXML SYSTEM \"cXML.dtd\"><cXML a=\"x&nbsp;\"/>"
        #expect(
            syntaxError { () throws(XMLSyntaxError) in try readDocument(inAttribute, limits: limits) }?.code
                == .entityNotAllowed
        )
        // Without a DOCTYPE an undeclared entity is plainly not well-formed.
        let error = syntaxError { () throws(XMLSyntaxError) in try readDocument("<r>&nbsp;</r>") }
        #expect(error?.code == .malformed)
        #expect(error?.message == "Entity 'nbsp' not defined")
    }

    @Test func predefinedEntitiesAndCharacterReferencesAreReplaced() throws {
        let root = try readDocument("<r a=\"x &amp; y &#38; z &lt;&gt; &#x41;&quot;&apos;\">a &amp; b &#65; &lt;</r>")
        #expect(root.attribute("a") == "x & y & z <> A\"'")
        #expect(root.text == "a & b A <")
        // A literal "&#38;" in the source is an ampersand too, and "&amp;#38;" is the five characters.
        let literal = try readDocument("<r a=\"&amp;#38;\">&amp;#38;</r>")
        #expect(literal.attribute("a") == "&#38;")
        #expect(literal.text == "&#38;")
    }

    @Test func oneStartTagWithAHundredThousandAttributesIsRefusedQuickly() {
        // libxml2 2.9 alone needs about 45 s for this (its duplicate-attribute check is quadratic).
        let document = "<r " + (0..<100_000).map { "a\($0)=\"\"" }.joined(separator: " ") + "/>"
        var error: XMLSyntaxError?
        let time = elapsed { error = syntaxError { () throws(XMLSyntaxError) in try readDocument(document) } }
        #expect(error?.code == .tooManyAttributes)
        #expect(error?.line == 1 && error?.column == 1)
        #expect(time < Self.quickly)
    }

    @Test func manyNamespaceDeclarationsCountAsAttributes() {
        let document = "<r " + (0..<300).map { "xmlns:p\($0)=\"urn:\($0)\"" }.joined(separator: " ") + "/>"
        #expect(syntaxError { () throws(XMLSyntaxError) in try readDocument(document) }?.code == .tooManyAttributes)
    }

    @Test func encodingsTheGuardCannotFollowAreRefused() {
        let ucs4: [UInt8] = [
            0x00, 0x00, 0x00, 0x3C, 0x00, 0x00, 0x00, 0x72, 0x00, 0x00, 0x00, 0x2F, 0x00, 0x00, 0x00, 0x3E,
        ]
        #expect(syntaxError { () throws(XMLSyntaxError) in try readDocument(ucs4) }?.code == .malformed)
        let iso2022 =
            Array("<?xml version=\"1.0\" encoding=\"ISO-2022-JP\"?><r>\u{1B}$B".utf8) + [0x24, 0x22]
            + Array("</r>".utf8)
        #expect(syntaxError { () throws(XMLSyntaxError) in try readDocument(iso2022) }?.code == .malformed)
    }
}
