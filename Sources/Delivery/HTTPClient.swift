import CCurl
import Foundation

/// One HTTP exchange's answer.
public struct HTTPResponse: Sendable, Hashable {
    public var status: Int
    /// Header names lower-cased; a repeated header keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]

    public var text: String { String(decoding: self.body, as: UTF8.self) }
}

/// Why an exchange did not produce a response (the network, not the server): refused, timed out, TLS, DNS.
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The libcurl error code (`CURLE_*`).
    public var code: Int
    public var message: String
    /// Whether the request may be tried again (refused, timed out, reset): the caller's retry policy decides.
    public var isTransient: Bool

    public var description: String { "HTTP \(self.message) (curl \(self.code))" }
}

/// HTTP through libcurl (`CCurl`): one easy handle per exchange, performed on a dispatch queue so that it never
/// blocks the cooperative pool, with `NOSIGNAL`, HTTP(S) only, TLS verification on, and timeouts for connecting and
/// for the whole exchange.
public struct HTTPClient: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var url: String
        public var headers: [(String, String)]
        public var body: [UInt8]?
        public var connectTimeout: Double
        public var timeout: Double
        /// A client certificate (PEM) for TLS, and its key when the certificate file does not hold it.
        public var clientCertificate: String?
        public var clientKey: String?
        /// Certificate authorities (PEM) to verify the server with, instead of the system's. Verification stays on.
        public var caFile: String?
        /// The most of the response body kept: past it, the rest is read and dropped (`truncate`), or the exchange
        /// fails (a polled document larger than a file may be).
        public var maximumResponseBytes = Int.max
        public var truncateResponse = false

        public init(
            method: String = "GET",
            url: String,
            headers: [(String, String)] = [],
            body: [UInt8]? = nil,
            connectTimeout: Double = 10,
            timeout: Double = 30,
            clientCertificate: String? = nil,
            clientKey: String? = nil,
            caFile: String? = nil
        ) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.connectTimeout = connectTimeout
            self.timeout = timeout
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.caFile = caFile
        }
    }

    private static let initialised: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        return true
    }()

    /// The threads that perform exchanges for `send`, each with its own curl handle.
    private static let pool = ExchangeThreads(maximum: 128)

    public init() {
        _ = Self.initialised
    }

    /// Performs the exchange off the cooperative pool, on one of the client's threads. Each thread keeps its curl
    /// handle, and with it an open connection to the last host (keep-alive), from one exchange to the next.
    public func send(_ request: Request) async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            Self.pool.submit { handle in
                continuation.resume(with: Result { try self.perform(request, on: handle) })
            }
        }
    }

    /// Performs the exchange on the calling thread (blocking), with a handle of its own.
    public func perform(_ request: Request) throws -> HTTPResponse {
        guard let handle = curl_easy_init() else {
            throw HTTPClientError(code: -1, message: "cannot create a curl handle", isTransient: true)
        }
        defer { curl_easy_cleanup(handle) }
        return try self.perform(request, on: handle)
    }

    /// Performs the exchange with `handle` (reset first: nothing of an earlier exchange carries over but the
    /// connection cache).
    private func perform(_ request: Request, on handle: UnsafeMutableRawPointer) throws -> HTTPResponse {
        curl_easy_reset(handle)
        let sink = Sink(limit: request.maximumResponseBytes, truncate: request.truncateResponse)
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        // An empty Expect header: no 100-continue round trip for bodies.
        headerList = curl_slist_append(headerList, "Expect:")
        _ = ccurl_setopt_str(handle, CURLOPT_URL, request.url)
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_str(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        // No proxy from the environment (http_proxy, ALL_PROXY): partner traffic goes where the profile says.
        _ = ccurl_setopt_str(handle, CURLOPT_PROXY, "")
        _ = ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000))
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000))
        _ = ccurl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, request.method)
        if request.method == "HEAD" { _ = ccurl_setopt_long(handle, CURLOPT_NOBODY, 1) }
        if let certificate = request.clientCertificate {
            _ = ccurl_setopt_str(handle, CURLOPT_SSLCERT, certificate)
            if let key = request.clientKey { _ = ccurl_setopt_str(handle, CURLOPT_SSLKEY, key) }
        }
        if let authorities = request.caFile { _ = ccurl_setopt_str(handle, CURLOPT_CAINFO, authorities) }
        _ = ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        _ = ccurl_setopt_writefn(handle) { pointer, size, count, context in
            let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
            let total = size * count
            guard let pointer else { return total }
            return sink.take(UnsafeRawBufferPointer(start: pointer, count: total)) ? total : 0
        }
        _ = ccurl_setopt_ptr(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque())
        _ = ccurl_setopt_headerfn(handle) { pointer, size, count, context in
            let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
            let total = size * count
            if let pointer {
                let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: total), as: UTF8.self)
                sink.header(line)
            }
            return total
        }
        _ = ccurl_setopt_ptr(handle, CURLOPT_HEADERDATA, unmanaged.toOpaque())
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buffer in
            _ = ccurl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            if let body = request.body {
                return body.withUnsafeBufferPointer { bytes in
                    _ = ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                    _ = ccurl_setopt_ptr(
                        handle,
                        CURLOPT_POSTFIELDS,
                        UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                    )
                    return curl_easy_perform(handle)
                }
            }
            return curl_easy_perform(handle)
        }
        if sink.overflowed {
            throw HTTPClientError(
                code: Int(CURLE_WRITE_ERROR.rawValue),
                message: "the answer is larger than \(request.maximumResponseBytes) bytes",
                isTransient: true
            )
        }
        guard code == CURLE_OK else {
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            // Misconfigurations on our side; everything else (refused, timed out, reset, DNS, the partner's TLS)
            // may heal by waiting.
            let transient = ![
                CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE,
                CURLE_SSL_CRL_BADFILE,
            ].contains(code)
            throw HTTPClientError(code: Int(code.rawValue), message: message, isTransient: transient)
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    /// The libcurl version, for the health check.
    public static var libraryVersion: String { String(cString: curl_version()) }
}

/// Threads for blocking libcurl exchanges: started as work arrives (up to `maximum`; beyond that, work waits for
/// a free thread), each with a curl handle it keeps. Blocking calls must not run on the cooperative pool (two
/// threads here), nor on dispatch's global queues (which on Linux run as many blocking items at once as there are
/// cores: two slow partners would stall every other delivery).
final class ExchangeThreads: @unchecked Sendable {
    typealias Job = (UnsafeMutableRawPointer) -> Void

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var idle = 0
    private var threads = 0
    private let maximum: Int

    init(maximum: Int) { self.maximum = maximum }

    func submit(_ job: @escaping Job) {
        self.condition.lock()
        self.jobs.append(job)
        if self.jobs.count > self.idle && self.threads < self.maximum {
            self.threads += 1
            let thread = Thread { self.work() }
            thread.name = "ordergate-http"
            thread.start()
        }
        self.condition.signal()
        self.condition.unlock()
    }

    private func work() {
        guard let handle = curl_easy_init() else {
            self.condition.lock()
            self.threads -= 1
            self.condition.unlock()
            return
        }
        while true {
            self.condition.lock()
            while self.jobs.isEmpty {
                self.idle += 1
                self.condition.wait()
                self.idle -= 1
            }
            let job = self.jobs.removeFirst()
            self.condition.unlock()
            job(handle)
        }
    }
}

/// Collects a response's header lines and body bytes.
private final class Sink {
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    let limit: Int
    let truncate: Bool
    var overflowed = false

    init(limit: Int, truncate: Bool) {
        self.limit = limit
        self.truncate = truncate
    }

    /// Keeps a chunk of the body within the limit; false stops the exchange (over the limit, not truncating).
    func take(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let room = self.limit - self.body.count
        if bytes.count <= room {
            self.body.append(contentsOf: bytes)
            return true
        }
        if self.truncate {
            if room > 0 { self.body.append(contentsOf: bytes.prefix(room)) }
            return true
        }
        self.overflowed = true
        return false
    }

    func header(_ line: String) {
        // A new status line (a redirect or 100-continue) starts the headers again.
        if line.hasPrefix("HTTP/") {
            self.headers = [:]
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        self.headers[name] = value
    }
}
