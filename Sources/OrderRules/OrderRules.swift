import Foundation
import OrderModel

/// The business rules: items, pricing, availability and routing, credit. `evaluate` decides an order; it is pure
/// (the caller passes the date, the data, and the value of the partner's open orders not yet invoiced).
public struct OrderRules: Sendable {
    public var data: BusinessData

    public init(data: BusinessData) {
        self.data = data
    }

    /// Decides every line of `order` and the order as a whole.
    ///
    /// - Parameters:
    ///   - openOrders: the value of the partner's orders not yet invoiced (including those received and not yet
    ///     acknowledged), in the credit account's currency.
    ///   - today: the date prices are taken at when the order gives none.
    ///   - creditRelease: set when an admin released the order's credit hold: the credit figures are still computed
    ///     and recorded, but do not hold the order again; the text (who and why) goes into the reason.
    ///   - decided: the lines as `decideLines` decided them ahead, with this data's catalogue, the same settings and
    ///     day; nil: they are decided here.
    public func evaluate(
        _ order: Order,
        partnerID: String,
        settings: RuleSettings,
        openOrders: Decimal,
        today: DocumentDate,
        creditRelease: String? = nil,
        lines decided: [LineDecision]? = nil
    ) -> OrderDecision {
        var lines = decided ?? self.decideLines(order, partnerID: partnerID, settings: settings, today: today)
        self.allocate(&lines, order: order, partnerID: partnerID, policy: settings.fulfilment, today: today)
        var credit = self.checkCredit(lines, order: order, settings: settings, openOrders: openOrders)
        if let creditRelease, credit.isHeld {
            credit.isHeld = false
            credit.reason = "hold released (\(creditRelease)); \(credit.reason)"
        }
        var reasons: [String] = []
        let status: AcknowledgementStatus
        if lines.allSatisfy({ $0.rejection != nil }) {
            status = .rejected
            reasons.append(lines.isEmpty ? "the order has no lines" : "every line is rejected")
        } else if credit.isHeld {
            status = .onHold
            reasons.append(credit.reason)
        } else if lines.contains(where: { $0.rejection != nil || $0.backordered.isPositive || $0.cancelled.isPositive })
            // A line without a price of the buyer's is answered with ours but not changed (its disposition is IA).
            || lines.contains(where: {
                $0.price.map { $0.orderedUnitPrice != nil && $0.acceptedUnitPrice != $0.orderedUnitPrice } ?? false
            })
        {
            status = .acceptedWithChanges
        } else {
            status = .accepted
        }
        var reservations: [Reservation] = []
        if status == .accepted || status == .acceptedWithChanges {
            for line in lines {
                guard let sku = line.sku else { continue }
                for (node, quantity) in line.allocations.sorted(by: { $0.key < $1.key }) where quantity.isPositive {
                    reservations.append(Reservation(nodeID: node, sku: sku, quantity: quantity))
                }
            }
        }
        return OrderDecision(lines: lines, credit: credit, status: status, reservations: reservations, reasons: reasons)
    }

    // MARK: Items and prices

    /// What the rules decide about each line from the catalogue alone (its item, units and price): the part of
    /// `evaluate` that reads neither stock nor credit, so that it can be done ahead, off the store's writer, and
    /// handed to `evaluate(lines:)` with the same catalogue, settings and day.
    public func decideLines(
        _ order: Order,
        partnerID: String,
        settings: RuleSettings,
        today: DocumentDate
    ) -> [LineDecision] {
        let date = order.orderDate ?? today
        return order.lines.enumerated().map { index, line in
            self.decideItemAndPrice(
                line,
                index: index,
                order: order,
                partnerID: partnerID,
                settings: settings,
                at: date
            )
        }
    }

    /// The SKUs a line's identifiers resolve to (buyer part for this partner, GTIN, vendor part, SKU), each with the
    /// identifiers that led to it.
    func skus(for identifiers: ItemIdentifiers, partnerID: String) -> [String: [String]] {
        var found: [String: [String]] = [:]
        if let buyerPart = identifiers.buyerPart {
            for sku in self.data.skusByBuyerPart[BusinessData.key(partnerID, buyerPart)] ?? [] {
                found[sku, default: []].append("buyer part \(buyerPart)")
            }
        }
        if let gtin = identifiers.gtin {
            for sku in self.data.skusByGTIN[BusinessData.gtinKey(gtin)] ?? [] {
                found[sku, default: []].append("GTIN \(gtin)")
            }
        }
        if let vendorPart = identifiers.vendorPart {
            for sku in self.data.skusByVendorPart[vendorPart] ?? [] {
                found[sku, default: []].append("vendor part \(vendorPart)")
            }
        }
        if let sku = identifiers.sku, self.data.items[sku] != nil { found[sku, default: []].append("SKU \(sku)") }
        return found
    }

    /// GTINs compare without leading zeros (a UPC-A and its GTIN-14 are one item).
    static func sameGTIN(_ left: String, _ right: String) -> Bool {
        BusinessData.gtinKey(left) == BusinessData.gtinKey(right)
    }

    private func decideItemAndPrice(
        _ line: OrderLine,
        index: Int,
        order: Order,
        partnerID: String,
        settings: RuleSettings,
        at date: DocumentDate
    ) -> LineDecision {
        let ordered = line.quantity?.value ?? 0
        var decision = LineDecision(
            index: index,
            sku: nil,
            orderedQuantity: ordered,
            unit: line.quantity?.unit,
            baseQuantity: ordered,
            price: nil,
            allocations: [:],
            backordered: 0,
            backorderDate: nil,
            cancelled: 0,
            rejection: nil,
            nodes: [],
            reasons: [],
            lineNumber: line.lineNumber,
            item: Self.describe(line.item)
        )
        func reject(_ reason: String) -> LineDecision {
            decision.rejection = reason
            decision.cancelled = decision.baseQuantity
            decision.reasons.append(reason)
            return decision
        }
        let candidates = self.skus(for: line.item, partnerID: partnerID)
        guard !candidates.isEmpty else {
            return reject("unknown item (\(decision.item ?? ""))")
        }
        guard candidates.count == 1, let (sku, evidence) = candidates.first, let item = self.data.items[sku] else {
            let list = candidates.sorted { $0.key < $1.key }.map { "\($0.key) by \($0.value.joined(separator: ", "))" }
            return reject("ambiguous item: \(list.joined(separator: "; "))")
        }
        decision.sku = sku
        decision.reasons.append("item \(sku) by \(evidence.joined(separator: ", "))")
        guard ordered.isPositive else { return reject("no quantity ordered") }
        guard let factor = item.factor(of: line.quantity?.unit) else {
            return reject("\(sku) is not sold in \(line.quantity?.unit ?? "")")
        }
        decision.baseQuantity = DecimalMath.product(ordered, factor)
        decision.cancelled = 0
        if factor != 1 {
            decision.reasons.append(
                "\(DecimalText.format(ordered)) \(line.quantity?.unit ?? "") = "
                    + "\(DecimalText.format(decision.baseQuantity)) \(item.baseUnit)"
            )
        }
        // Counted items ship whole (regression, review: 3.3333333 EA was reserved as it came, and 0.1 EA was rejected
        // as "no valid price").
        if Self.countUnits.contains(item.baseUnit.uppercased()), !Self.isWhole(decision.baseQuantity) {
            return reject(
                "\(DecimalText.format(decision.baseQuantity)) \(item.baseUnit) is not a whole number of \(item.baseUnit)"
            )
        }
        // Our price: a valid contract price first, else the price list's break for the quantity.
        var price:
            (source: PriceDecision.Source, base: Decimal, currency: String, breakQuantity: Decimal?, text: String)
        if let contract = self.data.contractsByPartnerAndSKU[BusinessData.key(partnerID, sku)]?.first(where: {
            $0.validity.contains(date)
        }) {
            price = (.contract, contract.unitPrice, contract.currency, nil, "contract price")
        } else if let listed = self.data.breaksByListAndSKU[BusinessData.key(settings.priceList, sku)]?.first(where: {
            !DecimalMath.isLess(decision.baseQuantity, $0.minimumQuantity) && $0.validity.contains(date)
        }) {
            let breakText =
                listed.minimumQuantity > 1 ? ", break from \(DecimalText.format(listed.minimumQuantity))" : ""
            price = (
                .priceList, listed.unitPrice, listed.currency, listed.minimumQuantity,
                "price list \(settings.priceList)\(breakText)"
            )
        } else {
            return reject("no valid price for \(sku) on price list \(settings.priceList) on \(date)")
        }
        if let currency = order.currency, currency != price.currency {
            return reject("\(sku) is priced in \(price.currency), the order is in \(currency)")
        }
        let ours = DecimalMath.product(price.base, factor)
        // The buyer's price, per ordered unit as ours is. X12 PO105 `PE` says it is per each: on a line ordered in
        // another unit it is converted when the item knows the each (regression, review: 4.25 PE on a box of 50 was
        // compared with our 212.50 a box and answered as a price change).
        var orderedPrice = line.unitPrice?.amount
        var perEach: String?
        if let given = orderedPrice, line.priceBasis == "PE", let unit = line.quantity?.unit, unit != "EA",
            let each = item.factor(of: "EA"), each.isPositive
        {
            orderedPrice = DecimalMath.product(given, factor) / each
            perEach = " (\(DecimalText.format(given)) per each)"
        }
        var accepted = ours
        var reason = "\(price.text): \(DecimalText.format(ours))"
        if let orderedPrice, orderedPrice == ours {
            reason += " (as ordered)"
        } else if let orderedPrice {
            let deviation: Decimal =
                ours == 0 ? (orderedPrice == 0 ? 0 : 100) : abs(orderedPrice - ours) / ours * 100
            let tolerance = settings.priceTolerancePercent
            let described =
                "ordered \(DecimalText.format(orderedPrice))\(perEach ?? ""), \(DecimalText.format(deviation, places: 1)) % "
                + "\(orderedPrice < ours ? "below" : "above"), tolerance \(DecimalText.format(tolerance)) %"
            if deviation <= tolerance {
                accepted = orderedPrice
                reason += " (\(described): accepted as ordered)"
            } else if settings.pricePolicy == .reject {
                decision.price = PriceDecision(
                    source: price.source,
                    basePrice: price.base,
                    ourUnitPrice: ours,
                    orderedUnitPrice: orderedPrice,
                    acceptedUnitPrice: orderedPrice,
                    currency: price.currency,
                    breakQuantity: price.breakQuantity,
                    reason: reason + " (\(described))"
                )
                return reject("price \(DecimalText.format(orderedPrice)) rejected: \(reason) (\(described))")
            } else {
                reason += " (\(described): our price)"
            }
        } else {
            reason += " (the order gives no price)"
        }
        decision.price = PriceDecision(
            source: price.source,
            basePrice: price.base,
            ourUnitPrice: ours,
            orderedUnitPrice: orderedPrice,
            acceptedUnitPrice: accepted,
            currency: price.currency,
            breakQuantity: price.breakQuantity,
            reason: reason
        )
        decision.reasons.append(reason)
        return decision
    }

    /// Of two valid breaks, the one for the larger quantity wins; for the same quantity, the one valid from later
    /// (a new price that replaces an open-ended one).
    static func breakOrder(_ left: PriceBreak, _ right: PriceBreak) -> Bool {
        if left.minimumQuantity != right.minimumQuantity { return left.minimumQuantity < right.minimumQuantity }
        return (left.validity.from?.description ?? "") < (right.validity.from?.description ?? "")
    }

    /// Units that count pieces (X12 and UN/ECE codes): a base quantity in one of them must be whole. Weights,
    /// lengths and volumes (LB, KG, M, L...) may have decimals.
    static let countUnits: Set<String> = [
        "EA", "PC", "PCE", "C62", "H87", "NAR", "NMB", "UN", "PR", "PA", "DZ", "BX", "CA", "CS", "CT", "PK", "PL", "ST",
        "RL", "BG", "BO", "CN", "DR", "SET",
    ]

    static func isWhole(_ value: Decimal) -> Bool {
        var value = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 0, .down)
        return rounded == value
    }

    static func describe(_ item: ItemIdentifiers) -> String {
        var parts: [String] = []
        if let value = item.buyerPart { parts.append("buyer part \(value)") }
        if let value = item.gtin { parts.append("GTIN \(value)") }
        if let value = item.vendorPart { parts.append("vendor part \(value)") }
        if let value = item.sku { parts.append("SKU \(value)") }
        return parts.isEmpty ? "no identifier" : parts.joined(separator: ", ")
    }

    // MARK: Availability and routing

    private struct Candidate {
        var node: FulfilmentNode
        var kilometres: Double?
    }

    /// Allocates the lines that are not rejected to nodes, per the partner's fulfilment policy.
    private func allocate(
        _ lines: inout [LineDecision],
        order: Order,
        partnerID: String,
        policy: RuleSettings.Fulfilment,
        today: DocumentDate
    ) {
        let active = lines.indices.filter { lines[$0].rejection == nil && lines[$0].sku != nil }
        guard !active.isEmpty else { return }
        let shipTo = order.parties.first { $0.role == .shipTo }
        let destination = self.data.location(of: shipTo, partnerID: partnerID)
        let candidates = self.data.nodes.filter { $0.serves(partnerID) }.map { node in
            Candidate(
                node: node,
                kilometres: node.location.flatMap { point in destination.map { point.kilometres(to: $0) } }
            )
        }.sorted { left, right in
            // Nearest first; nodes without a known distance after, by ID.
            switch (left.kilometres, right.kilometres) {
            case let (l?, r?) where l != r: return l < r
            case (.some, nil): return true
            case (nil, .some): return false
            default: return left.node.id < right.node.id
            }
        }
        var available: [String: [String: Decimal]] = [:]
        for sku in Set(active.compactMap { lines[$0].sku }) {
            for level in self.data.availableBySKU[sku] ?? [] {
                available[level.nodeID, default: [:]][sku] = level.available
            }
        }
        func atp(_ node: String, _ sku: String) -> Decimal { available[node]?[sku] ?? 0 }
        // Base units the order needs per SKU (two lines may order one item).
        var needed: [String: Decimal] = [:]
        for index in active {
            needed[lines[index].sku!] = DecimalMath.sum(needed[lines[index].sku!] ?? 0, lines[index].baseQuantity)
        }
        let whole = candidates.first { candidate in
            needed.allSatisfy { !DecimalMath.isLess(atp(candidate.node.id, $0.key), $0.value) }
        }
        if let whole {
            for index in active {
                let sku = lines[index].sku!
                lines[index].allocations[whole.node.id] = lines[index].baseQuantity
                lines[index].nodes = candidates.map { candidate in
                    NodeConsideration(
                        nodeID: candidate.node.id,
                        availableToPromise: atp(candidate.node.id, sku),
                        kilometres: candidate.kilometres,
                        allocated: candidate.node.id == whole.node.id ? lines[index].baseQuantity : 0,
                        reason: candidate.node.id == whole.node.id
                            ? "nearest node that can ship the whole order" : Self.notChosen(candidate, whole)
                    )
                }
                lines[index].reasons.append("ships from \(whole.node.id), the nearest node with the whole order")
            }
            return
        }
        switch policy {
        case .fillOrKill:
            for index in active {
                let reason = "fill or kill: no single node can ship the whole order now"
                lines[index].rejection = reason
                lines[index].cancelled = lines[index].baseQuantity
                lines[index].reasons.append(reason)
                lines[index].nodes = self.considerations(candidates, sku: lines[index].sku!, atp: atp, reason: reason)
            }
        case .noSplits:
            // The node that can ship the most of the order now (nearest on a tie); the rest is cancelled.
            var best: (candidate: Candidate, covered: Decimal)?
            for candidate in candidates {
                var remaining = available[candidate.node.id] ?? [:]
                var covered: Decimal = 0
                for index in active {
                    let sku = lines[index].sku!
                    let take = min(lines[index].baseQuantity, remaining[sku] ?? 0)
                    remaining[sku] = (remaining[sku] ?? 0) - take
                    covered += take
                }
                if covered > (best?.covered ?? 0) { best = (candidate, covered) }
            }
            for index in active {
                let sku = lines[index].sku!
                let reason =
                    best.map { "no splits: \($0.candidate.node.id) ships the most of the order" }
                    ?? "no node has any of the order (no splits)"
                // The nodes as they stood before the line took its share (regression, review: the figure recorded
                // was what was left after it).
                lines[index].nodes = self.considerations(candidates, sku: sku, atp: atp, reason: reason)
                if let best {
                    let take = min(lines[index].baseQuantity, atp(best.candidate.node.id, sku))
                    available[best.candidate.node.id, default: [:]][sku] = atp(best.candidate.node.id, sku) - take
                    if take.isPositive { lines[index].allocations[best.candidate.node.id] = take }
                }
                lines[index].cancelled = lines[index].baseQuantity - lines[index].allocated
                lines[index].reasons.append(reason)
                if lines[index].cancelled > 0 {
                    lines[index].reasons.append("\(DecimalText.format(lines[index].cancelled)) cancelled (no splits)")
                }
                if let best {
                    for position in lines[index].nodes.indices
                    where lines[index].nodes[position].nodeID == best.candidate.node.id {
                        lines[index].nodes[position].allocated = lines[index].allocated
                    }
                }
                if lines[index].allocated == 0 {
                    lines[index].rejection = "not available at \(best?.candidate.node.id ?? "any node") (no splits)"
                }
            }
        case .splitsAllowed, .backordersAllowed:
            for index in active {
                let sku = lines[index].sku!
                var remaining = lines[index].baseQuantity
                var considered: [NodeConsideration] = []
                for candidate in candidates {
                    let free = atp(candidate.node.id, sku)
                    let take = min(remaining, free)
                    var reason: String
                    if take.isPositive {
                        lines[index].allocations[candidate.node.id] = take
                        available[candidate.node.id, default: [:]][sku] = free - take
                        remaining -= take
                        reason =
                            take == lines[index].baseQuantity
                            ? "nearest node with the whole line"
                            : "ships \(DecimalText.format(take)) of \(DecimalText.format(lines[index].baseQuantity)): "
                                + "all it has"
                    } else {
                        reason = free.isZero ? "no stock" : "not needed: the line is covered by nearer nodes"
                    }
                    considered.append(
                        NodeConsideration(
                            nodeID: candidate.node.id,
                            availableToPromise: free,
                            kilometres: candidate.kilometres,
                            allocated: take,
                            reason: reason
                        )
                    )
                }
                lines[index].nodes = considered
                guard remaining.isPositive else { continue }
                // A replenishment date already past says nothing of when the stock comes: it is not promised.
                let replenishment = (self.data.stockBySKU[sku] ?? []).filter { level in
                    level.nextReplenishment.map { !($0 < today) } ?? false
                        && candidates.contains { $0.node.id == level.nodeID }
                }.min { $0.nextReplenishment! < $1.nextReplenishment! }
                if policy == .backordersAllowed, let replenishment, let date = replenishment.nextReplenishment {
                    lines[index].backordered = remaining
                    lines[index].backorderDate = date
                    lines[index].reasons.append(
                        "\(DecimalText.format(remaining)) backordered to \(date) (replenishment at \(replenishment.nodeID))"
                    )
                } else {
                    lines[index].cancelled = remaining
                    let why =
                        policy == .backordersAllowed ? "no stock and no replenishment date" : "backorders not allowed"
                    lines[index].reasons.append("\(DecimalText.format(remaining)) cancelled: \(why)")
                    if lines[index].allocated == 0 {
                        lines[index].rejection = "not available: \(why)"
                    }
                }
            }
        }
    }

    private static func notChosen(_ candidate: Candidate, _ chosen: Candidate) -> String {
        if let mine = candidate.kilometres, let theirs = chosen.kilometres, mine > theirs {
            return "farther than \(chosen.node.id)"
        }
        return "cannot ship the whole order"
    }

    private func considerations(
        _ candidates: [Candidate],
        sku: String,
        atp: (String, String) -> Decimal,
        reason: String
    ) -> [NodeConsideration] {
        candidates.map {
            NodeConsideration(
                nodeID: $0.node.id,
                availableToPromise: atp($0.node.id, sku),
                kilometres: $0.kilometres,
                allocated: 0,
                reason: reason
            )
        }
    }

    // MARK: Credit

    /// `value` rounded half-up to `places` decimals (money in the credit figures).
    static func rounded(_ value: Decimal, places: Int) -> Decimal {
        var value = value
        var result = Decimal()
        NSDecimalRound(&result, &value, places, .plain)
        return result
    }

    private func checkCredit(
        _ lines: [LineDecision],
        order: Order,
        settings: RuleSettings,
        openOrders: Decimal
    ) -> CreditDecision {
        var value: Decimal = 0
        for line in lines where line.rejection == nil {
            guard let price = line.price, line.baseQuantity.isPositive else { continue }
            // The accepted price is per ordered unit; ship now and later both count. (Decimal division is slow: the
            // usual whole line needs none.)
            let shipped = line.backordered.isZero ? line.allocated : line.allocated + line.backordered
            if shipped == line.baseQuantity {
                value = DecimalMath.sum(value, DecimalMath.product(line.orderedQuantity, price.acceptedUnitPrice))
            } else {
                value += shipped * line.orderedQuantity / line.baseQuantity * price.acceptedUnitPrice
            }
        }
        value = Self.rounded(value, places: 2)
        /// A decision without account figures: no account in the rules, or one we do not know.
        func withoutAccount(_ account: String?, isHeld: Bool, reason: String) -> CreditDecision {
            CreditDecision(
                account: account,
                limit: nil,
                openBalance: 0,
                pastDue: 0,
                pastDueDays: 0,
                openOrders: openOrders,
                orderValue: value,
                exposure: openOrders + value,
                isHeld: isHeld,
                reason: reason
            )
        }
        guard let accountID = settings.creditAccount else {
            return withoutAccount(nil, isHeld: false, reason: "no credit account in the partner's rules")
        }
        guard let account = self.data.creditAccounts[accountID] else {
            return withoutAccount(
                accountID,
                isHeld: true,
                reason: "credit account \(accountID) is unknown: held for review"
            )
        }
        let exposure = account.openBalance + account.pastDue + openOrders + value
        let numbers =
            "exposure \(DecimalText.format(exposure, places: 2)) = open balance "
            + "\(DecimalText.format(account.openBalance, places: 2)) + past due "
            + "\(DecimalText.format(account.pastDue, places: 2)) + open orders \(DecimalText.format(openOrders, places: 2))"
            + " + this order \(DecimalText.format(value, places: 2)); limit \(DecimalText.format(account.limit, places: 2))"
        var reason: String
        var isHeld = false
        if account.pastDue > 0 && account.pastDueDays > account.allowedPastDueDays {
            isHeld = true
            reason =
                "credit hold: \(DecimalText.format(account.pastDue, places: 2)) past due for \(account.pastDueDays) days "
                + "(terms allow \(account.allowedPastDueDays)); \(numbers)"
        } else if exposure > account.limit {
            isHeld = true
            reason =
                "credit hold: over the limit by \(DecimalText.format(exposure - account.limit, places: 2)); \(numbers)"
        } else {
            reason = "credit ok: \(numbers)"
        }
        return CreditDecision(
            account: accountID,
            limit: account.limit,
            openBalance: account.openBalance,
            pastDue: account.pastDue,
            pastDueDays: account.pastDueDays,
            openOrders: openOrders,
            orderValue: value,
            exposure: exposure,
            isHeld: isHeld,
            reason: reason
        )
    }
}

extension Decimal {
    /// Greater than zero, without a `Decimal` comparison (which allocates on Linux).
    var isPositive: Bool { !self.isZero && self.sign == .plus }
}
