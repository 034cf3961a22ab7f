// Helpers for the model tests: fixture loading, an in-memory archive to tamper with, and error measurement.
import Checkpoints
import ConvertKit
import Foundation
import Models
import TensorCore
import TestSupport

/// A `TensorArchive` over tensors held in memory: the tiny checkpoints with keys renamed, removed or reshaped.
final class InMemoryArchive: TensorArchive {
    let path: String
    var format: CheckpointFormat { .safetensors }
    let tensorInfos: [TensorInfo]
    let aliases: [String: String]
    private let tensors: [String: Tensor]

    init(path: String = "memory.safetensors", _ entries: [(String, Tensor)], aliases: [String: String] = [:]) {
        self.path = path
        tensorInfos = entries.map { TensorInfo(name: $0.0, dtype: $0.1.dtype, shape: $0.1.shape) }
        tensors = Dictionary(entries, uniquingKeysWith: { a, _ in a })
        self.aliases = aliases
    }

    /// Every tensor of `archive`, transformed by `edit` (return nil to drop one).
    convenience init(copying archive: any TensorArchive, edit: (String, Tensor) throws -> (String, Tensor)?) throws {
        var entries: [(String, Tensor)] = []
        for name in archive.tensorNames {
            if let e = try edit(name, try archive.tensor(named: name)) { entries.append(e) }
        }
        self.init(entries)
    }

    func tensor(named name: String) throws -> Tensor {
        guard let t = tensors[aliases[name] ?? name] else {
            throw CheckpointError(.tensorNotFound, file: path, tensor: name, "tensor `\(name)` not found")
        }
        return t
    }
}

extension TensorArchive {
    /// Every (name, tensor) in file order.
    func entries() throws -> [(String, Tensor)] { try tensorNames.map { ($0, try tensor(named: $0)) } }
}

enum ModelFixtures {
    /// `fixtures/models/<name>`.
    static func checkpoint(_ name: String) throws -> Checkpoint { try Checkpoint.open(Fixtures.path("models/\(name)")) }

    /// The parsed `config.json` of a tiny model.
    static func config(_ name: String) throws -> JSONValue {
        try JSONValue.parse(
            String(decoding: try Fixtures.bytes(Fixtures.path("models/\(name)/config.json")), as: UTF8.self))
    }

    /// Inputs of `fixtures/expected/<name>`.
    static func inputs(_ name: String) throws -> ModelInputs {
        try RunInputs.read(bundle: Fixtures.path("expected/\(name)/inputs.safetensors"))
    }

    /// One reference output of `fixtures/expected/<name>`.
    static func expected(_ name: String, _ output: String) throws -> Tensor {
        try SafetensorsArchive(path: Fixtures.path("expected/\(name)/expected.safetensors")).tensor(named: output)
    }

    /// Loads `archive` with the config of tiny model `configOf`.
    static func load(_ archive: any TensorArchive, configOf name: String, as architecture: ModelArchitecture) throws
        -> (model: any RunnableModel, report: LoadReport)
    {
        try ModelLoader.load(
            config: try config(name), configFile: "\(name)/config.json", archive: archive, architecture: architecture)
    }
}

/// The max abs error between an output and its reference, infinite when shapes differ.
func maxError(_ actual: Tensor, _ expected: Tensor) throws -> Float {
    guard actual.shape == expected.shape else { return .infinity }
    return maxAbsError(try actual.floatValues(), try expected.floatValues()) ?? .infinity
}

extension Array where Element == NamedOutput {
    subscript(_ name: String) -> Tensor? { first { $0.name == name }?.tensor }
}

/// Deterministic pseudo-random floats in [-1, 1) (SplitMix64).
struct SeededNumbers {
    var state: UInt64
    /// The next 64 random bits.
    mutating func nextBits() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next() -> Float { Float(nextBits() >> 40) / Float(1 << 23) - 1 }
    mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}
