import EDISyntax
import Foundation
import Testing

/// Inputs that once broke the reader or the validator (found by fuzzing or by review), each kept in
/// Fixtures/regressions/. Every one must read and validate without a crash, and read the same whatever the size of
/// the reads that deliver it.
@Suite struct RegressionTests {
    static let files: [String] = {
        let folder = Fixtures.root.appendingPathComponent("regressions")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { "regressions/" + $0 }
    }()

    /// Delivers bytes in reads of at most `chunk` bytes, like a pipe or a slow disk.
    struct ChunkedSource: ByteSource {
        let bytes: [UInt8]
        let chunk: Int
        var offset = 0

        mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let count = min(buffer.count, self.chunk, self.bytes.count - self.offset)
            guard count > 0 else { return 0 }
            self.bytes.withUnsafeBytes {
                buffer.baseAddress!.copyMemory(from: $0.baseAddress! + self.offset, byteCount: count)
            }
            self.offset += count
            return count
        }
    }

    static func report(_ bytes: [UInt8], chunk: Int) throws -> [String] {
        let reader = EDIReader(source: ChunkedSource(bytes: bytes, chunk: chunk), bufferSize: 4096)
        var lines: [String] = []
        try EDIValidator().validate(reader) { event in
            switch event {
            case .transactionSet(let set):
                lines.append("set \(set.identifier) \(set.controlNumber) \(set.errors.count)")
            case .group(let group): lines.append("group \(group.receivedSetCount) \(group.errors.map(\.code))")
            case .interchange(let interchange):
                lines.append(
                    "interchange \(interchange.header?.controlNumber ?? "-") \(interchange.errors.map(\.code))"
                )
            case .inputError(let error): lines.append("error \(error.code)")
            }
        }
        return lines
    }

    @Test func regressionFixturesArePresent() {
        #expect(Self.files.count >= 2)
    }

    @Test(arguments: Self.files)
    func readsTheSameWhateverTheReadSizes(_ path: String) throws {
        let bytes = try Fixtures.bytes(path)
        let whole = try Self.report(bytes, chunk: 1 << 20)
        for chunk in [1, 2, 3, 7, 64] {
            #expect(try Self.report(bytes, chunk: chunk) == whole, "reads of \(chunk) bytes")
        }
    }

    @Test func secondInterchangeDelimitersAreFoundWhenAReadEndsInsideItsISA() throws {
        let bytes = try Fixtures.bytes("regressions/read-boundary-inside-second-isa.edi")
        let lines = try Self.report(bytes, chunk: 0xD8 + 2)  // the read ends after "IS" of the second ISA
        #expect(
            lines.filter { $0.hasPrefix("interchange") } == ["interchange 000000001 []", "interchange 000000002 []"]
        )
    }
}
