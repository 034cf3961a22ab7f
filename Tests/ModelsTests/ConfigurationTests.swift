// config.json decoding: transformers' defaults, alternate field names, and the configurations refused.
import Checkpoints
import Models
import Testing
import TestSupport

private func bert(_ json: String) throws -> BertConfiguration {
    try BertConfiguration.decoded(from: try JSONValue.parse(json), file: "config.json")
}

private func gpt2(_ json: String) throws -> GPT2Configuration {
    try GPT2Configuration.decoded(from: try JSONValue.parse(json), file: "config.json")
}

/// The error a decode throws, or nil.
private func configurationError(_ body: () throws -> Any) -> ModelError? {
    do { _ = try body() } catch let e as ModelError { return e } catch { return nil }
    return nil
}

@Suite("BERT and GPT-2 configurations")
struct ConfigurationTests {
    @Test("an empty BERT config takes transformers' BertConfig defaults")
    func bertDefaults() throws {
        let c = try bert("{}")
        #expect(c.vocabularySize == 30522 && c.hiddenSize == 768 && c.layerCount == 12 && c.headCount == 12)
        #expect(c.intermediateSize == 3072 && c.maxPositions == 512 && c.typeVocabularySize == 2)
        #expect(c.activation == .gelu && c.layerNormEpsilon == 1e-12 && c.labelCount == 2 && c.tieWordEmbeddings)
    }

    @Test("an empty GPT-2 config takes GPT2Config defaults, n_inner null meaning 4·n_embd")
    func gpt2Defaults() throws {
        let c = try gpt2(#"{"n_inner": null}"#)
        #expect(c.vocabularySize == 50257 && c.hiddenSize == 768 && c.layerCount == 12 && c.headCount == 12)
        #expect(c.innerSize == 3072 && c.maxPositions == 1024 && c.layerNormEpsilon == 1e-5)
        #expect(c.activation == .geluTanh && c.scaleAttentionWeights && !c.scaleAttentionByInverseLayerIndex)
        #expect(c.bosTokenId == 50256 && c.eosTokenId == 50256)
    }

    @Test("GPT-2 reads the alternate names hidden_size, num_hidden_layers, num_attention_heads, n_ctx")
    func gpt2Alternates() throws {
        let c = try gpt2(
            #"{"hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 8, "n_ctx": 256, "n_inner": 100}"#)
        #expect(
            c.hiddenSize == 64 && c.layerCount == 3 && c.headCount == 8 && c.maxPositions == 256 && c.innerSize == 100)
        let d = try gpt2(#"{"n_embd": 32, "n_head": 4, "max_position_embeddings": 128}"#)
        #expect(d.hiddenSize == 32 && d.innerSize == 128 && d.maxPositions == 128)
    }

    @Test("the label count is len(id2label), else num_labels")
    func labels() throws {
        #expect(try bert(#"{"id2label": {"0": "a", "1": "b", "2": "c"}}"#).labelCount == 3)
        #expect(try bert(#"{"num_labels": 5}"#).labelCount == 5)
    }

    @Test(
        "activation aliases map to the same formula",
        arguments: [
            ("gelu_new", ActivationFunction.geluTanh), ("gelu_pytorch_tanh", .geluTanh), ("gelu_fast", .geluTanh),
            ("gelu", .gelu), ("relu", .relu), ("silu", .silu), ("swish", .silu), ("quick_gelu", .quickGelu),
            ("tanh", .tanh), ("linear", .linear),
        ])
    func activationNames(_ name: String, _ expected: ActivationFunction) throws {
        #expect(try gpt2(#"{"activation_function": "\#(name)"}"#).activation == expected)
        #expect(try bert(#"{"hidden_act": "\#(name)"}"#).activation == expected)
    }

    @Test("every accepted activation matches transformers' ACT2FN on [-6, 6]")
    func activationValues() throws {
        let table = try JSONValue.parse(
            String(decoding: try Fixtures.bytes(Fixtures.path("expected/activations.json")), as: UTF8.self))
        guard case .array(let xs)? = table["x"], case .object(let outputs)? = table["outputs"] else {
            Issue.record("activations.json lacks x or outputs")
            return
        }
        let x = xs.compactMap { $0.doubleValue.map(Float.init) }
        #expect(outputs.count == ActivationFunction.acceptedNames.count)
        for (name, values) in outputs {
            guard case .array(let list) = values else { continue }
            let f = try #require(ActivationFunction(configName: name), "\(name) is not accepted")
            var y = x
            f.apply(&y)
            let error = try #require(maxAbsError(y, list.compactMap { $0.doubleValue.map(Float.init) }))
            #expect(error <= 1e-6, "\(name): max abs error \(error)")
        }
    }

    @Test("refused: hidden size not divisible by heads, relative positions, cross-attention, unknown activation")
    func rejections() {
        let cases: [(() throws -> Any, String, String)] = [
            ({ try bert(#"{"hidden_size": 100, "num_attention_heads": 12}"#) }, "hidden_size", "not divisible"),
            ({ try gpt2(#"{"n_embd": 100, "n_head": 12}"#) }, "n_embd", "not divisible"),
            ({ try bert(#"{"position_embedding_type": "relative_key"}"#) }, "position_embedding_type", "relative_key"),
            ({ try gpt2(#"{"add_cross_attention": true}"#) }, "add_cross_attention", "cross-attention"),
            ({ try bert(#"{"add_cross_attention": true}"#) }, "add_cross_attention", "cross-attention"),
            ({ try bert(#"{"hidden_act": "mish"}"#) }, "hidden_act", "\"mish\""),
            ({ try gpt2(#"{"n_layer": 0}"#) }, "n_layer", "must be positive"),
            ({ try bert(#"{"model_type": "roberta"}"#) }, "model_type", "roberta"),
            ({ try bert(#"{"hidden_size": "768"}"#) }, "hidden_size", "an integer"),
        ]
        for (decode, field, phrase) in cases {
            let error = configurationError(decode)
            #expect(error?.kind == .configuration, "expected a configuration error for \(field)")
            #expect(error?.field == field, "error names \(error?.field ?? "nothing") instead of \(field)")
            #expect(
                error?.description.hasPrefix("config.json: ") == true && error?.description.contains(phrase) == true,
                "message: \(error?.description ?? "none")")
        }
    }

    @Test("the architecture comes from `architectures`, else from model_type, else fails naming the field")
    func architectureInference() throws {
        #expect(
            try ModelArchitecture.inferred(
                from: try JSONValue.parse(#"{"architectures": ["BertForMaskedLM"]}"#), file: "c") == .bertForMaskedLM)
        #expect(
            try ModelArchitecture.inferred(from: try JSONValue.parse(#"{"model_type": "gpt2"}"#), file: "c")
                == .gpt2Model)
        #expect(
            try ModelArchitecture.inferred(
                from: try JSONValue.parse(#"{"architectures": ["BertForPreTraining"]}"#), file: "c") == .bertModel)
        #expect(
            try ModelArchitecture.inferred(from: try JSONValue.parse(#"{"hidden_size": 768}"#), file: "c") == .bertModel
        )
        let unknown = configurationError {
            try ModelArchitecture.inferred(from: try JSONValue.parse(#"{"architectures": ["T5Model"]}"#), file: "c")
        }
        #expect(unknown?.field == "architectures")
        let t5 = configurationError {
            try ModelArchitecture.inferred(from: try JSONValue.parse(#"{"model_type": "t5"}"#), file: "c")
        }
        #expect(t5?.field == "model_type")
    }
}
