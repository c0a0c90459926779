import Foundation
import OrderModel

/// A trading partner's profile (`mappings/partners/<id>.yaml`): who they are in each format, what they send and
/// expect, how we acknowledge them, how documents travel, the rule settings, and which mapping files apply.
public struct PartnerProfile: Sendable {
    /// X12 interchange identity (ISA05/06 or ISA07/08) and group identity (GS02/GS03).
    public struct X12Identity: Hashable, Sendable {
        public var qualifier: String
        public var id: String
        public var groupID: String?
    }

    /// EDIFACT interchange identity (UNB S002/S003: ID and code qualifier).
    public struct EDIFACTIdentity: Hashable, Sendable {
        public var qualifier: String?
        public var id: String
    }

    /// XML identity (cXML Credential domain and Identity; UBL endpoint or party ID).
    public struct XMLIdentity: Hashable, Sendable {
        public var domain: String?
        public var id: String
    }

    /// One party's identities in each format.
    public struct Identities: Hashable, Sendable {
        public var x12: X12Identity?
        public var edifact: EDIFACTIdentity?
        public var xml: XMLIdentity?
    }

    /// An inbound map the partner uses, with the partner's overrides of single rules.
    public struct InboundMapReference: Sendable {
        public var map: String
        var overrides: [(path: String, node: YAMLNode)]
        let line: Int
        let column: Int
    }

    /// Which functional acknowledgement the partner gets.
    public enum FunctionalAcknowledgement: String, Hashable, Sendable, CaseIterable {
        case x997 = "997"
        case x999 = "999"
        case contrl = "CONTRL"
        case none
    }

    /// When a TA1 is sent.
    public enum TA1Policy: String, Hashable, Sendable, CaseIterable { case never, onRequest, always }

    /// How outbound X12/EDIFACT is punctuated for this partner.
    public struct Separators: Hashable, Sendable {
        public var element: String?
        public var component: String?
        public var repetition: String?
        public var segment: String?
        public var release: String?
        public var lineEnding: String?
    }

    /// An HTTP endpoint: URL, the file that holds its credential (never the credential itself), headers.
    public struct Endpoint: Hashable, Sendable {
        /// How the secret file's credential is sent: `bearer` (`Authorization: Bearer <secret>`) or `basic` (the
        /// file holds `user:password`).
        public enum Scheme: String, Hashable, Sendable { case bearer, basic }

        public var url: String
        public var secretFile: String?
        public var scheme: Scheme = .bearer
        public var headers: [String: String]
        /// How often a poll endpoint is polled.
        public var intervalSeconds: Int?
        /// A client certificate (PEM) for TLS, and its key when the certificate file does not hold it.
        public var clientCertificate: String?
        public var clientKey: String?
        /// Certificate authorities (PEM) to verify the endpoint's certificate with, instead of the system's.
        public var caFile: String?
        public var timeoutSeconds: Int?

        public init(
            url: String,
            secretFile: String? = nil,
            scheme: Scheme = .bearer,
            headers: [String: String] = [:],
            intervalSeconds: Int? = nil,
            clientCertificate: String? = nil,
            clientKey: String? = nil,
            caFile: String? = nil,
            timeoutSeconds: Int? = nil
        ) {
            self.url = url
            self.secretFile = secretFile
            self.scheme = scheme
            self.headers = headers
            self.intervalSeconds = intervalSeconds
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.caFile = caFile
            self.timeoutSeconds = timeoutSeconds
        }
    }

    public var id: String
    public var name: String
    public var identities: Identities
    /// Our own identities as this partner addresses us.
    public var ourIdentities: Identities
    public var inbound: [InboundMapReference]
    /// Outbound maps by what they render (`acknowledgement`, `shipNotice`, `invoice`).
    public var outbound: [RecordKind: String]
    public var separators: Separators
    public var functionalAcknowledgement: FunctionalAcknowledgement
    public var ta1: TA1Policy
    public var sendsPurchaseOrderAcknowledgement: Bool
    public var duplicateWindowDays: Int
    /// `reject` or `accept` (record and warn).
    public var duplicatePolicy: String
    public var inboxFolder: String
    public var outboxFolder: String
    public var push: Endpoint?
    public var poll: Endpoint?
    /// Rule settings: price list, tolerance, credit account, fulfilment policy... (read by the rules).
    public var rules: [String: String]
    /// The line of each `rules:` key in the profile file (`rules` itself: the line of the section), for diagnostics.
    public var ruleLines: [String: Int] = [:]
    /// The profile file and a hash of its text.
    public var file: String
    public var version: String
}

extension PartnerProfile {
    static let topKeys = [
        "partner", "name", "identities", "us", "inbound", "outbound", "separators", "acknowledgements", "duplicates",
        "transports", "rules",
    ]
    /// Keys that would put a secret in the file; credentials live in files named by `secretFile`.
    static let secretKeys: Set<String> = [
        "secret", "password", "token", "apikey", "apiKey", "sharedSecret", "bearer", "authorization", "Authorization",
    ]

    static func parse(_ root: YAMLNode, version: String) throws(MappingDiagnostic) -> PartnerProfile {
        try Self.rejectSecrets(root)
        let top = try root.keyed("a partner profile", allowed: Self.topKeys)
        let id = try top.required("partner", in: "a partner profile").scalar("partner")
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw top.keys["partner"]!.error("a partner ID uses letters, digits, '-' and '_'")
        }
        let expectedName = URL(fileURLWithPath: root.file).deletingPathExtension().lastPathComponent
        if expectedName != id {
            throw top["partner"]!.error("partner '\(id)' must be in partners/\(id).yaml, not \(expectedName).yaml")
        }
        var profile = PartnerProfile(
            id: id,
            name: try top.string("name") ?? id,
            identities: Identities(),
            ourIdentities: Identities(),
            inbound: [],
            outbound: [:],
            separators: Separators(),
            functionalAcknowledgement: .x997,
            ta1: .onRequest,
            sendsPurchaseOrderAcknowledgement: true,
            duplicateWindowDays: 30,
            duplicatePolicy: "reject",
            inboxFolder: id,
            outboxFolder: id,
            push: nil,
            poll: nil,
            rules: [:],
            file: root.file,
            version: version
        )
        profile.identities = try Self.identities(try top.required("identities", in: "a partner profile"))
        if let us = top["us"] { profile.ourIdentities = try Self.identities(us) }
        for item in try top["inbound"]?.list("inbound") ?? [] {
            if item.isScalar {
                profile.inbound.append(
                    InboundMapReference(
                        map: try item.scalar("a map"),
                        overrides: [],
                        line: item.line,
                        column: item.column
                    )
                )
                continue
            }
            let keyed = try item.keyed("an inbound map", allowed: ["map", "overrides"])
            let mapNode = try keyed.required("map", in: "an inbound map")
            var overrides: [(String, YAMLNode)] = []
            for (path, _, rule) in try keyed["overrides"]?.pairs("overrides") ?? [] { overrides.append((path, rule)) }
            profile.inbound.append(
                InboundMapReference(
                    map: try mapNode.scalar("map"),
                    overrides: overrides,
                    line: mapNode.line,
                    column: mapNode.column
                )
            )
        }
        for (kind, keyNode, mapNode) in try top["outbound"]?.pairs("outbound") ?? [] {
            guard let record = RecordKind(rawValue: kind), record != .order else {
                throw keyNode.error("outbound maps are given for: acknowledgement, shipNotice, invoice")
            }
            profile.outbound[record] = try mapNode.scalar("a map")
        }
        if let node = top["separators"] {
            let keyed = try node.keyed(
                "separators",
                allowed: ["element", "component", "repetition", "segment", "release", "lineEnding"]
            )
            for key in ["element", "component", "repetition", "segment", "release"] {
                if let value = try keyed.string(key), value.utf8.count != 1 {
                    throw keyed[key]!.error("a separator is one character")
                }
            }
            profile.separators = Separators(
                element: try keyed.string("element"),
                component: try keyed.string("component"),
                repetition: try keyed.string("repetition"),
                segment: try keyed.string("segment"),
                release: try keyed.string("release"),
                lineEnding: try keyed.string("lineEnding")
            )
        }
        if let node = top["acknowledgements"] {
            let keyed = try node.keyed("acknowledgements", allowed: ["functional", "ta1", "purchaseOrder"])
            if let value = keyed["functional"] {
                guard let parsed = FunctionalAcknowledgement(rawValue: try value.scalar("functional")) else {
                    throw value.error("functional is one of: 997, 999, CONTRL, none")
                }
                profile.functionalAcknowledgement = parsed
            }
            if let value = keyed["ta1"] {
                guard let parsed = TA1Policy(rawValue: try value.scalar("ta1")) else {
                    throw value.error("ta1 is one of: never, onRequest, always")
                }
                profile.ta1 = parsed
            }
            profile.sendsPurchaseOrderAcknowledgement = try keyed["purchaseOrder"]?.bool("purchaseOrder") ?? true
        }
        if let node = top["duplicates"] {
            let keyed = try node.keyed("duplicates", allowed: ["windowDays", "policy"])
            profile.duplicateWindowDays = try keyed["windowDays"]?.integer("windowDays") ?? 30
            if let policy = keyed["policy"] {
                profile.duplicatePolicy = try policy.scalar("policy")
                guard ["reject", "accept"].contains(profile.duplicatePolicy) else {
                    throw policy.error("duplicate policy is reject or accept")
                }
            }
        }
        if let node = top["transports"] {
            let keyed = try node.keyed("transports", allowed: ["inbox", "outbox", "push", "poll"])
            profile.inboxFolder = try keyed.string("inbox") ?? profile.inboxFolder
            profile.outboxFolder = try keyed.string("outbox") ?? profile.outboxFolder
            profile.push = try keyed["push"].map(Self.endpoint)
            profile.poll = try keyed["poll"].map(Self.endpoint)
        }
        if let rules = top["rules"] {
            profile.ruleLines["rules"] = rules.line
            for (key, keyNode, value) in try rules.pairs("rules") {
                profile.rules[key] = try value.scalar(key)
                profile.ruleLines[key] = keyNode.line
            }
        }
        return profile
    }

    private static func identities(_ node: YAMLNode) throws(MappingDiagnostic) -> Identities {
        let keyed = try node.keyed("identities", allowed: ["x12", "edifact", "xml"])
        var result = Identities()
        if let x12 = keyed["x12"] {
            let fields = try x12.keyed("an X12 identity", allowed: ["qualifier", "id", "group"])
            let id = try fields.required("id", in: "an X12 identity").scalar("id")
            guard id.count <= 15 else { throw fields["id"]!.error("an ISA ID has at most 15 characters") }
            result.x12 = X12Identity(
                qualifier: try fields.string("qualifier") ?? "ZZ",
                id: id,
                groupID: try fields.string("group")
            )
        }
        if let edifact = keyed["edifact"] {
            let fields = try edifact.keyed("an EDIFACT identity", allowed: ["qualifier", "id"])
            result.edifact = EDIFACTIdentity(
                qualifier: try fields.string("qualifier"),
                id: try fields.required("id", in: "an EDIFACT identity").scalar("id")
            )
        }
        if let xml = keyed["xml"] {
            let fields = try xml.keyed("an XML identity", allowed: ["domain", "id"])
            result.xml = XMLIdentity(
                domain: try fields.string("domain"),
                id: try fields.required("id", in: "an XML identity").scalar("id")
            )
        }
        return result
    }

    private static func endpoint(_ node: YAMLNode) throws(MappingDiagnostic) -> Endpoint {
        let keyed = try node.keyed(
            "an endpoint",
            allowed: [
                "url", "secretFile", "scheme", "headers", "intervalSeconds", "clientCertificate", "clientKey",
                "caFile", "timeoutSeconds",
            ]
        )
        let urlNode = try keyed.required("url", in: "an endpoint")
        let url = try urlNode.scalar("url")
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw urlNode.error("an endpoint URL starts with https:// (or http:// for tests)")
        }
        if url.contains("@") { throw urlNode.error("credentials never go in a URL; use secretFile") }
        if url.hasPrefix("http://"), keyed["secretFile"] != nil,
            !(url.hasPrefix("http://127.0.0.1") || url.hasPrefix("http://localhost") || url.hasPrefix("http://[::1]"))
        {
            throw urlNode.error("a credential (secretFile) is sent only over https:// (or to this machine, for tests)")
        }
        var headers: [String: String] = [:]
        for (name, nameNode, value) in try keyed["headers"]?.pairs("headers") ?? [] {
            if name.lowercased() == "authorization" || name.lowercased() == "cookie" {
                throw nameNode.error("the \(name) header would put a secret in the profile; use secretFile")
            }
            headers[name] = try value.scalar(name)
        }
        var scheme = Endpoint.Scheme.bearer
        if let node = keyed["scheme"] {
            let text = try node.scalar("scheme")
            guard let value = Endpoint.Scheme(rawValue: text) else {
                throw node.error("scheme is bearer or basic, not '\(text)'")
            }
            scheme = value
        }
        let interval = try keyed["intervalSeconds"]?.integer("intervalSeconds")
        if let interval, interval < 1 { throw keyed["intervalSeconds"]!.error("intervalSeconds is at least 1") }
        let timeout = try keyed["timeoutSeconds"]?.integer("timeoutSeconds")
        if let timeout, !(1...3600).contains(timeout) {
            throw keyed["timeoutSeconds"]!.error("timeoutSeconds is between 1 and 3600")
        }
        return Endpoint(
            url: url,
            secretFile: try keyed.string("secretFile"),
            scheme: scheme,
            headers: headers,
            intervalSeconds: interval,
            clientCertificate: try keyed.string("clientCertificate"),
            clientKey: try keyed.string("clientKey"),
            caFile: try keyed.string("caFile"),
            timeoutSeconds: timeout
        )
    }

    /// Any key that would hold a secret inline is an error, wherever it is in the file.
    private static func rejectSecrets(_ node: YAMLNode) throws(MappingDiagnostic) {
        if node.isMapping {
            for (key, keyNode, value) in try node.pairs("a mapping") {
                if Self.secretKeys.contains(key) {
                    throw keyNode.error(
                        "'\(key)' would put a secret in the profile; name a file with secretFile instead"
                    )
                }
                try self.rejectSecrets(value)
            }
        } else if node.isSequence {
            for item in try node.list("a list") { try self.rejectSecrets(item) }
        }
    }
}
