import Testing

@testable import XMLSyntax

/// The builder's hand-managed element memory: every stored property of XMLElement is initialized, and elements move
/// in and out without loss.
@Suite struct ElementStackTests {
    @Test func pushInitializesEveryStoredPropertyOfXMLElement() {
        // Fails when a stored property is added to XMLElement without being initialized in ElementStack.push.
        #expect(ElementStack.fieldsAreAllInitialized)
    }

    @Test func elementsMoveThroughTheStacksIntact() {
        var open = ElementStack()
        var finished = ElementStack()
        let attribute = XMLAttribute(localName: "a", prefix: "p", namespaceURI: "urn:p", value: "v")
        for index in 0..<200 {
            let top = open.push(
                localName: "e\(index)",
                prefix: index.isMultiple(of: 2) ? "p" : nil,
                namespaceURI: "urn:\(index)",
                attributes: [attribute],
                line: index,
                column: index + 1
            )
            top.pointee.text = "text \(index)"
            open.moveTop(onto: &finished)
        }
        #expect(open.count == 0 && finished.count == 200)
        let children = finished.popArray(from: 50)
        #expect(finished.count == 50)
        #expect(children.count == 150)
        #expect(children.first?.localName == "e50" && children.last?.localName == "e199")
        #expect(children[1].prefix == nil && children[2].prefix == "p")
        #expect(children.allSatisfy { $0.attributes == [attribute] && $0.column == $0.line + 1 })
        #expect(children[0].text == "text 50" && children[0].children.isEmpty)
        #expect(finished.pop().localName == "e49")
    }
}
