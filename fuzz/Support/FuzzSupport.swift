// Shared by the fuzz targets (fuzz/run.sh compiles fuzz/Support/*.swift into every target): a byte source that hands
// the input over a few bytes at a time, and functions that read every value the public API offers, so that element,
// component and repetition splitting run for each input.

/// Returns the input `chunk` bytes at a time, like a pipe or socket would.
struct ChunkedByteSource: ByteSource {
    let bytes: [UInt8]
    let chunk: Int
    var offset = 0

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, self.chunk, self.bytes.count - self.offset)
        guard count > 0 else { return 0 }
        self.bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + self.offset, byteCount: count)
        }
        self.offset += count
        return count
    }
}

let chunkSizes = [1, 2, 3, 7, 64, 4096, 1 << 20, 5]

/// Reads every value the public API offers for one segment, so element, component and repetition splitting run.
@inline(never)
func touch(_ segment: Segment) -> Int {
    var sink = segment.tagText.utf8.count &+ segment.description.utf8.count &+ segment.rawBytes.count
    sink &+= Int(segment.tag.rawValue & 0xFF) &+ (segment.tag.isWellFormed ? 1 : 0) &+ segment.tag.description.utf8.count
    sink &+= segment.byteOffset &+ segment.line &+ segment.column &+ segment.index
    let count = segment.elementCount
    for element in segment.elements {
        sink &+= element.text.utf8.count &+ element.rawBytes.count &+ (element.isEmpty ? 1 : 0)
        sink &+= element.description.utf8.count
        for component in element.components { sink &+= component.utf8.count }
        sink &+= element.component(0).utf8.count &+ element.component(1).utf8.count
        sink &+= element.component(2).utf8.count &+ element.component(1000).utf8.count
        for repetition in element.repetitions {
            sink &+= repetition.text.utf8.count &+ repetition.rawBytes.count
            for component in repetition.components { sink &+= component.utf8.count }
            sink &+= repetition.component(2).utf8.count
        }
    }
    sink &+= segment[0].utf8.count &+ segment[1].utf8.count &+ segment[count].utf8.count
    sink &+= segment[count &+ 1].utf8.count &+ segment[Int.max].utf8.count
    return sink
}

@inline(never)
func drain(_ reader: EDIReader) throws -> Int {
    var sink = 0
    while let event = try reader.next() {
        switch event {
        case .interchangeStart(let segment), .groupStart(let segment), .transactionSetEnd(let segment),
            .groupEnd(let segment), .interchangeEnd(let segment):
            if let segment { sink &+= touch(segment) }
        case .transactionSetStart(let segment), .segment(let segment):
            sink &+= touch(segment)
        case .error(let error):
            sink &+= error.description.utf8.count &+ error.code.name.utf8.count &+ (error.badData?.utf8.count ?? 0)
        }
        sink &+= (reader.setPosition ?? 0) &+ reader.bytesConsumed
        sink &+= reader.delimiters?.description.utf8.count ?? 0
        sink &+= reader.dialect?.rawValue.utf8.count ?? 0
    }
    // The reader must stay at the end once it has returned nil.
    if try reader.next() != nil { fatalError("EDIReader returned an event after the end of the input") }
    return sink
}

/// The body of the reader targets: puts `header` in front of the input unless `hasHeader` says it has its own, then
/// drains a reader fed in chunks. The last input byte selects the chunk size and a small or the default maximum
/// segment length, so the tokenizer's refill, buffer-growth and segment-too-long paths are reached.
func fuzzReader(_ data: UnsafePointer<UInt8>?, _ size: Int, header: [UInt8], hasHeader: ([UInt8]) -> Bool) {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let bytes = hasHeader(input) ? input : header + input
    let selector = Int(input.last ?? 0)
    let reader = EDIReader(
        source: ChunkedByteSource(bytes: bytes, chunk: chunkSizes[selector & 7]),
        bufferSize: 4096,
        maximumSegmentLength: selector & 8 != 0 ? 300 : 16 << 20
    )
    do {
        let sink = try drain(reader)
        if sink == -1 { print(sink) }  // keep the work observable
    } catch {
        fatalError("EDIReader threw for an in-memory source: \(error)")
    }
}
