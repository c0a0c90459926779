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

extension OrderDesk {
    /// Renders a ship notice or an invoice through the partner's map for it, inside a new envelope (control numbers
    /// from the partner's counters), checks it (EDI schema validation, or well-formed XML), and queues it for the
    /// outbox (and for delivery, when the partner has a push endpoint), in the caller's transaction. Nil when the
    /// partner's profile names no map for the record. A document that cannot be rendered, or fails its check (a
    /// mapping defect), refuses the report (`subject`: `Shipment`, `Invoice`) naming the map: nothing is queued.
    func queueDocument(
        _ value: MappedDocument,
        record: RecordKind,
        subject: String,
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
        let bytes: [UInt8]
        do {
            bytes = try renderer.render(
                value,
                with: map,
                for: partner,
                controlNumbers: ControlNumbers(interchange: interchange, group: group, transactionSet: 1),
                now: Self.documentDate(now)
            )
        } catch {
            // Rendering is pure: whatever it throws (a required value missing, an identity the envelope needs, a
            // value the syntax cannot carry) is the map's or the profile's defect, reported as such.
            throw ReportRefused(subject: subject, problems: ["\(map.id) cannot render it for \(partnerID): \(error)"])
        }
        if let problem = Self.check(bytes, format: map.format) {
            throw ReportRefused(
                subject: subject,
                problems: ["\(map.id) rendered a document that fails its check: \(problem)"]
            )
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
