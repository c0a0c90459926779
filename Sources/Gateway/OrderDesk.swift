import EDISyntax
import Foundation
import Logging
import OrderMapping
import OrderModel
import OrderRules
import OrderStore
import Spool
import XMLSyntax

extension PartnerProfile {
    /// The partner's rule settings; nil when its profile has no `rules:` (its orders are stored and validated, not
    /// decided, and get no purchase-order acknowledgement).
    func ruleSettings() throws(RuleSettingsError) -> RuleSettings? {
        self.rules.isEmpty ? nil : try RuleSettings(profileRules: self.rules)
    }
}

/// Why a rendered acknowledgement was not sent.
struct RenderingProblem: Error, CustomStringConvertible {
    var description: String
}

/// A request the desk cannot carry out (an order that is not on hold, an unknown order).
public struct OrderDeskError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// The business side of a stored order: runs the rules on it inside the caller's transaction and commits what they
/// decided with the order — the decision with its explanation, the status history, the stock reservations, the
/// credit hold or the open-order value, and the purchase-order acknowledgement (855, ORDRSP, cXML, UBL, per the
/// partner's outbound map), rendered and checked before it is queued. Holds are released here (by an admin, or when a
/// credit import lowers the exposure), and changes and cancels are applied here.
///
/// The catalogue (items, prices, contracts, nodes, locations) is kept in memory and read again when an import has
/// changed it; stock and credit are read in the transaction, so that each decision sees the reservations of the ones
/// before it.
public final class OrderDesk: @unchecked Sendable {
    let configuration: Configuration
    private let lock = NSLock()
    private var cachedCatalog: (version: Int, data: BusinessData)?
    /// Set while the pipeline commits a chunk: encoding and rendering go to the other cores (see `AnswerBatch`).
    /// Only the pipeline's thread uses it: a decision made meanwhile in another transaction (a hold released over
    /// the API, a credit update) renders its own answers, or they would go into a batch already flushed.
    private var batch: (batch: AnswerBatch, thread: pthread_t)?

    /// Starts deferring encoding and rendering into a batch that the caller (on this thread) flushes before its
    /// transaction commits.
    func beginBatch() -> AnswerBatch {
        let batch = AnswerBatch()
        self.lock.lock()
        self.batch = (batch, pthread_self())
        self.lock.unlock()
        return batch
    }

    func endBatch() {
        self.lock.lock()
        self.batch = nil
        self.lock.unlock()
    }

    var currentBatch: AnswerBatch? {
        self.lock.lock()
        defer { self.lock.unlock() }
        guard let (batch, thread) = self.batch, pthread_equal(thread, pthread_self()) != 0 else { return nil }
        return batch
    }

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// The catalogue as of the transaction.
    func catalog(_ reader: StoreReader) throws -> BusinessData {
        try self.versionedCatalog(reader).data
    }

    /// The catalogue as of the transaction, with its version (bumped by every import).
    private func versionedCatalog(_ reader: StoreReader) throws -> (version: Int, data: BusinessData) {
        let version = try reader.dataVersion()
        self.lock.lock()
        defer { self.lock.unlock() }
        if let cached = self.cachedCatalog, cached.version == version { return cached }
        let data = try reader.catalog()
        self.cachedCatalog = (version, data)
        return (version, data)
    }

    /// An order's lines decided ahead from the catalogue alone (`OrderRules.decideLines`: items, units, prices), and
    /// what they were decided with. `decide` uses them when the catalogue's version, the partner's settings and the
    /// day are still the same, and decides the lines again otherwise.
    struct DecidedLines: Sendable {
        var catalogVersion: Int
        var settings: RuleSettings
        var today: DocumentDate
        var lines: [LineDecision]

        /// The lines, when they were decided with this catalogue, these settings and on this day; else nil.
        func lines(catalogVersion: Int, settings: RuleSettings, today: DocumentDate) -> [LineDecision]? {
            guard catalogVersion == self.catalogVersion, settings == self.settings, today == self.today else {
                return nil
            }
            return self.lines
        }
    }

    /// Decides an order's lines with the catalogue the desk last read (nil when it has read none, or the partner
    /// has no rules): work the pipeline does while preparing a file, on any core, so that the writer need not.
    func decideLines(_ order: Order, partner: PartnerProfile, now: Date) -> DecidedLines? {
        guard let settings = (try? partner.ruleSettings()) ?? nil else { return nil }
        self.lock.lock()
        let cached = self.cachedCatalog
        self.lock.unlock()
        guard let (version, data) = cached else { return nil }
        let today = Self.documentDate(now).dateOnly
        return DecidedLines(
            catalogVersion: version,
            settings: settings,
            today: today,
            lines: OrderRules(data: data).decideLines(order, partnerID: partner.id, settings: settings, today: today)
        )
    }

    /// How to answer a decision that follows a change document: with which document (`865`; nil: the partner's
    /// acknowledgement map), and what the change did to each line.
    struct ChangeAnswer {
        var document: String?
        var lines: [String: LineChange]
        /// The stored lines the change deleted, confirmed after the others (an 865 says `DI` for each).
        var deleted: [OrderLine] = []
    }

    /// What deciding an order did.
    struct Decided {
        var decision: OrderDecision
        /// Acknowledgements queued (0 or 1).
        var acknowledgements: Int
        var log: [InboundPipeline.LogEntry]
    }

    /// Evaluates an order against the data as of the transaction, without writing anything. `decided`: the lines
    /// decided ahead, used when they were decided with this catalogue, these settings and today.
    func evaluate(
        _ order: Order,
        partner: PartnerProfile,
        settings: RuleSettings,
        tx: StoreTransaction,
        now: Date,
        creditRelease: String? = nil,
        decided: DecidedLines? = nil
    ) throws -> OrderDecision {
        let (version, catalog) = try self.versionedCatalog(tx.reader)
        var data = catalog
        let today = Self.documentDate(now).dateOnly
        let lines =
            decided?.lines(catalogVersion: version, settings: settings, today: today)
            ?? OrderRules(data: data).decideLines(order, partnerID: partner.id, settings: settings, today: today)
        // Routing reads the stock of the SKUs the lines resolved to, and nothing else (from the transaction's stock
        // ledger: each row is read from the database once per transaction).
        data.stock = try tx.reader.stock(skus: Set(lines.compactMap(\.sku)))
        var openOrders: Decimal = 0
        if let accountID = settings.creditAccount, let (account, open) = try tx.reader.creditAccount(id: accountID) {
            data.creditAccounts = [accountID: account]
            openOrders = open
        }
        return OrderRules(data: data).evaluate(
            order,
            partnerID: partner.id,
            settings: settings,
            openOrders: openOrders,
            today: today,
            creditRelease: creditRelease,
            lines: lines
        )
    }

    /// Runs the rules on a stored order and commits the decision with it. Returns nil when the partner has no rules.
    func decide(
        orderID: Int64,
        order: Order,
        partner: PartnerProfile,
        mappings: MappingSet,
        fileID: Int64?,
        tx: StoreTransaction,
        now: Date,
        actor: String = "rules",
        creditRelease: String? = nil,
        answering change: ChangeAnswer? = nil,
        decided: DecidedLines? = nil
    ) throws -> Decided? {
        guard let settings = try partner.ruleSettings() else { return nil }
        let decision = try self.evaluate(
            order,
            partner: partner,
            settings: settings,
            tx: tx,
            now: now,
            creditRelease: creditRelease,
            decided: decided
        )
        return try self.apply(
            decision,
            orderID: orderID,
            order: order,
            partner: partner,
            settings: settings,
            mappings: mappings,
            fileID: fileID,
            tx: tx,
            now: now,
            actor: actor,
            answering: change
        )
    }

    /// Commits a decision: the decision row, the status history, reservations, hold or open-order value, and the
    /// acknowledgement.
    func apply(
        _ decision: OrderDecision,
        orderID: Int64,
        order: Order,
        partner: PartnerProfile,
        settings: RuleSettings,
        mappings: MappingSet,
        fileID: Int64?,
        tx: StoreTransaction,
        now: Date,
        actor: String,
        answering change: ChangeAnswer? = nil
    ) throws -> Decided {
        // The decision's JSON: on another core when a batch is open, else here. Its explanation is computed when it
        // is read (`StoreReader.decisions(orderID:)`).
        let encode: @Sendable () -> String = {
            String(decoding: (try? CanonicalJSON.encodeBytes(decision, compact: true)) ?? [], as: UTF8.self)
        }
        let record: (StoreTransaction, String) throws -> [InboundPipeline.LogEntry] = { tx, json in
            try tx.recordDecision(
                orderID: orderID,
                status: decision.status.rawValue,
                actor: actor,
                decision: json,
                at: now
            )
            return []
        }
        if let batch = self.currentBatch {
            batch.hand(encode, write: record)
        } else {
            _ = try record(tx, encode())
        }
        let summary = Self.summary(decision)
        var log: [InboundPipeline.LogEntry] = []
        let metadata: Logger.Metadata = [
            "partner.id": "\(partner.id)", "order.id": "\(orderID)", "order.po": "\(order.purchaseOrderNumber)",
            "order.decision": "\(decision.status.rawValue)",
        ]
        switch decision.status {
        case .accepted, .acceptedWithChanges:
            var statuses: [(status: OrderStatus, note: String?)] = [
                (decision.status == .accepted ? .accepted : .acceptedWithChanges, summary)
            ]
            try tx.setOpenValue(orderID: orderID, account: settings.creditAccount, value: decision.credit.orderValue)
            if !decision.reservations.isEmpty {
                try tx.reserve(orderID: orderID, decision.reservations, at: now)
                let reserved = decision.reservations.map {
                    "\(DecimalText.format($0.quantity)) \($0.sku) at \($0.nodeID)"
                }
                statuses.append((.allocated, "reserved " + reserved.joined(separator: ", ")))
            }
            // Both in the history, in this order; the order's row is written once.
            try tx.recordStatuses(orderID: orderID, statuses, at: now)
            log.append((.info, "order decided", metadata))
        case .onHold:
            try tx.recordStatus(orderID: orderID, .held, note: decision.credit.reason, at: now)
            try tx.setOpenValue(orderID: orderID, account: nil, value: nil)
            try tx.openHold(
                orderID: orderID,
                creditAccount: settings.creditAccount,
                reason: decision.credit.reason,
                at: now
            )
            log.append((.warning, "order held", metadata.merging(["reason": "\(decision.credit.reason)"]) { $1 }))
        case .rejected:
            try tx.recordStatus(orderID: orderID, .rejected, note: summary, at: now)
            try tx.setOpenValue(orderID: orderID, account: nil, value: nil)
            log.append((.warning, "order rejected", metadata.merging(["reason": "\(summary)"]) { $1 }))
        }
        // Built where it is rendered (on another core when a batch is open).
        let date = Self.documentDate(now).dateOnly
        let build: @Sendable () -> Acknowledgement = {
            var acknowledgement = decision.acknowledgement(of: order, number: String(orderID), date: date)
            if let lines = change?.lines {
                for index in acknowledgement.lines.indices {
                    let number = acknowledgement.lines[index].lineNumber ?? ""
                    acknowledgement.lines[index].change = lines[number] ?? .unchanged
                }
            }
            acknowledgement.lines += (change?.deleted ?? []).map { AcknowledgedLine(deleted: $0) }
            return acknowledgement
        }
        let sent = try self.sendAcknowledgement(
            build,
            orderID: orderID,
            partner: partner,
            mappings: mappings,
            fileID: fileID,
            tx: tx,
            now: now,
            document: change?.document,
            log: &log
        )
        return Decided(decision: decision, acknowledgements: sent ? 1 : 0, log: log)
    }

    /// Confirms the buyer's cancellation of an order with an 865 (BCA01 01, every line POC02 DI), when the partner
    /// has rules and takes purchase-order acknowledgements.
    func confirmCancel(
        orderID: Int64,
        order: Order,
        partner: PartnerProfile,
        mappings: MappingSet,
        fileID: Int64?,
        tx: StoreTransaction,
        now: Date,
        log: inout [InboundPipeline.LogEntry]
    ) throws -> Bool {
        guard try partner.ruleSettings() != nil else { return false }
        let acknowledgement = Acknowledgement.confirmingCancel(
            order,
            number: String(orderID),
            date: Self.documentDate(now).dateOnly
        )
        return try self.sendAcknowledgement(
            { acknowledgement },
            orderID: orderID,
            partner: partner,
            mappings: mappings,
            fileID: fileID,
            tx: tx,
            now: now,
            document: "865",
            log: &log
        )
    }

    /// Answers a second original of a PO number with an acknowledgement that rejects it, when the partner's duplicate
    /// policy is to reject.
    func answerDuplicate(
        orderID: Int64,
        order: Order,
        earlier: Int64,
        partner: PartnerProfile,
        mappings: MappingSet,
        fileID: Int64?,
        tx: StoreTransaction,
        now: Date,
        log: inout [InboundPipeline.LogEntry]
    ) throws -> Bool {
        guard partner.duplicatePolicy == "reject", try partner.ruleSettings() != nil else { return false }
        let reason = "duplicate: PO \(order.purchaseOrderNumber) was already received (order \(earlier))"
        let acknowledgement = Acknowledgement.rejecting(
            order,
            number: String(orderID),
            date: Self.documentDate(now).dateOnly,
            reason: reason
        )
        return try self.sendAcknowledgement(
            { acknowledgement },
            orderID: orderID,
            partner: partner,
            mappings: mappings,
            fileID: fileID,
            tx: tx,
            now: now,
            log: &log
        )
    }

    /// Renders, checks and queues a purchase-order acknowledgement, when the partner takes them and has a map for
    /// them. A document that fails our own check is not sent: the failure is audited and logged (it is a mapping
    /// defect to fix, and the decision stands).
    private func sendAcknowledgement(
        _ build: @escaping @Sendable () -> Acknowledgement,
        orderID: Int64,
        partner: PartnerProfile,
        mappings: MappingSet,
        fileID: Int64?,
        tx: StoreTransaction,
        now: Date,
        document: String? = nil,
        log: inout [InboundPipeline.LogEntry]
    ) throws -> Bool {
        guard partner.sendsPurchaseOrderAcknowledgement else { return false }
        let renderer = DocumentRenderer(mappings: mappings)
        let named = document.flatMap { renderer.map(for: partner, document: $0) }
        guard let map = named ?? renderer.map(for: partner, record: .acknowledgement) else { return false }
        let controlNumbers = { () throws -> ControlNumbers in
            let interchange = try tx.nextControlNumber(partnerID: partner.id, kind: "interchange")
            let group = map.format == .x12 ? try tx.nextControlNumber(partnerID: partner.id, kind: "group") : 1
            return ControlNumbers(interchange: interchange, group: group, transactionSet: 1)
        }
        let stamp = Self.documentDate(now)
        let render: @Sendable (ControlNumbers) -> Rendered = { numbers in
            let acknowledgement = build()
            do {
                let bytes = try renderer.render(
                    .acknowledgement(acknowledgement),
                    with: map,
                    for: partner,
                    controlNumbers: numbers,
                    now: stamp
                )
                if let problem = Self.check(bytes, format: map.format) {
                    return Rendered(
                        status: acknowledgement.status,
                        bytes: .failure(RenderingProblem(description: problem))
                    )
                }
                return Rendered(status: acknowledgement.status, bytes: .success(bytes))
            } catch {
                return Rendered(
                    status: acknowledgement.status,
                    bytes: .failure(RenderingProblem(description: "\(error)"))
                )
            }
        }
        let queue = {
            (
                tx: StoreTransaction,
                numbers: ControlNumbers,
                rendered: Rendered
            ) throws
                -> [InboundPipeline.LogEntry] in
            try self.queueAcknowledgement(
                rendered,
                map: map,
                controlNumber: numbers.interchange,
                orderID: orderID,
                partner: partner,
                fileID: fileID,
                tx: tx,
                now: now
            )
        }
        if let batch = self.currentBatch {
            // Rendered on another core. The numbers are taken now, in decision order; a document that then fails
            // its check (a mapping defect, audited) leaves its number unused.
            let numbers = try controlNumbers()
            batch.hand(
                { render(numbers) },
                failed: { if case .failure = $0.bytes { true } else { false } },
                write: { tx, rendered in try queue(tx, numbers, rendered) }
            )
            return true
        }
        // Here and now: the numbers are taken in a savepoint, so that a document that fails its check gives them
        // back and the partner sees no gap.
        var outcome: (ControlNumbers, Rendered)?
        do {
            try tx.savepoint {
                let numbers = try controlNumbers()
                let rendered = render(numbers)
                outcome = (numbers, rendered)
                if case .failure(let problem) = rendered.bytes { throw problem }
            }
        } catch is RenderingProblem {}
        guard let (numbers, rendered) = outcome else { return false }
        log += try queue(tx, numbers, rendered)
        if case .failure = rendered.bytes { return false }
        return true
    }

    /// An acknowledgement as rendered: its status, and its bytes or why it failed.
    struct Rendered: Sendable {
        var status: AcknowledgementStatus
        var bytes: Result<[UInt8], RenderingProblem>
    }

    /// Writes a rendered acknowledgement's outbound and acknowledgement rows, or audits why it was not sent.
    private func queueAcknowledgement(
        _ rendered: Rendered,
        map: OutboundMap,
        controlNumber: Int,
        orderID: Int64,
        partner: PartnerProfile,
        fileID: Int64?,
        tx: StoreTransaction,
        now: Date
    ) throws -> [InboundPipeline.LogEntry] {
        let bytes: [UInt8]
        switch rendered.bytes {
        case .success(let value): bytes = value
        case .failure(let problem):
            try tx.audit(
                actor: "rules",
                action: "acknowledgement-not-sent",
                subject: "order:\(orderID)",
                detail: "\(map.id): \(problem)",
                at: now
            )
            return [
                (
                    .error,
                    "purchase-order acknowledgement failed its check and was not sent",
                    [
                        "partner.id": "\(partner.id)", "order.id": "\(orderID)", "map": "\(map.id)",
                        "error": "\(problem)",
                    ]
                )
            ]
        }
        let outboundID = try tx.enqueueOutbound(
            partnerID: partner.id,
            kind: map.document,
            folder: self.configuration.outboxFolder(of: partner),
            fileExtension: map.format.fileExtension,
            content: bytes,
            controlNumber: String(controlNumber),
            fileID: fileID,
            orderID: orderID,
            deliver: partner.push != nil,
            at: now
        )
        try tx.insertAcknowledgement(
            kind: map.document,
            partnerID: partner.id,
            fileID: fileID,
            interchangeID: nil,
            orderID: orderID,
            status: rendered.status.rawValue,
            outboundID: outboundID,
            at: now
        )
        return []
    }

    /// Our own check of a rendered document: X12 and EDIFACT against their schemas; XML well-formed under the
    /// hardened reader (the cXML DOCTYPE allowed).
    static func check(_ bytes: [UInt8], format: MapFormat) -> String? {
        guard format != .xml else {
            var limits = XMLLimits.default
            limits.allowedDoctypes = ["cXML"]
            do {
                _ = try XMLStreamReader(bytes: bytes, limits: limits).readDocument()
                return nil
            } catch {
                return "not well-formed XML: \(error)"
            }
        }
        let report = EDIValidator().validate(bytes: bytes)
        guard !report.isValid else { return nil }
        return report.allErrors.prefix(5).map { "\($0)" }.joined(separator: "; ")
    }

    // MARK: Holds

    /// Releases an order's credit hold and decides it again with the hold lifted; the partner gets the updated
    /// acknowledgement.
    public func release(
        orderID: Int64,
        actor: String,
        note: String,
        mappings: MappingSet,
        tx: StoreTransaction,
        now: Date
    ) throws -> OrderDecision {
        guard let header = try tx.reader.orderHeader(id: orderID), let order = try tx.reader.order(id: orderID) else {
            throw OrderDeskError(description: "there is no order \(orderID)")
        }
        guard header.status == OrderStatus.held.rawValue,
            try tx.closeHold(orderID: orderID, state: "released", by: actor, note: note, at: now)
        else {
            throw OrderDeskError(description: "order \(orderID) is not on hold (its status is \(header.status))")
        }
        guard let partner = mappings.partners[header.partnerID] else {
            throw OrderDeskError(description: "order \(orderID): no profile for partner \(header.partnerID)")
        }
        try tx.audit(actor: actor, action: "hold-released", subject: "order:\(orderID)", detail: note, at: now)
        guard
            let decided = try self.decide(
                orderID: orderID,
                order: order,
                partner: partner,
                mappings: mappings,
                fileID: nil,
                tx: tx,
                now: now,
                actor: actor,
                creditRelease: "by \(actor): \(note)"
            )
        else { throw OrderDeskError(description: "partner \(partner.id) has no rules") }
        return decided.decision
    }

    /// Decides again the held orders of the given credit accounts (after a credit import) and releases those whose
    /// exposure is now within the terms, oldest first. Returns the released order IDs.
    public func recheckHolds(
        accounts: Set<String>,
        mappings: MappingSet,
        tx: StoreTransaction,
        now: Date
    ) throws -> [Int64] {
        var released: [Int64] = []
        for account in accounts.sorted() {
            for hold in try tx.reader.holds(state: "open", account: account) {
                guard let partner = mappings.partners[hold.partnerID], let settings = try partner.ruleSettings(),
                    let order = try tx.reader.order(id: hold.orderID)
                else { continue }
                let decision = try self.evaluate(order, partner: partner, settings: settings, tx: tx, now: now)
                guard decision.status != .onHold else { continue }
                let note = "exposure within the terms after a credit update: \(decision.credit.reason)"
                try tx.closeHold(orderID: hold.orderID, state: "released", by: "credit-recheck", note: note, at: now)
                try tx.audit(
                    actor: "credit-recheck",
                    action: "hold-released",
                    subject: "order:\(hold.orderID)",
                    detail: note,
                    at: now
                )
                _ = try self.apply(
                    decision,
                    orderID: hold.orderID,
                    order: order,
                    partner: partner,
                    settings: settings,
                    mappings: mappings,
                    fileID: nil,
                    tx: tx,
                    now: now,
                    actor: "credit-recheck"
                )
                released.append(hold.orderID)
            }
        }
        return released
    }

    // MARK: Changes and cancels

    /// Undoes what an order's last decision committed (reservations, open-order value, an open hold), before a
    /// change is decided or a cancel is recorded.
    func withdraw(orderID: Int64, actor: String, note: String, tx: StoreTransaction, now: Date) throws {
        try tx.releaseReservations(orderID: orderID, at: now)
        try tx.setOpenValue(orderID: orderID, account: nil, value: nil)
        try tx.closeHold(orderID: orderID, state: "closed", by: actor, note: note, at: now)
    }

    // MARK: Helpers

    /// A one-line summary of a decision for the status history.
    static func summary(_ decision: OrderDecision) -> String {
        var counts: [String: Int] = [:]
        for line in decision.lines {
            let word =
                if line.rejection != nil && line.allocated == 0 && line.backordered == 0 {
                    "rejected"
                } else if line.backordered > 0 {
                    "backordered"
                } else if line.cancelled > 0 {
                    "short"
                } else if let price = line.price, price.orderedUnitPrice != nil,
                    price.acceptedUnitPrice != price.orderedUnitPrice
                {
                    "price changed"
                } else {
                    "accepted"
                }
            counts[word, default: 0] += 1
        }
        let parts = ["accepted", "price changed", "short", "backordered", "rejected"].compactMap { word in
            counts[word].map { "\($0) \(word)" }
        }
        return "\(decision.lines.count) lines: " + parts.joined(separator: ", ")
    }

    /// A UTC date and time as a document date.
    static func documentDate(_ date: Date) -> DocumentDate {
        let stamp = CalendarDate(unixSeconds: Int64(date.timeIntervalSince1970))
        return DocumentDate(
            year: stamp.year,
            month: stamp.month,
            day: stamp.day,
            hour: stamp.hour,
            minute: stamp.minute,
            second: stamp.second
        )!
    }
}
