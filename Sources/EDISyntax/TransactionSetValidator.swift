/// Checks the segments of one transaction set against its schema: order, loops, use counts, and every element.
///
/// The structure is walked with a stack of loop frames. A segment is looked for from the current position forward
/// in the innermost loop, then as the start of a new iteration of that loop, then in each enclosing loop; mandatory
/// positions that are skipped on the way are reported missing. A segment found nowhere changes no state and is
/// reported as unrecognised, not in the set, out of sequence or over its maximum use. The validator keeps only the
/// frame stack (a few entries) and the errors, so it streams.
struct TransactionSetValidator {
    private struct Frame {
        var loop: LoopDefinition
        /// Index of the child last used; it always has a use count of at least 1.
        var index: Int
        var counts: [Int]
    }

    let schema: TransactionSetSchema
    private var frames: [Frame] = []
    private var depth = 0
    private(set) var errors: [EDISyntaxError] = []
    private let isX12: Bool
    private let isVersion5: Bool

    init(schema: TransactionSetSchema) {
        self.schema = schema
        self.isX12 = schema.dialect == .x12
        self.isVersion5 = schema.version >= "005010"
        self.push(schema.structure)
    }

    /// Checks one segment (the header first, the trailer last); `position` counts the header as 1.
    mutating func accept(_ segment: Segment, position: Int) {
        let loopIdentifier: String?
        if position == 1 {
            loopIdentifier = nil  // the header is the root's first child, counted when the root was pushed
        } else {
            loopIdentifier = self.place(segment, position: position)
        }
        if let definition = self.schema.segments[segment.tag] {
            ElementChecker(
                definition: definition,
                isX12: self.isX12,
                isVersion5: self.isVersion5
            ).check(segment, position: position, loop: loopIdentifier, into: &self.errors)
        }
    }

    /// Reports the mandatory segments and loops that never came; call after the trailer (or when it is missing).
    mutating func finish(trailer: Segment?, position: Int) {
        while self.depth > 0 {
            self.reportMissing(
                inFrame: self.depth - 1,
                from: self.frames[self.depth - 1].index + 1,
                to: nil,
                at: trailer,
                position: position
            )
            self.depth -= 1
        }
    }

    // MARK: - Structure

    private mutating func push(_ loop: LoopDefinition) {
        if self.depth < self.frames.count {
            self.frames[self.depth].loop = loop
            self.frames[self.depth].index = 0
            self.frames[self.depth].counts.removeAll(keepingCapacity: true)
            self.frames[self.depth].counts.append(contentsOf: repeatElement(0, count: loop.children.count))
            self.frames[self.depth].counts[0] = 1
        } else {
            var counts = [Int](repeating: 0, count: loop.children.count)
            counts[0] = 1
            self.frames.append(Frame(loop: loop, index: 0, counts: counts))
        }
        self.depth += 1
    }

    /// Moves the structure state to `segment`, reporting what was skipped; returns the loop it landed in.
    private mutating func place(_ segment: Segment, position: Int) -> String? {
        let tag = segment.tag
        var overMaximum: (frame: Int, child: Int)?
        var level = self.depth - 1
        while level >= 0 {
            let frame = self.frames[level]
            let children = frame.loop.children
            var child = frame.index
            while child < children.count {
                if children[child].tag == tag {
                    if frame.counts[child] < children[child].maximumUse {
                        self.use(level: level, child: child, segment: segment, position: position)
                        return self.loopIdentifier(level: self.depth - 1)
                    }
                    overMaximum = overMaximum ?? (level, child)
                }
                child += 1
            }
            // A new iteration of the loop this frame stands for.
            if level > 0 && frame.loop.firstTag == tag {
                let parent = self.frames[level - 1]
                let loopChild = parent.index
                if parent.counts[loopChild] < parent.loop.children[loopChild].maximumUse {
                    self.popFrames(above: level - 1, at: segment, position: position)
                    self.use(level: level - 1, child: loopChild, segment: segment, position: position)
                    return self.loopIdentifier(level: self.depth - 1)
                }
                // The loop itself is full: that, not its first segment's single use, is the error.
                if overMaximum == nil || (overMaximum!.frame == level && overMaximum!.child == 0) {
                    overMaximum = (level - 1, loopChild)
                }
            }
            level -= 1
        }
        self.reportUnplaced(segment, position: position, overMaximum: overMaximum)
        return self.loopIdentifier(level: self.depth - 1)
    }

    /// Uses child `child` of the frame at `level`: pops deeper frames, reports skipped mandatory children, counts the
    /// use and enters the loop when the child is one.
    private mutating func use(level: Int, child: Int, segment: Segment, position: Int) {
        self.popFrames(above: level, at: segment, position: position)
        let frameIndex = level
        let from = self.frames[frameIndex].index + 1
        if child >= from {
            self.reportMissing(inFrame: frameIndex, from: from, to: child, at: segment, position: position)
        }
        self.frames[frameIndex].index = child
        self.frames[frameIndex].counts[child] += 1
        if case .loop(let loop) = self.frames[frameIndex].loop.children[child] {
            self.push(loop)
        }
    }

    private mutating func popFrames(above level: Int, at segment: Segment, position: Int) {
        while self.depth - 1 > level {
            let top = self.depth - 1
            self.reportMissing(inFrame: top, from: self.frames[top].index + 1, to: nil, at: segment, position: position)
            self.depth -= 1
        }
    }

    private mutating func reportMissing(inFrame level: Int, from: Int, to: Int?, at segment: Segment?, position: Int) {
        let frame = self.frames[level]
        let children = frame.loop.children
        let end = to ?? children.count
        guard from < end else { return }
        for child in from..<end where frame.counts[child] == 0 && children[child].isMandatory {
            let node = children[child]
            let what: String
            if case .loop = node {
                what = "mandatory loop \(node.tag)"
            } else {
                what = "mandatory segment \(node.tag)"
            }
            let context = level > 0 ? " in loop \(frame.loop.identifier)" : ""
            var location = self.location(segment, position: position)
            location.segmentTag = node.tag.description
            location.loopIdentifier = level > 0 ? frame.loop.identifier : nil
            self.errors.append(
                EDISyntaxError(
                    .mandatorySegmentMissing,
                    level: .segment,
                    "\(what)\(context) is missing" + (segment.map { " before \($0.tagText)" } ?? ""),
                    at: location,
                    ackCodes: AckCodes(
                        ak502: "5",
                        ak304: "3",
                        ik304: "3",
                        contrl0085: "13",
                        contrlLevel: "UCS"
                    )
                )
            )
        }
    }

    private mutating func reportUnplaced(
        _ segment: Segment,
        position: Int,
        overMaximum: (frame: Int, child: Int)?
    ) {
        var location = self.location(segment, position: position)
        location.loopIdentifier = self.loopIdentifier(level: self.depth - 1)
        let tag = segment.tag
        let code: EDISyntaxError.Code
        let message: String
        let ak304: String
        let contrl: String
        if let overMaximum {
            let node = self.frames[overMaximum.frame].loop.children[overMaximum.child]
            if case .loop = node {
                code = .loopOverMaximum
                message = "loop \(node.tag) occurs more than \(node.maximumUse) times"
                ak304 = "4"
                contrl = "36"
            } else {
                code = .segmentOverMaximum
                message = "segment \(node.tag) is used more than \(node.maximumUse) times here"
                ak304 = "5"
                contrl = "35"
            }
        } else if !tag.isWellFormed {
            code = .unrecognizedSegment
            message = "\"\(segment.tagText)\" is not a segment identifier"
            ak304 = "1"
            contrl = "14"
        } else if !self.schema.tagsInStructure.contains(tag) {
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

    private func loopIdentifier(level: Int) -> String? {
        level > 0 ? self.frames[level].loop.identifier : nil
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
}

/// Checks the elements of one segment against its definition, on the segment's bytes.
struct ElementChecker {
    let definition: SegmentDefinition
    let isX12: Bool
    let isVersion5: Bool

    func check(_ segment: Segment, position: Int, loop: String?, into errors: inout [EDISyntaxError]) {
        let storage = segment.storage
        let definitions = self.definition.elements
        let count = segment.elementCount
        storage.bytes.withUnsafeBufferPointer { bytes in
            for elementPosition in 1...max(1, max(count, definitions.count)) {
                let range = storage.range(ofElement: elementPosition) ?? 0..<0
                func report(
                    _ code: EDISyntaxError.Code,
                    _ message: String,
                    component: Int? = nil,
                    ak403: String,
                    ik403: String? = nil,
                    contrl: String,
                    data: Range<Int>? = nil
                ) {
                    var location = Location(
                        byteOffset: segment.byteOffset + range.lowerBound,
                        line: segment.line,
                        column: segment.column,
                        fileSegmentIndex: segment.index,
                        segmentPosition: position,
                        segmentTag: segment.tagText,
                        loopIdentifier: loop,
                        elementPosition: elementPosition,
                        componentPosition: component
                    )
                    if elementPosition > count && code == .mandatoryElementMissing {
                        location.byteOffset = segment.byteOffset + storage.bytes.count
                    }
                    let badData = data.map { Element(storage: storage, range: $0).text }
                    errors.append(
                        EDISyntaxError(
                            code,
                            level: .element,
                            message,
                            at: location,
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
                guard elementPosition <= definitions.count else {
                    if !range.isEmpty {
                        report(
                            .tooManyElements,
                            "\(self.definition.tag) has \(definitions.count) elements; element \(elementPosition)"
                                + " is extra",
                            ak403: "3",
                            contrl: "16",
                            data: range
                        )
                    }
                    continue
                }
                let element = definitions[elementPosition - 1]
                if range.isEmpty {
                    if element.isMandatory {
                        report(
                            .mandatoryElementMissing,
                            "mandatory element \(element.name) is missing",
                            ak403: "1",
                            contrl: "13"
                        )
                    }
                    continue
                }
                var repetitionRanges = [range]
                if storage.hasRepetition, self.firstOccurrence(of: storage.repetition, in: range, bytes, storage) != nil
                {
                    repetitionRanges = Element(storage: storage, range: range).split(on: storage.repetition)
                    if repetitionRanges.count > element.maximumRepetitions {
                        report(
                            .tooManyRepetitions,
                            "element \(element.name) "
                                + (element.maximumRepetitions == 1
                                    ? "is not repeatable" : "repeats more than \(element.maximumRepetitions) times"),
                            ak403: self.isVersion5 ? "12" : "3",
                            ik403: "12",
                            contrl: "35",
                            data: range
                        )
                        repetitionRanges = Array(repetitionRanges.prefix(element.maximumRepetitions))
                    }
                }
                for valueRange in repetitionRanges {
                    if element.type == .composite {
                        let ranges = Element(storage: storage, range: valueRange).componentRanges
                        for (offset, component) in element.components.enumerated() {
                            let componentRange =
                                offset < ranges.count ? ranges[offset] : valueRange.upperBound..<valueRange.upperBound
                            if componentRange.isEmpty {
                                if component.isMandatory {
                                    report(
                                        .mandatoryElementMissing,
                                        "mandatory component \(component.name) is missing",
                                        component: offset + 1,
                                        ak403: "1",
                                        contrl: "13"
                                    )
                                }
                                continue
                            }
                            if let problem = self.checkValue(componentRange, component, bytes, release: storage) {
                                report(
                                    problem.code,
                                    problem.message,
                                    component: offset + 1,
                                    ak403: problem.ak403,
                                    contrl: problem.contrl,
                                    data: componentRange
                                )
                            }
                        }
                        if ranges.count > element.components.count,
                            ranges[element.components.count...].contains(where: { !$0.isEmpty })
                        {
                            report(
                                .tooManyComponents,
                                "composite \(element.name) has \(element.components.count) components,"
                                    + " \(ranges.count) are written",
                                component: element.components.count + 1,
                                ak403: self.isVersion5 ? "13" : "3",
                                ik403: "13",
                                contrl: "16",
                                data: valueRange
                            )
                        }
                        continue
                    }
                    if self.firstOccurrence(of: storage.component, in: valueRange, bytes, storage) != nil {
                        if self.isX12 {
                            report(
                                .tooManyComponents,
                                "element \(element.name) is not a composite but holds the component separator",
                                ak403: self.isVersion5 ? "13" : "6",
                                ik403: "13",
                                contrl: "16",
                                data: valueRange
                            )
                        } else {
                            report(
                                .tooManyComponents,
                                "element \(element.name) is not a composite but has components",
                                component: 2,
                                ak403: "3",
                                contrl: "16",
                                data: valueRange
                            )
                        }
                        continue
                    }
                    if let problem = self.checkValue(valueRange, element, bytes, release: storage) {
                        report(
                            problem.code,
                            problem.message,
                            ak403: problem.ak403,
                            contrl: problem.contrl,
                            data: valueRange
                        )
                    }
                }
            }
            for rule in self.definition.rules {
                self.check(rule, segment: segment, position: position, loop: loop, into: &errors)
            }
        }
    }

    /// Checks an X12 syntax note (997 AK403 2 for a conditional element missing, 10 for an exclusion).
    private func check(
        _ rule: SyntaxRule,
        segment: Segment,
        position: Int,
        loop: String?,
        into errors: inout [EDISyntaxError]
    ) {
        let present = rule.positions.map { !(segment.storage.range(ofElement: $0)?.isEmpty ?? true) }
        let presentCount = present.filter { $0 }.count
        var offending: [Int] = []
        var isExclusion = false
        switch rule.kind {
        case .paired:
            if presentCount > 0 && presentCount < present.count {
                offending = rule.positions.indices.filter { !present[$0] }.map { rule.positions[$0] }
            }
        case .required:
            if presentCount == 0 { offending = [rule.positions[0]] }
        case .exclusion:
            if presentCount > 1 {
                offending = [rule.positions.indices.filter { present[$0] }.map { rule.positions[$0] }[1]]
                isExclusion = true
            }
        case .conditional:
            if present[0] {
                offending = rule.positions.indices.dropFirst().filter { !present[$0] }.map { rule.positions[$0] }
            }
        case .listConditional:
            if present[0] && presentCount == 1 { offending = [rule.positions[1]] }
        }
        let tag = segment.tagText
        let names = rule.positions.map { tag + ($0 < 10 ? "0\($0)" : "\($0)") }
        for elementPosition in offending {
            let name = tag + (elementPosition < 10 ? "0\(elementPosition)" : "\(elementPosition)")
            let message: String
            switch rule.kind {
            case .paired: message = "\(name) is required: \(names.joined(separator: " and ")) go together (\(rule))"
            case .required: message = "one of \(names.joined(separator: ", ")) is required (\(rule))"
            case .exclusion: message = "only one of \(names.joined(separator: ", ")) may be used (\(rule))"
            case .conditional: message = "\(name) is required when \(names[0]) is present (\(rule))"
            case .listConditional:
                message =
                    "one of \(names.dropFirst().joined(separator: ", ")) is required when \(names[0]) is present"
                    + " (\(rule))"
            }
            let range = segment.storage.range(ofElement: elementPosition)
            errors.append(
                EDISyntaxError(
                    isExclusion ? .exclusionViolated : .conditionalElementMissing,
                    level: .element,
                    message,
                    at: Location(
                        byteOffset: segment.byteOffset + (range?.lowerBound ?? segment.storage.bytes.count),
                        line: segment.line,
                        column: segment.column,
                        fileSegmentIndex: segment.index,
                        segmentPosition: position,
                        segmentTag: tag,
                        loopIdentifier: loop,
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

    private struct Problem {
        var code: EDISyntaxError.Code
        var message: String
        var ak403: String
        var contrl: String
    }

    /// Finds `byte` in `range`, skipping released characters.
    private func firstOccurrence(
        of byte: UInt8,
        in range: Range<Int>,
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ storage: SegmentStorage
    ) -> Int? {
        var index = range.lowerBound
        while index < range.upperBound {
            let current = bytes[index]
            if storage.hasRelease && current == storage.release {
                index += 2
                continue
            }
            if current == byte { return index }
            index += 1
        }
        return nil
    }

    private func checkValue(
        _ range: Range<Int>,
        _ element: ElementDefinition,
        _ bytes: UnsafeBufferPointer<UInt8>,
        release storage: SegmentStorage
    ) -> Problem? {
        let value = UnsafeBufferPointer(rebasing: bytes[range])
        var length = 0
        func quoted() -> String { "\"" + Element(storage: storage, range: range).text + "\"" }
        switch element.type {
        case .decimal, .numeric:
            var digits = 0
            var points = 0
            var valid = !value.isEmpty
            let allowsPoint = element.type == .decimal || !self.isX12
            for (offset, byte) in value.enumerated() {
                if byte >= 0x30 && byte <= 0x39 {
                    digits += 1
                } else if byte == UInt8(ascii: "-") && offset == 0 {
                    continue
                } else if allowsPoint && (byte == UInt8(ascii: ".") || (!self.isX12 && byte == UInt8(ascii: ",")))
                    && points == 0
                {
                    points += 1
                } else {
                    valid = false
                    break
                }
            }
            if !valid || digits == 0 {
                let kind = element.type == .decimal || !self.isX12 ? "a decimal number" : "a whole number"
                return Problem(
                    code: .invalidNumber,
                    message: "\(quoted()) is not \(kind) (\(element.name))",
                    ak403: "6",
                    contrl: "37"
                )
            }
            length = digits
        case .date:
            if !DateTimeRules.isValidDate(value) {
                return Problem(
                    code: .invalidDate,
                    message: "\(quoted()) is not a date, CCYYMMDD (\(element.name))",
                    ak403: "8",
                    contrl: "12"
                )
            }
            length = value.count
        case .time:
            if !DateTimeRules.isValidTime(value) {
                return Problem(
                    code: .invalidTime,
                    message: "\(quoted()) is not a time, HHMM[SS] (\(element.name))",
                    ak403: "9",
                    contrl: "12"
                )
            }
            length = value.count
        default:
            var escaped = false
            for byte in value {
                if storage.hasRelease && !escaped && byte == storage.release {
                    escaped = true
                    continue
                }
                escaped = false
                if byte & 0xC0 != 0x80 { length += 1 }  // count characters, not UTF-8 continuation bytes
                if byte < 0x20 || byte == 0x7F {
                    return Problem(
                        code: .invalidCharacter,
                        message: "\(element.name) holds a control character (0x\(String(byte, radix: 16)))",
                        ak403: "6",
                        contrl: "21"
                    )
                }
                if element.type == .alphabetic && byte >= 0x30 && byte <= 0x39 {
                    return Problem(
                        code: .invalidCharacter,
                        message: "\(quoted()) is alphabetic data and may not hold digits (\(element.name))",
                        ak403: "6",
                        contrl: "37"
                    )
                }
            }
            if let codes = element.codes, !codes.contains(String(decoding: value, as: UTF8.self)) {
                return Problem(
                    code: .invalidCodeValue,
                    message: "\(quoted()) is not a valid \(element.name) code",
                    ak403: "7",
                    contrl: "12"
                )
            }
        }
        if length < element.minimumLength {
            return Problem(
                code: .elementTooShort,
                message: "\(quoted()) is shorter than \(element.minimumLength) (\(element.name))",
                ak403: "4",
                contrl: "40"
            )
        }
        if element.maximumLength > 0 && length > element.maximumLength {
            return Problem(
                code: .elementTooLong,
                message: "\(quoted()) is longer than \(element.maximumLength) (\(element.name))",
                ak403: "5",
                contrl: "39"
            )
        }
        return nil
    }
}
