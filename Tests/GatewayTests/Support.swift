import Foundation
import Gateway
import Logging
import OrderStore
import Spool
import Testing

/// A daemon on a temporary folder: its own configuration, inbox, outbox and data, with the repository's mappings
/// (plus any extra partner profiles a test adds).
final class TestGateway {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let root: String
    let daemon: Daemon
    let clock: @Sendable () -> Date

    /// - Parameters:
    ///   - extraPartners: partner profile files (name → YAML) added to a copy of `mappings/`.
    ///   - settings: extra YAML appended to the configuration.
    ///   - root: the folder to run in (default: a new temporary folder).
    ///   - rules: whether the business rules run (off by default: most tests are about the inbound pipeline, and the
    ///     repository's partners would have every order rejected for want of business data).
    ///   - clock: the time stamped on rows and documents.
    ///   - logs: where the daemon's log lines go (none by default).
    init(
        extraPartners: [String: String] = [:],
        settings: String = "",
        root: String? = nil,
        rules: Bool = false,
        clock: @escaping @Sendable () -> Date = { Date() },
        logs: (any LogHandler)? = nil
    ) throws {
        let root =
            root
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("ordergate-gateway-\(UUID().uuidString)")
            .path
        self.root = root
        self.clock = clock
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Self.repository.appendingPathComponent("mappings").path,
            toPath: root + "/mappings"
        )
        for (name, text) in extraPartners {
            try text.write(toFile: root + "/mappings/partners/\(name).yaml", atomically: true, encoding: .utf8)
        }
        let yaml = """
            inbox:
              settleMilliseconds: 0
              incompleteAfterSeconds: 1
            log:
              level: critical
            rules:
              enabled: \(rules)
            \(settings)
            """
        try yaml.write(toFile: root + "/ordergate.yaml", atomically: true, encoding: .utf8)
        let configuration = try Configuration.load(path: root + "/ordergate.yaml")
        var logger = logs.map { handler in Logger(label: "test") { _ in handler } } ?? Logger(label: "test")
        if logs == nil { logger.logLevel = .critical }
        self.daemon = try Daemon(configuration: configuration, logger: logger, clock: clock)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.root)
    }

    var store: OrderStore { self.daemon.store }

    /// Drops `bytes` into a partner's inbox folder as `name` (written under a temporary name, then renamed, as a
    /// careful partner does).
    func drop(_ bytes: [UInt8], as name: String, into partner: String) throws {
        let folder = self.root + "/inbox/" + partner
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = folder + "/." + name + ".part"
        try Data(bytes).write(to: URL(fileURLWithPath: temporary))
        try FileManager.default.moveItem(atPath: temporary, toPath: folder + "/" + name)
    }

    func drop(example: String, as name: String? = nil, into partner: String) throws {
        let url = Self.repository.appendingPathComponent(example)
        try self.drop(Array(try Data(contentsOf: url)), as: name ?? url.lastPathComponent, into: partner)
    }

    /// Drops a repository example with one piece of its text replaced (the fault a test is about).
    func drop(
        example: String,
        replacing original: String,
        with replacement: String,
        as name: String,
        into partner: String
    )
        throws
    {
        let text = try String(contentsOf: Self.repository.appendingPathComponent(example), encoding: .utf8)
        #expect(text.contains(original), "\(example) has no \(original)")
        try self.drop(Array(text.replacingOccurrences(of: original, with: replacement).utf8), as: name, into: partner)
    }

    /// The files in a partner's outbox, by name, with their text.
    func outbox(_ partner: String) -> [(name: String, text: String)] {
        let folder = self.root + "/outbox/" + partner
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.sorted().map { name in
            (name, (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? "")
        }
    }

    /// Every regular file below a data subfolder (archive, quarantine, work), relative to it.
    func files(under subfolder: String) -> [String] {
        let folder = self.root + "/data/" + subfolder
        let enumerator = FileManager.default.enumerator(atPath: folder)
        var result: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: folder + "/" + relative, isDirectory: &isDirectory)
            if !isDirectory.boolValue { result.append(relative) }
        }
        return result.sorted()
    }

    func bytes(atDataPath path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: self.root + "/data/" + path)))
    }

    /// Loads the sample business data of `examples/data/` (items, nodes, prices, contracts, credit, stock,
    /// locations).
    func importSampleData() throws {
        for kind in [ImportKind.items, .nodes, .prices, .contracts, .credit, .stock, .locations] {
            let url = Self.repository.appendingPathComponent("examples/data/\(kind.rawValue).csv")
            _ = try self.importData(kind, Array(try Data(contentsOf: url)), file: url.lastPathComponent)
        }
    }

    func importData(_ kind: ImportKind, _ bytes: [UInt8], file: String) throws -> ImportSummary {
        try BusinessImport(store: self.store, desk: self.daemon.pipeline.desk, mappings: self.daemon.mappingSet)
            .load(kind, bytes: bytes, file: file, now: self.now)
    }

    /// The gateway's clock (the one the tests pass, or the real one).
    var now: Date { self.clock() }

    func fileList() throws -> [FileSummary] {
        try self.store.read { try $0.files(limit: 1000) }.reversed()
    }
}

/// The segments of an EDI text (terminator `~` or `'`), without line breaks.
func segments(_ text: String, terminator: Character = "~") -> [String] {
    text.split(separator: terminator).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
}

/// An acme X12 850 with the given control numbers and PO number (same layout as examples/acme).
func acmeOrder(interchange: Int, group: Int = 1, po: String, set: String = "0001") -> [UInt8] {
    let control = String(format: "%09d", interchange)
    let text = """
        ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*WIDGETWORKS    *261120*0930*U*00401*\(control)*0*P*>~
        GS*PO*ACMERETAIL*WIDGETWORKS*20261120*0930*\(group)*X*004010~
        ST*850*\(set)~
        BEG*00*SA*\(po)**20261120~
        N1*ST*ACME STORE 0042*92*0042~
        PO1*1*12*EA*4.25*PE*VP*WW-1001~
        PO1*2*6*EA*10.50*PE*VP*WW-2002~
        CTT*2*18~
        SE*7*\(set)~
        GE*1*\(group)~
        IEA*1*\(control)~

        """
    return Array(text.utf8)
}
