import Crypto
import Foundation
import Logging
import OrderMapping
import OrderStore
import Synchronization

/// Polls the HTTP endpoints of partners who publish their documents: a GET on each profile's interval, with
/// `If-None-Match` and `If-Modified-Since` from the last answer, so that an unchanged endpoint answers 304 and costs
/// nothing. A new document goes to `ingest` (the daemon's pipeline, as a POST to /v1/inbound would); a document
/// seen before (its SHA-256 is the last one polled, or a file the partner already sent) is not ingested again.
public final class PartnerPoller: Sendable {
    /// A document for the pipeline: its bytes, the partner, a file name.
    public typealias Ingest = @Sendable ([UInt8], String, String) async throws -> Void

    let store: OrderStore
    let client: HTTPClient
    let clock: @Sendable () -> Date
    let logger: Logger
    let endpoints: @Sendable () -> [String: PartnerProfile.Endpoint]
    let ingest: Ingest
    /// When each partner is next polled, and the partners being polled now.
    private let schedule = Mutex<[String: Date]>([:])
    private let inFlight = Mutex<Set<String>>([])
    /// The largest document taken (a larger answer fails the poll, like a larger inbox file is quarantined).
    let maximumDocumentBytes: Int

    /// The default interval when a poll endpoint names none.
    public static let defaultInterval = 300

    /// `endpoints` gives the current poll endpoints by partner (profiles reload on SIGHUP).
    public init(
        store: OrderStore,
        logger: Logger,
        client: HTTPClient = HTTPClient(),
        clock: @escaping @Sendable () -> Date = { Date() },
        maximumDocumentBytes: Int = 512 << 20,
        endpoints: @escaping @Sendable () -> [String: PartnerProfile.Endpoint],
        ingest: @escaping Ingest
    ) {
        self.maximumDocumentBytes = maximumDocumentBytes
        self.store = store
        self.client = client
        self.clock = clock
        self.logger = logger
        self.endpoints = endpoints
        self.ingest = ingest
    }

    /// What one poll saw.
    public enum Outcome: Sendable, Hashable {
        /// 304, or an empty 200/204.
        case unchanged
        /// A document polled before (by hash).
        case seenBefore
        case ingested
        /// A failure (network, status, or the pipeline refusing the bytes); tried again on the next interval.
        case failed(String)
    }

    /// Polls every partner whose interval has come and that is not being polled now; returns each one's outcome.
    @discardableResult
    public func pollDue() async -> [String: Outcome] {
        await withTaskGroup(of: (String, Outcome).self) { group in
            for (partner, endpoint) in self.takeDue() {
                group.addTask {
                    defer { self.finished(partner) }
                    return (partner, await self.poll(partner, endpoint))
                }
            }
            var outcomes: [String: Outcome] = [:]
            for await (partner, outcome) in group { outcomes[partner] = outcome }
            return outcomes
        }
    }

    /// Makes every partner due at once (a reload, or a test).
    public func forgetSchedule() { self.schedule.withLock { $0 = [:] } }

    /// The daemon's loop: every `tick`, each partner that is due gets a task of its own, so that an endpoint that
    /// hangs (up to its timeout) never holds up the others; on graceful shutdown no new poll starts.
    public func run(tick: Duration = .seconds(1)) async {
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                for (partner, endpoint) in self.takeDue() {
                    group.addTask {
                        defer { self.finished(partner) }
                        _ = await self.poll(partner, endpoint)
                    }
                }
                try? await Task.sleep(for: tick)
            }
        }
    }

    /// The partners due now and not in flight, marked in flight and scheduled for their next interval.
    private func takeDue() -> [(String, PartnerProfile.Endpoint)] {
        let now = self.clock()
        return self.endpoints().sorted { $0.key < $1.key }.filter { partner, endpoint in
            guard self.schedule.withLock({ ($0[partner] ?? .distantPast) <= now }),
                self.inFlight.withLock({ $0.insert(partner).inserted })
            else { return false }
            self.schedule.withLock {
                $0[partner] = now.addingTimeInterval(Double(endpoint.intervalSeconds ?? Self.defaultInterval))
            }
            return true
        }
    }

    private func finished(_ partner: String) { _ = self.inFlight.withLock { $0.remove(partner) } }

    /// One GET of a partner's endpoint, and what became of the answer.
    func poll(_ partnerID: String, _ endpoint: PartnerProfile.Endpoint) async -> Outcome {
        var state: PollState
        do {
            state = try await self.store.read { try $0.pollState(partnerID: partnerID) }
        } catch {
            return .failed("cannot read the poll state: \(error)")
        }
        var status: Int?
        let outcome: Outcome
        do {
            var headers = try EndpointCredentials.headers(for: endpoint)
            headers += endpoint.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            if state.url != endpoint.url {
                // Another URL than the one the validators came from: none are sent (the hash still guards).
                state.url = endpoint.url
                state.etag = nil
                state.lastModified = nil
            }
            if let etag = state.etag { headers.append(("If-None-Match", etag)) }
            if let modified = state.lastModified { headers.append(("If-Modified-Since", modified)) }
            let timeout = Double(endpoint.timeoutSeconds ?? 30)
            var request = HTTPClient.Request(
                method: "GET",
                url: endpoint.url,
                headers: headers,
                connectTimeout: min(10, timeout),
                timeout: timeout,
                clientCertificate: endpoint.clientCertificate,
                clientKey: endpoint.clientKey,
                caFile: endpoint.caFile
            )
            request.maximumResponseBytes = self.maximumDocumentBytes
            let response = try await self.client.send(request)
            status = response.status
            outcome = try await self.take(response, partnerID: partnerID, state: &state)
        } catch {
            outcome = .failed("\(error)")
        }
        if case .failed(let reason) = outcome {
            self.logger.warning(
                "polling failed; will try again on the next interval",
                metadata: ["partner.id": "\(partnerID)", "error": "\(reason)"]
            )
        }
        let error: String? = if case .failed(let reason) = outcome { reason } else { nil }
        let recorded = state
        let answered = status
        let now = self.clock()
        do {
            try await self.store.write { tx in
                try tx.recordPoll(partnerID: partnerID, state: recorded, status: answered, error: error, at: now)
            }
        } catch {
            self.logger.error("cannot record a poll", metadata: ["partner.id": "\(partnerID)", "error": "\(error)"])
        }
        return outcome
    }

    /// A document's SHA-256 in lower-case hex, as the file ledger keeps it (the pipeline hashes with this too).
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    /// Handles a poll's answer: new validators are kept only once the document they describe is ingested (a failed
    /// ingestion polls the same document again).
    private func take(_ response: HTTPResponse, partnerID: String, state: inout PollState) async throws -> Outcome {
        switch response.status {
        case 304:
            return .unchanged
        case 200..<300:
            guard !response.body.isEmpty else { return .unchanged }
            let hash = Self.sha256Hex(response.body)
            var seen = hash == state.lastHash
            if !seen { seen = try await self.store.read { try $0.fileSeen(partnerID: partnerID, sha256: hash) } }
            if !seen {
                let name = "poll-\(Int64(self.clock().timeIntervalSince1970))"
                try await self.ingest(response.body, partnerID, name)
                state.documents += 1
            }
            state.lastHash = hash
            state.etag = response.headers["etag"]
            state.lastModified = response.headers["last-modified"]
            return seen ? .seenBefore : .ingested
        default:
            return .failed("HTTP \(response.status)\(DeliveryPolicy.summary(of: response))")
        }
    }
}
