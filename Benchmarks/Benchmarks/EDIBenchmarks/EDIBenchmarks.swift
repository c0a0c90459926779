// Throughput of EDISyntax on the 100 MB synthetic order files (Benchmarks/.data/, made by Benchmarks/run.sh):
//   - the C memchr splitter (the baseline: memchr for the terminator, then for the element separator),
//   - SegmentTokenizer.countSegments() over the same bytes (BufferByteSource),
//   - EDIReader drained (tokenizer + envelope checks), to split the cost between the layers,
//   - full validation: EDIValidator().validate(EDIReader(...)), streaming.
// Every case works on the file already in memory; loading it is not measured. Each iteration also records the
// custom metrics "MB/s" (file bytes / the iteration's wall time, in MB = 10^6 bytes) and "MB/s (CPU)" (the same over
// the thread's CPU time, which a busy machine disturbs less: every case is single-threaded).
//
// Run: swift package --package-path Benchmarks benchmark   (or Benchmarks/run.sh, which also makes the data)

import Benchmark
import CSplitter
import EDISyntax

#if canImport(Glibc)
import Glibc
#endif

/// Where the data files are: $EDI_BENCH_DATA, else Benchmarks/.data beside this package.
private let dataDirectory: String = {
    if let path = getenv("EDI_BENCH_DATA") { return String(cString: path) }
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Benchmarks/EDIBenchmarks/EDIBenchmarks.swift
    return parts.joined(separator: "/") + "/.data"
}()

private func load(_ name: String) -> [UInt8] {
    let path = dataDirectory + "/" + name
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
        fatalError("cannot open \(path): run Benchmarks/run.sh (it generates the data) or set EDI_BENCH_DATA")
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { fatalError("cannot stat \(path)") }
    let size = Int(info.st_size)
    return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
        var done = 0
        while done < size {
            let n = read(fd, buffer.baseAddress! + done, size - done)
            if n <= 0 { fatalError("short read on \(path)") }
            done += n
        }
        count = size
    }
}

/// One input file and its delimiters (for the C splitter).
private struct Input: Sendable {
    let label: String
    let file: String
    let terminator: UInt8
    let element: UInt8
}

private let inputs = [
    Input(label: "X12 850", file: "x12_850_100mb.edi", terminator: UInt8(ascii: "~"), element: UInt8(ascii: "*")),
    Input(label: "EDIFACT ORDERS", file: "edifact_orders_100mb.edi", terminator: UInt8(ascii: "'"), element: UInt8(ascii: "+")),
]

/// The files, read on first use (a benchmark process only loads what the benchmarks it runs need).
private final class DataCache: @unchecked Sendable {
    private var files: [String: [UInt8]] = [:]
    private let lock = NSLockish()
    func bytes(_ input: Input) -> [UInt8] {
        self.lock.withLock {
            if let bytes = self.files[input.file] { return bytes }
            let bytes = load(input.file)
            self.files[input.file] = bytes
            return bytes
        }
    }
}

/// A pthread mutex (Foundation is not imported).
private final class NSLockish: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&self.mutex, nil) }
    deinit { pthread_mutex_destroy(&self.mutex) }
    func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&self.mutex)
        defer { pthread_mutex_unlock(&self.mutex) }
        return body()
    }
}

private let cache = DataCache()

private let megabytesPerSecond = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)
private let megabytesPerCPUSecond = BenchmarkMetric.custom(
    "MB/s (CPU)",
    polarity: .prefersLarger,
    useScalingFactor: false
)

private func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Runs `body` once, timed, and records MB/s (wall clock and CPU time) for `byteCount` bytes.
@inline(__always)
private func timed(_ benchmark: Benchmark, byteCount: Int, _ body: () throws -> Void) rethrows {
    let clock = ContinuousClock()
    let start = clock.now
    let cpuStart = threadCPUSeconds()
    try body()
    let cpuSeconds = threadCPUSeconds() - cpuStart
    let elapsed = start.duration(to: clock.now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    benchmark.measurement(megabytesPerSecond, Int((Double(byteCount) / 1e6 / seconds).rounded()))
    benchmark.measurement(megabytesPerCPUSecond, Int((Double(byteCount) / 1e6 / cpuSeconds).rounded()))
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [
        megabytesPerSecond, megabytesPerCPUSecond, .wallClock, .cpuTotal, .peakMemoryResident, .peakMemoryResidentDelta,
        .mallocCountTotal,
    ]
    func configuration(iterations: Int) -> Benchmark.Configuration {
        .init(
            metrics: metrics,
            timeUnits: .milliseconds,
            warmupIterations: 1,
            maxDuration: .seconds(60),
            maxIterations: iterations
        )
    }

    for input in inputs {
        Benchmark("\(input.label) 100MB: C memchr splitter", configuration: configuration(iterations: 20)) { benchmark in
            let bytes = cache.bytes(input)
            benchmark.startMeasurement()
            timed(benchmark, byteCount: bytes.count) {
                let counts = bytes.withUnsafeBufferPointer {
                    csplitter_count($0.baseAddress, $0.count, input.terminator, input.element)
                }
                blackHole(counts.segments &+ counts.elements)
            }
        } setup: {
            _ = cache.bytes(input)
        }

        Benchmark("\(input.label) 100MB: SegmentTokenizer.countSegments", configuration: configuration(iterations: 10)) {
            benchmark in
            let bytes = cache.bytes(input)
            benchmark.startMeasurement()
            try timed(benchmark, byteCount: bytes.count) {
                let tokenizer = SegmentTokenizer(source: BufferByteSource(bytes))
                let counts = try tokenizer.countSegments()
                blackHole(counts.segments &+ counts.elements)
            }
        } setup: {
            _ = cache.bytes(input)
        }

        Benchmark("\(input.label) 100MB: EDIReader drained", configuration: configuration(iterations: 5)) { benchmark in
            let bytes = cache.bytes(input)
            benchmark.startMeasurement()
            try timed(benchmark, byteCount: bytes.count) {
                let reader = EDIReader(source: BufferByteSource(bytes))
                var events = 0
                while let _ = try reader.next() { events &+= 1 }
                blackHole(events)
            }
        } setup: {
            _ = cache.bytes(input)
        }

        Benchmark("\(input.label) 100MB: EDIValidator full validation", configuration: configuration(iterations: 5)) {
            benchmark in
            let bytes = cache.bytes(input)
            benchmark.startMeasurement()
            try timed(benchmark, byteCount: bytes.count) {
                var sets = 0
                var errors = 0
                let segments = try EDIValidator().validate(EDIReader(source: BufferByteSource(bytes))) { event in
                    switch event {
                    case .transactionSet(let set):
                        sets &+= 1
                        errors &+= set.errors.count
                    case .inputError: errors &+= 1
                    case .group(let group): errors &+= group.errors.count
                    case .interchange(let interchange): errors &+= interchange.errors.count
                    }
                }
                blackHole(segments &+ sets &+ errors)
            }
        } setup: {
            _ = cache.bytes(input)
        }
    }
}
