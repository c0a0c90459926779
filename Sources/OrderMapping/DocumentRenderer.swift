import EDISyntax
import OrderModel

/// Control numbers for one outbound document; they come from the store's crash-safe counters.
public struct ControlNumbers: Hashable, Sendable {
    public var interchange: Int
    public var group: Int
    public var transactionSet: Int

    public init(interchange: Int, group: Int, transactionSet: Int) {
        self.interchange = interchange
        self.group = group
        self.transactionSet = transactionSet
    }
}

/// Renders whole outbound documents for a partner: the map's body inside the partner's envelope (X12 ISA/GS/ST,
/// EDIFACT UNA/UNB/UNH) with our identity as sender, or the map's XML document.
public struct DocumentRenderer: Sendable {
    public let mappings: MappingSet

    public init(mappings: MappingSet) {
        self.mappings = mappings
    }

    /// The outbound map a partner uses for `document` (`855`, `ORDRSP`, `OrderResponse`), or for a record kind.
    public func map(for partner: PartnerProfile, document: String) -> OutboundMap? {
        let configured = partner.outbound.values.compactMap { self.mappings.outbound[$0] }
        if let map = configured.first(where: { $0.document == document || $0.id == document }) { return map }
        return self.mappings.outbound.values.sorted { $0.id < $1.id }.first {
            $0.document == document || $0.id == document
        }
    }

    public func map(for partner: PartnerProfile, record: RecordKind) -> OutboundMap? {
        partner.outbound[record].flatMap { self.mappings.outbound[$0] }
    }

    /// The document's bytes.
    public func render(
        _ value: MappedDocument,
        with map: OutboundMap,
        for partner: PartnerProfile,
        controlNumbers: ControlNumbers,
        now: DocumentDate
    ) throws -> [UInt8] {
        var values: [String: String] = ["partnerID": partner.id, "partnerName": partner.name]
        values["senderID"] = partner.ourIdentities.xml?.id ?? partner.ourIdentities.x12?.id
        values["senderDomain"] = partner.ourIdentities.xml?.domain
        values["receiverID"] = partner.identities.xml?.id ?? partner.identities.x12?.id
        values["receiverDomain"] = partner.identities.xml?.domain
        values["controlNumber"] = String(controlNumbers.transactionSet)
        values["payloadID"] =
            "\(now.description)-\(controlNumbers.interchange)@\(partner.ourIdentities.xml?.id ?? "ordergate")"
        let context = RenderContext(now: now, values: values)
        if map.format == .xml {
            return Array(try map.renderXML(value, context: context).utf8)
        }
        let body = try map.renderSegments(value, context: context)
        let dialect: Dialect = map.format == .x12 ? .x12 : .edifact
        var builder = EnvelopeBuilder(
            dialect: dialect,
            delimiters: partner.outboundDelimiters(dialect),
            lineEnding: partner.separators.lineEnding ?? "\n"
        )
        let hhmm = OutputFormat.hhmm.render(now)
        if dialect == .x12 {
            guard let us = partner.ourIdentities.x12, let them = partner.identities.x12 else {
                throw RenderError(
                    message: "partner \(partner.id) needs x12 identities (identities and us)",
                    rule: partner.file
                )
            }
            let isa12 = map.documentVersion.hasPrefix("005") ? "00501" : "00401"
            try builder.beginInterchange(
                InterchangeParameters(
                    senderQualifier: us.qualifier,
                    senderID: us.id,
                    receiverQualifier: them.qualifier,
                    receiverID: them.id,
                    date: OutputFormat.yymmdd.render(now),
                    time: hhmm,
                    controlNumber: controlNumbers.interchange,
                    version: isa12
                )
            )
            try builder.beginGroup(
                GroupParameters(
                    functionalIdentifier: map.functionalGroup ?? "PR",
                    senderID: us.groupID ?? us.id,
                    receiverID: them.groupID ?? them.id,
                    date: OutputFormat.ccyymmdd.render(now),
                    time: hhmm,
                    controlNumber: controlNumbers.group,
                    version: map.documentVersion
                )
            )
            try builder.addTransactionSet(
                identifier: map.document,
                controlNumber: Self.padded(controlNumbers.transactionSet, 4),
                implementationReference: map.implementationReference,
                body: body
            )
            try builder.endGroup()
        } else {
            guard let us = partner.ourIdentities.edifact, let them = partner.identities.edifact else {
                throw RenderError(
                    message: "partner \(partner.id) needs edifact identities (identities and us)",
                    rule: partner.file
                )
            }
            try builder.beginInterchange(
                InterchangeParameters(
                    senderQualifier: us.qualifier ?? "",
                    senderID: us.id,
                    receiverQualifier: them.qualifier ?? "",
                    receiverID: them.id,
                    date: OutputFormat.yymmdd.render(now),
                    time: hhmm,
                    controlNumber: controlNumbers.interchange,
                    version: "UNOC:3"
                )
            )
            try builder.addTransactionSet(
                identifier: map.document,
                controlNumber: String(controlNumbers.transactionSet),
                version: map.documentVersion,
                implementationReference: map.implementationReference,
                body: body
            )
        }
        try builder.endInterchange()
        return builder.bytes
    }

    private static func padded(_ number: Int, _ width: Int) -> String {
        let text = String(number)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

/// The canonical field names of each record kind, for `ordergate mappings fields` and the documentation.
public enum CanonicalFields {
    /// `(name, type)` for every field and collection (`lines[]`) of a record kind, nested collections flattened
    /// with dots.
    public static func list(_ kind: RecordKind) -> [(name: String, type: String)] {
        switch kind {
        case .order: return self.list(Order.self, prefix: "")
        case .acknowledgement: return self.list(Acknowledgement.self, prefix: "")
        case .shipNotice: return self.list(ShipNotice.self, prefix: "")
        case .invoice: return self.list(Invoice.self, prefix: "")
        }
    }

    private struct Lister<Root>: CollectionVisitor {
        let prefix: String
        func visit<Element: MappableRecord>(
            _ slot: CollectionSlot<Root, Element>
        ) throws -> [(name: String, type: String)] {
            [(self.prefix + slot.name, "collection of \(Element.recordName)")]
                + CanonicalFields.list(Element.self, prefix: self.prefix + slot.name + ".")
        }
    }

    fileprivate static func list<Root: MappableRecord>(
        _ type: Root.Type,
        prefix: String
    ) -> [(name: String, type: String)] {
        var result = Root.catalog.fields.values.map { (prefix + $0.name, $0.type.description) }
        for collection in Root.catalog.collections.values {
            result += (try? collection.accept(Lister<Root>(prefix: prefix))) ?? []
        }
        return result.sorted { $0.0 < $1.0 }
    }
}

extension PartnerProfile {
    /// The service characters of documents we send this partner: the standard's defaults, with the profile's
    /// `separators` over them.
    public func outboundDelimiters(_ dialect: Dialect) -> Delimiters {
        var delimiters = dialect == .x12 ? Delimiters.x12Default : Delimiters.edifactDefault
        let separators = self.separators
        if let value = separators.element?.utf8.first { delimiters.element = value }
        if let value = separators.component?.utf8.first { delimiters.component = value }
        if let value = separators.repetition?.utf8.first { delimiters.repetition = value }
        if let value = separators.release?.utf8.first { delimiters.release = value }
        if let value = separators.segment { delimiters.segmentTerminator = Array(value.utf8) }
        return delimiters
    }
}
