import Delivery
import Foundation
import Logging
import OrderMapping
import Spool
import XMLSyntax
import Yams

/// A mistake in the configuration file: where and why. The daemon refuses to start on one.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "\(self.file):\(self.line):\(self.column): \(self.message)" }
}

/// The daemon's settings, read from one YAML file (`ordergate.yaml`). Every setting has a default that works from a
/// fresh clone; unknown keys and bad values are refused with the file, line and column.
public struct Configuration: Sendable, Hashable {
    /// The folder relative paths are resolved against: the configuration file's folder (or the working directory
    /// when there is no file).
    public var baseFolder: String
    /// The file it was read from, if any.
    public var file: String?

    /// The partner inbox folders' parent (`inbox/<partner>/`); partner profiles may name other folders.
    public var inbox = "inbox"
    public var outbox = "outbox"
    public var mappings = "mappings"
    /// The database and the daemon's own `work/`, `archive/` and `quarantine/` folders.
    public var data = "data"

    /// How often the inbox folders are rescanned even without inotify events.
    public var rescanInterval: Duration = .seconds(5)
    /// How long a file's size and mtime must stay unchanged before it is claimed.
    public var settleTime: Duration = .milliseconds(200)
    /// A file still incomplete (no trailer, root not closed) after this long is quarantined with an alert.
    public var incompleteAfter: Duration = .seconds(600)
    public var useInotify = true
    /// Files larger than this are quarantined unread.
    public var maximumFileBytes = 512 << 20

    public var xmlLimits = XMLLimits()
    public var logLevel: Logger.Level = .info
    /// When the same interchange counts as a duplicate when its partner's profile does not say.
    public var defaultDuplicateWindowDays = 30
    /// Whether stored orders go through the business rules (and get purchase-order acknowledgements). Off: orders
    /// are stored and validated only, for a gateway that leaves the decisions to the ERP.
    public var rulesEnabled = true
    /// The HTTP API (`api:`): on by default, on 127.0.0.1:8080; port 0 takes any free port (tests).
    public var apiEnabled = true
    public var apiHost = "127.0.0.1"
    public var apiPort = 8080
    /// Delivery to partners' push endpoints (`delivery:`): retry schedule, lifetime, concurrency; off: documents
    /// only go to the outbox folders.
    public var deliveryEnabled = true
    public var delivery = DeliveryPolicy()
    /// Polling of partners' poll endpoints (`polling: { enabled }`).
    public var pollingEnabled = true

    public init(baseFolder: String = FileManager.default.currentDirectoryPath) {
        self.baseFolder = baseFolder
    }

    /// `path` resolved against the base folder.
    public func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if path == "." { return self.baseFolder }
        return FileSystem.join(self.baseFolder, path)
    }

    /// A partner's inbox folder: its profile's `transports.inbox` under the inbox folder (or absolute).
    public func inboxFolder(of partner: PartnerProfile) -> String {
        self.resolve(FileSystem.join(self.inbox, partner.inboxFolder))
    }

    /// A partner's outbox folder, relative to the base folder unless absolute (as outbound rows record it).
    public func outboxFolder(of partner: PartnerProfile) -> String {
        FileSystem.join(self.outbox, partner.outboxFolder)
    }

    public var databasePath: String { FileSystem.join(self.resolve(self.data), "ordergate.sqlite") }

    /// Reads `path`; a missing file at the default path gives the defaults.
    public static func load(path: String?, defaultPath: String = "ordergate.yaml") throws -> Configuration {
        let filePath = path ?? defaultPath
        guard FileManager.default.fileExists(atPath: filePath) else {
            if path != nil {
                throw ConfigurationError(file: filePath, line: 1, column: 1, message: "no such file")
            }
            return Configuration()
        }
        guard let data = FileManager.default.contents(atPath: filePath) else {
            throw ConfigurationError(file: filePath, line: 1, column: 1, message: "cannot read the file")
        }
        let absolute = URL(fileURLWithPath: filePath).standardizedFileURL
        var configuration = Configuration(baseFolder: absolute.deletingLastPathComponent().path)
        configuration.file = filePath
        try configuration.apply(yaml: String(decoding: data, as: UTF8.self), file: filePath)
        return configuration
    }

    /// Applies the settings of a YAML text over the current ones.
    public mutating func apply(yaml text: String, file: String) throws {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { return }
            root = node
        } catch let error as YamlError {
            throw ConfigurationError(file: file, line: 1, column: 1, message: "not valid YAML: \(error)")
        }
        let reader = SettingsReader(file: file)
        let top = try reader.mapping(
            root,
            allowed: [
                "paths", "inbox", "xml", "log", "duplicates", "rules", "api", "delivery", "polling",
            ]
        )
        if let paths = top["paths"] {
            let keys = try reader.mapping(paths, allowed: ["inbox", "outbox", "mappings", "data"])
            self.inbox = try keys["inbox"].map(reader.path) ?? self.inbox
            self.outbox = try keys["outbox"].map(reader.path) ?? self.outbox
            self.mappings = try keys["mappings"].map(reader.path) ?? self.mappings
            self.data = try keys["data"].map(reader.path) ?? self.data
        }
        if let inbox = top["inbox"] {
            let keys = try reader.mapping(
                inbox,
                allowed: [
                    "rescanSeconds", "settleMilliseconds", "incompleteAfterSeconds", "inotify", "maxFileMegabytes",
                ]
            )
            if let node = keys["rescanSeconds"] { self.rescanInterval = .seconds(try reader.integer(node, 1...3600)) }
            if let node = keys["settleMilliseconds"] {
                self.settleTime = .milliseconds(try reader.integer(node, 0...600_000))
            }
            if let node = keys["incompleteAfterSeconds"] {
                self.incompleteAfter = .seconds(try reader.integer(node, 1...604_800))
            }
            if let node = keys["inotify"] { self.useInotify = try reader.boolean(node) }
            if let node = keys["maxFileMegabytes"] {
                self.maximumFileBytes = try reader.integer(node, 1...65_536) << 20
            }
        }
        if let xml = top["xml"] {
            let keys = try reader.mapping(
                xml,
                allowed: ["maxMegabytes", "maxDepth", "maxNodes", "maxTextKilobytes", "maxAttributes"]
            )
            if let node = keys["maxMegabytes"] {
                self.xmlLimits.maximumBytes = try reader.integer(node, 1...16_384) << 20
            }
            if let node = keys["maxDepth"] { self.xmlLimits.maximumDepth = try reader.integer(node, 8...4096) }
            if let node = keys["maxNodes"] {
                self.xmlLimits.maximumNodes = try reader.integer(node, 100...1_000_000_000)
            }
            if let node = keys["maxTextKilobytes"] {
                self.xmlLimits.maximumTextLength = try reader.integer(node, 1...1_048_576) << 10
            }
            if let node = keys["maxAttributes"] {
                self.xmlLimits.maximumAttributes = try reader.integer(node, 8...65_536)
            }
        }
        if let log = top["log"] {
            let keys = try reader.mapping(log, allowed: ["level"])
            if let node = keys["level"] {
                let text = try reader.string(node)
                guard let level = Logger.Level(rawValue: text) else {
                    throw reader.error(
                        node,
                        "log level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                self.logLevel = level
            }
        }
        if let api = top["api"] {
            let keys = try reader.mapping(api, allowed: ["enabled", "host", "port"])
            if let node = keys["enabled"] { self.apiEnabled = try reader.boolean(node) }
            if let node = keys["host"] { self.apiHost = try reader.string(node) }
            if let node = keys["port"] { self.apiPort = try reader.integer(node, 0...65_535) }
        }
        if let delivery = top["delivery"] {
            let keys = try reader.mapping(
                delivery,
                allowed: [
                    "enabled", "minimumRetrySeconds", "maximumRetrySeconds", "maximumLifetimeHours", "concurrency",
                    "perPartnerConcurrency",
                ]
            )
            if let node = keys["enabled"] { self.deliveryEnabled = try reader.boolean(node) }
            if let node = keys["minimumRetrySeconds"] {
                self.delivery.minimumDelay = Double(try reader.integer(node, 1...86_400))
            }
            if let node = keys["maximumRetrySeconds"] {
                self.delivery.maximumDelay = Double(try reader.integer(node, 1...86_400))
            }
            if let node = keys["maximumLifetimeHours"] {
                self.delivery.maximumLifetime = Double(try reader.integer(node, 1...8_760)) * 3600
            }
            if let node = keys["concurrency"] { self.delivery.concurrency = try reader.integer(node, 1...1024) }
            if let node = keys["perPartnerConcurrency"] {
                self.delivery.perPartnerConcurrency = try reader.integer(node, 1...256)
            }
            if self.delivery.maximumDelay < self.delivery.minimumDelay,
                let node = keys["maximumRetrySeconds"] ?? keys["minimumRetrySeconds"]
            {
                throw reader.error(
                    node,
                    "maximumRetrySeconds (\(Int(self.delivery.maximumDelay))) is less than minimumRetrySeconds "
                        + "(\(Int(self.delivery.minimumDelay)))"
                )
            }
        }
        if let polling = top["polling"] {
            let keys = try reader.mapping(polling, allowed: ["enabled"])
            if let node = keys["enabled"] { self.pollingEnabled = try reader.boolean(node) }
        }
        if let rules = top["rules"] {
            let keys = try reader.mapping(rules, allowed: ["enabled"])
            if let node = keys["enabled"] { self.rulesEnabled = try reader.boolean(node) }
        }
        if let duplicates = top["duplicates"] {
            let keys = try reader.mapping(duplicates, allowed: ["defaultWindowDays"])
            if let node = keys["defaultWindowDays"] {
                self.defaultDuplicateWindowDays = try reader.integer(node, 0...3650)
            }
        }
    }
}

/// Reads typed values out of YAML nodes, with positioned errors.
private struct SettingsReader {
    let file: String

    func error(_ node: Node, _ message: String) -> ConfigurationError {
        ConfigurationError(
            file: self.file,
            line: node.mark?.line ?? 1,
            column: node.mark?.column ?? 1,
            message: message
        )
    }

    func mapping(_ node: Node, allowed: [String]) throws -> [String: Node] {
        guard let mapping = node.mapping else { throw self.error(node, "expected a mapping of settings") }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string, allowed.contains(name) else {
                throw self.error(
                    key,
                    "unknown setting '\(key.string ?? "?")'; expected one of \(allowed.joined(separator: ", "))"
                )
            }
            guard result[name] == nil else { throw self.error(key, "'\(name)' is given twice") }
            result[name] = value
        }
        return result
    }

    func string(_ node: Node) throws -> String {
        guard let scalar = node.scalar else { throw self.error(node, "expected a single value") }
        return scalar.string
    }

    func path(_ node: Node) throws -> String {
        let text = try self.string(node)
        guard !text.isEmpty else { throw self.error(node, "a path must not be empty") }
        return text
    }

    func integer(_ node: Node, _ range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(try self.string(node)) else { throw self.error(node, "expected a whole number") }
        guard range.contains(value) else {
            throw self.error(node, "\(value) is out of range (\(range.lowerBound) to \(range.upperBound))")
        }
        return value
    }

    func boolean(_ node: Node) throws -> Bool {
        switch try self.string(node) {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw self.error(node, "expected true or false")
        }
    }
}
