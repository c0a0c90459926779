import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A partner's HTTP endpoint for the delivery and polling tests: a real server on 127.0.0.1 (Hummingbird) that
/// answers POSTs from a script and commits each document once per `Idempotency-Key`, and that publishes one
/// document for polling with an ETag.
final class Receiver: Sendable {
    /// How the receiver answers the next POST.
    enum Answer: Sendable {
        case status(Int)
        /// Answers after a pause (longer than the client's timeout: a timeout).
        case slow(seconds: Double, status: Int)
        /// Commits the document, then pauses past the client's timeout: the response is lost, the document is not.
        case commitThenStall(seconds: Double)
        /// 429 or 503 with a Retry-After.
        case retryAfter(status: Int, seconds: Int)
    }

    struct State {
        var script: [Answer] = []
        /// Documents committed, by idempotency key (each once).
        var committed: [String: [UInt8]] = [:]
        /// Every POST, in arrival order: its key and headers.
        var posts: [(key: String, headers: HTTPFields)] = []
        /// The published document (polling): body and ETag; GETs counted by answer.
        var published: (body: [UInt8], etag: String)?
        var gets: [Int] = []
    }

    let state = Mutex(State())
    // Set once, in `start`, before the receiver is shared.
    nonisolated(unsafe) private var task: Task<Void, any Error>?
    nonisolated(unsafe) private(set) var port = 0

    /// Starts the server; returns once it listens.
    static func start() async throws -> Receiver {
        let receiver = Receiver()
        try await receiver.listen()
        return receiver
    }

    private init() {}

    private func listen() async throws {
        let router = Router()
        router.post("/inbound") { request, _ -> Response in
            let key = request.headers[HTTPField.Name("Idempotency-Key")!] ?? ""
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            let answer = self.state.withLock { state -> Answer in
                state.posts.append((key, request.headers))
                return state.script.isEmpty ? .status(200) : state.script.removeFirst()
            }
            switch answer {
            case .status(let status):
                if (200..<300).contains(status) { self.commit(key, body) }
                return Response(
                    status: .init(code: status),
                    body: .init(byteBuffer: ByteBuffer(string: "answer \(status)"))
                )
            case .slow(let seconds, let status):
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                if (200..<300).contains(status) { self.commit(key, body) }
                return Response(status: .init(code: status))
            case .commitThenStall(let seconds):
                self.commit(key, body)
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return Response(status: .ok)
            case .retryAfter(let status, let seconds):
                return Response(status: .init(code: status), headers: [.retryAfter: String(seconds)])
            }
        }
        router.get("/publish") { request, _ -> Response in
            let published = self.state.withLock { $0.published }
            guard let published else {
                self.state.withLock { $0.gets.append(204) }
                return Response(status: .noContent)
            }
            if request.headers[.ifNoneMatch] == published.etag {
                self.state.withLock { $0.gets.append(304) }
                return Response(status: .notModified, headers: [.eTag: published.etag])
            }
            self.state.withLock { $0.gets.append(200) }
            return Response(
                status: .ok,
                headers: [.eTag: published.etag, .contentType: "application/edi-x12"],
                body: .init(byteBuffer: ByteBuffer(bytes: published.body))
            )
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "receiver")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        self.task = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        self.port = await iterator.next() ?? 0
    }

    private func commit(_ key: String, _ body: [UInt8]) {
        self.state.withLock { state in
            if state.committed[key] == nil { state.committed[key] = body }
        }
    }

    var url: String { "http://127.0.0.1:\(self.port)/inbound" }
    var publishURL: String { "http://127.0.0.1:\(self.port)/publish" }

    func script(_ answers: [Answer]) { self.state.withLock { $0.script = answers } }
    var committedKeys: Set<String> { self.state.withLock { Set($0.committed.keys) } }
    var postCount: Int { self.state.withLock { $0.posts.count } }
    func posts(key: String) -> Int { self.state.withLock { $0.posts.filter { $0.key == key }.count } }

    func stop() { self.task?.cancel() }
}

/// A port on 127.0.0.1 where nothing listens (bound, then closed): connections to it are refused.
func closedPort() -> Int {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            _ = bind(socket, pointer, length)
            return getsockname(socket, pointer, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
