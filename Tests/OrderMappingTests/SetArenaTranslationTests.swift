import EDISyntax
import Foundation
import OrderMapping
import OrderModel
import Testing

/// Translation reads each set from one arena that is reused from set to set, compares conditions as bytes and splits
/// components itself: release characters, composites and a smaller set after a larger one must read as before.
@Suite("Set arena")
struct SetArenaTranslationTests {
    /// Nordhandel's EANCOM ORDERS (the partner is found from UNB), two messages: the first with release characters in
    /// a value, a party name and a composite whose component a condition reads, the second smaller.
    static let interchange = """
        UNA:+.? '
        UNB+UNOC:3+4012345000009:14+5412345000013:14+261206:0830+NH0000901++ORDERS'
        UNH+1+ORDERS:D:96A:UN:EAN008'
        BGM+220+PO?+1+9'
        DTM+137:20261206:102'
        NAD+BY+4012345000009::9'
        NAD+DP+4012345000016::9++M?'s Lager?: Nord+Hafenstrasse 12+Hamburg++20457+DE'
        CUX+2:EUR:9'
        LIN+1++0614141100019:EN'
        PIA+1+WW?:1:SA+300118:IN'
        QTY+21:240'
        PRI+AAA:3.95'
        LIN+2++0614141100026:EN'
        PIA+1+WW-1002:SA'
        QTY+21:120'
        PRI+AAA:9.10'
        LIN+3++5412345200017:EN'
        QTY+21:40'
        PRI+AAA:41.80'
        UNS+S'
        CNT+2:3'
        UNT+20+1'
        UNH+2+ORDERS:D:96A:UN:EAN008'
        BGM+220+PO2+9'
        DTM+137:20261206:102'
        NAD+BY+4012345000009::9'
        LIN+1++0614141100033:EN'
        QTY+21:5'
        UNS+S'
        CNT+2:1'
        UNT+9+2'
        UNZ+2+NH0000901'

        """

    static func orders() throws -> [Order] {
        let (documents, issues) = try Repository.translate(Array(Self.interchange.utf8), name: "arena.edi")
        #expect(issues.isEmpty, "\(issues)")
        return Repository.orders(documents)
    }

    @Test func releaseCharactersAreRemovedFromValuesAndNames() throws {
        let orders = try Self.orders()
        try #require(orders.count == 2)
        #expect(orders[0].partnerID == "nordhandel")
        #expect(orders[0].purchaseOrderNumber == "PO+1")
        let shipTo = try #require(orders[0].parties.first { $0.roleCode == "DP" })
        #expect(shipTo.name == "M's Lager: Nord")
        #expect(shipTo.address?.city == "Hamburg")
    }

    @Test func aConditionReadsTheComponentAfterAReleasedSeparator() throws {
        let lines = try Self.orders()[0].lines
        try #require(lines.count == 3)
        // PIA+1+WW?:1:SA: the escaped colon is data, so SA is the second component and the part is "WW:1".
        #expect(lines[0].item.vendorPart == "WW:1")
        #expect(lines[0].item.buyerPart == "300118")
        #expect(lines[1].item.vendorPart == "WW-1002")
        #expect(lines[2].item.vendorPart == nil)
        #expect(lines.map(\.unitPrice?.amount) == [Decimal(string: "3.95"), Decimal(string: "9.10"), 41.8])
        #expect(lines.allSatisfy { $0.unitPrice?.currency == "EUR" })
    }

    @Test func aSmallerSetAfterALargerOneKeepsNothingOfIt() throws {
        let second = try Self.orders()[1]
        #expect(second.purchaseOrderNumber == "PO2")
        #expect(second.lines.count == 1)
        #expect(second.lines.first?.item.gtin == "0614141100033")
        #expect(second.lines.first?.item.vendorPart == nil)
        #expect(second.parties.map(\.roleCode) == ["BY"])
        #expect(second.currency == nil)
        // Origins count segments from the second set's UNH.
        #expect(second.lines.first?.origins["quantity"]?.segment == 6)
        #expect(second.origins["purchaseOrderNumber"]?.segment == 2)
    }
}
