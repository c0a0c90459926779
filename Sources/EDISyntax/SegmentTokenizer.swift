/// Splits a stream of X12 or EDIFACT bytes into segments and elements.
///
/// The tokenizer is the lowest layer: it knows delimiters and nothing of envelopes or schemas. It reads from a
/// `ByteSource` into one buffer that grows only to hold the longest segment, so memory is bounded by the largest
/// segment whatever the size of the input. Bytes are compared sixteen at a time against the delimiters (SIMD lanes);
/// only the ones that need a decision (a release character, a control byte, a terminator longer than one byte) are
/// classified one by one, through a 256-entry table (ordinary, element separator, terminator, release character,
/// line break).
///
/// Delimiters are found where each interchange starts (`ISA`, `UNA`, `UNB`): X12 from the ISA's fixed layout (read
/// by counting its sixteen element separators, so that padding with multi-byte characters or short fields still
/// works), EDIFACT from the UNA service string or the syntax defaults. Line breaks that are not the terminator are
/// not data: they are skipped between segments and removed inside wrapped segments.
public final class SegmentTokenizer {
    /// What the tokenizer found for one segment. The bytes and element bounds are in the `SegmentStorage` passed to
    /// `next(into:)`.
    struct RawSegment {
        var tag: SegmentTag
        var byteOffset: Int
        var line: Int
        var column: Int
        var index: Int
        /// False for a last segment that ended with the input instead of a terminator.
        var isTerminated: Bool
        /// True when the segment starts a new interchange and delimiters were (re)detected.
        var startsInterchange: Bool
    }

    /// Problems the tokenizer meets; the reader turns them into located `EDISyntaxError`s.
    enum Problem {
        case unknownDialect(byteOffset: Int, sample: String)
        case xml(byteOffset: Int)
        /// `note` is the TA1 note code (026 element separator, 027 component separator, 004 terminator).
        case invalidDelimiters(byteOffset: Int, message: String, note: String = "026")
        case segmentTooLong(byteOffset: Int, limit: Int)
    }

    private enum ByteClass: UInt8 {
        case ordinary = 0
        case element = 1
        case terminator = 2
        case release = 3
        case lineBreak = 4
    }

    /// Largest segment accepted before the tokenizer reports `segmentTooLong` and skips to the next terminator.
    @exclusivity(unchecked) public var maximumSegmentLength: Int

    @exclusivity(unchecked) private var source: any ByteSource
    @exclusivity(unchecked) private var buffer: UnsafeMutableRawBufferPointer
    @exclusivity(unchecked) private var head = 0
    @exclusivity(unchecked) private var tail = 0
    @exclusivity(unchecked) private var isAtEnd = false
    /// File offset of `buffer[0]`.
    @exclusivity(unchecked) private var bufferOffset = 0
    @exclusivity(unchecked) private var line = 1
    /// File offset of the first byte of the current line.
    @exclusivity(unchecked) private var lineStart = 0
    @exclusivity(unchecked) private var segmentIndex = 0
    private let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    @exclusivity(unchecked) private var terminatorLength = 1
    /// The element separator, the terminator's first byte and the release character that `scan` looks for, in
    /// every lane.
    @exclusivity(unchecked) private var elementLanes = SIMD16<UInt8>()
    @exclusivity(unchecked) private var terminatorLanes = SIMD16<UInt8>()
    @exclusivity(unchecked) private var releaseLanes = SIMD16<UInt8>()
    /// Bit `b - 0x30` is set for each byte `b` that may start a plain segment (0 until delimiters are known).
    @exclusivity(unchecked) private var plainTagStarts: UInt64 = 0
    @exclusivity(unchecked) private var terminatorIsLineFeed = false
    @exclusivity(unchecked) private var terminatorIsLineBreak = false

    @exclusivity(unchecked) public private(set) var delimiters: Delimiters?
    @exclusivity(unchecked) public private(set) var dialect: Dialect?
    /// Set after the UNA service string, so that the following UNB keeps the UNA's delimiters.
    @exclusivity(unchecked) private var hasServiceString = false
    /// Bumped whenever the delimiters change, so that a reused storage learns them only then.
    @exclusivity(unchecked) private var delimiterGeneration = 0
    @exclusivity(unchecked) private(set) var problems: [Problem] = []
    @exclusivity(unchecked) public private(set) var bytesConsumed = 0

    public init(source: any ByteSource, bufferSize: Int = 1 << 20, maximumSegmentLength: Int = 16 << 20) {
        self.source = source
        self.buffer = Self.allocateBuffer(max(bufferSize, 16))
        self.maximumSegmentLength = maximumSegmentLength
        self.table.initialize(repeating: 0, count: 256)
    }

    deinit {
        self.buffer.deallocate()
        self.table.deallocate()
    }

    func takeProblems() -> [Problem] {
        defer { self.problems.removeAll() }
        return self.problems
    }

    // MARK: - Buffer

    /// Reads more input, keeping `[head, tail)`. Returns false at the end of the input.
    private func refill() throws -> Bool {
        guard !self.isAtEnd else { return false }
        if self.head > 0 {
            let live = self.tail - self.head
            if live > 0 {
                self.buffer.baseAddress!.copyMemory(from: self.buffer.baseAddress! + self.head, byteCount: live)
            }
            self.bufferOffset += self.head
            self.tail = live
            self.head = 0
        }
        if self.tail == self.buffer.count {
            let grown = Self.allocateBuffer(self.buffer.count * 2)
            grown.baseAddress!.copyMemory(from: self.buffer.baseAddress!, byteCount: self.tail)
            self.buffer.deallocate()
            self.buffer = grown
        }
        let count = try self.source.read(
            into: UnsafeMutableRawBufferPointer(rebasing: self.buffer[self.tail...])
        )
        if count == 0 {
            self.isAtEnd = true
            return false
        }
        self.tail += count
        return true
    }

    private static func allocateBuffer(_ count: Int) -> UnsafeMutableRawBufferPointer {
        .allocate(byteCount: count, alignment: 64)
    }

    /// Makes sure `count` bytes from `head` are buffered, if the input has them.
    private func ensure(_ count: Int) throws -> Bool {
        while self.tail - self.head < count {
            if try !self.refill() { return false }
        }
        return true
    }

    // MARK: - Segments

    /// Reads the next segment into `storage`; nil at the end of the input.
    @inline(__always)
    func next(into storage: SegmentStorage) throws -> RawSegment? {
        if let segment = self.nextPlain(into: storage) { return segment }
        return try self.nextWithChecks(into: storage)
    }

    /// The common case, or nil to take the general path: a segment that starts right after the previous
    /// terminator with a letter that cannot begin an interchange header (nothing to skip, no delimiters to look
    /// for), holds no line breaks and ends with a one-byte terminator in the buffer.
    @inline(__always)
    private func nextPlain(into storage: SegmentStorage) -> RawSegment? {
        guard self.tail &- self.head >= 4, self.isPlainTagStart(at: self.head),
            storage.delimiterGeneration == self.delimiterGeneration, self.terminatorLength == 1,
            !self.terminatorIsLineFeed
        else { return nil }
        let (end, hasLineBreaks) = self.scan(storage)
        guard end >= 0, !hasLineBreaks else { return nil }
        let base = self.buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let start = self.head
        let count = end &- start
        if storage.isScratch {
            storage.borrow(base + start, count: count)
        } else {
            storage.setBytes(base + start, count: count)
        }
        // fields: [end of tag, end of element 1, ..., end of last element]; `scan` left room for this one.
        storage.fields[storage.fieldCount] = Int32(truncatingIfNeeded: count)
        storage.fieldCount &+= 1
        let startOffset = self.bufferOffset &+ start
        self.head = end &+ 1
        self.segmentIndex &+= 1
        self.bytesConsumed = self.bufferOffset &+ self.head
        return RawSegment(
            tag: SegmentTag(pointer: base + start, count: Int(storage.fields[0])),
            byteOffset: startOffset,
            line: self.line,
            column: startOffset &- self.lineStart &+ 1,
            index: self.segmentIndex,
            isTerminated: true,
            startsInterchange: false
        )
    }

    /// Reads the next segment into `storage` whatever comes: interchange headers, line breaks, refills.
    private func nextWithChecks(into storage: SegmentStorage) throws -> RawSegment? {
        var startsInterchange = false
        while true {
            try self.skipInterSegmentBytes()
            if self.head == self.tail { return nil }
            // The interchange-start check needs the tag and the byte after it, whatever the read boundaries.
            if self.tail - self.head < 4 { _ = try self.ensure(4) }
            if self.delimiters == nil || self.looksLikeInterchangeStart() {
                switch try self.detectDelimiters() {
                case .detected: startsInterchange = true
                case .serviceString: continue
                case .notEDI: return nil
                case .unchanged: break
                }
            }
            guard self.delimiters != nil else { return nil }
            if storage.delimiterGeneration != self.delimiterGeneration {
                storage.setDelimiters(self.delimiters!)
                storage.delimiterGeneration = self.delimiterGeneration
            }
            // Offsets in the file do not move when a refill compacts the buffer; `head` does.
            let startOffset = self.bufferOffset + self.head
            let line = self.line
            let column = startOffset - self.lineStart + 1
            while true {
                let (end, hasLineBreaks) = self.scan(storage)
                if end >= 0 {
                    return self.emit(
                        storage,
                        end: end,
                        terminated: true,
                        hasLineBreaks: hasLineBreaks,
                        startOffset: startOffset,
                        line: line,
                        column: column,
                        startsInterchange: startsInterchange
                    )
                }
                if self.tail - self.head >= self.maximumSegmentLength {
                    self.problems.append(.segmentTooLong(byteOffset: startOffset, limit: self.maximumSegmentLength))
                    try self.skipPastTerminator()
                    break
                }
                if try !self.refill() {
                    return self.emit(
                        storage,
                        end: self.tail,
                        terminated: false,
                        hasLineBreaks: hasLineBreaks,
                        startOffset: startOffset,
                        line: line,
                        column: column,
                        startsInterchange: startsInterchange
                    )
                }
            }
        }
    }

    /// Scans from `head` for the terminator, recording element separators in `storage.fields`. Returns the
    /// terminator's index, or -1 when the buffered bytes end first.
    ///
    /// Sixteen bytes are examined at a time, lane by lane (SSE2 on x86-64): one mask marks the element separators,
    /// another the bytes that need a decision (the terminator's first byte, the release character and every control
    /// byte, line breaks among them). A block without the second kind only appends its separators; otherwise the
    /// separators before each decision are appended and the marked byte looked at through the class table. The last
    /// bytes of the buffer, fewer than sixteen, go one by one.
    @inline(__always)
    private func scan(_ storage: SegmentStorage) -> (end: Int, hasLineBreaks: Bool) {
        let base = self.buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let raw = UnsafeRawPointer(base)
        let table = self.table
        let start = self.head
        let limit = self.tail
        let elementLanes = self.elementLanes
        let terminatorLanes = self.terminatorLanes
        let releaseLanes = self.releaseLanes
        var fields = storage.fields
        var fieldCapacity = storage.fieldCapacity
        var fieldCount = 0
        var hasLineBreaks = false
        var index = start
        defer { storage.fieldCount = fieldCount }
        let origin = Int32(truncatingIfNeeded: start)
        let terminatorLength = self.terminatorLength
        blocks: while index &+ 16 <= limit {
            if fieldCount &+ 32 > fieldCapacity {
                storage.reserveFields(fieldCount &+ 32, keeping: fieldCount)
                fields = storage.fields
                fieldCapacity = storage.fieldCapacity
            }
            let lanes = raw.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
            let separators = Self.marks(lanes .== elementLanes)
            // Whole bytes (0xFF) for these two: only tested, and the terminator's lowest bit is enough to find it.
            let terminators = Self.words(lanes .== terminatorLanes)
            let others = Self.words(lanes .== releaseLanes) | Self.words(lanes .< SIMD16(repeating: 0x20))
            if others[0] | others[1] == 0 {
                // No release character and no control byte: separators, and perhaps the (one-byte) terminator.
                let offset = Int32(truncatingIfNeeded: index) &- origin
                if terminators[0] | terminators[1] == 0 {
                    Self.append(separators[0], at: offset, to: fields, count: &fieldCount)
                    Self.append(separators[1], at: offset &+ 8, to: fields, count: &fieldCount)
                    index &+= 16
                    continue
                }
                if terminatorLength == 1 {
                    if terminators[0] != 0 {
                        let below = (terminators[0] & (0 &- terminators[0])) &- 1
                        Self.append(separators[0] & below, at: offset, to: fields, count: &fieldCount)
                        return (index &+ (terminators[0].trailingZeroBitCount &>> 3), hasLineBreaks)
                    }
                    let below = (terminators[1] & (0 &- terminators[1])) &- 1
                    Self.append(separators[0], at: offset, to: fields, count: &fieldCount)
                    Self.append(separators[1] & below, at: offset &+ 8, to: fields, count: &fieldCount)
                    return (index &+ 8 &+ (terminators[1].trailingZeroBitCount &>> 3), hasLineBreaks)
                }
            }
            let decisions = (terminators | others) & SIMD2(repeating: 0x8080_8080_8080_8080)
            for half in 0..<2 {
                let word = index &+ half &* 8
                let offset = Int32(truncatingIfNeeded: word) &- origin
                var pending = separators[half]
                var marks = decisions[half]
                while marks != 0 {
                    let below = (marks & (0 &- marks)) &- 1
                    Self.append(pending & below, at: offset, to: fields, count: &fieldCount)
                    pending &= ~below
                    let position = word &+ (marks.trailingZeroBitCount &>> 3)
                    marks &= marks &- 1
                    switch table[Int(base[position])] {
                    case ByteClass.terminator.rawValue:
                        if let end = self.endOfSegment(at: position, base: base, limit: limit) {
                            return (end, hasLineBreaks)
                        }
                    case ByteClass.release.rawValue:
                        // The released byte is data: go on after it, dropping the rest of this block's marks.
                        guard let released = self.releasedByte(after: position, base: base, limit: limit) else {
                            return (-1, hasLineBreaks)
                        }
                        if released != position &+ 1 { hasLineBreaks = true }
                        index = released &+ 1
                        continue blocks
                    case ByteClass.lineBreak.rawValue:
                        hasLineBreaks = true
                    default:
                        break  // another control byte (a tab, say) is data; a control-byte separator is in `pending`
                    }
                }
                Self.append(pending, at: offset, to: fields, count: &fieldCount)
            }
            index &+= 16
        }
        // Fewer than sixteen bytes are buffered: one at a time.
        if fieldCount &+ 16 > storage.fieldCapacity {
            storage.reserveFields(fieldCount &+ 16, keeping: fieldCount)
            fields = storage.fields
        }
        while index < limit {
            let position = index
            index &+= 1
            switch table[Int(base[position])] {
            case ByteClass.element.rawValue:
                fields[fieldCount] = Int32(truncatingIfNeeded: position &- start)
                fieldCount &+= 1
            case ByteClass.terminator.rawValue:
                if let end = self.endOfSegment(at: position, base: base, limit: limit) { return (end, hasLineBreaks) }
            case ByteClass.release.rawValue:
                guard let released = self.releasedByte(after: position, base: base, limit: limit) else {
                    return (-1, hasLineBreaks)
                }
                if released != position &+ 1 { hasLineBreaks = true }
                index = released &+ 1
            case ByteClass.lineBreak.rawValue:
                hasLineBreaks = true
            default:
                break
            }
        }
        return (-1, hasLineBreaks)
    }

    /// Appends the field ends marked in `marks` (the high bit of each marked byte of the word at `offset`).
    @inline(__always)
    private static func append(
        _ marks: UInt64,
        at offset: Int32,
        to fields: UnsafeMutablePointer<Int32>,
        count: inout Int
    ) {
        var marks = marks
        while marks != 0 {
            fields[count] = offset &+ Int32(truncatingIfNeeded: marks.trailingZeroBitCount &>> 3)
            count &+= 1
            marks &= marks &- 1
        }
    }

    /// The lanes of `mask` as two words, 0xFF in each byte that is set. (The lane comparisons compile to SSE2
    /// `pcmpeqb` and `pminub`; operators on the masks themselves do not vectorise, so they are combined as words.)
    @inline(__always)
    private static func words(_ mask: SIMDMask<SIMD16<Int8>>) -> SIMD2<UInt64> {
        unsafeBitCast(mask, to: SIMD2<UInt64>.self)
    }

    /// The lanes of `mask` that are set, as the high bit of their byte in two words.
    @inline(__always)
    private static func marks(_ mask: SIMDMask<SIMD16<Int8>>) -> SIMD2<UInt64> {
        unsafeBitCast(unsafeBitCast(mask, to: SIMD16<UInt8>.self) & SIMD16(repeating: 0x80), to: SIMD2<UInt64>.self)
    }

    /// The byte that the release character at `position` releases: the next one, after any line breaks that are
    /// not data (a file wrapped at a fixed width can break a line between the two); nil when the buffer ends first
    /// and more input may come.
    @inline(__always)
    private func releasedByte(after position: Int, base: UnsafeMutablePointer<UInt8>, limit: Int) -> Int? {
        var next = position &+ 1
        while next < limit && self.table[Int(base[next])] == ByteClass.lineBreak.rawValue { next &+= 1 }
        if next >= limit && !self.isAtEnd { return nil }
        return next
    }

    /// What `scan` returns for a byte equal to the terminator's first at `position`: `position` when the whole
    /// terminator is there, -1 when the buffer ends inside it, nil when the byte is data.
    @inline(__always)
    private func endOfSegment(at position: Int, base: UnsafeMutablePointer<UInt8>, limit: Int) -> Int? {
        if self.terminatorLength == 1 { return position }
        if position &+ self.terminatorLength > limit { return self.isAtEnd ? nil : -1 }
        return self.matchesTerminator(at: position, base: base) ? position : nil
    }

    private func matchesTerminator(at index: Int, base: UnsafeMutablePointer<UInt8>) -> Bool {
        guard let terminator = self.delimiters?.segmentTerminator else { return false }
        for offset in 1..<terminator.count where base[index + offset] != terminator[offset] {
            return false
        }
        return true
    }

    /// Copies the segment `[head, end)` into `storage`, drops line breaks that are not data, and moves past the
    /// terminator.
    private func emit(
        _ storage: SegmentStorage,
        end: Int,
        terminated: Bool,
        hasLineBreaks: Bool,
        startOffset: Int,
        line: Int,
        column: Int,
        startsInterchange: Bool
    ) -> RawSegment {
        let base = self.buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let start = self.head
        var contentEnd = end
        // A CR before an LF terminator belongs to the line ending, not to the last element.
        if terminated && self.terminatorIsLineFeed && contentEnd > start && base[contentEnd - 1] == 0x0D {
            contentEnd -= 1
        }
        storage.setBytes(base + start, count: contentEnd - start)
        if hasLineBreaks && !self.terminatorIsLineFeed {
            self.removeLineBreaks(storage, fileOffset: startOffset)
        } else {
            while storage.fieldCount > 0 && Int(storage.fields[storage.fieldCount - 1]) >= contentEnd - start {
                storage.fieldCount -= 1
            }
        }
        // fields: [end of tag, end of element 1, ..., end of last element]
        storage.appendField(Int32(truncatingIfNeeded: storage.byteCount))
        let tag = SegmentTag(pointer: storage.bytes, count: Int(storage.fields[0]))
        self.head = terminated ? end + self.terminatorLength : end
        if terminated && self.terminatorIsLineFeed {
            self.line += 1
            self.lineStart = self.bufferOffset + self.head
        }
        self.segmentIndex += 1
        self.bytesConsumed = self.bufferOffset + self.head
        return RawSegment(
            tag: tag,
            byteOffset: startOffset,
            line: line,
            column: column,
            index: self.segmentIndex,
            isTerminated: terminated,
            startsInterchange: startsInterchange
        )
    }

    /// Slow path for wrapped files: removes CR and LF from the copied segment and recomputes element bounds.
    private func removeLineBreaks(_ storage: SegmentStorage, fileOffset: Int) {
        var compacted: [UInt8] = []
        compacted.reserveCapacity(storage.byteCount)
        storage.fieldCount = 0
        var escaped = false
        for (offset, byte) in storage.buffer.enumerated() {
            if byte == 0x0A || byte == 0x0D {
                if byte == 0x0A {
                    self.line += 1
                    self.lineStart = fileOffset + offset + 1
                }
                continue
            }
            if escaped {
                escaped = false
            } else if storage.hasRelease && byte == storage.release {
                escaped = true
            } else if byte == self.delimiters?.element {
                storage.appendField(Int32(truncatingIfNeeded: compacted.count))
            }
            compacted.append(byte)
        }
        compacted.withUnsafeBufferPointer { storage.setBytes($0.baseAddress!, count: $0.count) }
    }

    /// Skips a segment that is too long, up to and including its terminator.
    private func skipPastTerminator() throws {
        guard let terminator = self.delimiters?.segmentTerminator.first else { return }
        while true {
            while self.head < self.tail {
                let byte = self.buffer[self.head]
                self.head += 1
                if byte == terminator { return }
            }
            if try !self.refill() { return }
        }
    }

    /// Skips a byte-order mark, white space and line breaks between segments (unless they are delimiters).
    private func skipInterSegmentBytes() throws {
        while true {
            if self.head == self.tail, try !self.refill() { return }
            let byte = self.buffer[self.head]
            // A line-break terminator right after another is a blank line, not an empty segment.
            let byteClass = self.table[Int(byte)]
            let isDelimiter =
                byteClass != ByteClass.ordinary.rawValue && byteClass != ByteClass.lineBreak.rawValue
                && !self.terminatorIsLineBreak
            switch byte {
            case 0x0A where !isDelimiter:
                self.head += 1
                self.line += 1
                self.lineStart = self.bufferOffset + self.head
            case 0x0D where !isDelimiter, 0x20 where !isDelimiter, 0x09 where !isDelimiter, 0x00:
                self.head += 1
            case 0xEF:
                // UTF-8 byte-order mark before the first segment of an interchange.
                guard try self.ensure(3), self.buffer[self.head + 1] == 0xBB, self.buffer[self.head + 2] == 0xBF else {
                    return
                }
                self.head += 3
            default:
                return
            }
        }
    }

    // MARK: - Delimiters

    private enum Detection {
        case detected, unchanged, serviceString, notEDI
    }

    private func looksLikeInterchangeStart() -> Bool {
        guard self.tail - self.head >= 4 else { return false }
        let b0 = self.buffer[self.head]
        let b1 = self.buffer[self.head + 1]
        let b2 = self.buffer[self.head + 2]
        if b0 == UInt8(ascii: "I") && b1 == UInt8(ascii: "S") && b2 == UInt8(ascii: "A") {
            return !Self.isAlphanumeric(self.buffer[self.head + 3])
        }
        if b0 == UInt8(ascii: "U") && b1 == UInt8(ascii: "N") && (b2 == UInt8(ascii: "A") || b2 == UInt8(ascii: "B")) {
            return !Self.isAlphanumeric(self.buffer[self.head + 3])
        }
        return false
    }

    /// True when the bytes at `index` (four of them buffered) start a segment with nothing to skip before it and
    /// no interchange header to detect: a letter or digit that is no delimiter, and no ISA, UNA or UNB.
    @inline(__always)
    private func isPlainTagStart(at index: Int) -> Bool {
        let bit = self.buffer[index] &- 0x30
        guard bit < 64 && self.plainTagStarts &>> UInt64(bit) & 1 != 0 else { return false }
        let tag = self.buffer.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian & 0xFF_FFFF
        return tag != Self.isaPrefix && tag != Self.unaPrefix && tag != Self.unbPrefix
    }

    /// ISA, UNA and UNB as the first three bytes of a little-endian word.
    private static let isaPrefix: UInt32 = 0x41_5349
    private static let unaPrefix: UInt32 = 0x41_4E55
    private static let unbPrefix: UInt32 = 0x42_4E55

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    private func detectDelimiters() throws -> Detection {
        _ = try self.ensure(24)
        let offset = self.bufferOffset + self.head
        let available = self.tail - self.head
        func byte(_ index: Int) -> UInt8? { index < available ? self.buffer[self.head + index] : nil }
        let tag = (byte(0), byte(1), byte(2))
        switch tag {
        case (UInt8(ascii: "I"), UInt8(ascii: "S"), UInt8(ascii: "A")):
            return try self.detectX12(at: offset)
        case (UInt8(ascii: "U"), UInt8(ascii: "N"), UInt8(ascii: "A")):
            _ = try self.ensure(9)
            guard self.tail - self.head >= 9 else {
                self.problems.append(.invalidDelimiters(byteOffset: offset, message: "UNA service string is cut short"))
                self.head = self.tail
                return .notEDI
            }
            let component = self.buffer[self.head + 3]
            let element = self.buffer[self.head + 4]
            let decimal = self.buffer[self.head + 5]
            let release = self.buffer[self.head + 6]
            let repetition = self.buffer[self.head + 7]
            let terminator = self.buffer[self.head + 8]
            let delimiters = Delimiters(
                element: element,
                component: component,
                repetition: repetition == 0x20 ? nil : repetition,
                release: release == 0x20 ? nil : release,
                decimalMark: decimal,
                segmentTerminator: [terminator]
            )
            let distinct = Set([element, component, terminator] + (delimiters.release.map { [$0] } ?? []))
            if distinct.count != 3 + (delimiters.release == nil ? 0 : 1) {
                self.problems.append(
                    .invalidDelimiters(byteOffset: offset, message: "UNA service characters are not distinct")
                )
            }
            self.use(delimiters, dialect: .edifact)
            self.hasServiceString = true
            self.head += 9
            self.bytesConsumed = self.bufferOffset + self.head
            return .serviceString
        case (UInt8(ascii: "U"), UInt8(ascii: "N"), _):
            if self.hasServiceString {
                self.hasServiceString = false
                return .detected
            }
            if self.delimiters == nil || self.dialect != .edifact || tag.2 == UInt8(ascii: "B") {
                self.use(.edifactDefault, dialect: .edifact)
                return .detected
            }
            return .unchanged
        case (UInt8(ascii: "<"), _, _):
            self.problems.append(.xml(byteOffset: offset))
            self.head = self.tail
            self.isAtEnd = true
            return .notEDI
        default:
            if self.delimiters != nil { return .unchanged }
            // A bare EDIFACT message body (no UNA, UNB or UNH): a tag and the default element separator.
            if let b0 = byte(0), let b1 = byte(1), let b2 = byte(2), let b3 = byte(3),
                [b0, b1, b2].allSatisfy({ (0x41...0x5A).contains($0) }), b3 == UInt8(ascii: "+")
            {
                self.use(.edifactDefault, dialect: .edifact)
                return .detected
            }
            let sample = String(decoding: (0..<min(available, 24)).compactMap { byte($0) }, as: UTF8.self)
            self.problems.append(.unknownDialect(byteOffset: offset, sample: sample))
            self.head = self.tail
            self.isAtEnd = true
            return .notEDI
        }
    }

    /// Reads the ISA: the element separator is the byte after `ISA`; ISA16 follows the sixteenth separator and the
    /// terminator (one UTF-8 character) follows ISA16. Line breaks inside the ISA (wrapped files) are skipped.
    private func detectX12(at offset: Int) throws -> Detection {
        _ = try self.ensure(4)
        let element = self.buffer[self.head + 3]
        var separators = 0
        var index = self.head + 3
        var fields: [[UInt8]] = []
        var current: [UInt8] = []
        while true {
            if index >= self.tail {
                let consumed = index - self.head
                if try !self.refill() {
                    self.problems.append(
                        .invalidDelimiters(
                            byteOffset: offset,
                            message: "ISA segment is cut short (\(separators) of 16 elements)"
                        )
                    )
                    self.head = self.tail
                    return .notEDI
                }
                index = self.head + consumed
                continue
            }
            let byte = self.buffer[index]
            if (byte == 0x0A || byte == 0x0D) && byte != element {
                index += 1
                continue
            }
            if byte == element {
                separators += 1
                if separators > 1 { fields.append(current) }
                current = []
                if separators == 16 {
                    index += 1
                    break
                }
            } else {
                current.append(byte)
            }
            index += 1
            if index - self.head > 4096 {
                self.problems.append(
                    .invalidDelimiters(byteOffset: offset, message: "no ISA16 within 4096 bytes of the ISA")
                )
                self.head = self.tail
                self.isAtEnd = true
                return .notEDI
            }
        }
        // ISA16 and the terminator follow.
        let afterSeparators = index - self.head
        _ = try self.ensure(afterSeparators + 6)
        index = self.head + afterSeparators
        while index < self.tail, self.buffer[index] == 0x0A || self.buffer[index] == 0x0D { index += 1 }
        guard index < self.tail else {
            self.problems.append(.invalidDelimiters(byteOffset: offset, message: "ISA16 is missing"))
            self.head = self.tail
            return .notEDI
        }
        let component = self.buffer[index]
        index += 1
        _ = try self.ensure(index - self.head + 4)
        guard index < self.tail else {
            self.problems.append(.invalidDelimiters(byteOffset: offset, message: "the ISA has no segment terminator"))
            self.head = self.tail
            return .notEDI
        }
        let lead = self.buffer[index]
        let length: Int
        switch lead {
        case 0xF0...0xF7: length = 4
        case 0xE0...0xEF: length = 3
        case 0xC0...0xDF: length = 2
        default: length = 1
        }
        var terminator: [UInt8] = []
        for offset in 0..<length where index + offset < self.tail {
            terminator.append(self.buffer[index + offset])
        }
        // ISA11 is the repetition separator from version 00403 on (ISA12), "U" before.
        var repetition: UInt8?
        if fields.count >= 12, let isa11 = fields[10].first, fields[10].count == 1,
            let version = Int(String(decoding: fields[11], as: UTF8.self)), version >= 403,
            !Self.isAlphanumeric(isa11), isa11 != element, isa11 != component, isa11 != terminator.first
        {
            repetition = isa11
        }
        let delimiters = Delimiters(
            element: element,
            component: component,
            repetition: repetition,
            release: nil,
            segmentTerminator: terminator
        )
        if Self.isAlphanumeric(element) || Self.isAlphanumeric(component)
            || terminator.count == 1
                && Self.isAlphanumeric(terminator[0])
            || element == component || terminator.first == element
            || terminator.first == component
        {
            self.problems.append(
                .invalidDelimiters(
                    byteOffset: offset,
                    message: "ISA delimiters are not usable (\(delimiters))"
                )
            )
        }
        self.use(delimiters, dialect: .x12)
        return .detected
    }

    /// EDIFACT syntax versions before 4 reserve UNA's fifth character: no repetition separator is in effect.
    func disableRepetition() {
        self.delimiters?.repetition = nil
        self.delimiterGeneration += 1
    }

    private func use(_ delimiters: Delimiters, dialect: Dialect) {
        self.delimiters = delimiters
        self.dialect = dialect
        self.delimiterGeneration += 1
        self.terminatorLength = delimiters.segmentTerminator.count
        self.elementLanes = SIMD16(repeating: delimiters.element)
        self.terminatorLanes = SIMD16(repeating: delimiters.segmentTerminator[0])
        // Without a release character, a line feed stands for it: `scan` marks every control byte anyway.
        self.releaseLanes = SIMD16(repeating: delimiters.release ?? 0x0A)
        self.terminatorIsLineFeed = delimiters.segmentTerminator == [0x0A]
        self.terminatorIsLineBreak = delimiters.segmentTerminator == [0x0A] || delimiters.segmentTerminator == [0x0D]
        self.plainTagStarts = 0
        for byte in UInt8(ascii: "0")...UInt8(ascii: "Z")
        where Self.isAlphanumeric(byte) && byte != delimiters.element && byte != delimiters.segmentTerminator[0]
            && byte != delimiters.release
        {
            self.plainTagStarts |= 1 << UInt64(byte - 0x30)
        }
        for index in 0..<256 { self.table[index] = ByteClass.ordinary.rawValue }
        self.table[0x0A] = ByteClass.lineBreak.rawValue
        self.table[0x0D] = ByteClass.lineBreak.rawValue
        if let release = delimiters.release { self.table[Int(release)] = ByteClass.release.rawValue }
        self.table[Int(delimiters.element)] = ByteClass.element.rawValue
        self.table[Int(delimiters.segmentTerminator[0])] = ByteClass.terminator.rawValue
    }
}

extension SegmentTokenizer {
    /// Splits the whole input and counts its segments and elements: the tokenizer alone, for `inspect --summary` and
    /// benchmarks.
    public func countSegments() throws -> (segments: Int, elements: Int) {
        // Each segment is counted before the next is read, so its bytes need not be copied out of the buffer.
        let storage = SegmentStorage(isScratch: true)
        var segments = 0
        var elements = 0
        while let _ = try self.next(into: storage) {
            segments += 1
            elements += storage.fieldCount - 1
        }
        return (segments, elements)
    }
}
