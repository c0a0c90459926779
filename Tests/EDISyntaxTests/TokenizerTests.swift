import EDISyntax
import Testing

/// The tokenizer's block scan against documents whose segments are known: generated segments of every length, with
/// delimiters where the 16-byte blocks of the scan begin and end, escapes, control-byte and multi-byte delimiters,
/// line breaks between segments, and buffers so small that segments cross refills.
@Suite struct TokenizerTests {
    /// A deterministic generator (SplitMix64), so that a failure can be replayed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    struct Style: CustomTestStringConvertible, Sendable {
        var name: String
        var element: UInt8
        var component: UInt8
        var terminator: [UInt8]
        var release: UInt8?
        /// Bytes written after each terminator (line breaks that are not data).
        var lineEnding: [UInt8]
        var isX12: Bool
        var testDescription: String { self.name }
    }

    static let styles: [Style] = [
        Style(
            name: "EDIFACT defaults",
            element: 0x2B,
            component: 0x3A,
            terminator: [0x27],
            release: 0x3F,
            lineEnding: [],
            isX12: false
        ),
        Style(
            name: "EDIFACT control-byte delimiters, CRLF",
            element: 0x1D,
            component: 0x1F,
            terminator: [0x1C],
            release: 0x3F,
            lineEnding: [0x0D, 0x0A],
            isX12: false
        ),
        Style(
            name: "EDIFACT with ! as release, LF",
            element: 0x2A,
            component: 0x3E,
            terminator: [0x7E],
            release: 0x21,
            lineEnding: [0x0A],
            isX12: false
        ),
        Style(
            name: "X12",
            element: 0x2A,
            component: 0x3E,
            terminator: [0x7E],
            release: nil,
            lineEnding: [],
            isX12: true
        ),
        Style(
            name: "X12 control-byte delimiters",
            element: 0x1D,
            component: 0x1F,
            terminator: [0x1C],
            release: nil,
            lineEnding: [0x0A],
            isX12: true
        ),
        Style(
            name: "X12 multi-byte terminator",
            element: 0x7C,
            component: 0x5E,
            terminator: Array("…".utf8),
            release: nil,
            lineEnding: [0x0D, 0x0A],
            isX12: true
        ),
    ]

    /// Body segments: a tag and its elements as written (escapes included).
    static func bodySegments(_ style: Style, count: Int, using generator: inout Generator) -> [[[UInt8]]] {
        let tags = ["BGM", "DTM", "IMD", "IT1", "UNS", "LIN", "QTY", "N1", "REF", "PO1", "P"]
        let plain = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ./-".utf8) + [0x09]
        var segments: [[[UInt8]]] = []
        for _ in 0..<count {
            var segment = [Array(tags.randomElement(using: &generator)!.utf8)]
            // Lengths around the 16-byte blocks: from nothing to several blocks.
            let elementCount = Int.random(in: 0...14, using: &generator)
            for _ in 0..<elementCount {
                var element: [UInt8] = []
                for _ in 0..<Int.random(in: 0...Int.random(in: 0...40, using: &generator), using: &generator) {
                    let roll = Int.random(in: 0..<20, using: &generator)
                    if roll == 0 {
                        element.append(style.component)
                    } else if roll == 1, let release = style.release {
                        let escaped = [style.element, style.component, style.terminator[0], release]
                        element += [release, escaped.randomElement(using: &generator)!]
                    } else {
                        element.append(plain.randomElement(using: &generator)!)
                    }
                }
                segment.append(element)
            }
            segments.append(segment)
        }
        return segments
    }

    static func write(_ segment: [[UInt8]], _ style: Style) -> [UInt8] {
        var bytes = segment[0]
        for element in segment.dropFirst() { bytes += [style.element] + element }
        return bytes + style.terminator + style.lineEnding
    }

    static func document(_ style: Style, body: [[[UInt8]]]) -> [UInt8] {
        func segment(_ text: String) -> [[UInt8]] {
            text.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.utf8.map { $0 == UInt8(ascii: ":") ? style.component : $0 }
            }
        }
        var bytes: [UInt8] = []
        if style.isX12 {
            bytes += write(
                segment(
                    "ISA|00|          |00|          |ZZ|SENDER         |ZZ|RECEIVER       |240301|1200|U|00401|000000001|0|P"
                ) + [[style.component]],
                style
            )
            bytes += write(segment("GS|PO|SENDER|RECEIVER|20240301|1200|1|X|004010"), style)
            bytes += write(segment("ST|850|0001"), style)
        } else {
            let release = style.release ?? 0x20
            bytes += Array("UNA".utf8) + [style.component, style.element, 0x2E, release, 0x20] + style.terminator
            bytes += write(segment("UNB|UNOC:3|SENDER|RECEIVER|240301:1200|1"), style)
            bytes += write(segment("UNH|1|ORDERS:D:96A:UN"), style)
        }
        for body in body { bytes += write(body, style) }
        let count = String(body.count + 2)
        if style.isX12 {
            bytes += write(segment("SE|\(count)|0001"), style)
            bytes += write(segment("GE|1|1"), style)
            bytes += write(segment("IEA|1|000000001"), style)
        } else {
            bytes += write(segment("UNT|\(count)|1"), style)
            bytes += write(segment("UNZ|1|1"), style)
        }
        return bytes
    }

    /// The body segments an EDIReader finds (tag, then each element as written) and the errors it reports.
    static func read(_ bytes: [UInt8], bufferSize: Int) throws -> (segments: [[[UInt8]]], errors: [EDISyntaxError]) {
        let reader = EDIReader(source: BufferByteSource(bytes), bufferSize: bufferSize)
        var segments: [[[UInt8]]] = []
        var errors: [EDISyntaxError] = []
        while let event = try reader.next() {
            switch event {
            case .segment(let segment):
                segments.append([Array(segment.tagText.utf8)] + segment.elements.map { Array($0.rawBytes) })
            case .error(let error): errors.append(error)
            default: break
            }
        }
        return (segments, errors)
    }

    /// Records the first segment read differently from the one written (the whole lists are too long to print).
    static func expectSame(_ read: [[[UInt8]]], _ written: [[[UInt8]]], _ context: String) {
        #expect(read.count == written.count, "\(context): \(read.count) segments read, \(written.count) written")
        for (index, (found, wrote)) in zip(read, written).enumerated() where found != wrote {
            let text = { (segment: [[UInt8]]) in segment.map { String(decoding: $0, as: UTF8.self) } }
            Issue.record("\(context), segment \(index + 1): read \(text(found)), wrote \(text(wrote))")
            return
        }
    }

    @Test(arguments: styles)
    func readsGeneratedSegmentsExactlyWhateverTheBufferSize(_ style: Style) throws {
        var generator = Generator(state: 20_261_206)
        for round in 0..<40 {
            let body = Self.bodySegments(style, count: Int.random(in: 1...60, using: &generator), using: &generator)
            let bytes = Self.document(style, body: body)
            let bufferSize = [16, 17, 23, 40, 64, 257, 1 << 16].randomElement(using: &generator)!
            let (read, errors) = try Self.read(bytes, bufferSize: bufferSize)
            #expect(errors.isEmpty, "round \(round), buffer \(bufferSize): \(errors.prefix(3))")
            Self.expectSame(read, body, "round \(round), buffer \(bufferSize)")
            let counts = try SegmentTokenizer(source: BufferByteSource(bytes), bufferSize: bufferSize).countSegments()
            #expect(counts.segments == body.count + (style.isX12 ? 6 : 4), "round \(round), buffer \(bufferSize)")
        }
    }

    @Test(arguments: [styles[0], styles[3]])
    func wrappedDocumentsReadLikeUnwrappedEvenWhenALineBreaksAfterAReleaseCharacter(_ style: Style) throws {
        var generator = Generator(state: 80)
        for round in 0..<30 {
            let body = Self.bodySegments(style, count: Int.random(in: 1...40, using: &generator), using: &generator)
            let bytes = Self.document(style, body: body)
            // Wrapped at a fixed width, as some networks deliver files, and once more right after each release
            // character, so that a line break falls between it and the character it releases.
            let width = Int.random(in: 20...80, using: &generator)
            var wrapped: [UInt8] = []
            for (offset, byte) in bytes.enumerated() {
                if offset > 0 && offset % width == 0 { wrapped += [0x0D, 0x0A] }
                wrapped.append(byte)
                if let release = style.release, byte == release, offset > 8, Bool.random(using: &generator) {
                    wrapped.append(0x0A)
                }
            }
            let bufferSize = [16, 61, 1 << 16].randomElement(using: &generator)!
            let (read, errors) = try Self.read(wrapped, bufferSize: bufferSize)
            let context = "round \(round), width \(width), buffer \(bufferSize)"
            #expect(errors.isEmpty, "\(context): \(errors.prefix(3))")
            Self.expectSame(read, body, context)
        }
    }

    @Test func separatorAndTerminatorOnEveryPositionOfABlock() throws {
        // One segment per length from 1 to 48, so that the terminator and the separators fall on every byte of the
        // first three 16-byte blocks; all in one buffer, and again with segments crossing refills.
        var body: [[[UInt8]]] = []
        for length in 1...48 {
            let data = Array(String(repeating: "X", count: length).utf8)
            body.append([Array("DTM".utf8), data, [], Array(data.prefix(length / 2))])
        }
        let style = Self.styles[0]
        let bytes = Self.document(style, body: body)
        for bufferSize in [16, 31, 1 << 16] {
            Self.expectSame(try Self.read(bytes, bufferSize: bufferSize).segments, body, "buffer \(bufferSize)")
        }
    }
}
