// swift-tools-version: 6.3
//
// Throughput benchmarks for EDISyntax. A package of its own so that building or testing the product never compiles
// the harness (or resolves ordo-one/benchmark). Run with `Benchmarks/run.sh`; results in Benchmarks/RESULTS.md.
//
// ordo-one/benchmark 1.38.1 declares `// swift-tools-version: 6.3` itself. Its default traits are
// ["MallocInterposer", "RuntimeInterposer"]; RuntimeInterposer pulls ordo-one/swift-runtime-interposer on Linux with
// Swift 6.3, which the local package mirror does not have. Naming the traits explicitly drops RuntimeInterposer
// (only ARC retain/release counting is lost) and keeps the malloc counters.
import PackageDescription

let package = Package(
    name: "EDIBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so that the product reference does not depend on the folder the repository was cloned into.
        .package(name: "ordergate", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The baseline: a plain memchr segment/element splitter in C.
        .target(name: "CSplitter"),
        // ordo-one/benchmark suite: C splitter vs SegmentTokenizer vs full validation on 100 MB files.
        .executableTarget(
            name: "EDIBenchmarks",
            dependencies: [
                "CSplitter",
                .product(name: "EDISyntax", package: "ordergate"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/EDIBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // ordo-one/benchmark suite: the business rules alone (OrderRules.evaluate), in order lines per second.
        .executableTarget(
            name: "RulesBenchmarks",
            dependencies: [
                .product(name: "OrderRules", package: "ordergate"),
                .product(name: "OrderModel", package: "ordergate"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RulesBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Streams one file through the Translator with a mappings folder: orders/s and MB/s; peak RSS under time -v.
        .executableTarget(
            name: "translate-file",
            dependencies: [
                .product(name: "EDISyntax", package: "ordergate"),
                .product(name: "OrderMapping", package: "ordergate"),
                .product(name: "OrderModel", package: "ordergate"),
                .product(name: "XMLSyntax", package: "ordergate"),
            ]
        ),
        // The writer's statements for an order (file row, order, lines, history) and its reservations, per order.
        .executableTarget(
            name: "store-orders",
            dependencies: [
                .product(name: "OrderModel", package: "ordergate"),
                .product(name: "OrderRules", package: "ordergate"),
                .product(name: "OrderStore", package: "ordergate"),
            ]
        ),
        // Streams one file through EDIValidator via FileDescriptorByteSource; run under /usr/bin/time -v for peak RSS.
        .executableTarget(
            name: "validate-file",
            dependencies: ["CSplitter", .product(name: "EDISyntax", package: "ordergate")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
