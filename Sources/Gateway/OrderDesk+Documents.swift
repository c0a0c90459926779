import Foundation
import OrderMapping
import OrderModel
import OrderStore

/// A business document queued for a partner.
public struct QueuedDocument: Sendable, Hashable {
    /// What it is (`856`, `DESADV`, `ShipNoticeRequest`, `810`, `INVOIC`, ...).
    public var document: String
    public var outboundID: Int64
}

/// A rendered document that fails its check (a mapping defect): nothing is queued.
public struct DocumentCheckFailure: Error, Sendable, CustomStringConvertible {
    public var map: String
    public var problem: String
    public var description: String { "\(self.map): \(self.problem)" }
}

extension OrderDesk {
    /// Renders a ship notice or an invoice through the partner's map for it, inside a new envelope (control numbers
    /// from the partner's counters), checks it (EDI schema validation, or well-formed XML), and queues it for the
    /// outbox (and for delivery, when the partner has a push endpoint), in the caller's transaction. Nil when the
    /// partner's profile names no map for the record.
    func queueDocument(
        _ value: MappedDocument,
        record: RecordKind,
        partnerID: String,
        orderID: Int64,
        mappings: MappingSet,
        tx: StoreTransaction,
        now: Date
    ) throws -> QueuedDocument? {
        guard let partner = mappings.partners[partnerID] else { return nil }
        let renderer = DocumentRenderer(mappings: mappings)
        guard let map = renderer.map(for: partner, record: record) else { return nil }
        let interchange = try tx.nextControlNumber(partnerID: partner.id, kind: "interchange")
        let group = map.format == .x12 ? try tx.nextControlNumber(partnerID: partner.id, kind: "group") : 1
        let bytes = try renderer.render(
            value,
            with: map,
            for: partner,
            controlNumbers: ControlNumbers(interchange: interchange, group: group, transactionSet: 1),
            now: Self.documentDate(now)
        )
        if let problem = Self.check(bytes, format: map.format) {
            throw DocumentCheckFailure(map: map.id, problem: problem)
        }
        let outboundID = try tx.enqueueOutbound(
            partnerID: partner.id,
            kind: map.document,
            folder: self.configuration.outboxFolder(of: partner),
            fileExtension: map.format.fileExtension,
            content: bytes,
            controlNumber: String(interchange),
            fileID: nil,
            orderID: orderID,
            deliver: partner.push != nil,
            at: now
        )
        return QueuedDocument(document: map.document, outboundID: outboundID)
    }
}
