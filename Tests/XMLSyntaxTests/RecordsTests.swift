import Testing
import XMLSyntax

/// `readRecords`: one tree per record, in order, the rest checked but not kept; errors from the body pass through.
@Suite struct RecordsTests {
    @Test func batchOfThreeOrdersGivesThreeTreesWithTheirContent() throws {
        let bytes = try Fixtures.bytes("batch-3-orders.xml")
        for chunk in [1, 100, Int.max] {
            let reader = XMLStreamReader(read: chunked(bytes, chunk: chunk))
            var orders: [XMLElement] = []
            let count = try reader.readRecords(named: ["Order"]) { orders.append($0) }
            #expect(count == 3)
            #expect(orders.map { $0.firstChild("ID")?.text } == ["PO00000001", "PO00000002", "PO00000003"])
            #expect(orders.allSatisfy { $0.children("OrderLine").count == 2 })
            #expect(orders.allSatisfy { $0.namespaceURI == ParsingTests.ubl })
            #expect(orders.map(\.line) == [3, 15, 27])
            let party = orders[0].firstChild("BuyerCustomerParty")?.firstChild("Party")
            #expect(party?.firstChild("PartyName")?.firstChild("Name")?.text == "UMBRELLA MART & CO")
            #expect(party?.firstChild("PartyIdentification")?.firstChild("ID")?.attribute("schemeID") == "0088")
            #expect(reader.rootLocalName == "OrderBatch")
            #expect(reader.rootNamespaceURI == ParsingTests.ubl)
        }
    }

    @Test func recordsAreTheSameSubtreesAsInTheWholeDocument() throws {
        let bytes = try Fixtures.bytes("batch-3-orders.xml")
        let document = try readDocument(bytes)
        var records: [XMLElement] = []
        try XMLStreamReader(bytes: bytes).readRecords(named: ["Order"]) { records.append($0) }
        #expect(records == document.children("Order"))
    }

    @Test func onlyTheOutermostMatchingElementIsARecord() throws {
        let document = "<r><a id=\"1\"><b><a id=\"2\"/></b></a><c><a id=\"3\"/></c><b/></r>"
        var records: [XMLElement] = []
        let count = try XMLStreamReader(bytes: Array(document.utf8)).readRecords(named: ["a", "b"]) {
            records.append($0)
        }
        #expect(count == 3)
        #expect(records.map(\.localName) == ["a", "a", "b"])
        #expect(records.map { $0.attribute("id") } == ["1", "3", nil])
        #expect(records[0].firstChild("b")?.firstChild("a")?.attribute("id") == "2")
    }

    @Test func theRootCanBeTheRecord() throws {
        let bytes = try Fixtures.bytes("corpus/ubl21-order-phubl.xml")
        var ids: [String?] = []
        let count = try XMLStreamReader(bytes: bytes).readRecords(named: ["Order"]) {
            ids.append($0.firstChild("ID")?.text)
        }
        #expect(count == 1 && ids == ["34"])
    }

    @Test func errorsThrownByTheBodyPropagateUnchanged() throws {
        struct Stop: Error, Equatable { var id: String? }
        let reader = XMLStreamReader(bytes: try Fixtures.bytes("batch-3-orders.xml"))
        var seen = 0
        #expect(throws: Stop(id: "PO00000002")) {
            try reader.readRecords(named: ["Order"]) { order in
                seen += 1
                if seen == 2 { throw Stop(id: order.firstChild("ID")?.text) }
            }
        }
        #expect(seen == 2)
    }

    @Test func recordsBeforeASyntaxErrorAreDeliveredThenTheErrorIsThrown() {
        let document = "<r>\n<a>1</a>\n<a>2</a>\n<a>3</b>\n<a>4</a></r>"
        for chunk in [1, Int.max] {
            var texts: [String] = []
            let reader = XMLStreamReader(read: chunked(Array(document.utf8), chunk: chunk))
            #expect {
                try reader.readRecords(named: ["a"]) { texts.append($0.text) }
            } throws: { error in
                (error as? XMLSyntaxError)?.code == .malformed && (error as? XMLSyntaxError)?.line == 4
            }
            #expect(texts == ["1", "2"])
        }
    }

    @Test func theDoctypePolicyHoldsOutsideRecords() {
        let document = "<!DOCTYPE batch [<!ENTITY x \"y\">]><batch><order/></batch>"
        var count = 0
        let reader = XMLStreamReader(bytes: Array(document.utf8))
        #expect {
            try reader.readRecords(named: ["order"]) { _ in count += 1 }
        } throws: { error in
            (error as? XMLSyntaxError)?.code == .doctypeNotAllowed
        }
        #expect(count == 0)
    }

    @Test func aDocumentWithoutRecordsReturnsZero() throws {
        let count = try XMLStreamReader(bytes: Array("<r><x/></r>".utf8)).readRecords(named: ["Order"]) { _ in }
        #expect(count == 0)
    }
}
