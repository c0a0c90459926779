import Foundation
import OrderModel
import Testing

@testable import Gateway

/// The pipeline decides each order's lines (items, units, prices: the catalogue's part of the rules) while it
/// prepares the file, on any core; the writer uses them only when they were decided with the catalogue, the
/// partner's settings and the day it decides with, and decides them again otherwise.
@Suite("Lines decided ahead")
struct DecidedLinesTests {
    @Test func linesDecidedAheadAreUsedOnlyWithTheSameCatalogueSettingsAndDay() throws {
        let gateway = try TestGateway(rules: true, clock: OrderRulesPipelineTests.clock)
        try gateway.importSampleData()
        let desk = gateway.daemon.pipeline.desk
        let partner = try #require(gateway.daemon.mappingSet.partners["acme"])
        try gateway.drop(example: "examples/acme/850-po-7731045.edi", into: "acme")
        #expect(try gateway.daemon.pollOnce() == 1)
        // The desk has read the catalogue deciding that order: lines can now be decided ahead.
        let orderID = try OrderRulesPipelineTests.orderID(gateway, partner: "acme", po: "7731045")
        let order = try #require(try gateway.store.read { try $0.order(id: orderID) })
        let ahead = try #require(desk.decideLines(order, partner: partner, now: gateway.now))
        #expect(ahead.lines.count == order.lines.count)
        #expect(ahead.lines.allSatisfy { $0.sku != nil && $0.price != nil })
        let settings = try #require(try partner.ruleSettings())
        let version = ahead.catalogVersion
        #expect(ahead.lines(catalogVersion: version, settings: settings, today: ahead.today) == ahead.lines)
        #expect(ahead.lines(catalogVersion: version + 1, settings: settings, today: ahead.today) == nil)
        var changed = settings
        changed.priceTolerancePercent += 1
        #expect(ahead.lines(catalogVersion: version, settings: changed, today: ahead.today) == nil)
        let nextDay = try #require(DocumentDate(year: 2026, month: 11, day: 11))
        #expect(ahead.today != nextDay)
        #expect(ahead.lines(catalogVersion: version, settings: settings, today: nextDay) == nil)
        // An import changes the catalogue's version: lines decided before it are decided again after it.
        try gateway.importSampleData()
        #expect(try gateway.store.read { try $0.dataVersion() } != version)
    }

    /// A partner without rules gets no lines decided ahead (its orders are stored, not decided).
    @Test func aPartnerWithoutRulesGetsNoLinesDecidedAhead() throws {
        let gateway = try TestGateway(rules: true, clock: OrderRulesPipelineTests.clock)
        var partner = try #require(gateway.daemon.mappingSet.partners["acme"])
        partner.rules = [:]
        #expect(gateway.daemon.pipeline.desk.decideLines(Order(), partner: partner, now: gateway.now) == nil)
    }
}
