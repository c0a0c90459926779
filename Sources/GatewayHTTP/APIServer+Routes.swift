import Foundation
import Gateway
import Hummingbird
import OrderMapping
import OrderModel
import OrderStore

extension APIServer {
    // MARK: Health and metrics

    struct Health: Encodable {
        var status: String
        var recoveryDone: Bool
        var queueDepth: Int
        /// Documents waiting for delivery to partners' endpoints, and held for an admin.
        var deliveriesWaiting: Int
        var deliveriesHeld: Int
        var libcurl: String
        var libxml2: String
    }

    func health() async throws -> Health {
        let (pending, deliveries) = try await self.store.read {
            (try $0.pendingOutboundCount(), try $0.deliveryCounts())
        }
        return Health(
            status: self.daemon.ready.isSet ? "ready" : "starting",
            recoveryDone: self.daemon.ready.isSet,
            queueDepth: pending,
            deliveriesWaiting: deliveries["waiting"] ?? 0,
            deliveriesHeld: deliveries["held"] ?? 0,
            libcurl: APIVersions.libcurl,
            libxml2: APIVersions.libxml2
        )
    }

    /// Prometheus text: the counts of the store, per state and kind.
    func metrics() async throws -> String {
        let (summary, deliveries, latencies) = try await self.store.read {
            (try $0.summary(), try $0.deliveryCounts(), try $0.recentFileLatencies(limit: 1000))
        }
        var text = ""
        func family(_ name: String, _ help: String, _ label: String, _ counts: [String: Int]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for (key, value) in counts.sorted(by: { $0.key < $1.key }) {
                text += "\(name){\(label)=\"\(key)\"} \(value)\n"
            }
        }
        family("ordergate_files", "Inbound files by state.", "state", summary.files)
        family("ordergate_orders", "Orders by status.", "status", summary.orders)
        family("ordergate_acknowledgements", "Acknowledgements sent by kind.", "kind", summary.acknowledgements)
        family("ordergate_outbound", "Outbound documents by state.", "state", summary.outbound)
        family("ordergate_deliveries", "Deliveries to partners' endpoints by state.", "state", deliveries)
        let counters = self.daemon.delivery.counters.withLock { $0 }
        text += "# HELP ordergate_delivery_attempts_total Delivery attempts since the start, by result.\n"
        text += "# TYPE ordergate_delivery_attempts_total counter\n"
        for (result, count) in [
            ("delivered", counters.delivered), ("failed", counters.failed), ("held", counters.held),
        ] {
            text += "ordergate_delivery_attempts_total{result=\"\(result)\"} \(count)\n"
        }
        text += "# HELP ordergate_delivery_attempt_seconds Delivery attempts since the start: their time.\n"
        text += "# TYPE ordergate_delivery_attempt_seconds summary\n"
        text += "ordergate_delivery_attempt_seconds_sum \(counters.seconds)\n"
        text += "ordergate_delivery_attempt_seconds_count \(counters.delivered + counters.failed + counters.held)\n"
        text += Self.latencySummary(latencies)
        text += "# HELP ordergate_ready Whether recovery is done and the daemon serves.\n# TYPE ordergate_ready gauge\n"
        text += "ordergate_ready \(self.daemon.ready.isSet ? 1 : 0)\n"
        return text
    }

    /// The file latency (arrival to commit) of the latest 1,000 files, as a Prometheus summary.
    static func latencySummary(_ latencies: [Double]) -> String {
        var text = "# HELP ordergate_file_latency_seconds Arrival to commit of the latest 1,000 inbound files.\n"
        text += "# TYPE ordergate_file_latency_seconds summary\n"
        let sorted = latencies.sorted()
        for quantile in ["0.5", "0.9", "0.99"] {
            guard !sorted.isEmpty, let fraction = Double(quantile) else { continue }
            let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
            text += "ordergate_file_latency_seconds{quantile=\"\(quantile)\"} \(value)\n"
        }
        text += "ordergate_file_latency_seconds_sum \(sorted.reduce(0, +))\n"
        text += "ordergate_file_latency_seconds_count \(sorted.count)\n"
        return text
    }

    // MARK: Orders

    struct OrderPage: Encodable {
        var orders: [OrderListEntry]
        /// The cursor for the next page: the last order's ID (nil when the page is empty).
        var next: Int64?
    }

    /// A whole-number query parameter (nil when absent); 400 when it is something else.
    static func number(_ name: String, in request: Request) throws -> Int64? {
        guard let text = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw APIProblem(.badRequest, "Bad query", "\(name)=\(text) is not a whole number")
        }
        return value
    }

    /// A feed's cursor and page size (`after`, `limit`: 1 to 1,000, 100 by default).
    static func page(_ request: Request) throws -> (after: Int64, limit: Int) {
        (
            try Self.number("after", in: request) ?? 0,
            Int(min(max(try Self.number("limit", in: request) ?? 100, 1), 1000))
        )
    }

    func orders(_ request: Request, token: APIToken) async throws -> OrderPage {
        let query = request.uri.queryParameters
        let (after, limit) = try Self.page(request)
        let status = query["status"].map(String.init)
        // A partner token sees its own orders whatever `partner` says.
        let partner = Self.scope(token) ?? query["partner"].map(String.init)
        let orders = try await self.store.read {
            try $0.orderFeed(after: after, limit: limit, status: status, partnerID: partner)
        }
        return OrderPage(orders: orders, next: orders.last?.id)
    }

    /// One order as the API serves it: the stored canonical JSON (with its ID) as it is, with its status history,
    /// the rules' decisions explained, and the acknowledgements sent. Written directly: decoding and encoding the
    /// order again took most of the route's time.
    func order(_ id: Int64, token: APIToken) async throws -> [UInt8] {
        let scope = Self.scope(token)
        let found = try await self.store.read { reader -> [UInt8]? in
            guard let header = try reader.orderHeader(id: id, visibleTo: scope),
                let canonical = try reader.orderCanonicalText(id: id)
            else { return nil }
            var writer = CanonicalJSONWriter()
            writer.beginObject()
            Self.writeObjects("acknowledgements", try reader.orderAcknowledgements(orderID: id), to: &writer) {
                writer,
                entry in
                writer.field("at", entry.at)
                writer.field("fileName", entry.fileName)
                writer.field("kind", entry.kind)
                writer.field("status", entry.status)
            }
            // A trading partner sees each decision's outcome, not its explanation: that names our credit limit,
            // balances and the stock at each node (review: partner tokens read them).
            Self.writeObjects("decisions", try reader.decisions(orderID: id), to: &writer) { writer, decision in
                writer.field("actor", decision.actor)
                writer.field("at", decision.createdAt)
                writer.field("explanation", scope == nil ? decision.explanation : nil)
                writer.field("status", decision.status)
            }
            Self.writeObjects("history", try reader.statusHistory(orderID: id), to: &writer) { writer, entry in
                writer.field("at", entry.at)
                writer.field("note", entry.note)
                writer.field("status", entry.status)
            }
            writer.field("id", Int(id))
            Self.writeObjects("invoices", try reader.invoices(orderID: id), to: &writer) { writer, invoice in
                writer.field("at", invoice.createdAt)
                writer.field("currency", invoice.currency)
                writer.field("document", invoice.documentKind)
                writer.field("invoiceDate", invoice.invoiceDate)
                writer.field("invoiceNumber", invoice.invoiceNumber)
                writer.field("total", invoice.total)
            }
            writer.key("order")
            // The stored order has no ID (the row's key): it goes in first. Orders are stored compact (pretty
            // before migration v11's time).
            var order = canonical
            if order.hasPrefix("{\n") {
                order.insert(contentsOf: "  \"id\" : \"\(id)\",\n", at: order.index(order.startIndex, offsetBy: 2))
            } else if order.hasPrefix("{") {
                let member = "\"id\":\"\(id)\"" + (order.hasPrefix("{}") ? "" : ",")
                order.insert(contentsOf: member, at: order.index(after: order.startIndex))
            }
            writer.literal(order)
            writer.field("partnerID", header.partnerID)
            Self.writeObjects("shipments", try reader.shipments(orderID: id), to: &writer) { writer, shipment in
                writer.field("at", shipment.createdAt)
                writer.field("document", shipment.documentKind)
                writer.field("id", Int(shipment.id))
                writer.field("shipmentID", shipment.shipmentID)
                writer.field("shippedOn", shipment.shippedOn)
                writer.field("trackingNumbers", shipment.trackingNumbers)
            }
            writer.field("status", header.status)
            writer.endObject()
            return writer.bytes
        }
        guard let found else { throw APIProblem(.notFound, "Not found", "there is no order \(id)") }
        return found
    }

    /// A member holding an array of objects, each written by `fields` (keys in byte order).
    static func writeObjects<Item>(
        _ key: StaticString,
        _ items: [Item],
        to writer: inout CanonicalJSONWriter,
        fields: (inout CanonicalJSONWriter, Item) -> Void
    ) {
        writer.key(key)
        writer.beginArray()
        for item in items {
            writer.element()
            writer.beginObject()
            fields(&writer, item)
            writer.endObject()
        }
        writer.endArray()
    }

    // MARK: Inbound documents

    struct Accepted: Encodable {
        var fileID: Int64
        var state: String
        var orders: Int
        var acknowledgements: Int
        var reason: String?
    }

    /// The largest document a partner may post.
    static let maximumDocumentBytes = 32 << 20

    /// A request's body, at most `limit` bytes: 413 when it is longer (regression, review: shipments, invoices and
    /// hold releases answered a long body with 500).
    static func body(of request: Request, upTo limit: Int, what: String = "Body") async throws -> ByteBuffer {
        var request = request
        do {
            return try await request.collectBody(upTo: limit)
        } catch {
            let size = limit >= 1 << 20 ? "\(limit >> 20) MiB" : "\(limit >> 10) KiB"
            throw APIProblem(.contentTooLarge, "\(what) too large", "the limit is \(size)")
        }
    }

    func inbound(_ request: Request, token: APIToken) async throws -> (Int, Body) {
        let body = try await Self.body(of: request, upTo: Self.maximumDocumentBytes, what: "Document")
        guard body.readableBytes > 0 else { throw APIProblem(.badRequest, "Empty document", "the body is empty") }
        let bytes = Array(buffer: body)
        let partnerID = token.partnerID ?? ""
        let name = request.uri.queryParameters["name"].map(String.init) ?? "posted"
        let daemon = self.daemon
        let outcome = try await BlockingWork.run { try daemon.ingest(bytes, partnerID: partnerID, name: name) }
        return (
            202,
            try .json(
                Accepted(
                    fileID: outcome.fileID,
                    state: outcome.state.rawValue,
                    orders: outcome.orders,
                    acknowledgements: outcome.acknowledgements + outcome.orderAcknowledgements,
                    reason: outcome.reason
                )
            )
        )
    }

    // MARK: Holds

    struct Released: Encodable {
        var orderID: Int64
        var status: String
    }

    func releaseHold(_ request: Request, id: Int64, token: APIToken) async throws -> (Int, Body) {
        struct Note: Decodable { var note: String }
        let body = try await Self.body(of: request, upTo: 64 << 10)
        guard let note = try? JSONDecoder().decode(Note.self, from: Data(buffer: body)), !note.note.isEmpty else {
            throw APIProblem(.badRequest, "Note required", "send {\"note\": \"why the hold is released\"}")
        }
        let daemon = self.daemon
        do {
            let decision = try await daemon.store.write { tx in
                try daemon.pipeline.desk.release(
                    orderID: id,
                    actor: "api:\(token.name)",
                    note: note.note,
                    mappings: daemon.mappingSet,
                    tx: tx,
                    now: Date()
                )
            }
            return (200, try .json(Released(orderID: id, status: decision.status.rawValue)))
        } catch let error as OrderDeskError {
            if error.description.hasPrefix("there is no order") {
                throw APIProblem(.notFound, "Not found", error.description)
            }
            throw APIProblem(.conflict, "Not on hold", error.description)
        }
    }
}

extension APIServer {
    // MARK: Business data from the ERP

    struct Loaded: Encodable {
        var records: Int
        /// Orders whose credit hold the update released (credit accounts).
        var releasedHolds: [Int64]
    }

    /// `PUT /v1/stock`, `/v1/prices`, `/v1/credit-accounts`: the same records, checks and upserts as
    /// `ordergate import` (a JSON array of objects, or CSV with `Content-Type: text/csv`); a body with any bad
    /// record is refused whole with 422 and every problem listed.
    func put(_ kind: ImportKind, _ request: Request, route: APIRoute) async throws -> (Int, Body) {
        let body = try await Self.body(of: request, upTo: 16 << 20)
        let bytes = Array(buffer: body)
        let daemon = self.daemon
        let loader = BusinessImport(store: daemon.store, desk: daemon.pipeline.desk, mappings: daemon.mappingSet)
        let name = "\(route.method) \(route.path)"
        do {
            let summary = try await BlockingWork.run { try loader.load(kind, bytes: bytes, file: name) }
            return (200, try .json(Loaded(records: summary.records, releasedHolds: summary.releasedHolds)))
        } catch let errors as ImportErrors {
            throw APIProblem(
                .unprocessableContent,
                "Invalid records",
                "\(errors.issues.count) problems; nothing was loaded",
                errors: errors.issues.map(\.description)
            )
        }
    }
}

extension APIServer {
    // MARK: Shipments

    /// `POST /v1/orders/{id}/shipments`: the ERP reports a shipment; it is checked (422 naming each bad line or
    /// pack), recorded, and its ship notice (856, DESADV, cXML ShipNoticeRequest) queued for the partner.
    func ship(_ request: Request, id: Int64, token: APIToken) async throws -> (Int, Body) {
        try await self.report(request, id: id, as: ShipmentRequest.self, named: "shipment") {
            desk,
            report,
            mappings,
            tx in
            try desk.ship(
                orderID: id,
                report,
                visibleTo: nil,
                mappings: mappings,
                tx: tx,
                now: Date(),
                actor: "api:\(token.name)"
            )
        }
    }

    // MARK: Invoices

    /// `POST /v1/orders/{id}/invoices`: the ERP reports an invoice; it is checked (422 naming each bad line),
    /// recorded, and its document (810, INVOIC, cXML InvoiceDetailRequest, UBL Invoice) queued for the partner.
    func invoice(_ request: Request, id: Int64, token: APIToken) async throws -> (Int, Body) {
        try await self.report(request, id: id, as: InvoiceRequest.self, named: "invoice") {
            desk,
            report,
            mappings,
            tx in
            try desk.invoice(
                orderID: id,
                report,
                visibleTo: nil,
                mappings: mappings,
                tx: tx,
                now: Date(),
                actor: "api:\(token.name)"
            )
        }
    }

    /// What the ERP reports about an order (a shipment, an invoice): the body decoded (400 when it is not one),
    /// `record` run in one write transaction, 201 with its outcome; 404 for no such order, 422 for a refusal.
    private func report<Report: Decodable & Sendable, Outcome: Encodable & Sendable>(
        _ request: Request,
        id: Int64,
        as type: Report.Type,
        named name: String,
        record: @escaping @Sendable (OrderDesk, Report, MappingSet, StoreTransaction) throws -> Outcome?
    ) async throws -> (Int, Body) {
        let body = try await Self.body(of: request, upTo: 4 << 20)
        let report: Report
        do {
            report = try JSONDecoder().decode(type, from: Data(buffer: body))
        } catch {
            throw APIProblem(.badRequest, "Bad \(name)", "the body is not a valid \(name): \(error)")
        }
        let daemon = self.daemon
        do {
            let outcome = try await daemon.store.write { tx in
                try record(daemon.pipeline.desk, report, daemon.mappingSet, tx)
            }
            guard let outcome else { throw APIProblem(.notFound, "Not found", "there is no order \(id)") }
            daemon.outboxSignal.raise()
            return (201, try .json(outcome))
        } catch let refusal as ReportRefused {
            throw Self.problem(refusal)
        }
    }

    /// The 422 for a refused shipment or invoice, listing every problem.
    static func problem(_ refusal: ReportRefused) -> APIProblem {
        APIProblem(
            .unprocessableContent,
            "\(refusal.subject) refused",
            "\(refusal.problems.count) problems; nothing was recorded",
            errors: refusal.problems
        )
    }

    // MARK: Ship notices

    /// The ship-notice feed: each notice's shipment and canonical JSON, oldest first after the cursor.
    func shipNotices(_ request: Request, token: APIToken) async throws -> (Int, Body) {
        // Regression (review): after=abc was read as 0.
        let (after, limit) = try Self.page(request)
        let scope = Self.scope(token)
        let bytes = try await self.store.read { reader -> [UInt8] in
            let notices = try reader.shipNoticeFeed(after: after, limit: limit, partnerID: scope)
            var writer = CanonicalJSONWriter()
            writer.beginObject()
            writer.field("next", notices.last.map { Int($0.id) })
            Self.writeObjects("notices", notices, to: &writer) { writer, notice in
                Self.writeNoticeFields(notice, to: &writer)
            }
            writer.endObject()
            return writer.bytes
        }
        return (200, Body(contentType: "application/json", bytes: bytes))
    }

    /// One ship notice: JSON, or the EDI document itself for `Accept: application/edi-x12` or
    /// `application/edifact` (406 when the partner's notice is not in that syntax).
    func shipNotice(_ request: Request, id: Int64, token: APIToken) async throws -> (Int, Body) {
        let scope = Self.scope(token)
        guard let notice = try await self.store.read({ try $0.shipNotice(id: id, visibleTo: scope) }) else {
            throw APIProblem(.notFound, "Not found", "there is no ship notice \(id)")
        }
        let accept = request.headers[.accept] ?? "application/json"
        for (type, starts) in [("application/edi-x12", "ISA"), ("application/edifact", "UN")]
        where accept.contains(type) {
            guard let document = notice.document, String(decoding: document.prefix(3), as: UTF8.self).hasPrefix(starts)
            else {
                throw APIProblem(.notAcceptable, "Not available", "ship notice \(id) has no \(type) document")
            }
            return (200, Body(contentType: type, bytes: document))
        }
        var writer = CanonicalJSONWriter()
        writer.beginObject()
        Self.writeNoticeFields(notice, to: &writer)
        writer.endObject()
        return (200, Body(contentType: "application/json", bytes: writer.bytes))
    }

    /// A notice's members, keys in byte order.
    static func writeNoticeFields(_ notice: ShipNoticeRecord, to writer: inout CanonicalJSONWriter) {
        writer.field("createdAt", notice.createdAt)
        writer.field("document", notice.documentKind)
        writer.field("id", Int(notice.id))
        writer.key("notice")
        writer.literal(notice.notice)
        writer.field("orderID", Int(notice.orderID))
        writer.field("partnerID", notice.partnerID)
        writer.field("shipmentID", notice.shipmentID)
        writer.field("shippedOn", notice.shippedOn)
    }
}
