/// Checks the segments of one transaction set against its schema: order, loops, use counts, and every element.
///
/// The structure is walked with a stack of loop frames. A segment is looked for from the current position forward
/// in the innermost loop, then as the start of a new iteration of that loop, then in each enclosing loop; mandatory
/// positions that are skipped on the way are reported missing. A segment found nowhere changes no state and is
/// reported as unrecognised, not in the set, out of sequence or over its maximum use. The validator keeps only the
/// frame stack and the errors, so it streams.
///
/// Everything on the path of a valid segment reads the schema's compiled tables through pointers and allocates
/// nothing; names and messages are looked up only when an error is reported.
final class TransactionSetValidator {
    private struct Frame {
        var loop: Int32
        /// Index (within the loop's children) of the child last used; it has a use count of at least 1.
        var index: Int32
        /// Where this frame's use counts start in `counts`.
        var countsStart: Int32
    }

    let schema: TransactionSetSchema
    private let compiled: CompiledSchema
    @exclusivity(unchecked) private var frames: [Frame] = []
    /// Use counts of the children of every open frame, frame after frame; `countsEnd` is where the top frame's end.
    /// Sized for the whole structure, which bounds any path of open loops.
    private let counts: UnsafeMutablePointer<Int32>
    @exclusivity(unchecked) private var countsEnd = 0
    @exclusivity(unchecked) private(set) var errors: [EDISyntaxError] = []
    private let isX12: Bool
    private let isVersion5: Bool
    /// How each byte counts in a text value, for this set's delimiters (see `ValueByte`).
    private let valueClasses = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)

    private enum ValueByte {
        static let character: UInt8 = 0
        static let digit: UInt8 = 1
        static let continuation: UInt8 = 2
        static let control: UInt8 = 3
        static let release: UInt8 = 4
        static let component: UInt8 = 5
    }

    deinit {
        self.valueClasses.deallocate()
        self.counts.deallocate()
    }

    init(schema: TransactionSetSchema) {
        self.schema = schema
        self.compiled = schema.compiled
        self.isX12 = schema.dialect == .x12
        self.isVersion5 = schema.version >= "005010"
        self.frames.reserveCapacity(8)
        self.counts = .allocate(capacity: max(1, schema.compiled.nodes.count))
        self.push(loop: 0)
    }

    /// Checks one segment (the header first, the trailer last); `position` counts the header as 1.
    func accept(_ segment: Segment, position: Int) {
        if position == 1 { self.prepareValueClasses(segment.storage) }
        let loop: Int32 = position == 1 ? 0 : self.place(segment, position: position)
        if let definition = self.compiled.segment(segment.tag) {
            self.checkElements(segment, definition, position: position, loop: loop)
        }
    }

    /// Reports the mandatory segments and loops that never came; call after the trailer (or when it is missing).
    func finish(trailer: Segment?, position: Int) {
        while let top = self.frames.last {
            self.reportMissing(
                frame: self.frames.count - 1,
                from: top.index + 1,
                to: nil,
                at: trailer,
                position: position
            )
            self.pop()
        }
    }

    private func prepareValueClasses(_ storage: SegmentStorage) {
        for byte in 0..<256 {
            let value: UInt8
            switch byte {
            case 0x30...0x39: value = ValueByte.digit
            case 0x80...0xBF: value = ValueByte.continuation
            case 0..<0x20, 0x7F: value = ValueByte.control
            default: value = ValueByte.character
            }
            self.valueClasses[byte] = value
        }
        self.valueClasses[Int(storage.component)] = ValueByte.component
        if storage.hasRelease { self.valueClasses[Int(storage.release)] = ValueByte.release }
    }

    // MARK: - Structure

    private func push(loop: Int32) {
        let childCount = Int(self.compiled.loops[Int(loop)].childCount)
        let start = self.countsEnd
        (self.counts + start).initialize(repeating: 0, count: childCount)
        self.counts[start] = 1
        self.countsEnd = start + childCount
        self.frames.append(Frame(loop: loop, index: 0, countsStart: Int32(start)))
    }

    private func pop() {
        let frame = self.frames.removeLast()
        self.countsEnd = Int(frame.countsStart)
    }

    /// Moves the structure state to `segment`, reporting what was skipped; returns the loop it landed in.
    private func place(_ segment: Segment, position: Int) -> Int32 {
        let tag = segment.tag.rawValue
        let nodes = self.compiled.nodes
        let loops = self.compiled.loops
        var overMaximum: (frame: Int, child: Int)?
        var level = self.frames.count - 1
        while level >= 0 {
            let frame = self.frames[level]
            let loop = loops[Int(frame.loop)]
            let first = Int(loop.firstChild)
            let countsStart = Int(frame.countsStart)
            var child = Int(frame.index)
            while child < Int(loop.childCount) {
                let node = nodes[first + child]
                if node.tag == tag {
                    if self.counts[countsStart + child] < node.maximumUse {
                        self.use(level: level, child: child, segment: segment, position: position)
                        return self.frames[self.frames.count - 1].loop
                    }
                    if overMaximum == nil { overMaximum = (level, child) }
                }
                child += 1
            }
            // A new iteration of the loop this frame stands for.
            if level > 0 && loop.firstTag == tag {
                let parent = self.frames[level - 1]
                let loopChild = Int(parent.index)
                let node = nodes[Int(loops[Int(parent.loop)].firstChild) + loopChild]
                if self.counts[Int(parent.countsStart) + loopChild] < node.maximumUse {
                    self.use(level: level - 1, child: loopChild, segment: segment, position: position)
                    return self.frames[self.frames.count - 1].loop
                }
                // The loop itself is full: that, not its first segment's single use, is the error.
                if overMaximum == nil || (overMaximum!.frame == level && overMaximum!.child == 0) {
                    overMaximum = (level - 1, loopChild)
                }
            }
            level -= 1
        }
        self.reportUnplaced(segment, position: position, overMaximum: overMaximum)
        return self.frames[self.frames.count - 1].loop
    }

    /// Uses child `child` of the frame at `level`: pops deeper frames, reports skipped mandatory children, counts the
    /// use and enters the loop when the child is one.
    private func use(level: Int, child: Int, segment: Segment, position: Int) {
        while self.frames.count - 1 > level {
            let top = self.frames.count - 1
            self.reportMissing(frame: top, from: self.frames[top].index + 1, to: nil, at: segment, position: position)
            self.pop()
        }
        let from = self.frames[level].index + 1
        if child >= from {
            self.reportMissing(frame: level, from: from, to: Int32(child), at: segment, position: position)
        }
        self.frames[level].index = Int32(child)
        self.counts[Int(self.frames[level].countsStart) + child] += 1
        let node = self.compiled.nodes[Int(self.compiled.loops[Int(self.frames[level].loop)].firstChild) + child]
        if node.loop >= 0 {
            self.push(loop: node.loop)
        }
    }

    private func reportMissing(frame level: Int, from: Int32, to: Int32?, at segment: Segment?, position: Int) {
        let frame = self.frames[level]
        let loop = self.compiled.loops[Int(frame.loop)]
        let end = to ?? loop.childCount
        guard from < end else { return }
        var child = Int(self.compiled.nextMandatory[Int(loop.firstChild) + Int(from)])
        while child < Int(end) {
            defer {
                child =
                    child + 1 < Int(loop.childCount)
                    ? Int(self.compiled.nextMandatory[Int(loop.firstChild) + child + 1]) : Int(loop.childCount)
            }
            let node = self.compiled.nodes[Int(loop.firstChild) + child]
            guard self.counts[Int(frame.countsStart) + child] == 0 else { continue }
            let tag = SegmentTag(rawValue: node.tag)
            let what = node.loop >= 0 ? "mandatory loop \(tag)" : "mandatory segment \(tag)"
            let loopName = self.compiled.loopIdentifiers[Int(frame.loop)]
            var location = self.location(segment, position: position)
            location.segmentTag = tag.description
            location.loopIdentifier = level > 0 ? loopName : nil
            self.errors.append(
                EDISyntaxError(
                    .mandatorySegmentMissing,
                    level: .segment,
                    "\(what)\(level > 0 ? " in loop \(loopName)" : "") is missing"
                        + (segment.map { " before \($0.tagText)" } ?? ""),
                    at: location,
                    ackCodes: AckCodes(ak502: "5", ak304: "3", ik304: "3", contrl0085: "13", contrlLevel: "UCS")
                )
            )
        }
    }

    private func reportUnplaced(_ segment: Segment, position: Int, overMaximum: (frame: Int, child: Int)?) {
        var location = self.location(segment, position: position)
        location.loopIdentifier = self.loopName(self.frames.count - 1)
        let tag = segment.tag
        let code: EDISyntaxError.Code
        let message: String
        let ak304: String
        let contrl: String
        if let overMaximum {
            let frame = self.frames[overMaximum.frame]
            let node = self.compiled.nodes[
                Int(self.compiled.loops[Int(frame.loop)].firstChild) + overMaximum.child
            ]
            let nodeTag = SegmentTag(rawValue: node.tag)
            if node.loop >= 0 {
                code = .loopOverMaximum
                message = "loop \(nodeTag) occurs more than \(node.maximumUse) times"
                ak304 = "4"
                contrl = "36"
            } else {
                code = .segmentOverMaximum
                message = "segment \(nodeTag) is used more than \(node.maximumUse) times here"
                ak304 = "5"
                contrl = "35"
            }
        } else if !tag.isWellFormed {
            code = .unrecognizedSegment
            message = "\"\(segment.tagText)\" is not a segment identifier"
            ak304 = "1"
            contrl = "14"
        } else if !self.compiled.structureTags.contains(tag.rawValue) {
            code = .segmentNotInSet
            message =
                "segment \(segment.tagText) is not part of transaction set \(self.schema.identifier)"
                + " \(self.schema.version)"
            ak304 = self.schema.segments[tag] == nil && self.isX12 ? "1" : "6"
            contrl = "15"
        } else {
            code = .segmentOutOfSequence
            message = "segment \(segment.tagText) is not allowed here (out of sequence)"
            ak304 = "7"
            contrl = "15"
        }
        self.errors.append(
            EDISyntaxError(
                code,
                level: .segment,
                message,
                at: location,
                ackCodes: AckCodes(ak502: "5", ak304: ak304, ik304: ak304, contrl0085: contrl, contrlLevel: "UCS")
            )
        )
    }

    private func loopName(_ level: Int) -> String? {
        level > 0 ? self.compiled.loopIdentifiers[Int(self.frames[level].loop)] : nil
    }

    private func location(_ segment: Segment?, position: Int) -> Location {
        guard let segment else { return Location(byteOffset: 0, segmentPosition: position) }
        return Location(
            byteOffset: segment.byteOffset,
            line: segment.line,
            column: segment.column,
            fileSegmentIndex: segment.index,
            segmentPosition: position,
            segmentTag: segment.tagText
        )
    }

    // MARK: - Elements

    /// What is wrong with one value; the message is made only when the problem is reported.
    private enum Problem: Equatable {
        case missing, tooManyElements, tooManyRepetitions, tooManyComponents, componentInSimpleElement
        case notNumber, badDate, badTime
        case controlCharacter(UInt8)
        case digitInAlphabetic, badCode, tooShort, tooLong
    }

    private func checkElements(
        _ segment: Segment,
        _ definition: CompiledSchema.Segment,
        position: Int,
        loop: Int32
    ) {
        let storage = segment.storage
        let bytes = storage.bytes
        let fields = storage.fields
        let written = storage.fieldCount - 1
        let defined = Int(definition.elementCount)
        let elements = self.compiled.elements
        let repetition: UInt8? = storage.hasRepetition ? storage.repetition : nil
        let release: UInt8? = storage.hasRelease ? storage.release : nil
        var present: UInt64 = 0
        var elementPosition = 1
        while elementPosition <= max(written, defined) {
            defer { elementPosition += 1 }
            let range =
                elementPosition <= written
                ? Int(fields[elementPosition - 1]) + 1..<Int(fields[elementPosition]) : 0..<0
            if !range.isEmpty { present |= 1 << UInt64(min(elementPosition, 63)) }
            guard elementPosition <= defined else {
                if !range.isEmpty {
                    self.report(.tooManyElements, segment, position, loop, elementPosition, nil, range, definition)
                }
                continue
            }
            let element = elements[Int(definition.elementStart) + elementPosition - 1]
            if range.isEmpty {
                if element.isMandatory {
                    self.report(.missing, segment, position, loop, elementPosition, nil, range, definition)
                }
                continue
            }
            if let repetition, Self.find(repetition, in: range, bytes, release) != nil {
                var repetitions = Element(storage: storage, range: range).split(on: repetition)
                if repetitions.count > Int(element.maximumRepetitions) {
                    self.report(.tooManyRepetitions, segment, position, loop, elementPosition, nil, range, definition)
                    repetitions.removeLast(repetitions.count - Int(element.maximumRepetitions))
                }
                for valueRange in repetitions {
                    self.checkOccurrence(valueRange, element, segment, position, loop, elementPosition, definition)
                }
            } else {
                self.checkOccurrence(range, element, segment, position, loop, elementPosition, definition)
            }
        }
        for index in 0..<Int(definition.ruleCount) {
            let rule = self.compiled.rules[Int(definition.ruleStart) + index]
            let presentBits = present & rule.mask
            let isViolated: Bool
            switch rule.kind {
            case .paired: isViolated = presentBits != 0 && presentBits != rule.mask
            case .required: isViolated = presentBits == 0
            case .exclusion: isViolated = presentBits.nonzeroBitCount > 1
            case .conditional: isViolated = present & rule.firstBit != 0 && presentBits != rule.mask
            case .listConditional: isViolated = present & rule.firstBit != 0 && presentBits == rule.firstBit
            }
            if isViolated { self.report(rule, segment, position, loop) }
        }
    }

    /// Checks one occurrence of an element (a simple value or a composite), in one pass over its bytes.
    private func checkOccurrence(
        _ valueRange: Range<Int>,
        _ element: CompiledSchema.Element,
        _ segment: Segment,
        _ position: Int,
        _ loop: Int32,
        _ elementPosition: Int,
        _ definition: CompiledSchema.Segment
    ) {
        let storage = segment.storage
        let bytes = storage.bytes
        let release: UInt8? = storage.hasRelease ? storage.release : nil
        let component = storage.component
        guard element.type == .composite else {
            if let problem = self.checkValue(valueRange, element, bytes, release, component: component) {
                let componentPosition: Int? = problem == .componentInSimpleElement && !self.isX12 ? 2 : nil
                self.report(
                    problem,
                    segment,
                    position,
                    loop,
                    elementPosition,
                    componentPosition,
                    valueRange,
                    definition
                )
            }
            return
        }
        let elements = self.compiled.elements
        let componentCount = Int(element.componentCount)
        var start = valueRange.lowerBound
        var index = 0
        while true {
            // The next component ends at an unreleased separator or at the end of the element.
            var end = start
            while end < valueRange.upperBound {
                let byte = bytes[end]
                if byte == release {
                    end += 2
                    continue
                }
                if byte == component { break }
                end += 1
            }
            end = min(end, valueRange.upperBound)
            let componentRange = start..<end
            if index < componentCount {
                let componentElement = elements[Int(element.componentStart) + index]
                if componentRange.isEmpty {
                    if componentElement.isMandatory {
                        self.report(
                            .missing,
                            segment,
                            position,
                            loop,
                            elementPosition,
                            index + 1,
                            componentRange,
                            definition
                        )
                    }
                } else if let problem = self.checkValue(
                    componentRange,
                    componentElement,
                    bytes,
                    release,
                    component: nil
                ) {
                    self.report(
                        problem,
                        segment,
                        position,
                        loop,
                        elementPosition,
                        index + 1,
                        componentRange,
                        definition
                    )
                }
            } else if !componentRange.isEmpty || end < valueRange.upperBound {
                self.report(
                    .tooManyComponents,
                    segment,
                    position,
                    loop,
                    elementPosition,
                    componentCount + 1,
                    valueRange,
                    definition
                )
                return
            }
            index += 1
            if end >= valueRange.upperBound { break }
            start = end + 1
        }
        while index < componentCount {
            if elements[Int(element.componentStart) + index].isMandatory {
                let empty = valueRange.upperBound..<valueRange.upperBound
                self.report(.missing, segment, position, loop, elementPosition, index + 1, empty, definition)
            }
            index += 1
        }
    }

    /// Finds `byte` in `range`, skipping released characters.
    private static func find(
        _ byte: UInt8,
        in range: Range<Int>,
        _ bytes: UnsafeMutablePointer<UInt8>,
        _ release: UInt8?
    ) -> Int? {
        var index = range.lowerBound
        while index < range.upperBound {
            let current = bytes[index]
            if current == release {
                index += 2
                continue
            }
            if current == byte { return index }
            index += 1
        }
        return nil
    }

    /// Checks one value; `component` is the component separator, which a simple element may not hold.
    private func checkValue(
        _ range: Range<Int>,
        _ element: CompiledSchema.Element,
        _ bytes: UnsafeMutablePointer<UInt8>,
        _ release: UInt8?,
        component: UInt8?
    ) -> Problem? {
        let value = UnsafeBufferPointer(start: bytes + range.lowerBound, count: range.count)
        var length = 0
        switch element.type {
        case .decimal, .numeric:
            var digits = 0
            var points = 0
            let allowsPoint = element.type == .decimal || !self.isX12
            for offset in 0..<value.count {
                let byte = value[offset]
                if byte >= 0x30 && byte <= 0x39 {
                    digits += 1
                } else if byte == UInt8(ascii: "-") && offset == 0 {
                    continue
                } else if allowsPoint && points == 0
                    && (byte == UInt8(ascii: ".") || (!self.isX12 && byte == UInt8(ascii: ",")))
                {
                    points += 1
                } else {
                    return Self.holdsComponent(value, component, release) ? .componentInSimpleElement : .notNumber
                }
            }
            if digits == 0 { return .notNumber }
            length = digits
        case .date:
            if !DateTimeRules.isValidDate(value) {
                return Self.holdsComponent(value, component, release) ? .componentInSimpleElement : .badDate
            }
            length = value.count
        case .time:
            if !DateTimeRules.isValidTime(value) {
                return Self.holdsComponent(value, component, release) ? .componentInSimpleElement : .badTime
            }
            length = value.count
        default:
            let classes = self.valueClasses
            let isAlphabetic = element.type == .alphabetic
            var index = 0
            while index < value.count {
                let byteClass = classes[Int(value[index])]
                index += 1
                switch byteClass {
                case ValueByte.character:
                    length += 1
                case ValueByte.digit:
                    if isAlphabetic { return .digitInAlphabetic }
                    length += 1
                case ValueByte.continuation:
                    break  // characters count, not UTF-8 continuation bytes
                case ValueByte.release:
                    index += 1  // the released character is data
                    length += 1
                case ValueByte.component:
                    if component != nil { return .componentInSimpleElement }
                    length += 1
                default:
                    return .controlCharacter(value[index - 1])
                }
            }
            if element.codes >= 0 && !self.compiled.contains(value, codeList: element.codes) {
                return .badCode
            }
        }
        if length < Int(element.minimumLength) { return .tooShort }
        if element.maximumLength > 0 && length > Int(element.maximumLength) { return .tooLong }
        return nil
    }

    private static func holdsComponent(
        _ value: UnsafeBufferPointer<UInt8>,
        _ component: UInt8?,
        _ release: UInt8?
    ) -> Bool {
        guard let component else { return false }
        var escaped = false
        for byte in value {
            if !escaped && byte == release {
                escaped = true
                continue
            }
            if !escaped && byte == component { return true }
            escaped = false
        }
        return false
    }

    /// Turns a problem into a located error with its acknowledgement codes (the slow path).
    private func report(
        _ problem: Problem,
        _ segment: Segment,
        _ position: Int,
        _ loop: Int32,
        _ elementPosition: Int,
        _ component: Int?,
        _ range: Range<Int>,
        _ compiledSegment: CompiledSchema.Segment
    ) {
        let definition = self.schema.segments[segment.tag]
        var element =
            elementPosition <= (definition?.elements.count ?? 0) ? definition?.elements[elementPosition - 1] : nil
        if let component, let parent = element, component <= parent.components.count {
            element = parent.components[component - 1]
        }
        let name = element?.name ?? "\(segment.tagText)\(elementPosition < 10 ? "0" : "")\(elementPosition)"
        let storage = segment.storage
        let quoted = "\"" + Element(storage: storage, range: range).text + "\""
        let code: EDISyntaxError.Code
        let message: String
        var ak403: String
        var ik403: String? = nil
        let contrl: String
        var badData: String? = Element(storage: storage, range: range).text
        switch problem {
        case .missing:
            code = .mandatoryElementMissing
            message = "mandatory \(component == nil ? "element" : "component") \(name) is missing"
            (ak403, contrl) = ("1", "13")
            badData = nil
        case .tooManyElements:
            code = .tooManyElements
            message =
                "\(segment.tagText) has \(compiledSegment.elementCount) elements; element \(elementPosition) is extra"
            (ak403, contrl) = ("3", "16")
        case .tooManyRepetitions:
            code = .tooManyRepetitions
            let maximum = element?.maximumRepetitions ?? 1
            message = "element \(name) " + (maximum == 1 ? "is not repeatable" : "repeats more than \(maximum) times")
            (ak403, ik403, contrl) = (self.isVersion5 ? "12" : "3", "12", "35")
        case .tooManyComponents:
            code = .tooManyComponents
            let parent = definition?.elements[elementPosition - 1]
            message =
                "composite \(parent?.name ?? name) has \(parent?.components.count ?? 0) components, more are written"
            (ak403, ik403, contrl) = (self.isVersion5 ? "13" : "3", "13", "16")
        case .componentInSimpleElement:
            code = .tooManyComponents
            if self.isX12 {
                message = "element \(name) is not a composite but holds the component separator"
                (ak403, ik403, contrl) = (self.isVersion5 ? "13" : "6", "13", "16")
            } else {
                message = "element \(name) is not a composite but has components"
                (ak403, contrl) = ("3", "16")
            }
        case .notNumber:
            code = .invalidNumber
            let isDecimal = element?.type == .decimal || !self.isX12
            message = "\(quoted) is not \(isDecimal ? "a decimal number" : "a whole number") (\(name))"
            (ak403, contrl) = ("6", "37")
        case .badDate:
            code = .invalidDate
            message = "\(quoted) is not a date, CCYYMMDD (\(name))"
            (ak403, contrl) = ("8", "12")
        case .badTime:
            code = .invalidTime
            message = "\(quoted) is not a time, HHMM[SS] (\(name))"
            (ak403, contrl) = ("9", "12")
        case .controlCharacter(let byte):
            code = .invalidCharacter
            message = "\(name) holds a control character (0x\(String(byte, radix: 16)))"
            (ak403, contrl) = ("6", "21")
        case .digitInAlphabetic:
            code = .invalidCharacter
            message = "\(quoted) is alphabetic data and may not hold digits (\(name))"
            (ak403, contrl) = ("6", "37")
        case .badCode:
            code = .invalidCodeValue
            message = "\(quoted) is not a valid \(name) code"
            (ak403, contrl) = ("7", "12")
        case .tooShort:
            code = .elementTooShort
            message = "\(quoted) is shorter than \(element?.minimumLength ?? 0) (\(name))"
            (ak403, contrl) = ("4", "40")
        case .tooLong:
            code = .elementTooLong
            message = "\(quoted) is longer than \(element?.maximumLength ?? 0) (\(name))"
            (ak403, contrl) = ("5", "39")
        }
        let byteOffset =
            problem == .missing && elementPosition > storage.fieldCount - 1
            ? segment.byteOffset + storage.byteCount : segment.byteOffset + range.lowerBound
        self.errors.append(
            EDISyntaxError(
                code,
                level: .element,
                message,
                at: Location(
                    byteOffset: byteOffset,
                    line: segment.line,
                    column: segment.column,
                    fileSegmentIndex: segment.index,
                    segmentPosition: position,
                    segmentTag: segment.tagText,
                    loopIdentifier: loop > 0 ? self.compiled.loopIdentifiers[Int(loop)] : nil,
                    elementPosition: elementPosition,
                    componentPosition: component
                ),
                ackCodes: AckCodes(
                    ak502: "5",
                    ak304: "8",
                    ak403: ak403,
                    ik304: "8",
                    ik403: ik403 ?? ak403,
                    contrl0085: contrl,
                    contrlLevel: "UCD"
                ),
                badData: badData
            )
        )
    }

    /// Reports a violated X12 syntax note (997 AK403 2 for a conditional element missing, 10 for an exclusion).
    private func report(_ rule: CompiledSchema.Rule, _ segment: Segment, _ position: Int, _ loop: Int32) {
        let storage = segment.storage
        let written = storage.fieldCount - 1
        func isPresent(_ index: Int) -> Bool {
            let elementPosition = rule.position(index)
            guard elementPosition <= written else { return false }
            return storage.fields[elementPosition] > storage.fields[elementPosition - 1] + 1
        }
        let positions = (0..<rule.count).map(rule.position)
        let present = (0..<rule.count).map(isPresent)
        let offending: [Int]
        switch rule.kind {
        case .paired: offending = positions.indices.filter { !present[$0] }.map { positions[$0] }
        case .required: offending = [positions[0]]
        case .exclusion: offending = [positions.indices.filter { present[$0] }.map { positions[$0] }[1]]
        case .conditional: offending = positions.indices.dropFirst().filter { !present[$0] }.map { positions[$0] }
        case .listConditional: offending = [positions[1]]
        }
        let isExclusion = rule.kind == .exclusion
        let tag = segment.tagText
        func name(_ position: Int) -> String { tag + (position < 10 ? "0\(position)" : "\(position)") }
        let names = positions.map(name)
        let note = String(rule.kind.rawValue) + positions.map { $0 < 10 ? "0\($0)" : "\($0)" }.joined()
        for elementPosition in offending {
            let message: String
            switch rule.kind {
            case .paired:
                message =
                    "\(name(elementPosition)) is required: \(names.joined(separator: " and ")) go together (\(note))"
            case .required: message = "one of \(names.joined(separator: ", ")) is required (\(note))"
            case .exclusion: message = "only one of \(names.joined(separator: ", ")) may be used (\(note))"
            case .conditional: message = "\(name(elementPosition)) is required when \(names[0]) is present (\(note))"
            case .listConditional:
                message =
                    "one of \(names.dropFirst().joined(separator: ", ")) is required when \(names[0]) is present"
                    + " (\(note))"
            }
            let range = storage.range(ofElement: elementPosition)
            self.errors.append(
                EDISyntaxError(
                    isExclusion ? .exclusionViolated : .conditionalElementMissing,
                    level: .element,
                    message,
                    at: Location(
                        byteOffset: segment.byteOffset + (range?.lowerBound ?? storage.byteCount),
                        line: segment.line,
                        column: segment.column,
                        fileSegmentIndex: segment.index,
                        segmentPosition: position,
                        segmentTag: tag,
                        loopIdentifier: loop > 0 ? self.compiled.loopIdentifiers[Int(loop)] : nil,
                        elementPosition: elementPosition
                    ),
                    ackCodes: AckCodes(
                        ak502: "5",
                        ak304: "8",
                        ak403: isExclusion ? "10" : "2",
                        ik304: "8",
                        ik403: isExclusion ? "10" : "2",
                        contrl0085: "13",
                        contrlLevel: "UCD"
                    )
                )
            )
        }
    }
}
