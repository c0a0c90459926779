// Throughput of the business rules alone (OrderRules.evaluate, pure: no database, no rendering), in order lines per
// second: a catalogue of 20,000 items with three-break price lists, contract prices for a quarter of them, buyer part
// numbers, five fulfilment nodes with locations and stock, and orders of 20 lines each that resolve items by buyer
// part, GTIN or vendor part, price with breaks and tolerance, and route with splits and backorders.
//
// Run: swift package --package-path Benchmarks benchmark --target RulesBenchmarks

import Benchmark
import Foundation
import OrderModel
import OrderRules

private let linesPerSecond = BenchmarkMetric.custom("lines/s", polarity: .prefersLarger, useScalingFactor: false)

/// The catalogue, stock and orders, made once.
private struct Fixture: Sendable {
    static let itemCount = 20_000
    static let orderCount = 1_000
    static let linesPerOrder = 20

    let rules: OrderRules
    let orders: [Order]
    let settings = RuleSettings(
        priceList: "LIST",
        priceTolerancePercent: 1,
        pricePolicy: .acceptOurPrice,
        creditAccount: "ACCOUNT",
        fulfilment: .backordersAllowed
    )

    init() {
        var items: [Item] = []
        var buyerParts: [BuyerPartReference] = []
        var breaks: [PriceBreak] = []
        var contracts: [ContractPrice] = []
        var stock: [StockLevel] = []
        let nodes = (0..<5).map { index in
            FulfilmentNode(
                id: "DC-\(index)",
                location: GeoPoint(latitude: 35 + Double(index) * 2, longitude: -120 + Double(index) * 10)
            )
        }
        let replenishment = DocumentDate(year: 2026, month: 12, day: 15)
        for index in 0..<Self.itemCount {
            let sku = "SKU-\(index)"
            items.append(
                Item(
                    sku: sku,
                    gtin: String(format: "0614141%05d", index),
                    vendorPart: "VP-\(index)",
                    conversions: ["CA": 12]
                )
            )
            buyerParts.append(BuyerPartReference(partnerID: "buyer", buyerPart: "BP-\(index)", sku: sku))
            let price = Decimal(100 + index % 900) / 10
            for (minimum, factor) in [(Decimal(1), Decimal(1)), (100, Decimal(string: "0.95")!), (1000, 0.9)] {
                breaks.append(
                    PriceBreak(
                        priceList: "LIST",
                        sku: sku,
                        minimumQuantity: minimum,
                        unitPrice: price * factor,
                        currency: "USD"
                    )
                )
            }
            if index % 4 == 0 {
                contracts.append(ContractPrice(partnerID: "buyer", sku: sku, unitPrice: price - 1, currency: "USD"))
            }
            for node in nodes.indices where (index + node) % 3 != 0 {
                stock.append(
                    StockLevel(
                        nodeID: nodes[node].id,
                        sku: sku,
                        onHand: Decimal(50 + (index * 7 + node * 13) % 400),
                        safetyStock: 10,
                        nextReplenishment: replenishment
                    )
                )
            }
        }
        var data = BusinessData(
            items: items,
            buyerParts: buyerParts,
            priceBreaks: breaks,
            contracts: contracts,
            creditAccounts: [CreditAccount(id: "ACCOUNT", limit: 100_000_000, currency: "USD")],
            nodes: nodes,
            locations: ["buyer:STORE-1": GeoPoint(latitude: 40, longitude: -100)]
        )
        data.stock = stock
        self.rules = OrderRules(data: data)
        var orders: [Order] = []
        for number in 0..<Self.orderCount {
            var order = Order()
            order.purchaseOrderNumber = "PO-\(number)"
            order.currency = "USD"
            order.orderDate = DocumentDate(year: 2026, month: 11, day: 20)
            var shipTo = Party(role: .shipTo)
            shipTo.identifier = "STORE-1"
            order.parties = [shipTo]
            for line in 0..<Self.linesPerOrder {
                let index = (number * 37 + line * 101) % Self.itemCount
                var orderLine = OrderLine()
                orderLine.lineNumber = String(line + 1)
                switch line % 3 {
                case 0: orderLine.item.buyerPart = "BP-\(index)"
                case 1: orderLine.item.gtin = String(format: "614141%05d", index)
                default: orderLine.item.vendorPart = "VP-\(index)"
                }
                orderLine.quantity = Quantity(Decimal(1 + (number + line) % 150), unit: line % 5 == 0 ? "CA" : "EA")
                orderLine.unitPrice = Money(Decimal(100 + index % 900) / 10, currency: "USD")
                order.lines.append(orderLine)
            }
            orders.append(order)
        }
        self.orders = orders
    }
}

private let fixture = Fixture()

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [linesPerSecond, .wallClock, .cpuTotal, .mallocCountTotal],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(30),
        maxIterations: 10
    )
    Benchmark("OrderRules.evaluate: 1,000 orders of 20 lines, 20,000 items", configuration: configuration) { benchmark in
        let today = DocumentDate(year: 2026, month: 11, day: 23)!
        let clock = ContinuousClock()
        benchmark.startMeasurement()
        let start = clock.now
        var decided = 0
        for order in fixture.orders {
            let decision = fixture.rules.evaluate(
                order,
                partnerID: "buyer",
                settings: fixture.settings,
                openOrders: 0,
                today: today
            )
            decided &+= decision.lines.count
        }
        let elapsed = start.duration(to: clock.now)
        benchmark.stopMeasurement()
        blackHole(decided)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        benchmark.measurement(linesPerSecond, Int((Double(decided) / seconds).rounded()))
    } setup: {
        _ = fixture.orders.count
    }
}
