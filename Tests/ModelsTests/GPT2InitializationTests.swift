// A fresh GPT-2 (`init-gpt2`): transformers' initialisation seen in each tensor's statistics, the same seed giving
// the same bytes, and transformers' own verdict on the folder (fixtures/models/init-gpt2, tools/check_init_gpt2.py).
import Checkpoints
import ConvertKit
import Foundation
import Models
import TensorCore
import Testing
import TestSupport

/// `fixtures/models/init-gpt2/transformers_check.json`.
struct InitCheck: Decodable {
    struct Kept: Decodable {
        let input_ids: [[Int]]
        let logits: [[[Float]]]
    }
    struct Setting: Decodable {
        let flags: [String]
        let loading_info: [String: [String]]
        let lm_head_tied_to_wte: Bool
        let config_matches: Bool
        let safetensors_header_matches_save_pretrained: Bool
    }
    let transformers: String
    let kept: Kept
    let settings: [Setting]

    static let folder = Fixtures.path("models/init-gpt2")

    static func load() throws -> InitCheck {
        try JSONDecoder().decode(InitCheck.self, from: Data(try Fixtures.bytes("\(folder)/transformers_check.json")))
    }
}

@Suite("init-gpt2: transformers' GPT-2 initialisation from the seeded generator")
struct GPT2InitializationTests {
    /// The brief's backbone for the memory tasks: 2 layers, hidden 128, 4 heads, vocabulary 12.
    static func small(seed: UInt64 = 0) -> GPT2Initialization {
        var s = GPT2Initialization(layers: 2, hidden: 128, heads: 4, vocabularySize: 12, positions: 64)
        s.seed = seed
        return s
    }

    @Test("every tensor has its distribution: normal(0, 0.02), c_proj normal(0, 0.02/√4), biases 0, LayerNorm 1")
    func statistics() throws {
        let weights = try Self.small().weights()
        let names = weights.map(\.name)
        #expect(
            names == GPT2Family.stateDictKeys(of: GPT2LMHeadModel.self, layers: 2).filter { $0 != "lm_head.weight" })
        #expect(weights.count == 28)
        var projectionStds: [Double] = []
        for (name, tensor) in weights {
            let x = try tensor.floatValues().map(Double.init)
            let n = Double(x.count)
            let mean = x.reduce(0, +) / n
            let std = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
            let drawn =
                name.hasSuffix("wte.weight") || name.hasSuffix("wpe.weight") || name.hasSuffix("c_attn.weight")
                || name.hasSuffix("c_fc.weight")
            if name.hasSuffix("c_proj.weight") {
                let sigma = 0.02 / 2  // initializer_range / √(2 · 2 layers)
                // Within 5 standard errors of the mean (σ/√n) and of the standard deviation (σ/√(2(n−1))).
                #expect(abs(mean) <= 5 * sigma / n.squareRoot(), "\(name): mean \(mean)")
                #expect(abs(std - sigma) <= 5 * sigma / (2 * (n - 1)).squareRoot(), "\(name): std \(std)")
                projectionStds.append(std)
            } else if drawn {
                #expect(abs(mean) <= 5 * 0.02 / n.squareRoot(), "\(name): mean \(mean)")
                #expect(abs(std - 0.02) <= 5 * 0.02 / (2 * (n - 1)).squareRoot(), "\(name): std \(std)")
            } else {
                let value: Double = name.contains(".ln_") && name.hasSuffix(".weight") ? 1 : 0
                #expect(x.allSatisfy { $0 == value }, "\(name) is not all \(value)")
            }
        }
        // The residual projections' scaling is visible: σ halved, far outside the unscaled σ's error.
        #expect(projectionStds.count == 4 && projectionStds.allSatisfy { $0 < 0.012 })
        let wte = try #require(weights.first { $0.name == "transformer.wte.weight" })
        #expect(wte.tensor.shape == [12, 128])
        #expect(
            try #require(weights.first { $0.name == "transformer.h.1.mlp.c_proj.weight" }).tensor.shape == [512, 128])
    }

    @Test("the same seed gives the same tensors bit for bit, another seed others")
    func determinism() throws {
        let a = try Self.small(seed: 3).weights(), b = try Self.small(seed: 3).weights()
        let c = try Self.small(seed: 4).weights()
        #expect(zip(a, b).allSatisfy { $0.tensor.isBitwiseEqual(to: $1.tensor) })
        #expect(!a[0].tensor.isBitwiseEqual(to: c[0].tensor))
    }

    @Test("init-gpt2 rewrites fixtures/models/init-gpt2 byte for byte: the folder transformers checked")
    func fixtureBytes() throws {
        let check = try InitCheck.load()
        let flags = check.settings[0].flags
        #expect(
            flags == [
                "--layers", "2", "--hidden", "16", "--heads", "2", "--vocab", "12", "--positions", "12", "--seed", "7",
            ])
        var settings = GPT2Initialization(layers: 2, hidden: 16, heads: 2, vocabularySize: 12, positions: 12)
        settings.seed = 7
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let summary = try initGPT2(settings, output: "\(dir)/gpt2", force: false)
        #expect(summary.files == ["config.json", "model.safetensors"] && summary.tensorCount == 28)
        for file in summary.files {
            #expect(
                try Fixtures.bytes("\(dir)/gpt2/\(file)") == Fixtures.bytes("\(InitCheck.folder)/\(file)"), "\(file)")
        }
        // Writing again refuses to overwrite, and leaves the folder as it was.
        #expect(throws: CheckpointError.self) { try initGPT2(settings, output: "\(dir)/gpt2", force: false) }
    }

    @Test("transformers loaded every checked setting with no missing, unexpected or mismatched key, lm_head tied")
    func transformersVerdict() throws {
        let check = try InitCheck.load()
        #expect(check.transformers == "4.57.6" && check.settings.count == 3)
        for s in check.settings {
            #expect(s.loading_info.values.allSatisfy { $0.isEmpty }, "\(s.flags): \(s.loading_info)")
            #expect(
                s.loading_info.keys.sorted() == ["error_msgs", "mismatched_keys", "missing_keys", "unexpected_keys"])
            #expect(s.lm_head_tied_to_wte && s.config_matches && s.safetensors_header_matches_save_pretrained)
        }
    }

    @Test("run on the fixture folder gives transformers' logits (max abs error ≤ 1e-4)")
    func logits() throws {
        let check = try InitCheck.load()
        let ids = check.kept.input_ids
        let (model, report) = try loadModel(try Checkpoint.open(InitCheck.folder))
        #expect(report.notes.isEmpty, "\(report.notes)")
        let inputs = try ModelInputs(inputIds: ids.flatMap { $0 }, batch: ids.count, length: ids[0].count)
        let logits = try #require(try model.run(inputs, hiddenStates: false)["logits"])
        #expect(logits.shape == [2, 10, 12])
        let error = try #require(maxAbsError(try logits.floatValues(), check.kept.logits.flatMap { $0.flatMap { $0 } }))
        #expect(error <= 1e-4, "max abs error \(error)")
    }

    @Test("the written config.json is transformers' GPT2Config with these fields, and loads back to them")
    func config() throws {
        var settings = GPT2Initialization(layers: 3, hidden: 24, heads: 4, vocabularySize: 20, positions: 16)
        settings.inner = 40
        settings.activation = "relu"
        let c = try settings.configuration()
        #expect(c.layerCount == 3 && c.hiddenSize == 24 && c.headCount == 4 && c.innerSize == 40)
        #expect(c.vocabularySize == 20 && c.maxPositions == 16 && c.activation == .relu)
        #expect(
            try GPT2Initialization(layers: 2, hidden: 16, heads: 2, vocabularySize: 12, positions: 12).configuration()
                .innerSize == 64)
        let written = String(decoding: try Fixtures.bytes("\(InitCheck.folder)/config.json"), as: UTF8.self)
        #expect(written.contains("\"n_inner\": null,\n") && written.contains("\"layer_norm_epsilon\": 1e-05,\n"))
        var bad = settings
        bad.initializerRange = 0
        #expect(throws: ModelError.self) { try bad.configuration() }
        bad = settings
        bad.heads = 5
        #expect(throws: ModelError.self) { try bad.weights() }
    }
}
