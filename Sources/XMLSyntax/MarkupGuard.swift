/// A small state machine over the raw input bytes, run on every chunk before libxml2 parses it.
///
/// It recognises just enough markup (start tags, end tags, comments, CDATA sections, processing instructions and the
/// DOCTYPE, with quoted values) to do three things libxml2 cannot do for us:
///
/// - count the attributes of a start tag before libxml2 sees it: libxml2 2.9 checks duplicate attributes pairwise, so
///   one start tag with 100 000 attributes (1 MB) costs it 45 seconds; the guard stops at `maximumAttributes`;
/// - see an internal DTD subset (`<!DOCTYPE r [`) before any declaration in it is parsed, whatever it declares;
/// - record the line and column of every start tag's `<`, which libxml2 does not keep (its parser runs up to a few
///   kilobytes ahead of the reader, and element nodes keep only a 16-bit line).
///
/// It works on code points below 0x80 only: single-byte and UTF-8 encodings byte by byte (bytes of multibyte
/// characters are never below 0x80 there), UTF-16 by 16-bit unit. Encodings it cannot follow (UCS-4, EBCDIC,
/// ISO-2022 escape sequences) are refused, since an unguarded stream reopens the attribute blow-up.
///
/// In a well-formed document every `<` outside comments, CDATA, processing instructions and quoted DOCTYPE parts
/// starts a tag, so the guard's n-th start tag is the reader's n-th element; in a malformed document the guard may
/// see things differently, but libxml2 then refuses the document anyway.
struct MarkupGuard {
    /// A 1-based line and column (in characters).
    struct Position: Hashable, Sendable {
        var line: Int
        var column: Int
    }

    /// Why the guard stopped the input.
    enum Violation: Hashable, Sendable {
        case tooManyAttributes(Position, limit: Int)
        case internalSubset(Position, name: String)
        case unsupportedEncoding(String)
    }

    private enum Encoding: UInt8 {
        case undecided
        case singleByte
        case utf16LittleEndian
        case utf16BigEndian
    }

    private var encoding = Encoding.undecided
    private var signature: [UInt8] = []
    private var pendingByte: UInt8?
    private var scanner: Scanner
    private var startTags: [Position] = []
    private var startTagsHead = 0

    /// Where the DOCTYPE's `<` is, once the guard has seen it.
    var doctypePosition: Position? { self.scanner.doctypePosition }
    /// Set when the guard stopped the input; every later `scan` fails at once.
    private(set) var violation: Violation?

    init(maximumAttributes: Int) {
        self.scanner = Scanner(maximumAttributes: maximumAttributes)
    }

    /// The position of the next start tag that the reader has not claimed yet, in document order.
    mutating func nextStartTag() -> Position? {
        guard self.startTagsHead < self.startTags.count else { return nil }
        let position = self.startTags[self.startTagsHead]
        self.startTagsHead += 1
        if self.startTagsHead == self.startTags.count {
            self.startTags.removeAll(keepingCapacity: true)
            self.startTagsHead = 0
        } else if self.startTagsHead >= 4096 {
            self.startTags.removeFirst(self.startTagsHead)
            self.startTagsHead = 0
        }
        return position
    }

    /// Scans the next chunk of input; false when the input must be stopped (see `violation`).
    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard self.violation == nil else { return false }
        guard self.encoding == .undecided else { return self.scanUnits(bytes) }
        let needed = min(4 - self.signature.count, bytes.count)
        self.signature.append(contentsOf: bytes.prefix(needed))
        guard self.signature.count == 4 else { return true }
        let skip = self.decideEncoding()
        guard self.violation == nil else { return false }
        let signature = self.signature
        let decided = signature.withUnsafeBytes { self.scanUnits(UnsafeRawBufferPointer(rebasing: $0[skip...])) }
        return decided && self.scanUnits(UnsafeRawBufferPointer(rebasing: bytes[needed...]))
    }

    /// Picks the encoding from the first four bytes and returns how many of them are a byte order mark.
    private mutating func decideEncoding() -> Int {
        let s = self.signature
        switch (s[0], s[1], s[2], s[3]) {
        case (0x00, 0x00, _, _), (_, _, 0x00, 0x00), (0xFF, 0xFE, 0x00, 0x00):
            self.violation = .unsupportedEncoding("UCS-4 (32-bit) input is not supported")
        case (0x4C, 0x6F, 0xA7, 0x94):
            self.violation = .unsupportedEncoding("EBCDIC input is not supported")
        case (0xFE, 0xFF, _, _):
            self.encoding = .utf16BigEndian
            return 2
        case (0xFF, 0xFE, _, _):
            self.encoding = .utf16LittleEndian
            return 2
        case (0x00, 0x3C, 0x00, 0x3F):
            self.encoding = .utf16BigEndian
        case (0x3C, 0x00, 0x3F, 0x00):
            self.encoding = .utf16LittleEndian
        case (0xEF, 0xBB, 0xBF, _):
            self.encoding = .singleByte
            return 3
        default:
            self.encoding = .singleByte
        }
        return 0
    }

    private mutating func scanUnits(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // The scanner is copied into a local for the loop, so that its fields live in registers.
        var scanner = self.scanner
        defer { self.scanner = scanner }
        switch self.encoding {
        case .singleByte:
            if let violation = scanner.scanSingleBytes(bytes, startTags: &self.startTags) {
                self.violation = violation
                return false
            }
        case .utf16LittleEndian, .utf16BigEndian:
            let isLittleEndian = self.encoding == .utf16LittleEndian
            for byte in bytes {
                guard let first = self.pendingByte else {
                    self.pendingByte = byte
                    continue
                }
                self.pendingByte = nil
                let unit = isLittleEndian ? UInt16(byte) << 8 | UInt16(first) : UInt16(first) << 8 | UInt16(byte)
                switch scanner.step(unit < 0x80 ? UInt8(unit) : 0x80, isCharacter: unit & 0xFC00 != 0xDC00) {
                case .none: continue
                case .startTag: self.startTags.append(scanner.tagStart)
                case .violation(let violation):
                    self.violation = violation
                    return false
                }
            }
        case .undecided:
            break
        }
        return true
    }
}

/// The markup state machine proper, one code unit at a time.
private struct Scanner {
    enum Event {
        case none
        case startTag
        case violation(MarkupGuard.Violation)
    }

    fileprivate enum State: UInt8 {
        case content
        case open
        case bang
        case comment
        case cdata
        case processingInstruction
        case endTag
        case startTag
        case doctype
        case declaration
    }

    private static let comment = 1 as UInt8
    private static let cdata = 2 as UInt8
    private static let doctype = 4 as UInt8

    private let maximumAttributes: Int
    private var state = State.content
    private var quote: UInt8 = 0
    private var counter = 0
    private var candidates: UInt8 = 0
    private var line = 1
    private var column = 0
    private var afterCarriageReturn = false
    private var doctypeName: [UInt8] = []
    private var doctypeNameState: UInt8 = 0
    /// Where the last `<` is.
    private(set) var tagStart = MarkupGuard.Position(line: 1, column: 1)
    /// Where the DOCTYPE's `<` is, once seen.
    private(set) var doctypePosition: MarkupGuard.Position?

    init(maximumAttributes: Int) {
        self.maximumAttributes = maximumAttributes
    }

    /// How the hot loop treats each byte: 0 an ordinary character, 1 a UTF-8 continuation byte (no column), 2 a
    /// byte that matters to content, start tags or end tags (`<`, `>`, quotes, `=`, line ends, ESC).
    private static let byteClasses: [UInt8] = (0...255).map { byte in
        switch byte {
        case 0x3C, 0x3E, 0x22, 0x27, 0x3D, 0x0A, 0x0D, 0x1B: 2
        case 0x80...0xBF: 1
        default: 0
        }
    }

    /// Single-byte and UTF-8 input: the hot path. Content, start tags and end tags (nearly every byte of a
    /// document) are scanned by one tight loop on local copies of the state that skips ordinary bytes with a table
    /// lookup; the other states go through `step`.
    mutating func scanSingleBytes(
        _ bytes: UnsafeRawBufferPointer,
        startTags: inout [MarkupGuard.Position]
    ) -> MarkupGuard.Violation? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        let end = bytes.count
        var index = 0
        while index < end {
            switch self.state {
            case .content, .startTag, .endTag:
                let violation = Self.byteClasses.withUnsafeBufferPointer { classes in
                    self.scanMarkup(base, &index, end, classes.baseAddress!, &startTags)
                }
                if let violation { return violation }
            default:
                let byte = base[index]
                index += 1
                if byte == 0x1B { return .unsupportedEncoding("ISO-2022 escape sequences are not supported") }
                switch self.step(byte, isCharacter: byte & 0xC0 != 0x80) {
                case .none: break
                case .startTag: startTags.append(self.tagStart)
                case .violation(let violation): return violation
                }
            }
        }
        return nil
    }

    /// Scans content, start tags and end tags until the input ends or another state begins.
    @inline(__always)
    private mutating func scanMarkup(
        _ base: UnsafePointer<UInt8>,
        _ index: inout Int,
        _ end: Int,
        _ classes: UnsafePointer<UInt8>,
        _ startTags: inout [MarkupGuard.Position]
    ) -> MarkupGuard.Violation? {
        var position = index
        var line = self.line
        var column = self.column
        var afterCarriageReturn = self.afterCarriageReturn
        var state = self.state
        var quote = self.quote
        var counter = self.counter
        var violation: MarkupGuard.Violation?
        defer {
            index = position
            self.line = line
            self.column = column
            self.afterCarriageReturn = afterCarriageReturn
            self.state = state
            self.quote = quote
            self.counter = counter
        }
        scanning: while position < end {
            let byte = base[position]
            position += 1
            let byteClass = classes[Int(byte)]
            if byteClass < 2 {
                column &+= Int(1 &- byteClass)
                afterCarriageReturn = false
                continue
            }
            switch byte {
            case 0x0A:
                if !afterCarriageReturn { line += 1 }
                afterCarriageReturn = false
                column = 0
                continue
            case 0x0D:
                line += 1
                column = 0
                afterCarriageReturn = true
                continue
            case 0x1B:
                violation = .unsupportedEncoding("ISO-2022 escape sequences are not supported")
                break scanning
            default:
                afterCarriageReturn = false
                column &+= 1
            }
            switch state {
            case .content:
                if byte == 0x3C {
                    self.tagStart = MarkupGuard.Position(line: line, column: column)
                    // What follows `<` decides; a start tag is the common case and is handled here.
                    guard position < end else {
                        state = .open
                        break scanning
                    }
                    let next = base[position]
                    switch next {
                    case 0x2F:  // </
                        state = .endTag
                        position += 1
                        column &+= 1
                    case 0x21, 0x3F, 0x3E:
                        state = .open
                        break scanning
                    default:
                        state = .startTag
                        quote = 0
                        counter = 0
                        startTags.append(self.tagStart)
                    }
                }
            case .startTag:
                if quote != 0 {
                    if byte == quote { quote = 0 }
                } else if byte == 0x22 || byte == 0x27 {
                    quote = byte
                } else if byte == 0x3D {
                    counter += 1
                    if counter > self.maximumAttributes {
                        violation = .tooManyAttributes(self.tagStart, limit: self.maximumAttributes)
                        break scanning
                    }
                } else if byte == 0x3E {
                    state = .content
                }
            default:
                if byte == 0x3E { state = .content }
            }
        }
        return violation
    }

    /// One code unit: `code` is the character when below 0x80, or 0x80 for any other character.
    @inline(__always)
    mutating func step(_ code: UInt8, isCharacter: Bool) -> Event {
        if code <= 0x0D {
            if code == 0x0A {
                if !self.afterCarriageReturn { self.line += 1 }
                self.afterCarriageReturn = false
                self.column = 0
            } else if code == 0x0D {
                self.line += 1
                self.column = 0
                self.afterCarriageReturn = true
            } else {
                self.afterCarriageReturn = false
                self.column += 1
            }
        } else {
            self.afterCarriageReturn = false
            self.column &+= isCharacter ? 1 : 0
        }
        switch self.state {
        case .content:
            if code == 0x3C {  // <
                self.state = .open
                self.tagStart = MarkupGuard.Position(line: self.line, column: self.column)
            }
        case .startTag:
            if self.quote != 0 {
                if code == self.quote { self.quote = 0 }
            } else if code == 0x22 || code == 0x27 {
                self.quote = code
            } else if code == 0x3D {  // =
                self.counter += 1
                if self.counter > self.maximumAttributes {
                    return .violation(.tooManyAttributes(self.tagStart, limit: self.maximumAttributes))
                }
            } else if code == 0x3E {
                self.state = .content
            }
        case .endTag:
            if code == 0x3E { self.state = .content }
        case .open:
            return self.open(code)
        case .comment:
            if code == 0x2D {
                self.counter += 1
            } else {
                if code == 0x3E && self.counter >= 2 { self.state = .content }
                self.counter = 0
            }
        case .cdata:
            if code == 0x5D {  // ]
                self.counter += 1
            } else {
                if code == 0x3E && self.counter >= 2 { self.state = .content }
                self.counter = 0
            }
        case .processingInstruction:
            if code == 0x3E && self.counter == 1 { self.state = .content }
            self.counter = code == 0x3F ? 1 : 0
        case .bang:
            self.matchKeyword(code)
        case .doctype:
            return self.stepDoctype(code)
        case .declaration:
            self.stepDeclaration(code)
        }
        return .none
    }

    /// After `<`.
    private mutating func open(_ code: UInt8) -> Event {
        switch code {
        case 0x21:  // !
            self.state = .bang
            self.counter = 0
            self.candidates = Self.comment | Self.cdata | Self.doctype
        case 0x3F:  // ?
            self.state = .processingInstruction
            self.counter = 0
        case 0x2F:  // /
            self.state = .endTag
        default:
            self.state = code == 0x3E ? .content : .startTag
            self.counter = 0
            self.quote = 0
            return .startTag
        }
        return .none
    }

    /// After `<!`: tells a comment, a CDATA section and a DOCTYPE apart by their keyword.
    private mutating func matchKeyword(_ code: UInt8) {
        let index = self.counter
        var remaining: UInt8 = 0
        if self.candidates & Self.comment != 0 && index < 2 && code == 0x2D { remaining |= Self.comment }
        if self.candidates & Self.cdata != 0 && Self.byte(of: "[CDATA[", at: index) == code { remaining |= Self.cdata }
        if self.candidates & Self.doctype != 0 && Self.byte(of: "DOCTYPE", at: index) == code {
            remaining |= Self.doctype
        }
        self.counter = index + 1
        self.candidates = remaining
        if remaining == Self.comment && self.counter == 2 {
            self.state = .comment
            self.counter = 0
        } else if remaining == Self.cdata && self.counter == 7 {
            self.state = .cdata
            self.counter = 0
        } else if remaining == Self.doctype && self.counter == 7 {
            self.state = .doctype
            self.quote = 0
            self.doctypeName = []
            self.doctypeNameState = 0
            self.doctypePosition = self.tagStart
        } else if remaining == 0 {
            self.state = .declaration
            self.quote = 0
            self.stepDeclaration(code)
        }
    }

    private static func byte(of keyword: StaticString, at index: Int) -> UInt8? {
        index < keyword.utf8CodeUnitCount ? keyword.utf8Start[index] : nil
    }

    /// Inside `<!DOCTYPE`: any `[` outside quotes opens an internal subset.
    private mutating func stepDoctype(_ code: UInt8) -> Event {
        if self.quote != 0 {
            if code == self.quote { self.quote = 0 }
            return .none
        }
        switch code {
        case 0x22, 0x27:
            self.quote = code
            self.doctypeNameState = 2
        case 0x5B:  // [
            let name = String(decoding: self.doctypeName, as: UTF8.self)
            return .violation(.internalSubset(self.doctypePosition ?? self.tagStart, name: name))
        case 0x3E:
            self.state = .content
        case 0x20, 0x09, 0x0A, 0x0D:
            if self.doctypeNameState == 1 { self.doctypeNameState = 2 }
        default:
            if self.doctypeNameState < 2 {
                self.doctypeNameState = 1
                if self.doctypeName.count < 64 { self.doctypeName.append(code < 0x80 ? code : 0x3F) }
            }
        }
        return .none
    }

    /// Any other `<!` construct (not well-formed outside a DTD): skipped up to its `>`, quotes respected.
    private mutating func stepDeclaration(_ code: UInt8) {
        if self.quote != 0 {
            if code == self.quote { self.quote = 0 }
        } else if code == 0x22 || code == 0x27 {
            self.quote = code
        } else if code == 0x3E {
            self.state = .content
        }
    }
}

extension MarkupGuard {
    /// The error the reader throws for a violation.
    static func error(for violation: Violation?) -> XMLSyntaxError {
        switch violation {
        case .tooManyAttributes(let position, let limit):
            XMLSyntaxError(
                code: .tooManyAttributes,
                message: "an element has more than \(limit) attributes",
                line: position.line,
                column: position.column
            )
        case .internalSubset(let position, let name):
            XMLSyntaxError(
                code: .doctypeNotAllowed,
                message: "a DOCTYPE with an internal subset is not allowed (\(name))",
                line: position.line,
                column: position.column
            )
        case .unsupportedEncoding(let message):
            XMLSyntaxError(code: .malformed, message: message)
        case nil:
            XMLSyntaxError(code: .malformed, message: "the input was stopped")
        }
    }
}
