import Foundation

/// Whether a file a partner is (or was) writing holds a whole document: the X12 `IEA` or EDIFACT `UNZ` trailer at
/// its end, or the XML root element closed. Only the first and last few kilobytes are read.
public enum Completeness: Hashable, Sendable {
    case complete
    /// The end is missing (`what` says which trailer).
    case incomplete(String)
    /// Not X12, EDIFACT or XML: nothing to wait for; the pipeline will say what it is.
    case unrecognized

    /// Checks the file at `path` of `size` bytes.
    public static func check(path: String, size: Int) throws(SpoolError) -> Completeness {
        if size == 0 { return .incomplete("the file is empty") }
        let head = try FileSystem.read(path, offset: 0, count: min(size, 4096))
        let tailStart = max(0, size - 4096)
        let tail = tailStart == 0 ? head : try FileSystem.read(path, offset: tailStart, count: size - tailStart)
        return self.check(head: head, tail: tail)
    }

    /// The check on the first and last bytes of a document (they may overlap or be the same).
    public static func check(head: [UInt8], tail: [UInt8]) -> Completeness {
        var start = 0
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        while start < head.count, Self.isSpace(head[start]) { start += 1 }
        let body = head[start...]
        var end = tail.count
        while end > 0, Self.isSpace(tail[end - 1]) || tail[end - 1] == 0x1A { end -= 1 }
        let trimmedTail = tail[..<end]
        if body.starts(with: Array("ISA".utf8)) {
            // The terminator is the byte after ISA16, at offset 105 of the ISA.
            guard body.count > 105 else { return .incomplete("the ISA segment is cut short") }
            let terminator = body[body.startIndex + 105]
            return self.endsWithSegment(
                "IEA",
                tail: tail[...],
                terminator: terminator,
                release: nil,
                elementSeparator: body[body.startIndex + 3]
            )
                ? .complete : .incomplete("no IEA trailer at the end")
        }
        if body.starts(with: Array("UNA".utf8)) || body.starts(with: Array("UNB".utf8)) {
            var terminator = UInt8(ascii: "'")
            var release: UInt8? = UInt8(ascii: "?")
            if body.starts(with: Array("UNA".utf8)) {
                guard body.count >= 9 else { return .incomplete("the UNA segment is cut short") }
                terminator = body[body.startIndex + 8]
                let releaseByte = body[body.startIndex + 6]
                release = releaseByte == UInt8(ascii: " ") ? nil : releaseByte
            }
            return self.endsWithSegment("UNZ", tail: tail[...], terminator: terminator, release: release)
                ? .complete : .incomplete("no UNZ trailer at the end")
        }
        if body.first == UInt8(ascii: "<") {
            guard let root = self.rootElementName(body) else { return .incomplete("no root element yet") }
            guard trimmedTail.last == UInt8(ascii: ">") else { return .incomplete("the root <\(root)> is not closed") }
            let text = String(decoding: trimmedTail, as: UTF8.self)
            if text.hasSuffix("</\(root)>") || self.rootIsEmptyElement(body, root: root) { return .complete }
            return .incomplete("the root <\(root)> is not closed")
        }
        return .unrecognized
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Whether the last segment of `tail` (which ends in `terminator`) starts with `tag`.
    private static func endsWithSegment(
        _ tag: String,
        tail: ArraySlice<UInt8>,
        terminator: UInt8,
        release: UInt8?,
        elementSeparator: UInt8? = nil
    ) -> Bool {
        // Trailing line breaks and padding are not data, unless the terminator itself is a line break.
        var end = tail.endIndex
        while end > tail.startIndex, tail[end - 1] != terminator, Self.isSpace(tail[end - 1]) || tail[end - 1] == 0x1A {
            end -= 1
        }
        var tail = tail[..<end]
        if tail.last != terminator {
            // An X12 file may end without the final terminator (the reader accepts it at the end of input): take it
            // when its last segment is a whole IEA (IEA02 has all nine digits, whatever a broken partner appends),
            // never a cut one.
            guard let elementSeparator, let lastSeparator = tail.lastIndex(of: elementSeparator),
                tail.endIndex - lastSeparator - 1 >= 9,
                tail[(lastSeparator + 1)...].prefix(9).allSatisfy({ (0x30...0x39).contains($0) })
            else { return false }
            tail.append(terminator)
        }
        // Find the terminator before the last one (skipping released ones and line breaks after it).
        var index = tail.endIndex - 2
        while index >= tail.startIndex {
            if tail[index] == terminator && (release == nil || index == tail.startIndex || tail[index - 1] != release) {
                break
            }
            index -= 1
        }
        var segmentStart = index + 1
        while segmentStart < tail.endIndex, Self.isSpace(tail[segmentStart]) { segmentStart += 1 }
        return tail[segmentStart...].starts(with: Array(tag.utf8))
    }

    /// The qualified name of the first element (after the XML declaration, comments, processing instructions and
    /// DOCTYPE).
    static func rootElementName(_ body: ArraySlice<UInt8>) -> String? {
        let text = String(decoding: body, as: UTF8.self)
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "<") {
            rest = rest[open...]
            if rest.hasPrefix("<?") || rest.hasPrefix("<!") {
                let closer = rest.hasPrefix("<!--") ? "-->" : ">"
                guard let end = rest.range(of: closer) else { return nil }
                rest = rest[end.upperBound...]
                continue
            }
            let name = rest.dropFirst().prefix { !$0.isWhitespace && $0 != ">" && $0 != "/" }
            return name.isEmpty ? nil : String(name)
        }
        return nil
    }

    private static func rootIsEmptyElement(_ body: ArraySlice<UInt8>, root: String) -> Bool {
        let text = String(decoding: body, as: UTF8.self)
        guard let start = text.range(of: "<\(root)"), let end = text[start.upperBound...].firstIndex(of: ">") else {
            return false
        }
        return text[text.index(before: end)] == "/"
    }
}

/// Decides when an inbox file is ready to claim: its size and modification time unchanged across two looks at least
/// `settleNanoseconds` apart. Files that vanish are forgotten.
public struct StabilityTracker: Sendable {
    private struct Sighting: Sendable {
        var size: Int
        var modified: Int64
        var firstSeen: Int64
        /// When this exact size and mtime were first seen.
        var stableSince: Int64
    }

    public var settleNanoseconds: Int64
    private var sightings: [String: Sighting] = [:]

    public init(settleNanoseconds: Int64) {
        self.settleNanoseconds = settleNanoseconds
    }

    public enum Verdict: Hashable, Sendable {
        case ready
        /// Look again in (at least) this many nanoseconds.
        case wait(Int64)
    }

    /// Records a look at `file` at `now` (monotonic nanoseconds) and says whether it is ready. A file seen for the
    /// first time is ready at once when its mtime is already older than the settle time (`wallClock`: nanoseconds
    /// since the epoch), as after a partner's rename into the folder.
    public mutating func observe(_ file: InboxFile, now: Int64, wallClock: Int64) -> Verdict {
        if var sighting = self.sightings[file.path] {
            if sighting.size != file.size || sighting.modified != file.modified {
                sighting.size = file.size
                sighting.modified = file.modified
                sighting.stableSince = now
                self.sightings[file.path] = sighting
                return self.settleNanoseconds <= 0 ? .ready : .wait(self.settleNanoseconds)
            }
            let stableFor = now - sighting.stableSince
            return stableFor >= self.settleNanoseconds ? .ready : .wait(self.settleNanoseconds - stableFor)
        }
        self.sightings[file.path] = Sighting(size: file.size, modified: file.modified, firstSeen: now, stableSince: now)
        if self.settleNanoseconds <= 0 || wallClock - file.modified >= self.settleNanoseconds { return .ready }
        return .wait(self.settleNanoseconds)
    }

    /// How long (nanoseconds) the file has been watched.
    public func age(of path: String, now: Int64) -> Int64 {
        self.sightings[path].map { now - $0.firstSeen } ?? 0
    }

    public mutating func forget(_ path: String) {
        self.sightings[path] = nil
    }

    /// Forgets the paths in `folder` that are not in `present` (files claimed or removed elsewhere); sightings in
    /// other folders stay.
    public mutating func retain(only present: Set<String>, in folder: String) {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        self.sightings = self.sightings.filter { !$0.key.hasPrefix(prefix) || present.contains($0.key) }
    }
}
