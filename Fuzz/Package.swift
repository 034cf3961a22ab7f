// swift-tools-version:6.1
// libFuzzer targets for rmt-convert's parsers of untrusted bytes. Not part of the main package, so `swift build`
// and `make test` never compile them; `make fuzz` builds this package with `-sanitize=fuzzer,address`
// and runs every target for FUZZ_SECONDS with a seed corpus made from fixtures/ (tools/fuzz.sh).
import PackageDescription

// Each target defines `LLVMFuzzerTestOneInput`; libFuzzer supplies `main`.
let fuzzTargets = [
    "FuzzSafetensorsHeader", "FuzzNPYHeader", "FuzzZipDirectory", "FuzzUnpickler", "FuzzConfig", "FuzzShardIndex",
]

let package = Package(
    name: "rmt-convert-fuzz",
    // `name:` pins the identity: the main package's folder is named differently in every checkout.
    dependencies: [.package(name: "rmt-convert", path: "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "ConvertKit", package: "rmt-convert")])
    ]
        + fuzzTargets.map {
            .executableTarget(
                name: $0, dependencies: ["FuzzSupport", .product(name: "ConvertKit", package: "rmt-convert")])
        }
)
