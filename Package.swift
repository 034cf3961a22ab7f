// swift-tools-version:6.1
import PackageDescription

// Imports point downward only (docs/ARCHITECTURE.md):
//   TensorCore ← Checkpoints ← KeyMaps ← HDF5Codec ← ConvertKit ← rmt-convert
//                              KeyMaps ← Models ← RMT ← ConvertKit
// KeyMaps is the name-rule mechanism; the families' names live in Models (BERT/, GPT2/).
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
        // System libraries: module.modulemap + shim.h each, no sources (docs/ARCHITECTURE.md, "System libraries").
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlibRaw", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Half-precision conversions with F16C and run-time CPU dispatch; no unsafe flags.
        .target(name: "CHalf"),
        // The models' pointwise and softmax loops, vectorised with AVX2 + FMA chosen at run time, OpenBLAS loaded
        // with dlopen at the first GEMM, and the checkpoint writers' CRC-32 (PCLMULQDQ, chosen at run time) and
        // write-back hint; no unsafe flags.
        .target(name: "CKernels", dependencies: ["CZlibRaw"]),
        // The SIGBUS handler that turns reads past the end of a truncated mapped input into an error (MappedFile).
        .target(name: "CMappedFileGuard"),
        .target(name: "TensorCore", dependencies: ["CHalf", "CMappedFileGuard"]),
        .target(name: "Checkpoints", dependencies: ["TensorCore", "CZlibRaw", "CKernels"]),
        .target(name: "KeyMaps", dependencies: ["TensorCore", "Checkpoints"]),
        .target(name: "HDF5Codec", dependencies: ["TensorCore", "Checkpoints", "KeyMaps", "CHDF5"]),
        // Model families (registry, names, typed loading) and the float32 BERT / GPT-2 forward pass over OpenBLAS.
        .target(name: "Models", dependencies: ["TensorCore", "Checkpoints", "KeyMaps", "CKernels"]),
        // The RMT kinds over GPT-2 / BERT and the whole RMT pipeline: load, run, loss, generate, wrap, save
        // (docs/RMT.md, docs/ARCHITECTURE.md).
        .target(name: "RMT", dependencies: ["TensorCore", "Checkpoints", "KeyMaps", "Models"]),
        .target(name: "TextTokenizers", dependencies: ["Checkpoints"]),
        .target(name: "ConvertKit", dependencies: ["TensorCore", "Checkpoints", "KeyMaps", "HDF5Codec", "Models", "RMT", "TextTokenizers"]),
        .executableTarget(name: "rmt-convert", dependencies: [
            "ConvertKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "TestSupport", dependencies: ["TensorCore", "Checkpoints"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "ConvertKit", "TestSupport"]),
        .testTarget(name: "RMTTests", dependencies: ["RMT", "Models", "ConvertKit", "Checkpoints", "TensorCore", "TestSupport"]),
        // RMT used as a library on its own: the test imports RMT alone.
        .testTarget(name: "RMTLibraryTests", dependencies: ["RMT"]),
        .testTarget(name: "CLITests", dependencies: ["ConvertKit", "TestSupport"]),
        .testTarget(name: "KeyMapsTests", dependencies: ["KeyMaps", "Models", "Checkpoints", "TestSupport"]),
        .testTarget(
            name: "HDF5CodecTests", dependencies: ["HDF5Codec", "CHDF5", "KeyMaps", "Models", "ConvertKit", "TestSupport"]),
        .testTarget(name: "TextTokenizersTests", dependencies: ["TextTokenizers", "ConvertKit", "TestSupport"]),
    ]
)
