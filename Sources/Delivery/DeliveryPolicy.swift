import Foundation
import OrderStore

/// When and how often a delivery is tried: exponential backoff with jitter between a minimum and a maximum delay,
/// for at most a lifetime, with bounded concurrency overall and per partner. Pure: the time and the randomness are
/// arguments.
public struct DeliveryPolicy: Sendable, Hashable {
    /// The delay after the first failed attempt.
    public var minimumDelay: Double = 5
    /// No delay is longer than this.
    public var maximumDelay: Double = 600
    /// A document not delivered this long after it was queued is held for an admin, with an alert.
    public var maximumLifetime: Double = 72 * 3600
    /// Requests in flight, all partners together; and for one partner.
    public var concurrency = 32
    public var perPartnerConcurrency = 8
    /// The largest response body kept with a delivered row.
    public var responseLimit = 16 << 10

    public init() {}

    /// The delay before attempt `attempts + 1`, after `attempts` failed ones: `minimum × 2^(attempts−1)`, at most the
    /// maximum, then jittered down to between half of it and all of it (never under the minimum), so that many
    /// documents failing together do not come back together. A server's `Retry-After` (seconds) lengthens it, up to
    /// the maximum. `unit` is a random number in 0..<1.
    public func delay(afterAttempts attempts: Int, unit: Double, retryAfter: Double? = nil) -> Double {
        let exponent = Double(max(0, min(attempts - 1, 40)))
        let ceiling = min(self.maximumDelay, self.minimumDelay * pow(2, exponent))
        var delay = max(self.minimumDelay, ceiling / 2 + ceiling / 2 * min(max(unit, 0), 1))
        if let retryAfter, retryAfter > delay { delay = min(retryAfter, self.maximumDelay) }
        return delay
    }

    /// What an attempt's outcome means for the document: delivered on 2xx; tried again on 408, 429, 5xx and network
    /// failures (refused, timed out, reset, TLS); held for an admin on other statuses (the request itself is wrong:
    /// waiting will not help); held with an alert when the next try would come after the lifetime.
    public func result(
        of outcome: Result<HTTPResponse, HTTPClientError>,
        attempts: Int,
        since: Date,
        now: Date,
        unit: Double
    ) -> DeliveryResult {
        let status: Int?
        let error: String
        var retryAfter: Double?
        switch outcome {
        case .success(let response):
            if (200..<300).contains(response.status) {
                return .delivered(status: response.status, response: Array(response.body.prefix(self.responseLimit)))
            }
            status = response.status
            let reason = Self.summary(of: response)
            guard response.status == 408 || response.status == 429 || response.status >= 500 else {
                return .held(status: response.status, error: "HTTP \(response.status)\(reason); not retried")
            }
            error = "HTTP \(response.status)\(reason)"
            retryAfter = response.headers["retry-after"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        case .failure(let failure):
            status = nil
            error = failure.description
            // A misconfiguration (a malformed URL, an unreadable CA file, client certificate or secret file) does
            // not heal by waiting: an admin is told now, not after the lifetime.
            if !failure.isTransient { return .held(status: nil, error: "\(error); fix the partner profile") }
        }
        let made = attempts + 1
        let due = now.addingTimeInterval(self.delay(afterAttempts: made, unit: unit, retryAfter: retryAfter))
        if due.timeIntervalSince(since) > self.maximumLifetime {
            let hours = DecimalHours.text(self.maximumLifetime)
            return .held(status: status, error: "undelivered after \(made) attempts in \(hours) h: \(error)")
        }
        return .retry(status: status, error: error, due: due)
    }

    /// The start of a refusal's body, for the row and the log (one line, bounded).
    static func summary(of response: HTTPResponse) -> String {
        let text = String(decoding: response.body.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? "" : ": \(text)"
    }
}

/// A lifetime in hours, as a short number.
enum DecimalHours {
    static func text(_ seconds: Double) -> String {
        let hours = seconds / 3600
        return hours == hours.rounded() ? String(Int(hours)) : String(format: "%.2f", hours)
    }
}
