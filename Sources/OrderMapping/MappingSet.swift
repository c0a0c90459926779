// OrderMapping: the mapping-file language. Admins describe in YAML how each partner's documents map to the
// canonical model and how canonical values render back; this module compiles those files and runs them.
//
// Loading (`MappingSet.load`) is a compiler: each file is parsed with Yams (keeping line and column of every node),
// then every path is checked against the X12/EDIFACT schemas of the versions the map names (segment in scope,
// element and component in range, conditions on the right segment), every field name against the canonical catalog
// (CanonicalCatalog+Records.swift), every code table against the canonical values it may produce, every partner's
// references and overrides against the maps. All mistakes of all files are collected with `file:line:column`; a set
// with any mistake is never used, so the daemon keeps its last good set.
//
// Inbound, a transaction set's segments are first nested into loop occurrences as its schema says
// (SegmentTree.swift; X12 HL and EDIFACT CPS occurrences are then nested by their parent IDs), and the compiled
// record plan (RecordPlan.swift) reads values out of that tree: a path descends into loops and finds a segment by
// tag and conditions; an `each` block makes one canonical record per loop occurrence or segment. XML records are
// element trees from XMLSyntax, addressed by local names. Every value keeps its origin (segment position and element,
// or XML path, line and column). Outbound, a layout of segment templates or XML element templates
// (OutboundTemplates.swift) is rendered from a canonical value; counts, sums and HL numbering are computed, and
// segments whose record values are all empty are left out. The envelope comes from EDISyntax's EnvelopeBuilder
// with the partner's identities and separators (DocumentRenderer.swift).
//
// The module is pure: file contents come in as strings, documents as byte sources, time as a parameter.
import OrderModel
import Yams

/// Every mapping file and partner profile of a `mappings/` folder, compiled and cross-checked.
///
/// Loading is pure: the caller reads the files (the daemon and the CLI do) and passes their paths and texts. Every
/// mistake in every file is collected, with its file, line and column, before anything is used; a set with any
/// diagnostic is never half-loaded.
public struct MappingSet: Sendable {
    public private(set) var inbound: [String: InboundMap] = [:]
    public private(set) var outbound: [String: OutboundMap] = [:]
    public private(set) var partners: [String: PartnerProfile] = [:]
    /// Inbound maps with a partner's overrides applied, by partner then map ID.
    private var partnerInbound: [String: [String: InboundMap]] = [:]

    /// Compiles `files` (paths relative to the mappings folder, like `x12/850-004010.yaml` and
    /// `partners/acme.yaml`, with their text); `displayPrefix` is put before each path in messages (`mappings/`).
    public static func load(
        files: [(path: String, text: String)],
        displayPrefix: String = ""
    ) throws(MappingDiagnostics)
        -> MappingSet
    {
        var set = MappingSet()
        var diagnostics: [MappingDiagnostic] = []
        var roots: [String: YAMLNode] = [:]
        var partnerFiles: [(YAMLNode, String)] = []
        for (path, text) in files.sorted(by: { $0.path < $1.path })
        where path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
            let display = displayPrefix + path
            let root: YAMLNode
            do {
                root = try YAMLNode.parse(text, file: display)
            } catch {
                diagnostics.append(error)
                continue
            }
            let version = Self.hash(text)
            if path.hasPrefix("partners/") {
                partnerFiles.append((root, version))
                continue
            }
            let id = String(path.prefix(upTo: path.lastIndex(of: ".")!))
            do {
                let direction = try Self.direction(root)
                roots[id] = root
                if direction == "inbound" {
                    set.inbound[id] = try InboundCompiler.compile(root, id: id, version: version)
                } else {
                    set.outbound[id] = try OutboundCompiler.compile(root, id: id, version: version)
                }
            } catch let error as MappingDiagnostics {
                diagnostics += error.diagnostics
            } catch let error as MappingDiagnostic {
                diagnostics.append(error)
            } catch {
                diagnostics.append(root.error("\(error)"))
            }
        }
        var identityOwners: [String: String] = [:]
        for (root, version) in partnerFiles {
            let profile: PartnerProfile
            do {
                profile = try PartnerProfile.parse(root, version: version)
            } catch {
                diagnostics.append(error)
                continue
            }
            if let existing = set.partners[profile.id] {
                diagnostics.append(root.error("partner '\(profile.id)' is also defined in \(existing.file)"))
                continue
            }
            // Identities must lead to one partner: the envelope is how a document finds its profile.
            for (key, what) in Self.identityKeys(profile.identities) {
                if let owner = identityOwners[key], owner != profile.id {
                    diagnostics.append(
                        MappingDiagnostic(
                            file: root.file,
                            line: Self.line(of: what, in: root),
                            column: 1,
                            message: "partner identity clash: \(what) is already partner '\(owner)'"
                        )
                    )
                } else {
                    identityOwners[key] = profile.id
                }
            }
            var maps: [String: InboundMap] = [:]
            for reference in profile.inbound {
                guard let base = set.inbound[reference.map], let baseRoot = roots[reference.map] else {
                    let isOutbound = set.outbound[reference.map] != nil
                    diagnostics.append(
                        MappingDiagnostic(
                            file: root.file,
                            line: reference.line,
                            column: reference.column,
                            message: isOutbound
                                ? "map '\(reference.map)' is an outbound map"
                                : "missing referenced map '\(reference.map)'"
                        )
                    )
                    continue
                }
                if reference.overrides.isEmpty {
                    maps[reference.map] = base
                    continue
                }
                do {
                    maps[reference.map] = try InboundCompiler.compile(
                        baseRoot,
                        id: base.id,
                        version: Self.hash(base.version + profile.version),
                        overrides: reference.overrides
                    )
                } catch {
                    diagnostics += error.diagnostics
                }
            }
            for (kind, mapID) in profile.outbound.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                guard let map = set.outbound[mapID] else {
                    diagnostics.append(
                        MappingDiagnostic(
                            file: root.file,
                            line: Self.line(of: mapID, in: root),
                            column: 1,
                            message: "missing referenced map '\(mapID)'"
                        )
                    )
                    continue
                }
                if map.record != kind {
                    diagnostics.append(
                        MappingDiagnostic(
                            file: root.file,
                            line: Self.line(of: mapID, in: root),
                            column: 1,
                            message: "map '\(mapID)' renders a \(map.record.rawValue), not a \(kind.rawValue)"
                        )
                    )
                }
            }
            set.partners[profile.id] = profile
            set.partnerInbound[profile.id] = maps
        }
        if !diagnostics.isEmpty { throw MappingDiagnostics(diagnostics: diagnostics) }
        return set
    }

    /// The inbound maps that apply to a partner (with its overrides), or every inbound map when no partner is known.
    public func inboundMaps(for partnerID: String?) -> [InboundMap] {
        if let partnerID, let maps = self.partnerInbound[partnerID] {
            return maps.values.sorted { $0.id < $1.id }
        }
        return self.inbound.values.sorted { $0.id < $1.id }
    }

    /// The partner whose profile claims an envelope identity.
    public func partner(x12Qualifier qualifier: String, id: String) -> PartnerProfile? {
        let trimmed = id.trimmed()
        return self.partners.values.sorted { $0.id < $1.id }.first {
            guard let identity = $0.identities.x12 else { return false }
            return identity.id == trimmed && (identity.qualifier == qualifier.trimmed() || qualifier.isEmpty)
        }
    }

    public func partner(edifactID id: String, qualifier: String?) -> PartnerProfile? {
        self.partners.values.sorted { $0.id < $1.id }.first {
            guard let identity = $0.identities.edifact, identity.id == id else { return false }
            return identity.qualifier == nil || qualifier == nil || identity.qualifier == qualifier
        }
    }

    public func partner(xmlIdentity id: String) -> PartnerProfile? {
        self.partners.values.sorted { $0.id < $1.id }.first { $0.identities.xml?.id == id }
    }

    private static func direction(_ root: YAMLNode) throws(MappingDiagnostic) -> String {
        for (key, _, value) in try root.pairs("a mapping file") where key == "direction" {
            let direction = try value.scalar("direction")
            guard direction == "inbound" || direction == "outbound" else {
                throw value.error("direction is inbound or outbound")
            }
            return direction
        }
        throw root.error("a mapping file needs 'direction: inbound' or 'direction: outbound'")
    }

    private static func identityKeys(_ identities: PartnerProfile.Identities) -> [(String, String)] {
        var keys: [(String, String)] = []
        if let x12 = identities.x12 { keys.append(("x12/\(x12.qualifier)/\(x12.id)", x12.id)) }
        if let edifact = identities.edifact { keys.append(("edifact/\(edifact.id)", edifact.id)) }
        if let xml = identities.xml { keys.append(("xml/\(xml.id)", xml.id)) }
        return keys
    }

    /// The line where `value` first appears in a file (for cross-file messages that lost their node).
    private static func line(of value: String, in root: YAMLNode) -> Int {
        func search(_ node: Node) -> Int? {
            switch node {
            case .scalar(let scalar): return scalar.string == value ? node.mark?.line : nil
            case .mapping(let mapping):
                for (_, child) in mapping { if let line = search(child) { return line } }
                return nil
            case .sequence(let sequence):
                for child in sequence { if let line = search(child) { return line } }
                return nil
            default: return nil
            }
        }
        return search(root.node) ?? root.line
    }

    /// FNV-1a 64 of the text, as hex: a version tag for a file's content (not a security hash).
    static func hash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
