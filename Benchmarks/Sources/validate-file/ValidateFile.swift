// validate-file PATH: streams one file through EDIValidator via FileDescriptorByteSource and prints what it found,
// the throughput and the process's peak RSS. Benchmarks/run.sh runs it under `/usr/bin/time -v` on a 1 GB X12 file
// to show that streaming validation runs in bounded memory whatever the size of the input.
// validate-file --tokenize PATH: only SegmentTokenizer.countSegments() over the same source (for profiling with
// `perf record`, and to compare with the in-memory benchmark).
// validate-file --tokenize-memory PATH: the file in memory, the C memchr splitter and SegmentTokenizer.countSegments()
// taking turns, seven rounds; prints the best MB/s of each (a quick check between runs of Benchmarks/run.sh).

import CSplitter
import EDISyntax

#if canImport(Glibc)
import Glibc
#endif

@main
struct ValidateFile {
    static func main() throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--tokenize-memory", arguments.count == 2 {
            try compareInMemory(path: arguments[1])
            return
        }
        let tokenizeOnly = arguments.first == "--tokenize"
        if tokenizeOnly { arguments.removeFirst() }
        guard arguments.count == 1 else {
            printError("usage: validate-file [--tokenize | --tokenize-memory] PATH")
            exit(64)
        }
        let path = arguments[0]
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            printError("validate-file: cannot open \(path): \(String(cString: strerror(errno)))")
            exit(66)
        }
        defer { close(fd) }

        let clock = ContinuousClock()
        let start = clock.now
        if tokenizeOnly {
            let tokenizer = SegmentTokenizer(source: FileDescriptorByteSource(fileDescriptor: fd))
            let counts = try tokenizer.countSegments()
            let elapsed = start.duration(to: clock.now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("file:      \(path)")
            print("bytes:     \(tokenizer.bytesConsumed)")
            print("segments:  \(counts.segments)")
            print("elements:  \(counts.elements)")
            print("seconds:   \(format(seconds, 3))")
            print("MB/s:      \(format(Double(tokenizer.bytesConsumed) / 1e6 / seconds, 1))")
            return
        }
        let reader = EDIReader(source: FileDescriptorByteSource(fileDescriptor: fd))
        var sets = 0
        var rejectedSets = 0
        var errors = 0
        var firstErrors: [String] = []
        func note(_ list: [EDISyntaxError]) {
            errors += list.count
            for error in list where firstErrors.count < 5 { firstErrors.append("\(error.code): \(error)") }
        }
        let segments = try EDIValidator().validate(reader) { event in
            switch event {
            case .transactionSet(let set):
                sets += 1
                if !set.isAccepted { rejectedSets += 1 }
                note(set.errors)
            case .group(let group): note(group.errors)
            case .interchange(let interchange): note(interchange.errors)
            case .inputError(let error): note([error])
            }
        }
        let elapsed = start.duration(to: clock.now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let bytes = reader.bytesConsumed

        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let peakMB = Double(usage.ru_maxrss) / 1024  // ru_maxrss is in KiB on Linux

        print("file:      \(path)")
        print("bytes:     \(bytes)")
        print("segments:  \(segments)")
        print("sets:      \(sets) (\(rejectedSets) rejected)")
        print("errors:    \(errors)")
        for line in firstErrors { print("  \(line)") }
        print("seconds:   \(format(seconds, 2))")
        print("MB/s:      \(format(Double(bytes) / 1e6 / seconds, 1))")
        print("peak RSS:  \(format(peakMB, 1)) MiB (getrusage)")
        exit(errors == 0 ? 0 : 1)
    }

    /// Writes a line to standard error (the C `stderr` global is not concurrency-safe in Swift 6).
    static func printError(_ message: String) {
        var line = message + "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    static func format(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        if let dot = text.firstIndex(of: ".") {
            let fraction = text[text.index(after: dot)...].count
            if fraction < decimals { text += String(repeating: "0", count: decimals - fraction) }
        }
        return text
    }

    /// Best-of-seven MB/s of the C splitter and of the tokenizer over the file in memory, in alternating rounds.
    private static func compareInMemory(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            printError("validate-file: cannot open \(path)")
            exit(66)
        }
        var info = stat()
        fstat(fd, &info)
        let size = Int(info.st_size)
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var done = 0
            while done < size {
                let n = read(fd, buffer.baseAddress! + done, size - done)
                if n <= 0 { break }
                done += n
            }
            count = done
        }
        close(fd)
        // The C splitter takes its delimiters as given: those of gen_orders.py's X12 and EDIFACT files.
        let isX12 = bytes.starts(with: Array("ISA".utf8))
        let terminator = isX12 ? UInt8(ascii: "~") : UInt8(ascii: "'")
        let element = isX12 ? UInt8(ascii: "*") : UInt8(ascii: "+")
        let clock = ContinuousClock()
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let start = clock.now
            try body()
            let elapsed = start.duration(to: clock.now)
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        var bestC = Double.infinity
        var bestSwift = Double.infinity
        var splitter = csplitter_counts(segments: 0, elements: 0)
        var counts = (segments: 0, elements: 0)
        for _ in 0..<7 {
            bestC = min(
                bestC,
                seconds {
                    splitter = bytes.withUnsafeBufferPointer {
                        csplitter_count($0.baseAddress, $0.count, terminator, element)
                    }
                }
            )
            bestSwift = min(
                bestSwift,
                try seconds { counts = try SegmentTokenizer(source: BufferByteSource(bytes)).countSegments() }
            )
        }
        // The counts differ: the C splitter counts a UNA service string as a segment and takes released delimiters
        // (`?+`, `?'`) for real ones.
        print("file:                \(path)")
        print(
            "segments, elements:  \(counts.segments), \(counts.elements) (C splitter: \(splitter.segments), \(splitter.elements))"
        )
        print("C memchr splitter:   \(format(Double(size) / 1e6 / bestC, 1)) MB/s")
        print("SegmentTokenizer:    \(format(Double(size) / 1e6 / bestSwift, 1)) MB/s")
    }
}
