// swift-tools-version:6.1
import PackageDescription

// Imports point downward only:
//   TensorCore ← Checkpoints ← HDF5Codec ← ConvertKit ← rmt-convert
// The model graph and RMT targets sit between Checkpoints and ConvertKit.
let package = Package(
    name: "rmt-convert",
    products: [
        .executable(name: "rmt-convert", targets: ["rmt-convert"]),
        .library(name: "ConvertKit", targets: ["ConvertKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries: module.modulemap + shim.h each, no sources (see shared SWIFT-NOTES.md).
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlibRaw", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Half-precision conversions with F16C and run-time CPU dispatch; no unsafe flags.
        .target(name: "CHalf"),
        .target(name: "TensorCore", dependencies: ["COpenBLAS", "CHalf"]),
        .target(name: "Checkpoints", dependencies: ["TensorCore", "CZlibRaw"]),
        .target(name: "TextTokenizers", dependencies: ["Checkpoints"]),
        .target(name: "ConvertKit", dependencies: ["TensorCore", "Checkpoints", "TextTokenizers"]),
        .executableTarget(name: "rmt-convert", dependencies: [
            "ConvertKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "TestSupport", dependencies: ["TensorCore", "Checkpoints"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["ConvertKit", "TestSupport"]),
        .testTarget(name: "TextTokenizersTests", dependencies: ["TextTokenizers", "ConvertKit", "TestSupport"]),
    ]
)
