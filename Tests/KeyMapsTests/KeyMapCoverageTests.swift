// The maps against transformers' real key lists (fixtures/keys, from tools/make_hdf5_fixtures.py) and MiniLM.
import Checkpoints
import Foundation
import KeyMaps
import Models
import TensorCore
import Testing
import TestSupport

/// One line of a key fixture: the PyTorch key and shape, then the expected TF name and shape (or a marker).
struct KeyLine {
    let key: String
    let shape: Shape
    let tf: String
    let tfShape: Shape?

    static func load(_ name: String) throws -> [KeyLine] {
        let text = try String(contentsOfFile: Fixtures.path("keys/\(name).tsv"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let f = line.split(separator: "\t").map(String.init)
            try #require(f.count == 4, "bad fixture line \(line)")
            func shape(_ s: String) -> Shape {
                s == "scalar" ? Shape([]) : Shape(s.split(separator: "x").compactMap { Int($0) })
            }
            return KeyLine(key: f[0], shape: shape(f[1]), tf: f[2], tfShape: f[3] == "-" ? nil : shape(f[3]))
        }
    }
}

@Suite("Name maps cover real checkpoints")
struct KeyMapCoverageTests {
    static let models = [
        "bert-for-pre-training", "bert-for-sequence-classification", "bert-for-masked-lm", "gpt2-lm-head-model",
    ]

    @Test("every rule compiles to an anchored regular expression with escaped dots")
    func rulesCompile() {
        for map in ModelRegistry.keyMaps {
            #expect(map.invalidRules.isEmpty, "\(map.family): \(map.invalidRules)")
        }
        #expect(KeyPattern("h.{i}.attn.bias").regexSource == "^h\\.([0-9]+)\\.attn\\.bias$")
        #expect(GPT2Family.keyMap.pytorchMatches("transformer.h.0.attn.c_attn.bias").count == 1)
    }

    @Test(
        "each key of transformers' state_dict is matched by exactly one rule and gets the expected TF name and shape",
        arguments: models)
    func coverage(model: String) throws {
        let lines = try KeyLine.load(model)
        let keys = lines.map(\.key)
        let map = try #require(KeyMap.recognizing(keys: keys, among: ModelRegistry.keyMaps))
        let plan = try TFNamePlan.fromPyTorch(keys, maps: ModelRegistry.keyMaps, file: model)
        let modelName = plan.modelClass.name
        #expect(
            lines.allSatisfy { $0.tf.hasPrefix("(") || $0.tf.hasPrefix(modelName + "/") }, "model class \(modelName)")
        var tfNames = Set<String>()
        for line in lines {
            #expect(map.pytorchMatches(line.key).count == 1, "\(line.key) matched by \(map.pytorchMatches(line.key))")
            let match = try #require(map.toTF(line.key), "\(line.key) not covered")
            switch line.tf {
            case "(tied)":
                guard case .tie = match.action else { Issue.record("\(line.key) should be tied"); continue }
            case "(buffer)":
                #expect(match.action == .drop, "\(line.key)")
            default:
                guard case .map(let transform) = match.action else {
                    Issue.record("\(line.key) should be stored"); continue
                }
                #expect("\(modelName)/\(match.name)" == line.tf)
                #expect(transform.tfShape(forPyTorch: line.shape) == line.tfShape, "\(line.key)")
                #expect(map.toPyTorch(match.name)?.name == line.key, "reverse of \(match.name)")
                #expect(tfNames.insert(match.name).inserted, "\(match.name) produced twice")
            }
        }
        #expect(plan.entries.count == lines.filter { !$0.tf.hasPrefix("(") }.count)
        // Written order: the model's layers (`layer_names`), then the table rows, as transformers orders them.
        let stored = lines.filter { !$0.tf.hasPrefix("(") }.map(\.key)
        let layerOf = { (key: String) in key.hasPrefix("cls.seq_relationship") ? 1 : key.hasPrefix("cls.") ? 2 : 0 }
        #expect(
            plan.entries.map(\.source)
                == stored.enumerated().sorted { (layerOf($0.element), $0.offset) < (layerOf($1.element), $1.offset) }
                .map(\.element))
        #expect(plan.tied.count == lines.filter { $0.tf == "(tied)" }.count)
    }

    @Test("TF names map back to every stored key, with the tied heads as aliases", arguments: models)
    func reverse(model: String) throws {
        let lines = try KeyLine.load(model)
        let stored = lines.filter { !$0.tf.hasPrefix("(") }
        let split = try stored.map { try #require(splitModelName($0.tf)) }
        let plan = try PyTorchNamePlan.fromTF(
            split.map(\.rest), modelNames: Set(split.map(\.model)), maps: ModelRegistry.keyMaps, file: model)
        #expect(plan.entries.map(\.key) == stored.map(\.key))
        #expect(plan.entries.allSatisfy { $0.fromTable })
        #expect(Set(plan.aliases.keys) == Set(lines.filter { $0.tf == "(tied)" }.map { UTF8Key($0.key) }))
    }

    @Test(
        "the real all-MiniLM-L6-v2 maps completely, its position_ids buffer dropped",
        .enabled(
            if: Fixtures.hasMiniLM(),
            "all-MiniLM-L6-v2 is absent from .cache/minilm/model: run tools/fetch-minilm.sh (make test does)"))
    func miniLM() throws {
        let path = Fixtures.miniLM + "/model.safetensors"
        let keys = try SafetensorsArchive(path: path).tensorNames
        let plan = try TFNamePlan.fromPyTorch(keys, maps: ModelRegistry.keyMaps, file: path)
        #expect(plan.modelClass.name == "tf_bert_model")
        #expect(plan.dropped == ["embeddings.position_ids"])
        #expect(plan.entries.count + plan.dropped.count == keys.count)
        #expect(
            plan.entries.contains {
                $0.source == "encoder.layer.5.output.dense.weight"
                    && $0.tfName == "bert/encoder/layer_._5/output/dense/kernel:0" && $0.transform == .transpose
            })
    }

    @Test("old gamma/beta names, DataParallel prefixes and Hub GPT-2 keys without `transformer.` normalize")
    func legacyNames() throws {
        let bert = KeySanitizer(map: BertFamily.keyMap, basePrefix: .add).normalizedNames(
            [
                "module.bert.embeddings.LayerNorm.gamma", "module.cls.predictions.transform.LayerNorm.beta",
                "module.bert.embeddings.word_embeddings.weight",
            ])
        #expect(
            bert.map(\.key) == [
                "bert.embeddings.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias",
                "bert.embeddings.word_embeddings.weight",
            ])
        let hub = [
            "wte.weight", "wpe.weight", "h.0.attn.bias", "h.0.attn.masked_bias", "h.0.attn.c_attn.bias", "ln_f.weight",
        ]
        let plan = try TFNamePlan.fromPyTorch(hub, maps: ModelRegistry.keyMaps, file: "gpt2")
        #expect(plan.dropped == ["h.0.attn.bias", "h.0.attn.masked_bias"])
        #expect(
            plan.entries.map(\.tfName) == [
                "transformer/wte/weight:0", "transformer/wpe/embeddings:0",
                "transformer/h_._0/attn/c_attn/bias:0", "transformer/ln_f/gamma:0",
            ])
        #expect(GPT2Family.keyMap.toPyTorch("transformer/wte/embeddings:0")?.name == "transformer.wte.weight")
    }

    @Test("keys outside the tables are refused with their names")
    func unknownKeys() {
        #expect {
            try TFNamePlan.fromPyTorch(
                ["bert.embeddings.word_embeddings.weight", "bert.adapter.weight"], maps: ModelRegistry.keyMaps,
                file: "x")
        } throws: { ($0 as? CheckpointError)?.message.contains("bert.adapter.weight") == true }
    }
}
