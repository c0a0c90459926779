// Streams one file through the Translator (the shipped mappings) and reports throughput; run under /usr/bin/time -v
// for peak RSS. Orders are counted and dropped, so memory stays bounded by one order. With --json, each order is also
// encoded as the daemon stores it (compact canonical JSON), and that time is reported apart. With --pipelined, the file is
// read on a thread of its own and mapped on one thread per core (`Translator.translateEDI/translateXML(pipelined:)`).
//
// With --render COUNT, the file is a canonical acknowledgement (JSON, `examples/canonical/`): its lines are repeated to
// 20 and it is rendered COUNT times with the partner's acknowledgement map (855, ORDRSP, ...) and validated, as the
// daemon does for every decided order; the time per document of each is reported.
//
//   translate-file [--json] [--pipelined] MAPPINGS_DIR FILE [PARTNER]
//   translate-file --render COUNT MAPPINGS_DIR ACKNOWLEDGEMENT.json PARTNER
import EDISyntax
import Foundation
import OrderMapping
import OrderModel
import XMLSyntax

@main
struct TranslateFile {
    static func main() throws {
        var arguments = CommandLine.arguments
        let encodesJSON = arguments.contains("--json")
        let pipelined = arguments.contains("--pipelined")
        arguments.removeAll { $0 == "--json" || $0 == "--pipelined" }
        var renderCount: Int?
        if let index = arguments.firstIndex(of: "--render"), index + 1 < arguments.count {
            renderCount = Int(arguments[index + 1])
            arguments.removeSubrange(index...index + 1)
        }
        guard arguments.count >= 3 else {
            FileHandle.standardError.write(
                Data("usage: translate-file [--json] [--pipelined] MAPPINGS_DIR FILE [PARTNER]\n".utf8)
            )
            exit(64)
        }
        let folder = URL(fileURLWithPath: arguments[1])
        var files: [(path: String, text: String)] = []
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".yaml") else { continue }
            files.append((relative, try String(contentsOf: folder.appendingPathComponent(relative), encoding: .utf8)))
        }
        let mappings = try MappingSet.load(files: files)
        if let renderCount {
            guard arguments.count >= 4 else {
                FileHandle.standardError.write(
                    Data("usage: translate-file --render COUNT MAPPINGS_DIR ACKNOWLEDGEMENT.json PARTNER\n".utf8)
                )
                exit(64)
            }
            try Self.render(count: renderCount, mappings: mappings, file: arguments[2], partner: arguments[3])
            return
        }
        let translator = Translator(mappings: mappings)
        let path = arguments[2]
        let partner = arguments.count > 3 ? arguments[3] : nil
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw CocoaError(.fileNoSuchFile) }
        defer { close(descriptor) }
        var head = [UInt8](repeating: 0, count: 64)
        let headCount = pread(descriptor, &head, 64, 0)
        let isXML =
            head[0..<max(0, headCount)].first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
            == UInt8(ascii: "<")
        var orders = 0
        var lines = 0
        var jsonBytes = 0
        var jsonTime = Duration.zero
        let clock = ContinuousClock()
        func encode(_ order: Order) {
            guard encodesJSON else { return }
            let start = clock.now
            jsonBytes += (try? CanonicalJSON.encodeBytes(order, compact: true))?.count ?? 0
            jsonTime += clock.now - start
        }
        let start = clock.now
        let issues: [TranslationIssue]
        if isXML {
            // A 100 MB batch of UBL orders is past the per-document defaults (64 MiB, 2 000 000 nodes); memory stays
            // bounded by one record either way.
            let limits = XMLLimits(maximumBytes: 1 << 40, maximumNodes: Int.max)
            issues = try translator.translateXML(
                documentName: path,
                partnerID: partner,
                limits: limits,
                pipelined: pipelined,
                read: { buffer in
                    read(descriptor, buffer.baseAddress, buffer.count)
                }
            ) { document in
                if case .order(let order) = document.value {
                    orders += 1
                    lines += order.lines.count
                    encode(order)
                }
            }
        } else {
            issues = try translator.translateEDI(
                source: FileDescriptorByteSource(fileDescriptor: descriptor),
                partnerID: partner,
                pipelined: pipelined
            ) {
                document in
                if case .order(let order) = document.value {
                    orders += 1
                    lines += order.lines.count
                    encode(order)
                }
            }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var status = stat()
        fstat(descriptor, &status)
        let megabytes = Double(status.st_size) / 1_000_000
        print(
            String(
                format: "%@: %.1f MB, %d orders, %d lines, %d issues, %.2f s, %.1f MB/s",
                path,
                megabytes,
                orders,
                lines,
                issues.count,
                seconds,
                megabytes / seconds
            )
        )
        if encodesJSON {
            let jsonSeconds = Double(jsonTime.components.seconds) + Double(jsonTime.components.attoseconds) / 1e18
            print(
                String(
                    format: "  of which canonical JSON: %.2f s, %.1f MB written, %.1f µs per order",
                    jsonSeconds,
                    Double(jsonBytes) / 1_000_000,
                    jsonSeconds * 1e6 / Double(max(orders, 1))
                )
            )
        }
        for issue in issues.prefix(5) { print("  issue: \(issue)") }
    }

    static func render(count: Int, mappings: MappingSet, file: String, partner id: String) throws {
        guard let partner = mappings.partners[id] else { throw CocoaError(.fileNoSuchFile) }
        var acknowledgement = try CanonicalJSON.decode(
            Acknowledgement.self,
            from: Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        )
        let original = acknowledgement.lines
        while acknowledgement.lines.count < 20 {
            var line = original[acknowledgement.lines.count % original.count]
            line.lineNumber = String(acknowledgement.lines.count + 1)
            acknowledgement.lines.append(line)
        }
        let renderer = DocumentRenderer(mappings: mappings)
        guard let map = renderer.map(for: partner, record: .acknowledgement) else {
            throw CocoaError(.featureUnsupported)
        }
        let now = DocumentDate(year: 2026, month: 12, day: 6, hour: 10, minute: 30)!
        let clock = ContinuousClock()
        var renderTime = Duration.zero
        var checkTime = Duration.zero
        var bytes = 0
        var errors = 0
        for number in 0..<count {
            let start = clock.now
            let document = try renderer.render(
                .acknowledgement(acknowledgement),
                with: map,
                for: partner,
                controlNumbers: ControlNumbers(interchange: number + 1, group: number + 1, transactionSet: 1),
                now: now
            )
            let rendered = clock.now
            if map.format != .xml, !EDIValidator().validate(bytes: document).isValid { errors += 1 }
            checkTime += clock.now - rendered
            renderTime += rendered - start
            bytes += document.count
        }
        func microseconds(_ duration: Duration) -> Double {
            (Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12)
                / Double(max(count, 1))
        }
        print(
            String(
                format:
                    "%@ for %@: %d documents of %d lines, %d bytes each; render %.1f µs, validate %.1f µs per document; %d invalid",
                map.id,
                id,
                count,
                acknowledgement.lines.count,
                bytes / max(count, 1),
                microseconds(renderTime),
                microseconds(checkTime),
                errors
            )
        )
    }
}
