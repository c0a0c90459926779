import Foundation
import OrderMapping
import OrderModel
import Testing

/// Every purchase order of the shared corpus translates with the shipped mappings; the important fields agree with
/// what a person read in the document (Fixtures/expectations.json), and the whole canonical JSON matches the golden
/// file beside the fixture.
@Suite("Corpus translation")
struct CorpusTranslationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var file: String
        var expected: [[String: JSONValue]]
        var testDescription: String { self.file }
    }

    /// A decoded JSON value of the expectations file.
    indirect enum JSONValue: Sendable, Decodable, Equatable {
        case string(String)
        case array([JSONValue])
        case object([String: JSONValue])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .string(text)
            } else if let array = try? container.decode([JSONValue].self) {
                self = .array(array)
            } else {
                self = .object(try container.decode([String: JSONValue].self))
            }
        }

        var string: String? { if case .string(let text) = self { return text } else { return nil } }
        var array: [JSONValue] { if case .array(let items) = self { return items } else { return [] } }
        var object: [String: JSONValue] { if case .object(let items) = self { return items } else { return [:] } }
    }

    static let cases: [Case] = {
        let url = Repository.fixtures.appendingPathComponent("expectations.json")
        guard let data = try? Data(contentsOf: url),
            let all = try? JSONDecoder().decode([String: [[String: JSONValue]]].self, from: data)
        else { return [] }
        return all.keys.sorted().map { Case(file: $0, expected: all[$0]!) }
    }()

    @Test func theShippedMappingsLoadWithoutErrors() throws {
        if case .failure(let error) = Repository.mappings { Issue.record("\(error)") }
    }

    @Test func expectationsCoverEveryCorpusPurchaseOrder() {
        #expect(Self.cases.count == 20)
    }

    @Test(arguments: Self.cases)
    func corpusPurchaseOrderMatchesWhatAPersonRead(_ testCase: Case) throws {
        let url = Repository.fixtures.appendingPathComponent("corpus/" + testCase.file)
        let (documents, issues) = try Repository.translate(try Repository.bytes(url), name: testCase.file)
        #expect(issues.isEmpty, "\(issues)")
        let orders = Repository.orders(documents)
        try #require(orders.count == testCase.expected.count, "orders: \(orders.count)")
        for (order, expected) in zip(orders, testCase.expected) {
            Self.compare(order, expected, file: testCase.file)
        }
    }

    @Test(arguments: Self.cases)
    func corpusPurchaseOrderMatchesItsGoldenJSON(_ testCase: Case) throws {
        let url = Repository.fixtures.appendingPathComponent("corpus/" + testCase.file)
        let (documents, _) = try Repository.translate(try Repository.bytes(url), name: testCase.file)
        let json = try CanonicalJSON.encode(Repository.orders(documents)) + "\n"
        let golden = url.appendingPathExtension("orders.json")
        if ProcessInfo.processInfo.environment["ORDERGATE_UPDATE_GOLDEN"] == "1" {
            try json.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(json == expected, "golden \(golden.lastPathComponent) differs; compare, then regenerate if right")
    }

    static func compare(_ order: Order, _ expected: [String: JSONValue], file: String) {
        func check(_ name: String, _ actual: String?, _ expectedValue: JSONValue?, numeric: Bool = false) {
            guard let wanted = expectedValue?.string else { return }
            if numeric, let a = actual.flatMap(DecimalText.parse), let b = DecimalText.parse(wanted) {
                #expect(a == b, "\(file): \(name): \(actual ?? "nil") != \(wanted)")
            } else {
                #expect(actual == wanted, "\(file): \(name)")
            }
        }
        check("purchaseOrderNumber", order.purchaseOrderNumber, expected["purchaseOrderNumber"])
        check("purpose", order.purpose.rawValue, expected["purpose"])
        check("orderDate", order.orderDate?.dateOnly.description, expected["orderDate"])
        check(
            "requestedDeliveryDate",
            order.requestedDeliveryDate?.dateOnly.description,
            expected["requestedDeliveryDate"]
        )
        check("requestedShipDate", order.requestedShipDate?.dateOnly.description, expected["requestedShipDate"])
        check("cancelAfter", order.cancelAfter?.dateOnly.description, expected["cancelAfter"])
        check("currency", order.currency, expected["currency"])
        let parties = expected["parties"]?.array ?? []
        for (index, wanted) in parties.enumerated() {
            let fields = wanted.object
            // Parties are matched by role code and name, in document order among equals.
            let candidates = order.parties.filter {
                $0.roleCode == fields["roleCode"]?.string
                    && (fields["name"] == nil || $0.name == fields["name"]?.string)
            }
            guard let party = candidates.first else {
                Issue.record(
                    "\(file): party \(index) \(fields) not found in \(order.parties.map { ($0.roleCode ?? "", $0.name ?? "") })"
                )
                continue
            }
            check("party \(index) role", party.role.rawValue, fields["role"])
            check("party \(index) id", party.identifier, fields["id"])
            check("party \(index) city", party.address?.city, fields["city"])
            check("party \(index) postalCode", party.address?.postalCode, fields["postalCode"])
            check("party \(index) country", party.address?.country, fields["country"])
        }
        let lines = expected["lines"]?.array ?? []
        #expect(order.lines.count == lines.count, "\(file): line count")
        for (index, (line, wanted)) in zip(order.lines, lines).enumerated() {
            let fields = wanted.object
            let label = "line \(index + 1)"
            check("\(label) lineNumber", line.lineNumber, fields["lineNumber"])
            check(
                "\(label) quantity",
                line.quantity.map { DecimalText.format($0.value) },
                fields["quantity"],
                numeric: true
            )
            check("\(label) unit", line.quantity?.unit, fields["unit"])
            check(
                "\(label) unitPrice",
                line.unitPrice.map { DecimalText.format($0.amount) },
                fields["unitPrice"],
                numeric: true
            )
            check("\(label) buyerPart", line.item.buyerPart, fields["buyerPart"])
            check("\(label) vendorPart", line.item.vendorPart, fields["vendorPart"])
            check("\(label) gtin", line.item.gtin, fields["gtin"])
            check("\(label) sku", line.item.sku, fields["sku"])
            check("\(label) manufacturerPart", line.item.manufacturerPart, fields["manufacturerPart"])
            check("\(label) description", line.description, fields["description"])
        }
    }
}
