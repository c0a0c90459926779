import Foundation
import OrderMapping
import OrderModel
import OrderRules
import OrderStore

/// A shipment as the ERP reports it: which lines of an order went, in which packs (SSCC-18), with which carrier.
public struct ShipmentRequest: Decodable, Sendable {
    public struct CarrierInfo: Decodable, Sendable {
        public var scac: String?
        public var service: String?
        public var transportMethod: String?
        public var routing: String?
    }

    public struct PackInfo: Decodable, Sendable {
        public var sscc: String?
        public var packaging: String?
        public var lines: [LineInfo]
    }

    public struct LineInfo: Decodable, Sendable {
        public var lineNumber: String
        /// In the unit the line was ordered in.
        public var quantity: Decimal
    }

    public var shipmentID: String
    public var shippedDate: String?
    public var estimatedDeliveryDate: String?
    public var carrier: CarrierInfo?
    public var trackingNumbers: [String]?
    public var billOfLading: String?
    public var packs: [PackInfo]
}

/// Why a shipment or an invoice the ERP reports is refused: each problem names the line or pack (the API answers
/// 422 with them). Nothing of it was recorded.
public struct ReportRefused: Error, Sendable, CustomStringConvertible {
    /// What was refused: `Shipment`, `Invoice`.
    public var subject: String
    public var problems: [String]
    public var description: String { self.problems.joined(separator: "; ") }
}

/// What recording a shipment did.
public struct ShipmentOutcome: Sendable, Encodable {
    public var shipmentID: String
    public var orderStatus: String
    /// The ship notice queued for the partner (`856`, `DESADV`, `ShipNoticeRequest`), when its profile has a map.
    public var document: String?
    /// Its outbound row.
    public var outboundID: Int64?
}

extension OrderDesk {
    /// Records a shipment of an order and queues its ship notice, in the caller's transaction. The shipment is
    /// checked first: an order being fulfilled (not held, rejected, cancelled, a duplicate or a change document, nor
    /// shipped in full), known lines, quantities above zero and never more than the order's decision promised (what
    /// ships now and what is backordered; the ordered quantity when the rules are off), with earlier shipments,
    /// ISO 8601 dates, SSCC-18 check digits, a shipment ID not used before for the order. What ships leaves the stock
    /// (its reservations, on hand and reserved); when every line has shipped all it may the order is `shipped`.
    public func ship(
        orderID: Int64,
        _ request: ShipmentRequest,
        visibleTo partnerScope: String?,
        mappings: MappingSet,
        tx: StoreTransaction,
        now: Date,
        actor: String = "erp"
    ) throws -> ShipmentOutcome? {
        guard let header = try tx.reader.orderHeader(id: orderID, visibleTo: partnerScope),
            let order = try tx.reader.order(id: orderID)
        else { return nil }
        // Regression (review): a held, rejected or cancelled order, or a change document's own row, shipped.
        guard Self.shippableStatuses.contains(header.status) else {
            throw ReportRefused(
                subject: "Shipment",
                problems: ["order \(orderID) is \(header.status): nothing of it can ship"]
            )
        }
        let decision = try Self.latestDecision(orderID: orderID, tx: tx)
        let promised = Self.promisedQuantities(order, decision: decision)
        var problems: [String] = []
        for (name, text) in [
            ("shippedDate", request.shippedDate), ("estimatedDeliveryDate", request.estimatedDeliveryDate),
        ]
        where text.map({ DocumentDate(iso8601: $0) == nil }) ?? false {
            problems.append("\(name): \(text ?? "") is not an ISO 8601 date")
        }
        let shipmentID = request.shipmentID.trimmingCharacters(in: .whitespaces)
        if shipmentID.isEmpty { problems.append("shipmentID: required") }
        if try tx.reader.shipmentExists(orderID: orderID, shipmentID: shipmentID) {
            problems.append("shipmentID: \(shipmentID) was already reported for order \(orderID)")
        }
        if request.packs.isEmpty { problems.append("packs: at least one pack") }
        let shippedBefore = try tx.reader.shippedQuantities(orderID: orderID)
        var shippedNow: [String: Decimal] = [:]
        for (index, pack) in request.packs.enumerated() {
            if let sscc = pack.sscc, !Pack.isValidSSCC(sscc) {
                problems.append("packs[\(index)].sscc: \(sscc) is not an SSCC-18 (18 digits, GS1 check digit)")
            }
            if pack.lines.isEmpty { problems.append("packs[\(index)].lines: at least one line") }
            for line in pack.lines {
                guard order.lines.contains(where: { $0.lineNumber == line.lineNumber }) else {
                    problems.append("packs[\(index)]: line \(line.lineNumber) is not a line of order \(orderID)")
                    continue
                }
                if line.quantity <= 0 {
                    problems.append("packs[\(index)]: line \(line.lineNumber) quantity must be greater than zero")
                }
                shippedNow[line.lineNumber, default: 0] += line.quantity
            }
        }
        for line in order.lines {
            guard let number = line.lineNumber, let now = shippedNow[number] else { continue }
            let ordered = line.quantity?.value ?? 0
            let limit = promised[number] ?? ordered
            let before = shippedBefore[number] ?? 0
            if before + now > limit {
                let what =
                    limit == ordered
                    ? "\(DecimalText.format(ordered)) ordered"
                    : "\(DecimalText.format(limit)) promised of the \(DecimalText.format(ordered)) ordered"
                problems.append(
                    "line \(number): shipping \(DecimalText.format(now)) would ship more than the \(what) "
                        + "(\(DecimalText.format(before)) shipped before)"
                )
            }
        }
        guard problems.isEmpty else { throw ReportRefused(subject: "Shipment", problems: problems) }

        var notice = ShipNotice()
        notice.shipmentID = shipmentID
        notice.date = Self.documentDate(now)
        notice.shippedDate =
            request.shippedDate.flatMap { DocumentDate(iso8601: $0) } ?? Self.documentDate(now).dateOnly
        notice.estimatedDeliveryDate = request.estimatedDeliveryDate.flatMap { DocumentDate(iso8601: $0) }
        if let info = request.carrier {
            var carrier = Carrier()
            carrier.scac = info.scac
            carrier.service = info.service
            carrier.transportMethod = info.transportMethod
            carrier.routing = info.routing
            notice.carrier = carrier
        }
        notice.trackingNumbers = request.trackingNumbers ?? []
        notice.billOfLading = request.billOfLading
        notice.packageCount = request.packs.count
        notice.parties = order.parties.filter { [.shipTo, .buyer, .seller].contains($0.role) }
        var shipped = ShippedOrder()
        shipped.purchaseOrderNumber = order.purchaseOrderNumber
        shipped.orderDate = order.orderDate
        for info in request.packs {
            var pack = Pack()
            pack.sscc = info.sscc
            pack.packaging = info.packaging
            for entry in info.lines {
                guard let line = order.lines.first(where: { $0.lineNumber == entry.lineNumber }) else { continue }
                var item = ShippedItem()
                item.lineNumber = line.lineNumber
                item.item = line.item
                item.description = line.description
                item.quantity = Quantity(entry.quantity, unit: line.quantity?.unit)
                item.orderedQuantity = line.quantity
                pack.items.append(item)
            }
            shipped.packs.append(pack)
        }
        notice.orders = [shipped]

        // The ship notice, rendered through the partner's map and checked, then queued.
        var outcome = ShipmentOutcome(shipmentID: shipmentID, orderStatus: header.status)
        let queued = try self.queueDocument(
            .shipNotice(notice),
            record: .shipNotice,
            subject: "Shipment",
            partnerID: header.partnerID,
            orderID: orderID,
            mappings: mappings,
            tx: tx,
            now: now
        )
        outcome.document = queued?.document
        outcome.outboundID = queued?.outboundID
        _ = try tx.insertShipment(
            orderID: orderID,
            partnerID: header.partnerID,
            shipmentID: shipmentID,
            shippedOn: notice.shippedDate?.description,
            notice: try CanonicalJSON.encode(notice, compact: true),
            outboundID: queued?.outboundID,
            lines: request.packs.flatMap { pack in
                pack.lines.map { (lineNumber: $0.lineNumber, quantity: $0.quantity, sscc: pack.sscc) }
            },
            at: now
        )
        // Whole when every line has shipped all it may (a rejected line nothing).
        let complete = order.lines.allSatisfy { line in
            guard let number = line.lineNumber else { return true }
            let limit = promised[number] ?? line.quantity?.value ?? 0
            return (shippedBefore[number] ?? 0) + (shippedNow[number] ?? 0) >= limit
        }
        let summary = "shipment \(shipmentID): " + request.packs.count.description + " packs"
        // What shipped leaves the stock now (on hand and reserved), in base units, from the order's reservations of
        // each line's SKU; once the order is complete, any reservation left is released.
        if let decision {
            for line in decision.lines {
                guard let sku = line.sku, order.lines.indices.contains(line.index),
                    let number = order.lines[line.index].lineNumber, let shipped = shippedNow[number],
                    line.orderedQuantity > 0
                else { continue }
                let base = shipped * line.baseQuantity / line.orderedQuantity
                try tx.consumeReservations(orderID: orderID, sku: sku, quantity: base, at: now)
            }
        }
        if complete {
            _ = try tx.releaseReservations(orderID: orderID, at: now)
            try tx.recordStatus(orderID: orderID, .shipped, note: summary + ", order complete", at: now)
            outcome.orderStatus = OrderStatus.shipped.rawValue
        } else {
            try tx.recordStatus(orderID: orderID, .partiallyShipped, note: summary, at: now)
            outcome.orderStatus = OrderStatus.partiallyShipped.rawValue
        }
        try tx.audit(actor: actor, action: "shipment", subject: "order:\(orderID)", detail: summary, at: now)
        return outcome
    }

    /// The statuses of an order whose goods may ship: being fulfilled, or not decided (the rules are off for it).
    static let shippableStatuses: Set<String> = [
        OrderStatus.validated.rawValue, OrderStatus.accepted.rawValue, OrderStatus.acceptedWithChanges.rawValue,
        OrderStatus.allocated.rawValue, OrderStatus.partiallyShipped.rawValue,
    ]

    /// What each line may ship in all, in the ordered unit: what the decision allocated and backordered (a rejected
    /// line nothing, a cancelled short quantity not). Lines without a decision are absent (the ordered quantity).
    static func promisedQuantities(_ order: Order, decision: OrderDecision?) -> [String: Decimal] {
        guard let decision else { return [:] }
        var promised: [String: Decimal] = [:]
        for line in decision.lines where order.lines.indices.contains(line.index) {
            guard let number = order.lines[line.index].lineNumber else { continue }
            let ordered = order.lines[line.index].quantity?.value ?? 0
            guard line.baseQuantity > 0 else {
                promised[number] = 0
                continue
            }
            let kept = DecimalMath.sum(line.allocated, line.backordered)
            promised[number] =
                kept == line.baseQuantity ? ordered : DecimalMath.product(ordered, kept) / line.baseQuantity
        }
        return promised
    }
}
