import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Logging
import OrderMapping
import OrderModel
import OrderStore

/// The request context: Hummingbird's storage, and how large a body the route takes.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// Inbound documents can be large; every route reads its body itself, with its own limit.
    public var maxUploadSize: Int { 64 << 20 }
}

/// One route of the API: method, path (Hummingbird syntax, `{id}` for a parameter), who may call it, and whether it
/// reads a partner's objects (a partner token then sees only its own). The table is the single source for the
/// router, the OpenAPI check and the generated isolation tests.
public struct APIRoute: Sendable, Hashable {
    public enum Access: String, Sendable, Hashable {
        /// No token (health and metrics).
        case open
        /// admin or erp tokens, and partner tokens for their own objects.
        case anyRole
        /// admin or erp.
        case erp
        case admin
        /// partner tokens only (a document a partner sends).
        case partner
    }

    public var method: String
    public var path: String
    public var access: Access
}

/// The HTTP API for ERPs, partners and admins (DESIGN.md "HTTP API"), served by `ordergate serve`.
///
/// Every request but `/healthz` and `/metrics` needs a bearer token; the token's SHA-256 is looked up (the token
/// itself is never stored). A missing or unknown token is 401, a role that may not call the route 403, and another
/// partner's object 404 — the partner condition is part of each query, never a filter afterwards. Errors are RFC 9457
/// problem details. A POST with an `Idempotency-Key` header stores its response, and the same key from the same
/// token gets that response again without the POST running twice.
public struct APIServer: Sendable {
    public static let routes: [APIRoute] = [
        APIRoute(method: "GET", path: "/healthz", access: .open),
        APIRoute(method: "GET", path: "/metrics", access: .open),
        APIRoute(method: "GET", path: "/v1/orders", access: .anyRole),
        APIRoute(method: "GET", path: "/v1/orders/{id}", access: .anyRole),
        APIRoute(method: "POST", path: "/v1/inbound", access: .partner),
        APIRoute(method: "POST", path: "/v1/holds/{id}/release", access: .admin),
        APIRoute(method: "POST", path: "/v1/orders/{id}/shipments", access: .erp),
        APIRoute(method: "POST", path: "/v1/orders/{id}/invoices", access: .erp),
        APIRoute(method: "GET", path: "/v1/ship-notices", access: .anyRole),
        APIRoute(method: "GET", path: "/v1/ship-notices/{id}", access: .anyRole),
        APIRoute(method: "PUT", path: "/v1/stock", access: .erp),
        APIRoute(method: "PUT", path: "/v1/prices", access: .erp),
        APIRoute(method: "PUT", path: "/v1/credit-accounts", access: .erp),
    ]

    public let daemon: Daemon
    let logger: Logger
    let tokens = TokenCache()

    public init(daemon: Daemon, logger: Logger) {
        self.daemon = daemon
        self.logger = logger
    }

    var store: OrderStore { self.daemon.store }

    /// The Hummingbird application on the configured address.
    public func application(
        host: String,
        port: Int,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: self.router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "ordergate"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: self.logger
        )
    }

    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        for route in Self.routes {
            let handler: @Sendable (Request, APIContext) async throws -> Response = { request, context in
                await self.respond(to: request, context: context, route: route)
            }
            switch route.method {
            case "GET": router.get(RouterPath(route.path), use: handler)
            case "POST": router.post(RouterPath(route.path), use: handler)
            case "PUT": router.put(RouterPath(route.path), use: handler)
            default: preconditionFailure("method \(route.method)")
            }
        }
        return router
    }

    // MARK: Dispatch

    /// Authenticates, authorises, replays or records idempotent POSTs, and turns every failure into a problem.
    func respond(to request: Request, context: APIContext, route: APIRoute) async -> Response {
        do {
            var token: APIToken?
            if route.access != .open {
                token = try await self.authenticate(request)
                try Self.authorise(token!, route: route)
            }
            let key = route.method == "POST" ? request.headers[HTTPField.Name("Idempotency-Key")!] : nil
            if let token, let key {
                let tokenID = token.id
                if let stored = try await self.store.read({ try $0.storedResponse(tokenID: tokenID, key: key) }) {
                    guard stored.method == route.method && stored.path == request.uri.path else {
                        throw APIProblem(
                            .unprocessableContent,
                            "Idempotency key reused",
                            "the key \(key) was used for \(stored.method) \(stored.path)"
                        )
                    }
                    return Self.response(status: stored.status, contentType: stored.contentType, body: stored.body)
                }
            }
            let (status, body) = try await self.handle(request, context: context, route: route, token: token)
            if let token, let key {
                try await self.store.write { tx in
                    try tx.storeResponse(
                        tokenID: token.id,
                        key: key,
                        StoredResponse(
                            method: route.method,
                            path: request.uri.path,
                            status: status,
                            contentType: body.contentType,
                            body: body.bytes
                        ),
                        at: Date()
                    )
                }
            }
            return Self.response(status: status, contentType: body.contentType, body: body.bytes)
        } catch let problem as APIProblem {
            return problem.response(instance: request.uri.path)
        } catch {
            self.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return APIProblem(.internalServerError, "Internal error", "the request could not be completed")
                .response(instance: request.uri.path)
        }
    }

    func authenticate(_ request: Request) async throws -> APIToken {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIProblem(.unauthorized, "Token required", "send Authorization: Bearer <token>")
        }
        let secret = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let hash = APITokens.hash(secret)
        if let cached = self.tokens.lookup(hash) { return cached }
        guard let token = try await self.store.read({ try $0.token(hash: hash) }) else {
            throw APIProblem(.unauthorized, "Unknown token", "the token is not known or was revoked")
        }
        self.tokens.remember(hash, token)
        return token
    }

    static func authorise(_ token: APIToken, route: APIRoute) throws {
        let allowed: Bool =
            switch route.access {
            case .open, .anyRole: true
            case .erp: token.role == .erp || token.role == .admin
            case .admin: token.role == .admin
            case .partner: token.role == .partner
            }
        if !allowed {
            throw APIProblem(
                .forbidden,
                "Not allowed",
                "a \(token.role.rawValue) token may not call \(route.method) \(route.path)"
            )
        }
    }

    /// A response body and its type.
    struct Body {
        var contentType: String
        var bytes: [UInt8]

        static func json<Value: Encodable>(_ value: Value) throws -> Body {
            Body(contentType: "application/json", bytes: try CanonicalJSON.encodeBytes(value))
        }
    }

    static func response(status: Int, contentType: String, body: [UInt8]) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }

    func handle(
        _ request: Request,
        context: APIContext,
        route: APIRoute,
        token: APIToken?
    ) async throws -> (Int, Body) {
        switch (route.method, route.path) {
        case ("GET", "/healthz"): return (200, try .json(try await self.health()))
        case ("GET", "/metrics"):
            return (200, Body(contentType: "text/plain; version=0.0.4", bytes: Array(try await self.metrics().utf8)))
        case ("GET", "/v1/orders"): return (200, try .json(try await self.orders(request, token: token!)))
        case ("GET", "/v1/orders/{id}"):
            let bytes = try await self.order(try Self.identifier(context), token: token!)
            return (200, Body(contentType: "application/json", bytes: bytes))
        case ("POST", "/v1/inbound"): return try await self.inbound(request, token: token!)
        case ("POST", "/v1/holds/{id}/release"):
            return try await self.releaseHold(request, id: try Self.identifier(context), token: token!)
        case ("POST", "/v1/orders/{id}/shipments"):
            return try await self.ship(request, id: try Self.identifier(context), token: token!)
        case ("POST", "/v1/orders/{id}/invoices"):
            return try await self.invoice(request, id: try Self.identifier(context), token: token!)
        case ("GET", "/v1/ship-notices"): return try await self.shipNotices(request, token: token!)
        case ("GET", "/v1/ship-notices/{id}"):
            return try await self.shipNotice(request, id: try Self.identifier(context), token: token!)
        case ("PUT", "/v1/stock"): return try await self.put(.stock, request, route: route)
        case ("PUT", "/v1/prices"): return try await self.put(.prices, request, route: route)
        case ("PUT", "/v1/credit-accounts"): return try await self.put(.credit, request, route: route)
        default: throw APIProblem(.notFound, "Not found", "no route \(route.method) \(route.path)")
        }
    }

    static func identifier(_ context: APIContext) throws -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
            throw APIProblem(.notFound, "Not found", "no such object")
        }
        return id
    }

    /// The partner a token is limited to (nil: it sees every partner).
    static func scope(_ token: APIToken) -> String? {
        token.role == .partner ? (token.partnerID ?? "") : nil
    }
}

/// An RFC 9457 problem: the status, a short title, and what happened.
struct APIProblem: Error {
    var status: HTTPResponse.Status
    var title: String
    var detail: String
    /// Each problem of a rejected body (`file:line: column: what`), as the extension member `errors`.
    var errors: [String]?

    init(_ status: HTTPResponse.Status, _ title: String, _ detail: String, errors: [String]? = nil) {
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
    }

    func response(instance: String) -> Response {
        struct Problem: Encodable {
            var type = "about:blank"
            var title: String
            var status: Int
            var detail: String
            var instance: String
            var errors: [String]?
        }
        let problem = Problem(
            title: self.title,
            status: Int(self.status.code),
            detail: self.detail,
            instance: instance,
            errors: self.errors
        )
        let body = (try? CanonicalJSON.encodeBytes(problem)) ?? []
        var response = APIServer.response(
            status: Int(self.status.code),
            contentType: "application/problem+json",
            body: body
        )
        if self.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"ordergate\"" }
        return response
    }
}

/// Tokens recently looked up, by hash, for a few seconds: a request does not read the database to authenticate. A
/// revoked token is refused within `lifetime`.
final class TokenCache: @unchecked Sendable {
    static let lifetime: TimeInterval = 5
    private let lock = NSLock()
    private var entries: [String: (token: APIToken, until: Date)] = [:]

    func lookup(_ hash: String) -> APIToken? {
        self.lock.lock()
        defer { self.lock.unlock() }
        guard let entry = self.entries[hash], entry.until > Date() else { return nil }
        return entry.token
    }

    func remember(_ hash: String, _ token: APIToken) {
        self.lock.lock()
        defer { self.lock.unlock() }
        if self.entries.count > 10_000 { self.entries = [:] }
        self.entries[hash] = (token, Date().addingTimeInterval(Self.lifetime))
    }
}
