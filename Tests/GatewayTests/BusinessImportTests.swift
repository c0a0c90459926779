import Foundation
import Gateway
import OrderModel
import OrderRules
import OrderStore
import Testing

/// `ordergate import`: every record checked first, problems named by line and column, nothing half-loaded, and the
/// same file loaded twice changes nothing.
@Suite("Business data import")
struct BusinessImportTests {
    func load(
        _ gateway: TestGateway,
        _ kind: ImportKind,
        _ text: String,
        file: String = "data.csv"
    ) throws -> ImportSummary {
        try gateway.importData(kind, Array(text.utf8), file: file)
    }

    func issues(_ body: () throws -> Void) -> [String] {
        do {
            try body()
            return []
        } catch let errors as ImportErrors {
            return errors.issues.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func theSampleDataLoadsAndLoadingItAgainChangesNothing() throws {
        let gateway = try TestGateway()
        try gateway.importSampleData()
        let first = try gateway.store.read { (try $0.catalog(), try $0.allStock()) }
        #expect(first.0.items.count == 6)
        #expect(first.0.items["WW-1001"]?.conversions == ["BX": 50])
        #expect(
            first.0.buyerParts.contains(BuyerPartReference(partnerID: "acme", buyerPart: "20457311", sku: "WW-1001"))
        )
        #expect(first.1.count == 13)
        let counts = try [
            "items", "buyer_parts", "price_breaks", "contract_prices", "credit_accounts", "nodes",
            "stock", "locations",
        ].map { table in try gateway.store.read { try $0.count(table) } }
        try gateway.importSampleData()
        let second = try gateway.store.read { (try $0.catalog(), try $0.allStock()) }
        #expect(second.1 == first.1)
        #expect(second.0.priceBreaks.count == first.0.priceBreaks.count)
        #expect(Set(second.0.contracts) == Set(first.0.contracts))
        let again = try [
            "items", "buyer_parts", "price_breaks", "contract_prices", "credit_accounts", "nodes",
            "stock", "locations",
        ].map { table in try gateway.store.read { try $0.count(table) } }
        #expect(again == counts)
    }

    @Test func badRowsAreReportedWithTheirLinesAndNothingIsLoaded() throws {
        let gateway = try TestGateway()
        let items = """
            sku,description,gtin,baseUnit,conversions,buyerParts
            OK-1,Fine,614141100019,EA,CA=12,acme=A-1
            BAD-1,Bad check digit,614141100018,EA,,
            BAD-2,"Bad, quoted factor",,EA,CA=zero,
            BAD-3,Unknown partner,,EA,,nobody=X-9

            """
        let found = self.issues { _ = try self.load(gateway, .items, items, file: "items.csv") }
        #expect(
            found == [
                "items.csv:3: gtin: \"614141100018\" is not a GTIN (8, 12, 13 or 14 digits with a valid check digit)",
                "items.csv:4: conversions: \"CA=zero\" is not UNIT=factor (a factor greater than zero)",
                "items.csv:5: buyerParts: unknown partner nobody (no profile in mappings/partners)",
            ]
        )
        // All or nothing: the good first row was not loaded either.
        #expect(try gateway.store.read { try $0.count("items") } == 0)
    }

    @Test func pricesMustNameKnownItemsAndHoldDecimals() throws {
        let gateway = try TestGateway()
        _ = try self.load(gateway, .items, "sku,baseUnit\nW-1,EA\n")
        let prices = """
            priceList,sku,minQuantity,unitPrice,currency,validFrom,validTo
            LIST,W-1,1,4.25,USD,2026-01-01,
            LIST,W-2,1,4.25,USD,,
            LIST,W-1,10,4.1O,USD,,
            LIST,W-1,20,4.00,usd,2026-13-01,
            LIST,W-1,1,4.30,USD,2026-01-01,

            """
        let found = self.issues { _ = try self.load(gateway, .prices, prices, file: "prices.csv") }
        #expect(
            found == [
                "prices.csv:3: sku: unknown item W-2 (import items first)",
                "prices.csv:4: unitPrice: \"4.1O\" is not a decimal number (plain, with a dot: 1234.50)",
                "prices.csv:5: currency: \"usd\" is not an ISO 4217 code (three capital letters)",
                "prices.csv:5: validFrom: \"2026-13-01\" is not a date (YYYY-MM-DD)",
            ]
        )
        // Fixed, the file still repeats a key: line 6 is the break of line 2 again.
        let repeated =
            "priceList,sku,minQuantity,unitPrice,currency,validFrom\nLIST,W-1,1,4.25,USD,2026-01-01\n"
            + "LIST,W-1,1,4.30,USD,2026-01-01\n"
        #expect(
            self.issues { _ = try self.load(gateway, .prices, repeated, file: "prices.csv") } == [
                "prices.csv:3: repeats the price break LIST W-1 from 1 valid from 2026-01-01 of line 2"
            ]
        )
        #expect(try gateway.store.read { try $0.count("price_breaks") } == 0)
    }

    @Test func anUnknownColumnIsAnErrorNotIgnored() throws {
        let gateway = try TestGateway()
        let found = self.issues { _ = try self.load(gateway, .nodes, "node,kind,lattitude\nDC,warehouse,40\n") }
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("data.csv:1: lattitude: unknown column") == true)
    }

    @Test func jsonRecordsLoadWithExactDecimalsAndReportTheirLines() throws {
        let gateway = try TestGateway()
        let items = """
            [
              {"sku": "W-1", "baseUnit": "EA", "conversions": {"CA": 12, "PL": 480}, "leadTimeDays": 5},
              {"sku": "W-2", "gtin": "614141100026", "buyerParts": {"acme": "B-2"}}
            ]
            """
        #expect(try self.load(gateway, .items, items, file: "items.json").records == 2)
        let catalog = try gateway.store.read { try $0.catalog() }
        #expect(catalog.items["W-1"]?.conversions == ["CA": 12, "PL": 480])
        #expect(catalog.items["W-1"]?.leadTimeDays == 5)
        // A price as a JSON number keeps its exact decimal value (0.1 + 0.2 is not 0.30000000000000004 here).
        let prices = """
            [{"priceList": "L", "sku": "W-1", "unitPrice": 0.3, "currency": "USD"},
             {"priceList": "L", "sku": "W-2", "unitPrice": 19.99, "currency": "USD", "minQuantity": "12"}]
            """
        _ = try self.load(gateway, .prices, prices, file: "prices.json")
        let breaks = try gateway.store.read { try $0.catalog() }.priceBreaks
        #expect(breaks.map(\.unitPrice).sorted() == [Decimal(string: "0.3")!, Decimal(string: "19.99")!])
        let bad = """
            [
              {"node": "DC-1", "kind": "warehouse"},
              {"node": "DC-2", "kind": "depot"}
            ]
            """
        #expect(
            self.issues { _ = try self.load(gateway, .nodes, bad, file: "nodes.json") } == [
                "nodes.json:3: kind: \"depot\" is not warehouse or store"
            ]
        )
        #expect(
            self.issues { _ = try self.load(gateway, .nodes, "[{\"node\": \"DC-1\",}", file: "nodes.json") }.first?
                .hasPrefix("nodes.json:1:") == true
        )
    }

    @Test func stockImportsKeepOurReservations() throws {
        let gateway = try TestGateway(rules: true, clock: OrderRulesPipelineTests.clock)
        try gateway.importSampleData()
        try gateway.drop(example: "examples/acme/850-po-7731045.edi", into: "acme")
        try gateway.daemon.pollOnce()
        let reserved = try gateway.store.read { try $0.allStock() }.first {
            $0.nodeID == "DC-EAST" && $0.sku == "WW-1003"
        }?.reserved
        #expect(reserved == 80)
        // The ERP reports a new on-hand figure: the reservation stays.
        _ = try self.load(gateway, .stock, "node,sku,onHand,safetyStock\nDC-EAST,WW-1003,300,20\n")
        let level = try #require(
            try gateway.store.read { try $0.allStock() }.first { $0.nodeID == "DC-EAST" && $0.sku == "WW-1003" }
        )
        #expect(level.onHand == 300 && level.reserved == 80 && level.availableToPromise == 200)
    }

    /// Review findings: a thousands separator or decimal comma is an error (not 25), a JSON number is checked by
    /// its grammar, a column named twice is an error, and every unknown key is reported.
    @Test func ambiguousNumbersAndRepeatedNamesAreErrors() throws {
        let gateway = try TestGateway()
        let credit = "account,limit,currency\nACME,\"25,000\",USD\nOTHER,1e3,USD\n"
        #expect(
            self.issues { _ = try self.load(gateway, .credit, credit, file: "credit.csv") } == [
                "credit.csv:2: limit: \"25,000\" is not a decimal number (plain, with a dot: 1234.50)",
                "credit.csv:3: limit: \"1e3\" is not a decimal number (plain, with a dot: 1234.50)",
            ]
        )
        #expect(self.issues { _ = try self.load(gateway, .credit, "[{\"account\": \"A\", \"limit\": 01}]") }.count == 1)
        #expect(self.issues { _ = try self.load(gateway, .credit, "[{\"account\": \"A\", \"limit\": 1.}]") }.count == 1)
        #expect(
            self.issues { _ = try self.load(gateway, .nodes, "node,kind,node\nDC,warehouse,DC\n", file: "n.csv") } == [
                "n.csv:1: node: the column is named twice"
            ]
        )
        let unknown = "[{\"node\": \"A\", \"colour\": \"red\"},\n{\"node\": \"B\", \"size\": 1}]"
        #expect(self.issues { _ = try self.load(gateway, .nodes, unknown, file: "n.json") }.count == 2)
        #expect(try gateway.store.read { try $0.count("credit_accounts") } == 0)
    }
}
