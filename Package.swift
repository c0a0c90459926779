// swift-tools-version: 6.2
//
// Ordergate: a B2B order gateway and order-management daemon. The targets follow ../shared/DESIGN.md; a target
// may import only targets listed above it in that table. Benchmarks live in their own package (Benchmarks/) so
// that building and testing the product never compiles the benchmark harness.
import PackageDescription

let package = Package(
    name: "ordergate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ordergate", targets: ["ordergate"]),
        .library(name: "EDISyntax", targets: ["EDISyntax"]),
        .library(name: "XMLSyntax", targets: ["XMLSyntax"]),
        .library(name: "OrderModel", targets: ["OrderModel"]),
        .library(name: "OrderMapping", targets: ["OrderMapping"]),
        .library(name: "OrderRules", targets: ["OrderRules"]),
        .library(name: "OrderStore", targets: ["OrderStore"]),
        .library(name: "Spool", targets: ["Spool"]),
        .library(name: "Gateway", targets: ["Gateway"]),
        .library(name: "GatewayHTTP", targets: ["GatewayHTTP"]),
        .library(name: "Delivery", targets: ["Delivery"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLinux"),
        .target(
            name: "EDISyntax",
            exclude: ["Schemas"]
        ),
        .target(
            name: "XMLSyntax",
            dependencies: ["CLibXML2"]
        ),
        .target(name: "OrderModel"),
        .target(name: "OrderRules", dependencies: ["OrderModel"]),
        .target(
            name: "OrderMapping",
            dependencies: [
                "EDISyntax", "XMLSyntax", "OrderModel",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "OrderStore",
            dependencies: [
                "OrderModel", "OrderRules",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(name: "Spool", dependencies: [.target(name: "CLinux", condition: .when(platforms: [.linux]))]),
        .target(
            name: "Gateway",
            dependencies: [
                "EDISyntax", "XMLSyntax", "OrderModel", "OrderMapping", "OrderRules", "OrderStore", "Spool", "Delivery",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // libcurl: the HTTP client, the delivery of outbound documents to partners' endpoints (per-partner lanes,
        // retries) and the polling of partners who publish theirs (the API tests call the server with it too).
        .target(
            name: "Delivery",
            dependencies: [
                "CCurl", "OrderStore", "OrderMapping",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP API (Hummingbird): tokens, the order feed, inbound documents, holds, health and metrics.
        .target(
            name: "GatewayHTTP",
            dependencies: [
                "Gateway", "OrderModel", "OrderStore", "OrderMapping", "Delivery", "CLibXML2",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ordergate",
            dependencies: [
                "EDISyntax", "XMLSyntax", "OrderModel", "OrderMapping", "OrderStore", "Gateway", "GatewayHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "EDISyntaxTests",
            dependencies: ["EDISyntax"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "XMLSyntaxTests",
            dependencies: ["XMLSyntax"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "OrderRulesTests", dependencies: ["OrderRules", "OrderModel"]),
        .testTarget(
            name: "OrderModelTests",
            dependencies: ["OrderModel"]
        ),
        .testTarget(
            name: "OrderMappingTests",
            dependencies: ["OrderMapping", "OrderModel", "EDISyntax", "XMLSyntax"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "OrderStoreTests",
            dependencies: ["OrderStore", "OrderModel", "OrderRules", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "SpoolTests",
            dependencies: ["Spool"]
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: ["Gateway", "OrderStore", "Spool", "OrderMapping", "OrderModel", "OrderRules", "EDISyntax"],
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "GatewayHTTPTests",
            dependencies: [
                "GatewayHTTP", "Gateway", "Delivery", "OrderStore", "EDISyntax",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DeliveryTests",
            dependencies: [
                "Delivery", "OrderStore", "OrderMapping", "Gateway", "EDISyntax",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "OrdergateCLITests",
            dependencies: ["EDISyntax"]
        ),
        .testTarget(
            name: "SystemLibrariesTests",
            dependencies: ["CLibXML2", "CCurl"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
