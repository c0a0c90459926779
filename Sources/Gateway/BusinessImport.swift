import Foundation
import OrderMapping
import OrderModel
import OrderRules
import OrderStore

/// What `ordergate import` loads.
public enum ImportKind: String, CaseIterable, Sendable {
    case items, prices, contracts, credit, nodes, stock, locations

    /// The columns (CSV header names, JSON keys) of each kind; required ones first.
    public var columns: [String] {
        switch self {
        case .items:
            ["sku", "description", "gtin", "vendorPart", "baseUnit", "conversions", "leadTimeDays", "buyerParts"]
        case .prices: ["priceList", "sku", "minQuantity", "unitPrice", "currency", "validFrom", "validTo"]
        case .contracts: ["partner", "sku", "unitPrice", "currency", "validFrom", "validTo"]
        case .credit:
            ["account", "limit", "openBalance", "pastDue", "pastDueDays", "allowedPastDueDays", "currency"]
        case .nodes: ["node", "kind", "latitude", "longitude", "partners", "shipFromStore"]
        case .stock: ["node", "sku", "onHand", "safetyStock", "nextReplenishment", "replenishmentQuantity"]
        case .locations: ["partner", "party", "country", "postalCode", "latitude", "longitude"]
        }
    }
}

/// What an import loaded.
public struct ImportSummary: Sendable, Hashable {
    public var kind: ImportKind
    public var records: Int
    /// Orders whose credit hold was released because the import lowered the exposure.
    public var releasedHolds: [Int64]
}

/// Loads business data from CSV or JSON. Every record is checked first (required fields, decimals, dates, GTIN
/// check digits, known SKUs and nodes, repeated keys); any problem is reported with its line and nothing is loaded.
/// A clean file is loaded in one transaction by upserts on each table's key, so loading it twice changes nothing.
/// A credit import then decides the held orders of the accounts it changed again, and releases those now within the
/// terms (each gets its updated acknowledgement).
public struct BusinessImport: Sendable {
    public let store: OrderStore
    public let desk: OrderDesk
    public let mappings: MappingSet

    public init(store: OrderStore, desk: OrderDesk, mappings: MappingSet) {
        self.store = store
        self.desk = desk
        self.mappings = mappings
    }

    public func load(_ kind: ImportKind, bytes: [UInt8], file: String, now: Date = Date()) throws -> ImportSummary {
        let records = try ImportTable.read(bytes, file: file, columns: kind.columns)
        return try self.store.write { tx in
            var reader = RecordChecker(file: file)
            let known = ReferenceCheck(
                skus: try tx.reader.knownKeys("items"),
                nodes: try tx.reader.knownKeys("nodes"),
                partners: Set(self.mappings.partners.keys)
            )
            var accounts: Set<String> = []
            switch kind {
            case .items:
                var items: [Item] = []
                var parts: [BuyerPartReference] = []
                for record in records {
                    guard let (item, references) = reader.item(record, known: known) else { continue }
                    items.append(item)
                    parts += references
                }
                reader.uniqueKeys(records, items.map(\.sku), what: "SKU")
                try reader.finish()
                try tx.upsertItems(items, buyerParts: parts, at: now)
            case .prices:
                let breaks = records.compactMap { reader.priceBreak($0, known: known) }
                reader.uniqueKeys(
                    records,
                    breaks.map {
                        "\($0.priceList) \($0.sku) from \(DecimalText.format($0.minimumQuantity)) "
                            + "valid from \($0.validity.from?.description ?? "always")"
                    },
                    what: "price break"
                )
                try reader.finish()
                try tx.upsertPriceBreaks(breaks, at: now)
            case .contracts:
                let contracts = records.compactMap { reader.contract($0, known: known) }
                reader.uniqueKeys(
                    records,
                    contracts.map {
                        "\($0.partnerID) \($0.sku) valid from \($0.validity.from?.description ?? "always")"
                    },
                    what: "contract"
                )
                try reader.finish()
                try tx.upsertContracts(contracts, at: now)
            case .credit:
                let credit = records.compactMap { reader.creditAccount($0) }
                reader.uniqueKeys(records, credit.map(\.id), what: "account")
                try reader.finish()
                try tx.upsertCreditAccounts(credit, at: now)
                accounts = Set(credit.map(\.id))
            case .nodes:
                let nodes = records.compactMap { reader.node($0, known: known) }
                reader.uniqueKeys(records, nodes.map(\.id), what: "node")
                try reader.finish()
                try tx.upsertNodes(nodes, at: now)
            case .stock:
                let levels = records.compactMap { reader.stockLevel($0, known: known) }
                reader.uniqueKeys(records, levels.map { "\($0.nodeID) \($0.sku)" }, what: "stock level")
                try reader.finish()
                try tx.upsertStock(levels, at: now)
            case .locations:
                let locations = records.compactMap { reader.location($0, known: known) }
                reader.uniqueKeys(records, locations.map(\.key), what: "location")
                try reader.finish()
                try tx.upsertLocations(Dictionary(locations, uniquingKeysWith: { $1 }))
            }
            try tx.bumpDataVersion()
            try tx.audit(
                actor: "import",
                action: "import-\(kind.rawValue)",
                subject: nil,
                detail: "\(file): \(records.count) records",
                at: now
            )
            let released = try self.desk.recheckHolds(accounts: accounts, mappings: self.mappings, tx: tx, now: now)
            return ImportSummary(kind: kind, records: records.count, releasedHolds: released)
        }
    }
}

/// SKUs, nodes and partners an import may refer to.
private struct ReferenceCheck {
    var skus: Set<String>
    var nodes: Set<String>
    var partners: Set<String>
}

/// Reads typed values out of import records, collecting every problem with its line and column.
private struct RecordChecker {
    let file: String
    var issues: [ImportIssue] = []

    init(file: String) {
        self.file = file
    }

    func finish() throws(ImportErrors) {
        // By line; within a line, in the order the columns were checked.
        let ordered = self.issues.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }
        if !ordered.isEmpty { throw ImportErrors(issues: ordered.map(\.element)) }
    }

    mutating func fail(_ record: ImportRecord, _ field: String?, _ message: String) {
        self.issues.append(ImportIssue(file: self.file, line: record.line, field: field, message: message))
    }

    /// Reports records that repeat the key of an earlier one. `keys` are in record order, for the records that read.
    mutating func uniqueKeys(_ records: [ImportRecord], _ keys: [String], what: String) {
        guard keys.count == records.count else { return }
        var seen: [String: Int] = [:]
        for (record, key) in zip(records, keys) {
            if let line = seen[key] {
                self.fail(record, nil, "repeats the \(what) \(key) of line \(line)")
            } else {
                seen[key] = record.line
            }
        }
    }

    mutating func text(_ record: ImportRecord, _ field: String, required: Bool = false) -> String? {
        let value = record.fields[field]
        if required && value == nil { self.fail(record, field, "is required") }
        return value
    }

    mutating func decimal(
        _ record: ImportRecord,
        _ field: String,
        required: Bool = false,
        positive: Bool = false
    ) -> Decimal? {
        guard let text = self.text(record, field, required: required) else { return nil }
        // Plain notation with a dot: `1234.5`. No thousands separators, no decimal comma, no exponent.
        let plain =
            text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
            && text.utf8.filter { $0 == UInt8(ascii: ".") }.count <= 1
        guard plain, let value = DecimalText.parse(text) else {
            self.fail(record, field, "\"\(text)\" is not a decimal number (plain, with a dot: 1234.50)")
            return nil
        }
        if value < 0 || (positive && value == 0) {
            self.fail(record, field, "\"\(text)\" must be \(positive ? "greater than zero" : "zero or more")")
            return nil
        }
        return value
    }

    mutating func integer(_ record: ImportRecord, _ field: String) -> Int? {
        guard let text = self.text(record, field) else { return nil }
        guard let value = Int(text), value >= 0 else {
            self.fail(record, field, "\"\(text)\" is not a whole number of zero or more")
            return nil
        }
        return value
    }

    mutating func date(_ record: ImportRecord, _ field: String) -> DocumentDate? {
        guard let text = self.text(record, field) else { return nil }
        guard text.count == 10, let date = DocumentDate(iso8601: text) else {
            self.fail(record, field, "\"\(text)\" is not a date (YYYY-MM-DD)")
            return nil
        }
        return date
    }

    mutating func validity(_ record: ImportRecord) -> Validity {
        let validity = Validity(from: self.date(record, "validFrom"), to: self.date(record, "validTo"))
        if let from = validity.from, let to = validity.to, to < from {
            self.fail(record, "validTo", "\(to) is before validFrom \(from)")
        }
        return validity
    }

    mutating func currency(_ record: ImportRecord) -> String? {
        guard let text = self.text(record, "currency", required: true) else { return nil }
        guard text.count == 3, text.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
            self.fail(record, "currency", "\"\(text)\" is not an ISO 4217 code (three capital letters)")
            return nil
        }
        return text
    }

    mutating func coordinate(_ record: ImportRecord, _ field: String, limit: Double, required: Bool) -> Double? {
        guard let text = self.text(record, field, required: required) else { return nil }
        guard let value = Double(text), abs(value) <= limit else {
            self.fail(record, field, "\"\(text)\" is not a \(field) (-\(Int(limit)) to \(Int(limit)))")
            return nil
        }
        return value
    }

    mutating func sku(_ record: ImportRecord, known: ReferenceCheck) -> String? {
        guard let sku = self.text(record, "sku", required: true) else { return nil }
        guard known.skus.contains(sku) else {
            self.fail(record, "sku", "unknown item \(sku) (import items first)")
            return nil
        }
        return sku
    }

    mutating func partner(_ record: ImportRecord, _ field: String, _ id: String, known: ReferenceCheck) -> Bool {
        guard known.partners.contains(id) else {
            self.fail(record, field, "unknown partner \(id) (no profile in mappings/partners)")
            return false
        }
        return true
    }

    // MARK: Kinds

    mutating func item(_ record: ImportRecord, known: ReferenceCheck) -> (Item, [BuyerPartReference])? {
        let before = self.issues.count
        let sku = self.text(record, "sku", required: true)
        let gtin = self.text(record, "gtin")
        if let gtin, !GS1.isValidGTIN(gtin) {
            self.fail(record, "gtin", "\"\(gtin)\" is not a GTIN (8, 12, 13 or 14 digits with a valid check digit)")
        }
        var conversions: [String: Decimal] = [:]
        for pair in (self.text(record, "conversions") ?? "").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, let factor = DecimalText.parse(parts[1]), factor > 0 else {
                self.fail(record, "conversions", "\"\(pair)\" is not UNIT=factor (a factor greater than zero)")
                continue
            }
            conversions[parts[0]] = factor
        }
        var references: [BuyerPartReference] = []
        for pair in (self.text(record, "buyerParts") ?? "").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                self.fail(record, "buyerParts", "\"\(pair)\" is not partner=part")
                continue
            }
            if self.partner(record, "buyerParts", parts[0], known: known), let sku {
                references.append(BuyerPartReference(partnerID: parts[0], buyerPart: parts[1], sku: sku))
            }
        }
        let leadTime = self.integer(record, "leadTimeDays")
        guard let sku, self.issues.count == before else { return nil }
        let item = Item(
            sku: sku,
            description: self.text(record, "description"),
            gtin: gtin,
            vendorPart: self.text(record, "vendorPart"),
            baseUnit: self.text(record, "baseUnit") ?? "EA",
            conversions: conversions,
            leadTimeDays: leadTime
        )
        return (item, references)
    }

    mutating func priceBreak(_ record: ImportRecord, known: ReferenceCheck) -> PriceBreak? {
        let before = self.issues.count
        let list = self.text(record, "priceList", required: true)
        let sku = self.sku(record, known: known)
        let minimum = self.decimal(record, "minQuantity", positive: true) ?? 1
        let price = self.decimal(record, "unitPrice", required: true)
        let currency = self.currency(record)
        let validity = self.validity(record)
        guard let list, let sku, let price, let currency, self.issues.count == before else { return nil }
        return PriceBreak(
            priceList: list,
            sku: sku,
            minimumQuantity: minimum,
            unitPrice: price,
            currency: currency,
            validity: validity
        )
    }

    mutating func contract(_ record: ImportRecord, known: ReferenceCheck) -> ContractPrice? {
        let before = self.issues.count
        let partner = self.text(record, "partner", required: true)
        if let partner { _ = self.partner(record, "partner", partner, known: known) }
        let sku = self.sku(record, known: known)
        let price = self.decimal(record, "unitPrice", required: true)
        let currency = self.currency(record)
        let validity = self.validity(record)
        guard let partner, let sku, let price, let currency, self.issues.count == before else { return nil }
        return ContractPrice(partnerID: partner, sku: sku, unitPrice: price, currency: currency, validity: validity)
    }

    mutating func creditAccount(_ record: ImportRecord) -> CreditAccount? {
        let before = self.issues.count
        let id = self.text(record, "account", required: true)
        let limit = self.decimal(record, "limit", required: true)
        let open = self.decimal(record, "openBalance") ?? 0
        let pastDue = self.decimal(record, "pastDue") ?? 0
        let days = self.integer(record, "pastDueDays") ?? 0
        let allowed = self.integer(record, "allowedPastDueDays") ?? 30
        let currency = self.currency(record)
        guard let id, let limit, let currency, self.issues.count == before else { return nil }
        return CreditAccount(
            id: id,
            limit: limit,
            openBalance: open,
            pastDue: pastDue,
            pastDueDays: days,
            allowedPastDueDays: allowed,
            currency: currency
        )
    }

    mutating func node(_ record: ImportRecord, known: ReferenceCheck) -> FulfilmentNode? {
        let before = self.issues.count
        let id = self.text(record, "node", required: true)
        let kindText = self.text(record, "kind") ?? "warehouse"
        let kind = FulfilmentNode.Kind(rawValue: kindText)
        if kind == nil { self.fail(record, "kind", "\"\(kindText)\" is not warehouse or store") }
        let latitude = self.coordinate(record, "latitude", limit: 90, required: false)
        let longitude = self.coordinate(record, "longitude", limit: 180, required: latitude != nil)
        if longitude != nil && latitude == nil { self.fail(record, "latitude", "is required with a longitude") }
        var partners: Set<String> = []
        for partner in (self.text(record, "partners") ?? "").split(separator: ";") {
            let id = partner.trimmingCharacters(in: .whitespaces)
            if self.partner(record, "partners", id, known: known) { partners.insert(id) }
        }
        let flag = self.text(record, "shipFromStore") ?? "false"
        let shipFromStore = ["true", "yes", "1"].contains(flag.lowercased())
        if !shipFromStore && !["false", "no", "0"].contains(flag.lowercased()) {
            self.fail(record, "shipFromStore", "\"\(flag)\" is not true or false")
        }
        guard let id, let kind, self.issues.count == before else { return nil }
        return FulfilmentNode(
            id: id,
            kind: kind,
            location: latitude.flatMap { lat in longitude.map { GeoPoint(latitude: lat, longitude: $0) } },
            partners: partners,
            shipFromStore: shipFromStore
        )
    }

    mutating func stockLevel(_ record: ImportRecord, known: ReferenceCheck) -> StockLevel? {
        let before = self.issues.count
        let node = self.text(record, "node", required: true)
        if let node, !known.nodes.contains(node) {
            self.fail(record, "node", "unknown node \(node) (import nodes first)")
        }
        let sku = self.sku(record, known: known)
        let onHand = self.decimal(record, "onHand", required: true)
        let safety = self.decimal(record, "safetyStock") ?? 0
        let date = self.date(record, "nextReplenishment")
        let quantity = self.decimal(record, "replenishmentQuantity")
        guard let node, let sku, let onHand, self.issues.count == before else { return nil }
        return StockLevel(
            nodeID: node,
            sku: sku,
            onHand: onHand,
            safetyStock: safety,
            nextReplenishment: date,
            replenishmentQuantity: quantity
        )
    }

    mutating func location(_ record: ImportRecord, known: ReferenceCheck) -> (key: String, GeoPoint)? {
        let before = self.issues.count
        let partner = self.text(record, "partner")
        let party = self.text(record, "party")
        let country = self.text(record, "country")
        let postalCode = self.text(record, "postalCode")
        let latitude = self.coordinate(record, "latitude", limit: 90, required: true)
        let longitude = self.coordinate(record, "longitude", limit: 180, required: true)
        var key: String?
        switch (partner, party, country, postalCode) {
        case (let partner?, let party?, nil, nil):
            if self.partner(record, "partner", partner, known: known) { key = "\(partner):\(party)" }
        case (nil, nil, let country?, let postalCode?): key = "postal:\(country):\(postalCode)"
        default:
            self.fail(record, nil, "give either partner and party, or country and postalCode")
        }
        guard let key, let latitude, let longitude, self.issues.count == before else { return nil }
        return (key, GeoPoint(latitude: latitude, longitude: longitude))
    }

}
