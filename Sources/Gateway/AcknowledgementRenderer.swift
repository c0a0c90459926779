import EDISyntax
import Foundation
import OrderMapping
import OrderStore
import Spool

/// Builds a partner's functional acknowledgements for one inbound interchange, as its profile asks: 997 or 999 (with
/// a TA1 never, on request (ISA14 = 1) or always) for X12, CONTRL for EDIFACT. Control numbers come from the
/// partner's counters inside the caller's transaction, so they commit with the rows that use them.
struct AcknowledgementRenderer {
    /// How a duplicate interchange is answered.
    enum Duplicate { case accept, reject }

    /// One outbound acknowledgement interchange.
    struct Document {
        /// `997`, `999`, `TA1`, `CONTRL`.
        var kind: String
        /// A, E, P, R (X12) or 7, 4, 8 (CONTRL UCI).
        var status: String
        var bytes: [UInt8]
        var controlNumber: String
        var fileExtension: String
    }

    let partner: PartnerProfile
    let now: Date

    func acknowledgements(
        for interchange: InterchangeReport,
        duplicate: Duplicate?,
        tx: StoreTransaction
    ) throws
        -> [Document]
    {
        guard let header = interchange.header else { return [] }
        var report = interchange
        if duplicate == .reject {
            var location = Location(byteOffset: header.byteOffset, line: 1, column: 1)
            location.segmentTag = header.dialect == .x12 ? "ISA" : "UNB"
            location.elementPosition = header.dialect == .x12 ? 13 : 5
            report.errors.append(
                EDISyntaxError(
                    .duplicateControlNumber,
                    level: .interchange,
                    "interchange control number \(header.controlNumber) was already received from this sender",
                    at: location,
                    ackCodes: AckCodes(ta105: "025", contrl0085: "26", contrlLevel: "UCI"),
                    badData: header.controlNumber
                )
            )
        }
        switch header.dialect {
        case .x12: return try self.x12(report, header: header, duplicate: duplicate, tx: tx)
        case .edifact: return try self.edifact(report, header: header, tx: tx)
        case .xml: return []
        }
    }

    private func parameters(_ dialect: Dialect, tx: StoreTransaction) throws -> AcknowledgementParameters {
        let stamp = CalendarDate(unixSeconds: Int64(self.now.timeIntervalSince1970))
        return AcknowledgementParameters(
            interchangeControlNumber: try tx.nextControlNumber(partnerID: self.partner.id, kind: "interchange"),
            groupControlNumber: dialect == .x12
                ? try tx.nextControlNumber(partnerID: self.partner.id, kind: "group") : 1,
            messageReference: "1",
            date: stamp.ccyymmdd,
            time: stamp.hhmm,
            delimiters: self.partner.outboundDelimiters(dialect),
            lineEnding: self.partner.separators.lineEnding ?? "\n"
        )
    }

    private func x12(
        _ report: InterchangeReport,
        header: InterchangeHeader,
        duplicate: Duplicate?,
        tx: StoreTransaction
    ) throws -> [Document] {
        let policy = self.partner.ta1
        var wantsTA1 = policy == .always || (policy == .onRequest && header.isAcknowledgementRequested)
        // A rejected interchange is answered with a TA1 whatever the request flag, unless the partner never takes one.
        let scope = FunctionalAcknowledgement.scope(of: report)
        if scope == .interchangeOnly && policy != .never { wantsTA1 = true }
        let type: X12AcknowledgementType? =
            switch self.partner.functionalAcknowledgement {
            case .x997: .functional
            case .x999: .implementation
            case .contrl, .none: nil
            }
        if scope == .nothing { return [] }
        if let type, scope == .functionalGroups {
            let parameters = try self.parameters(.x12, tx: tx)
            guard
                let ack = try FunctionalAcknowledgement.makeX12(
                    for: report,
                    type: type,
                    includesInterchangeAcknowledgement: wantsTA1,
                    parameters: parameters
                )
            else { return [] }
            // Each further FA group (one per inbound version) used the next group control number.
            for _ in ack.summary.groupControlNumbers.dropFirst() {
                _ = try tx.nextControlNumber(partnerID: self.partner.id, kind: "group")
            }
            return [self.document(ack, kind: type.rawValue)]
        }
        guard wantsTA1 else { return [] }
        var parameters = try self.parameters(.x12, tx: tx)
        parameters.groupControlNumber = 1
        let ack = try FunctionalAcknowledgement.makeInterchangeAcknowledgement(for: report, parameters: parameters)
        return [self.document(ack, kind: "TA1")]
    }

    private func edifact(
        _ report: InterchangeReport,
        header: InterchangeHeader,
        tx: StoreTransaction
    ) throws
        -> [Document]
    {
        guard self.partner.functionalAcknowledgement == .contrl || header.isAcknowledgementRequested else { return [] }
        let ack = try FunctionalAcknowledgement.makeCONTRL(
            for: report,
            parameters: try self.parameters(.edifact, tx: tx)
        )
        return [self.document(ack, kind: "CONTRL")]
    }

    private func document(_ ack: FunctionalAcknowledgement, kind: String) -> Document {
        let status: String =
            ack.summary.dialect == .edifact ? ack.summary.interchangeCode : ack.summary.status.rawValue
        return Document(
            kind: kind,
            status: status,
            bytes: ack.bytes,
            controlNumber: String(ack.summary.interchangeControlNumber),
            fileExtension: ack.summary.dialect == .edifact ? "edi" : "x12"
        )
    }
}
