import Foundation
import Logging
import OrderMapping
import OrderModel
import OrderStore

/// Storing mapped orders and handing them to the rules. Storing comes first (so that the functional acknowledgement
/// of an interchange is queued before the purchase-order acknowledgements of its orders); `decide` then runs the rules
/// on what was stored, in the same transaction.
extension InboundPipeline {
    /// An order stored by this file that the rules still have to see.
    enum PendingDecision {
        /// A new order: decide it (with its lines, when they were decided while the file was prepared).
        case decide(orderID: Int64, Order, lines: OrderDesk.DecidedLines?)
        /// A second original of a PO number: answer it as a duplicate.
        case duplicate(orderID: Int64, Order, earlier: Int64)
        /// A replace, change or cancel of a stored order.
        case change(orderID: Int64, Order, target: Int64)
        /// A change or cancel for a PO number we do not have.
        case orphan(orderID: Int64, Order)
        /// A confirmation of an order we have (X12 BEG01 06): recorded against it, nothing to decide.
        case confirmation(orderID: Int64, target: Int64)
        /// A document of a reprocessed file that was applied the first time: recorded, not applied again.
        case alreadyApplied(orderID: Int64, target: Int64)
    }

    /// Stores an order. A second original of a PO number is stored flagged as a duplicate; a replace, change or cancel
    /// is stored as its own row and later applied to the order it changes. Returns whether a new (non-duplicate)
    /// order was stored; what the rules must do is appended to `pending`. `isReprocess`: the file is being processed
    /// again (`files reprocess --force`): its originals are duplicates of themselves and are not answered, and its
    /// changes are not applied twice.
    func storeOrder(
        _ order: Order,
        canonical: [UInt8],
        decidedLines: OrderDesk.DecidedLines? = nil,
        partner: PartnerProfile,
        fileID: Int64,
        setID: Int64?,
        isReprocess: Bool = false,
        tx: StoreTransaction,
        now: Date,
        log: inout [LogEntry],
        pending: inout [PendingDecision]
    ) throws -> Bool {
        let earlier = try tx.reader.originalOrder(partnerID: partner.id, purchaseOrderNumber: order.purchaseOrderNumber)
        if order.purpose == .original, let earlier {
            let id = try tx.insertOrder(
                order,
                canonical: canonical,
                partnerID: partner.id,
                fileID: fileID,
                setID: setID,
                status: .duplicate,
                duplicateOf: earlier,
                note: "PO \(order.purchaseOrderNumber) was already received as order \(earlier)",
                at: now
            )
            try tx.audit(
                actor: "daemon",
                action: "duplicate-order",
                subject: "order:\(id)",
                detail: "PO \(order.purchaseOrderNumber) repeats order \(earlier); not processed",
                at: now
            )
            log.append(
                (
                    .warning,
                    "duplicate purchase order",
                    [
                        "partner.id": "\(partner.id)", "order.id": "\(id)",
                        "order.po": "\(order.purchaseOrderNumber)", "order.duplicate_of": "\(earlier)",
                    ]
                )
            )
            if !isReprocess { pending.append(.duplicate(orderID: id, order, earlier: earlier)) }
            return false
        }
        // A replace or a confirmation for a PO we never had is the order itself: it is stored as the original.
        var stored = order
        var storedCanonical = canonical
        if (order.purpose == .replace || order.purpose == .confirmation) && earlier == nil {
            stored.purpose = .original
            storedCanonical = try Self.canonicalJSON(stored, partnerID: partner.id)
        }
        let id = try tx.insertOrder(
            stored,
            canonical: storedCanonical,
            partnerID: partner.id,
            fileID: fileID,
            setID: setID,
            status: .received,
            at: now
        )
        log.append(
            (
                .info,
                "order received",
                [
                    "partner.id": "\(partner.id)", "order.id": "\(id)", "order.po": "\(order.purchaseOrderNumber)",
                    "order.purpose": "\(order.purpose.rawValue)",
                    "interchange.control_number": "\(order.source?.interchangeControlNumber ?? "")",
                ]
            )
        )
        switch (stored.purpose, earlier) {
        case (.original, _): pending.append(.decide(orderID: id, stored, lines: decidedLines))
        case (.confirmation, let earlier?): pending.append(.confirmation(orderID: id, target: earlier))
        case (_, let earlier?) where isReprocess: pending.append(.alreadyApplied(orderID: id, target: earlier))
        case (_, let earlier?): pending.append(.change(orderID: id, stored, target: earlier))
        case (_, nil): pending.append(.orphan(orderID: id, stored))
        }
        return true
    }

    /// Runs the rules on the orders a file stored, in order. Returns the purchase-order acknowledgements queued.
    func decide(
        _ pending: [PendingDecision],
        partner: PartnerProfile,
        fileID: Int64,
        tx: StoreTransaction,
        now: Date,
        log: inout [LogEntry]
    ) throws -> Int {
        guard !pending.isEmpty else { return 0 }
        let mappings = self.mappings.current
        var sent = 0
        for item in pending {
            switch item {
            case .decide(let orderID, let order, let lines):
                try tx.recordStatus(orderID: orderID, .validated, note: Self.validatedNote(order), at: now)
                guard self.configuration.rulesEnabled else { continue }
                if let decided = try self.desk.decide(
                    orderID: orderID,
                    order: order,
                    partner: partner,
                    mappings: mappings,
                    fileID: fileID,
                    tx: tx,
                    now: now,
                    decided: lines
                ) {
                    sent += decided.acknowledgements
                    log += decided.log
                }
            case .duplicate(let orderID, let order, let earlier):
                if self.configuration.rulesEnabled,
                    try self.desk.answerDuplicate(
                        orderID: orderID,
                        order: order,
                        earlier: earlier,
                        partner: partner,
                        mappings: mappings,
                        fileID: fileID,
                        tx: tx,
                        now: now,
                        log: &log
                    )
                {
                    sent += 1
                }
            case .orphan(let orderID, let order):
                let reason = "there is no order \(order.purchaseOrderNumber) to \(order.purpose.rawValue)"
                try tx.recordStatus(orderID: orderID, .rejected, note: reason, at: now)
                log.append(
                    (
                        .warning,
                        "order change for an unknown PO",
                        ["partner.id": "\(partner.id)", "order.id": "\(orderID)", "reason": "\(reason)"]
                    )
                )
            case .confirmation(let orderID, let target):
                try tx.recordStatus(orderID: orderID, .applied, note: "confirms order \(target)", at: now)
            case .alreadyApplied(let orderID, let target):
                try tx.recordStatus(
                    orderID: orderID,
                    .applied,
                    note: "reprocessed: already applied to order \(target) the first time",
                    at: now
                )
            case .change(let orderID, let change, let target):
                sent += try self.applyChange(
                    orderID: orderID,
                    change,
                    to: target,
                    partner: partner,
                    mappings: mappings,
                    fileID: fileID,
                    tx: tx,
                    now: now,
                    log: &log
                )
            }
        }
        return sent
    }

    static func validatedNote(_ order: Order) -> String {
        var note = "\(order.lines.count) lines"
        if let mapping = order.source?.mapping { note += ", mapped with \(mapping)" }
        return note
    }

    /// Applies a replace, change or cancel to the stored order: a cancel withdraws it (reservations, open value,
    /// hold); a replace or change rewrites it (the difference goes into its history) and decides it again, which
    /// sends the partner a new acknowledgement.
    private func applyChange(
        orderID: Int64,
        _ change: Order,
        to target: Int64,
        partner: PartnerProfile,
        mappings: MappingSet,
        fileID: Int64,
        tx: StoreTransaction,
        now: Date,
        log: inout [LogEntry]
    ) throws -> Int {
        guard let current = try tx.reader.order(id: target), let header = try tx.reader.orderHeader(id: target) else {
            return 0
        }
        // A cancelled order stays cancelled; one that has shipped (in part or in full) is not decided again: its
        // reservations were taken by the shipments, and deciding it again would reserve and promise what has left
        // (regression, review: an 860 to a shipped order reserved its quantities again and restored its open value).
        let closed: [String: String] = [
            OrderStatus.cancelled.rawValue: "was cancelled",
            OrderStatus.partiallyShipped.rawValue: "has partly shipped",
            OrderStatus.shipped.rawValue: "has shipped",
            OrderStatus.delivered.rawValue: "was delivered",
            OrderStatus.returned.rawValue: "was returned",
        ]
        if let state = closed[header.status] {
            let reason =
                "order \(target) (PO \(change.purchaseOrderNumber)) \(state); the \(change.purpose) is not applied"
            try tx.recordStatus(orderID: orderID, .rejected, note: reason, at: now)
            log.append((.warning, "change to a closed order", ["order.id": "\(orderID)", "reason": "\(reason)"]))
            return 0
        }
        let metadata: Logger.Metadata = [
            "partner.id": "\(partner.id)", "order.id": "\(target)", "order.po": "\(change.purchaseOrderNumber)",
            "order.change_id": "\(orderID)",
        ]
        // What the change frees up may bring the account's held orders within the terms.
        let accounts = Set([try partner.ruleSettings()?.creditAccount].compactMap { $0 })
        var merged = change.purpose == .replace ? change : OrderChanges.merge(change, into: current)
        // A change that deletes every line cancels the order (regression, review: it was decided again, with no
        // lines, and answered as rejected).
        let deletesEverything = change.purpose != .cancel && merged.lines.isEmpty && !current.lines.isEmpty
        if change.purpose == .cancel || deletesEverything {
            let why = deletesEverything ? " (every line deleted)" : ""
            try self.desk.withdraw(
                orderID: target,
                actor: "daemon",
                note: "cancelled by order \(orderID)",
                tx: tx,
                now: now
            )
            try tx.recordStatus(
                orderID: target,
                .cancelled,
                note: "cancelled by the buyer (order \(orderID))\(why)",
                at: now
            )
            try tx.recordStatus(orderID: orderID, .applied, note: "cancels order \(target)\(why)", at: now)
            log.append((.notice, "order cancelled", metadata))
            guard self.configuration.rulesEnabled else { return 0 }
            // An 860 that cancels is confirmed with an 865; the other cancels by the 997/CONTRL alone.
            var confirmed = false
            if change.source?.documentType == "860" {
                confirmed = try self.desk.confirmCancel(
                    orderID: target,
                    order: current,
                    partner: partner,
                    mappings: mappings,
                    fileID: fileID,
                    tx: tx,
                    now: now,
                    log: &log
                )
            }
            let released = try self.desk.recheckHolds(accounts: accounts, mappings: mappings, tx: tx, now: now)
            return (confirmed ? 1 : 0) + released.count
        }
        merged.id = nil
        merged.purpose = .original
        let difference = OrderChanges.describe(from: current, to: merged)
        try tx.replaceOrderContent(
            orderID: target,
            merged,
            canonical: try Self.canonicalJSON(merged, partnerID: partner.id),
            at: now
        )
        try tx.recordStatus(
            orderID: target,
            .changed,
            note: "\(change.purpose.rawValue) (order \(orderID)): \(difference)",
            at: now
        )
        try tx.recordStatus(orderID: orderID, .applied, note: "applied to order \(target): \(difference)", at: now)
        try self.desk.withdraw(orderID: target, actor: "daemon", note: "changed by order \(orderID)", tx: tx, now: now)
        log.append((.notice, "order changed", metadata.merging(["change": "\(difference)"]) { $1 }))
        try tx.recordStatus(orderID: target, .validated, note: Self.validatedNote(merged), at: now)
        guard self.configuration.rulesEnabled else { return 0 }
        // An X12 860 is answered with an 865 (POC02 saying what changed, deleted lines included); the others with the
        // partner's usual answer.
        let answersWith865 = change.source?.documentType == "860"
        let kept = Set(merged.lines.compactMap(\.lineNumber))
        let deleted = current.lines.filter { $0.lineNumber.map { !kept.contains($0) } ?? false }
        let decided = try self.desk.decide(
            orderID: target,
            order: merged,
            partner: partner,
            mappings: mappings,
            fileID: fileID,
            tx: tx,
            now: now,
            answering: OrderDesk.ChangeAnswer(
                document: answersWith865 ? "865" : nil,
                lines: OrderChanges.lineChanges(change),
                deleted: answersWith865 ? deleted : []
            )
        )
        log += decided?.log ?? []
        let released = try self.desk.recheckHolds(accounts: accounts, mappings: mappings, tx: tx, now: now)
        return (decided?.acknowledgements ?? 0) + released.count
    }
}

/// How a change applies to a stored order, and what it changed.
enum OrderChanges {
    /// A change: each of its lines says what it does (860 POC02, ORDCHG LIN 1229) — add, delete, change the fields
    /// it gives, or nothing. A line without a change code (an 850 with BEG01 04) replaces the line with the same line
    /// number or is added, and a zero quantity deletes it. The dates the change gives replace the stored ones, except
    /// the order date: a change does not move when the order was placed (an ORDCHG's DTM+137 is the change's own
    /// date). A party replaces the stored one of its role, a reference the stored one of its qualifier; the others
    /// stay (a change that names the ship-to keeps the bill-to). The stored lines keep no change codes.
    static func merge(_ change: Order, into current: Order) -> Order {
        var merged = current
        for line in change.lines {
            let index = merged.lines.firstIndex { $0.lineNumber != nil && $0.lineNumber == line.lineNumber }
            let zero = line.quantity.map { $0.value == 0 } ?? false
            switch (line.change, index) {
            case (.unchanged?, _): continue
            case (.delete?, let index?): merged.lines.remove(at: index)
            case (.delete?, nil): continue
            case (.change?, let index?): merged.lines[index] = Self.apply(line, to: merged.lines[index])
            case (.add?, let index?): merged.lines[index] = line
            case (.add?, nil), (.change?, nil): merged.lines.append(line)
            case (nil, let index?): if zero { merged.lines.remove(at: index) } else { merged.lines[index] = line }
            case (nil, nil): if !zero { merged.lines.append(line) }
            }
        }
        for index in merged.lines.indices { merged.lines[index].change = nil }
        if let date = change.requestedDeliveryDate { merged.requestedDeliveryDate = date }
        if let date = change.requestedShipDate { merged.requestedShipDate = date }
        if let date = change.cancelAfter { merged.cancelAfter = date }
        // A party of a role Ordergate has no name for is told apart by the document's own qualifier.
        func role(_ party: Party) -> String { party.role == .other ? "other:\(party.roleCode ?? "")" : "\(party.role)" }
        let roles = Set(change.parties.map(role))
        merged.parties = merged.parties.filter { !roles.contains(role($0)) } + change.parties
        let qualifiers = Set(change.references.map(\.qualifier))
        merged.references = merged.references.filter { !qualifiers.contains($0.qualifier) } + change.references
        if merged.orderDate == nil { merged.orderDate = change.orderDate }
        merged.source = change.source ?? merged.source
        return merged
    }

    /// A changed line: the fields the change gives, over the stored line.
    static func apply(_ change: OrderLine, to line: OrderLine) -> OrderLine {
        var result = line
        if let quantity = change.quantity { result.quantity = quantity }
        if let price = change.unitPrice { result.unitPrice = price }
        if let basis = change.priceBasis { result.priceBasis = basis }
        if let date = change.requestedShipDate { result.requestedShipDate = date }
        if let date = change.requestedDeliveryDate { result.requestedDeliveryDate = date }
        if let description = change.description { result.description = description }
        if change.item != ItemIdentifiers() { result.item = change.item }
        if !change.parties.isEmpty { result.parties = change.parties }
        return result
    }

    /// What a change document did to each line it names, by line number (for the answer's POC02).
    static func lineChanges(_ change: Order) -> [String: LineChange] {
        var result: [String: LineChange] = [:]
        for line in change.lines {
            guard let number = line.lineNumber else { continue }
            result[number] = line.change ?? .change
        }
        return result
    }

    /// The difference between two versions of an order, line by line (by line number, else by position).
    static func describe(from old: Order, to new: Order) -> String {
        var parts: [String] = []
        func key(_ line: OrderLine, _ index: Int) -> String { line.lineNumber ?? "#\(index + 1)" }
        func item(_ line: OrderLine) -> String {
            line.item.sku ?? line.item.vendorPart ?? line.item.buyerPart ?? line.item.gtin ?? "?"
        }
        func quantity(_ line: OrderLine) -> String {
            line.quantity.map { DecimalText.format($0.value) } ?? "?"
        }
        if old.requestedDeliveryDate != new.requestedDeliveryDate {
            parts.append(
                "delivery date \(old.requestedDeliveryDate?.description ?? "none") -> "
                    + (new.requestedDeliveryDate?.description ?? "none")
            )
        }
        if old.requestedShipDate != new.requestedShipDate {
            parts.append(
                "ship date \(old.requestedShipDate?.description ?? "none") -> "
                    + (new.requestedShipDate?.description ?? "none")
            )
        }
        let oldLines = Dictionary(
            old.lines.enumerated().map { (key($1, $0), $1) },
            uniquingKeysWith: { first, _ in first }
        )
        let newKeys = Set(new.lines.enumerated().map { key($1, $0) })
        for (index, line) in new.lines.enumerated() {
            let name = "line \(key(line, index))"
            guard let before = oldLines[key(line, index)] else {
                parts.append("\(name) added (\(item(line)) \(quantity(line)))")
                continue
            }
            if item(before) != item(line) { parts.append("\(name) item \(item(before)) -> \(item(line))") }
            if before.quantity != line.quantity {
                parts.append("\(name) \(item(line)) quantity \(quantity(before)) -> \(quantity(line))")
            }
            if before.unitPrice != line.unitPrice {
                parts.append(
                    "\(name) price \(before.unitPrice.map { DecimalText.format($0.amount) } ?? "none") -> "
                        + (line.unitPrice.map { DecimalText.format($0.amount) } ?? "none")
                )
            }
        }
        for (index, line) in old.lines.enumerated() where !newKeys.contains(key(line, index)) {
            parts.append("line \(key(line, index)) removed (\(item(line)))")
        }
        return parts.isEmpty ? "no changes" : parts.joined(separator: "; ")
    }
}
