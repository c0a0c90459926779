/// A segment identifier (`ISA`, `PO1`, `UNH`) packed into an integer, so that comparing and hashing tags costs
/// nothing on the hot path.
public struct SegmentTag: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// Up to three ASCII bytes, first byte highest; a longer tag keeps its first three bytes and sets bit 31.
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    public init(bytes: UnsafeRawBufferPointer) {
        self.init(pointer: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }

    init(pointer: UnsafePointer<UInt8>?, count: Int) {
        guard let pointer, count > 0 else {
            self.rawValue = 0
            return
        }
        var value = UInt32(pointer[0])
        if count > 1 { value = value << 8 | UInt32(pointer[1]) }
        if count > 2 { value = value << 8 | UInt32(pointer[2]) }
        if count > 3 { value |= 0x8000_0000 }
        self.rawValue = value
    }

    public init(_ text: String) {
        var value: UInt32 = 0
        var count = 0
        for byte in text.utf8 {
            if count < 3 { value = value << 8 | UInt32(byte) }
            count += 1
        }
        if count > 3 { value |= 0x8000_0000 }
        self.rawValue = value
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    // Tags the reader and validator compare against on every segment, as constants (no lazy initialisation).
    static var isa: SegmentTag { SegmentTag(rawValue: 0x495341) }  // ISA
    static var iea: SegmentTag { SegmentTag(rawValue: 0x494541) }  // IEA
    static var gs: SegmentTag { SegmentTag(rawValue: 0x4753) }  // GS
    static var ge: SegmentTag { SegmentTag(rawValue: 0x4745) }  // GE
    static var st: SegmentTag { SegmentTag(rawValue: 0x5354) }  // ST
    static var se: SegmentTag { SegmentTag(rawValue: 0x5345) }  // SE
    static var ta1: SegmentTag { SegmentTag(rawValue: 0x544131) }  // TA1
    static var unb: SegmentTag { SegmentTag(rawValue: 0x554E42) }  // UNB
    static var unz: SegmentTag { SegmentTag(rawValue: 0x554E5A) }  // UNZ
    static var ung: SegmentTag { SegmentTag(rawValue: 0x554E47) }  // UNG
    static var une: SegmentTag { SegmentTag(rawValue: 0x554E45) }  // UNE
    static var unh: SegmentTag { SegmentTag(rawValue: 0x554E48) }  // UNH
    static var unt: SegmentTag { SegmentTag(rawValue: 0x554E54) }  // UNT

    /// True when the tag has the form the standards allow: two or three upper-case letters or digits, the first a
    /// letter.
    public var isWellFormed: Bool {
        guard self.rawValue & 0x8000_0000 == 0 else { return false }
        let bytes = self.bytes
        guard bytes.count >= 2, let first = bytes.first, (0x41...0x5A).contains(first) else { return false }
        return bytes.allSatisfy { (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) }
    }

    var bytes: [UInt8] {
        var result: [UInt8] = []
        var value = self.rawValue & 0x00FF_FFFF
        while value != 0 {
            result.insert(UInt8(value & 0xFF), at: 0)
            value >>= 8
        }
        return result
    }

    public var description: String { String(decoding: self.bytes, as: UTF8.self) }

    public static func < (lhs: SegmentTag, rhs: SegmentTag) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The bytes of one segment and where its elements start and end. Shared by `Segment` values and reused by the
/// reader when no `Segment` holds it any more.
///
/// The memory is managed by hand so that the tokenizer fills it with plain stores: no array bookkeeping and no
/// exclusivity checks on the hot path. Only the tokenizer writes, and only while it holds the sole reference.
final class SegmentStorage: @unchecked Sendable {
    /// The segment as written, tag first, without its terminator and without line breaks that were not data.
    /// Usually `owned`; the tokenizer's own buffer after `borrow`.
    @exclusivity(unchecked) private(set) var bytes: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) var byteCount = 0
    @exclusivity(unchecked) private var owned: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var byteCapacity: Int
    /// Set by a caller that reads each segment before asking for the next and never hands the storage on (no
    /// `Segment` is made from it): the tokenizer may then point `bytes` into its buffer instead of copying.
    let isScratch: Bool
    /// `fields[0]` is the end of the tag; `fields[i]` the end of element `i`. Element `i` starts at
    /// `fields[i - 1] + 1`.
    @exclusivity(unchecked) private(set) var fields: UnsafeMutablePointer<Int32>
    @exclusivity(unchecked) var fieldCount = 0
    @exclusivity(unchecked) private(set) var fieldCapacity: Int
    @exclusivity(unchecked) var component: UInt8 = 0
    @exclusivity(unchecked) var repetition: UInt8 = 0
    @exclusivity(unchecked) var hasRepetition = false
    @exclusivity(unchecked) var release: UInt8 = 0
    @exclusivity(unchecked) var hasRelease = false
    /// Which delimiters the fields above hold (the tokenizer's count of delimiter changes; -1: none yet).
    @exclusivity(unchecked) var delimiterGeneration = -1

    init(isScratch: Bool = false) {
        self.isScratch = isScratch
        self.byteCapacity = 256
        self.owned = .allocate(capacity: 256)
        self.bytes = self.owned
        self.fieldCapacity = 32
        self.fields = .allocate(capacity: 32)
    }

    deinit {
        self.owned.deallocate()
        self.fields.deallocate()
    }

    func setDelimiters(_ delimiters: Delimiters) {
        self.component = delimiters.component
        self.repetition = delimiters.repetition ?? 0
        self.hasRepetition = delimiters.repetition != nil
        self.release = delimiters.release ?? 0
        self.hasRelease = delimiters.release != nil
    }

    /// Replaces the bytes with `count` bytes from `source`.
    func setBytes(_ source: UnsafePointer<UInt8>, count: Int) {
        if count > self.byteCapacity {
            self.owned.deallocate()
            self.byteCapacity = max(count, self.byteCapacity * 2)
            self.owned = .allocate(capacity: self.byteCapacity)
        }
        self.owned.update(from: source, count: count)
        self.bytes = self.owned
        self.byteCount = count
    }

    /// Points at `count` bytes of `source` without copying them: only for scratch storage (`isScratch`), whose
    /// bytes are read before the source changes.
    func borrow(_ source: UnsafeMutablePointer<UInt8>, count: Int) {
        assert(self.isScratch)
        self.bytes = source
        self.byteCount = count
    }

    /// Makes room for at least `count` field entries, keeping the first `keeping`.
    func reserveFields(_ count: Int, keeping: Int) {
        guard count > self.fieldCapacity else { return }
        let grown = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, self.fieldCapacity * 2))
        grown.update(from: self.fields, count: keeping)
        self.fields.deallocate()
        self.fields = grown
        self.fieldCapacity = max(count, self.fieldCapacity * 2)
    }

    /// Appends a field end.
    @inline(__always)
    func appendField(_ end: Int32) {
        if self.fieldCount == self.fieldCapacity {
            self.reserveFields(self.fieldCount + 1, keeping: self.fieldCount)
        }
        self.fields[self.fieldCount] = end
        self.fieldCount += 1
    }

    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: self.bytes, count: self.byteCount) }

    var elementDelimiters: ElementDelimiters {
        ElementDelimiters(
            component: self.component,
            repetition: self.hasRepetition ? self.repetition : nil,
            release: self.hasRelease ? self.release : nil
        )
    }

    /// The bytes of `range` as an array.
    func slice(_ range: Range<Int>) -> ArraySlice<UInt8> {
        ArraySlice(UnsafeBufferPointer(rebasing: self.buffer[range]))
    }

    func range(ofElement position: Int) -> Range<Int>? {
        guard position >= 1, position < self.fieldCount else { return nil }
        return Int(self.fields[position - 1]) + 1..<Int(self.fields[position])
    }
}

/// One segment of a document: its tag, its elements and where it was read.
///
/// A `Segment` is a value; it stays valid after the reader moves on. Elements are numbered from 1, as the standards
/// number them (`BEG03` is `segment[3]`).
public struct Segment: Sendable, CustomStringConvertible {
    public let tag: SegmentTag
    /// Byte offset of the segment's first byte in the input.
    public let byteOffset: Int
    public let line: Int
    public let column: Int
    /// 1-based index of the segment in the whole input.
    public let index: Int
    let storage: SegmentStorage

    init(tag: SegmentTag, byteOffset: Int, line: Int, column: Int, index: Int, storage: SegmentStorage) {
        self.tag = tag
        self.byteOffset = byteOffset
        self.line = line
        self.column = column
        self.index = index
        self.storage = storage
    }

    /// The tag as written (which may be longer than a valid tag).
    public var tagText: String {
        String(decoding: self.storage.slice(0..<Int(self.storage.fields[0])), as: UTF8.self)
    }

    /// Number of elements, counting empty ones up to the last separator written.
    public var elementCount: Int { self.storage.fieldCount - 1 }

    /// Element `position` (1-based); an empty element when the segment has fewer.
    public func element(_ position: Int) -> Element {
        guard let range = self.storage.range(ofElement: position) else {
            return Element(storage: self.storage, range: 0..<0)
        }
        return Element(storage: self.storage, range: range)
    }

    /// The text of element `position`, with release characters removed; "" when absent.
    public subscript(position: Int) -> String {
        self.element(position).text
    }

    /// The elements in order.
    public var elements: [Element] {
        (0..<self.elementCount).map { self.element($0 + 1) }
    }

    /// The segment's bytes as read (tag and elements with their separators, no terminator).
    public var rawBytes: [UInt8] { Array(self.storage.buffer) }

    /// The separators that the segment's elements were written with.
    public var elementDelimiters: ElementDelimiters { self.storage.elementDelimiters }

    /// Calls `body` with the segment's bytes (as `rawBytes`) and its field ends: entry 0 is the end of the tag, entry
    /// `i` the end of element `i`, which starts one byte after entry `i - 1`. Neither buffer outlives the call.
    public func withUnsafeParts<Result>(
        _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<Int32>) throws -> Result
    ) rethrows -> Result {
        try body(self.storage.buffer, UnsafeBufferPointer(start: self.storage.fields, count: self.storage.fieldCount))
    }

    public var description: String { String(decoding: self.storage.buffer, as: UTF8.self) }
}

/// One element of a segment, possibly a composite of components and possibly repeated.
public struct Element: Sendable, CustomStringConvertible {
    let storage: SegmentStorage
    let range: Range<Int>

    /// True when nothing is written for the element.
    public var isEmpty: Bool { self.range.isEmpty }

    /// The element's bytes as written, release characters included.
    public var rawBytes: ArraySlice<UInt8> { self.storage.slice(self.range) }

    /// The whole element's text with release characters removed (component separators stay).
    public var text: String { self.unescaped(self.range) }

    public var description: String { self.text }

    /// The repetitions of the element (one when the element is not repeated).
    public var repetitions: [Element] {
        guard self.storage.hasRepetition else { return [self] }
        return self.split(on: self.storage.repetition).map { Element(storage: self.storage, range: $0) }
    }

    /// The component texts of a composite (one for a simple element), release characters removed.
    public var components: [String] {
        self.componentRanges.map { self.unescaped($0) }
    }

    /// Component `position` (1-based) of a composite; "" when absent.
    public func component(_ position: Int) -> String {
        let ranges = self.componentRanges
        guard position >= 1, position <= ranges.count else { return "" }
        return self.unescaped(ranges[position - 1])
    }

    var componentRanges: [Range<Int>] { self.split(on: self.storage.component) }

    /// The text of component `position` (1-based) of the first repetition, without building the component list;
    /// "" when absent. The same as `components[position - 1]` for the first repetition, but allocation-free until
    /// the text itself.
    public func componentText(_ position: Int) -> String {
        let delimiters = self.storage.elementDelimiters
        guard let range = delimiters.componentRange(in: self.storage.bytes, self.range, position: position) else {
            return ""
        }
        return delimiters.text(in: self.storage.bytes, range)
    }

    /// Splits the element's range on `separator`, honouring the release character.
    func split(on separator: UInt8) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = self.range.lowerBound
        var index = start
        let bytes = self.storage.bytes
        while index < self.range.upperBound {
            let byte = bytes[index]
            if self.storage.hasRelease && byte == self.storage.release {
                index += 2
                continue
            }
            if byte == separator {
                result.append(start..<index)
                start = index + 1
            }
            index += 1
        }
        result.append(start..<max(start, self.range.upperBound))
        return result
    }

    func unescaped(_ range: Range<Int>) -> String {
        self.storage.elementDelimiters.text(in: self.storage.bytes, range)
    }
}

/// The separators inside an element (component, repetition, release) and the byte-level reading of element text
/// with them: shared by `Element` and by readers that keep segments in buffers of their own.
public struct ElementDelimiters: Sendable {
    public var component: UInt8
    public var repetition: UInt8?
    public var release: UInt8?

    public init(component: UInt8, repetition: UInt8?, release: UInt8?) {
        self.component = component
        self.repetition = repetition
        self.release = release
    }

    /// The range of component `position` (1-based) of the first repetition of the element at `range`; nil when the
    /// element has fewer components.
    @inlinable
    public func componentRange(in bytes: UnsafePointer<UInt8>, _ range: Range<Int>, position: Int) -> Range<Int>? {
        var current = 1
        var start = range.lowerBound
        var index = start
        let end = range.upperBound
        // Plain integers (-1: no such character), so that each byte is compared without unwrapping optionals.
        let release = self.release.map(Int.init) ?? -1
        let repetition = self.repetition.map(Int.init) ?? -1
        let component = Int(self.component)
        while index < end {
            let byte = Int(bytes[index])
            if byte == release {
                index += 2
                continue
            }
            if byte == component || byte == repetition {
                if current == position { return start..<index }
                if byte == repetition { return nil }
                current += 1
                start = index + 1
            }
            index += 1
        }
        guard current == position, start <= end else { return nil }
        return start..<end
    }

    /// Whether the bytes at `range` contain the release character (so that their text differs from the bytes).
    @inlinable
    public func hasRelease(in bytes: UnsafePointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard let release = self.release else { return false }
        return UnsafeBufferPointer(start: bytes + range.lowerBound, count: range.count).contains(release)
    }

    /// The text of the bytes at `range`, release characters removed.
    @inlinable
    public func text(in bytes: UnsafePointer<UInt8>, _ range: Range<Int>) -> String {
        let buffer = UnsafeBufferPointer(start: bytes + range.lowerBound, count: range.count)
        guard let release = self.release, buffer.contains(release) else {
            return String(decoding: buffer, as: UTF8.self)
        }
        var result: [UInt8] = []
        result.reserveCapacity(buffer.count)
        var escaped = false
        for byte in buffer {
            if !escaped && byte == release {
                escaped = true
                continue
            }
            escaped = false
            result.append(byte)
        }
        return String(decoding: result, as: UTF8.self)
    }
}
