import Testing
import XMLSyntax

/// Every XML file of the shared corpus (real cXML, UBL and custom orders written by others).
@Suite struct CorpusTests {
    @Test func corpusIsThere() {
        #expect(Fixtures.corpus.count == 19)
    }

    @Test(arguments: Fixtures.corpus)
    func parsesWithTheCXMLDoctypeAllowed(_ name: String) throws {
        let bytes = try Fixtures.bytes("corpus/" + name)
        let reader = XMLStreamReader(bytes: bytes, limits: XMLLimits(allowedDoctypes: ["cXML"]), documentName: name)
        let root = try reader.readDocument()
        #expect(!root.children.isEmpty)
        #expect(reader.rootLocalName == root.localName)
        if name.hasPrefix("cxml-") {
            #expect(root.localName == "cXML")
            #expect(root.attribute("payloadID") != nil)
        } else if name.hasPrefix("ubl") {
            #expect(root.namespaceURI?.hasPrefix("urn:oasis:names:specification:ubl:schema:xsd:") == true)
            #expect(root.firstChild("ID") != nil)
        }
    }

    @Test(arguments: Fixtures.corpus)
    func aDoctypeIsRefusedUnlessAllowed(_ name: String) throws {
        let bytes = try Fixtures.bytes("corpus/" + name)
        let hasDoctype = String(decoding: bytes, as: UTF8.self).contains("<!DOCTYPE")
        let error = syntaxError { () throws(XMLSyntaxError) in try readDocument(bytes) }
        if hasDoctype {
            #expect(error?.code == .doctypeNotAllowed)
            #expect(error?.description.hasPrefix("line 2, column 1: DOCTYPE is not allowed (cXML)") == true)
        } else {
            #expect(error == nil)
        }
    }

    @Test func cXMLOrderRequestHasItsContent() throws {
        let bytes = try Fixtures.bytes("corpus/cxml-orderrequest-cxmlphp.xml")
        let root = try readDocument(bytes, limits: XMLLimits(allowedDoctypes: ["cXML"]))
        let request = try #require(root.firstChild("Request")?.firstChild("OrderRequest"))
        let header = try #require(request.firstChild("OrderRequestHeader"))
        #expect(header.attribute("orderID") == "DO1234")
        #expect(request.children("ItemOut").count >= 1)
        #expect(root.firstChild("Header")?.firstChild("From")?.firstChild("Credential")?.attribute("domain") != nil)
    }
}
