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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(
            name: "EDISyntax",
            exclude: ["Schemas"]
        ),
        .target(
            name: "XMLSyntax",
            dependencies: ["CLibXML2"]
        ),
        .target(name: "OrderModel"),
        .target(
            name: "OrderMapping",
            dependencies: [
                "EDISyntax", "XMLSyntax", "OrderModel",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "ordergate",
            dependencies: [
                "EDISyntax", "XMLSyntax", "OrderModel", "OrderMapping",
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
