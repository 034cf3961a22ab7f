// Issue 18: every size a config can name is bounded, layer_norm_eps must be a usable float32, and a key given
// twice takes its last value (as Python's json, and so transformers, reads config.json).
import Checkpoints
import Models
import Testing
import TestSupport

private func decodeError(_ json: String, gpt2: Bool = false) -> String? {
    do {
        let parsed = try JSONValue.parse(json)
        if gpt2 {
            _ = try GPT2Configuration.decoded(from: parsed, file: "config.json")
        } else {
            _ = try BertConfiguration.decoded(from: parsed, file: "config.json")
        }
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite("Configuration limits")
struct ConfigurationLimitsTests {
    @Test(
        "Each BERT size is accepted at its limit and refused one past it, naming the field and the limit",
        arguments: [
            ("num_hidden_layers", BertConfiguration.Limits.layers),
            ("num_attention_heads", BertConfiguration.Limits.heads),
            ("hidden_size", BertConfiguration.Limits.hidden),
            ("intermediate_size", BertConfiguration.Limits.intermediate),
            ("vocab_size", BertConfiguration.Limits.vocabulary),
            ("max_position_embeddings", BertConfiguration.Limits.positions),
            ("type_vocab_size", BertConfiguration.Limits.tokenTypes), ("num_labels", BertConfiguration.Limits.labels),
        ])
    func bertLimits(_ field: String, _ limit: Int) {
        // One head (or, for the heads, a hidden size they divide) keeps hidden_size divisible by the head count.
        func config(_ value: Int) -> String {
            let other = field == "num_attention_heads" ? #""hidden_size": 4096"# : #""num_attention_heads": 1"#
            return "{\(other), \"\(field)\": \(value)}"
        }
        #expect(decodeError(config(limit)) == nil)
        let error = decodeError(config(limit + 1))
        #expect(error?.contains("`\(field)` is \(limit + 1), at most \(limit) is supported") == true, "\(error ?? "")")
    }

    @Test("GPT-2 sizes are bounded too, and a huge n_embd without n_inner is refused, not overflowed (4 × n_embd)")
    func gpt2Limits() {
        for (field, limit) in [("n_layer", 1024), ("n_head", 4096), ("n_inner", 1 << 22), ("n_positions", 1 << 24)] {
            let error = decodeError("{\"\(field)\": \(limit + 1)}", gpt2: true)
            #expect(error?.contains("`\(field)` is \(limit + 1), at most \(limit)") == true, "\(error ?? "")")
        }
        let error = decodeError(#"{"n_embd": 4611686018427387904, "n_head": 1}"#, gpt2: true)
        #expect(error?.contains("`n_embd` is 4611686018427387904, at most 1048576") == true, "\(error ?? "")")
    }

    @Test("layer_norm_eps must be a positive, finite float32: 0, negative, 1e-50 (0 in float32) and 1e300 are refused")
    func epsilon() throws {
        for value in ["0", "-1e-5", "1e-50", "1e300", "0.0"] {
            let error = decodeError("{\"layer_norm_eps\": \(value)}")
            #expect(error?.contains("`layer_norm_eps` must be a positive, finite float32") == true, "\(value)")
            let gpt2 = decodeError("{\"layer_norm_epsilon\": \(value)}", gpt2: true)
            #expect(gpt2?.contains("`layer_norm_epsilon` must be a positive, finite float32") == true, "\(value)")
        }
        let tiny = try BertConfiguration.decoded(
            from: try JSONValue.parse(#"{"layer_norm_eps": 1e-40}"#), file: "config.json")
        #expect(tiny.layerNormEpsilon > 0)  // a float32 subnormal, still positive
    }

    @Test("A key given twice takes its last value; id2label counts keys by bytes, as len() does in Python")
    func duplicatesAndLabels() throws {
        let c = try BertConfiguration.decoded(
            from: try JSONValue.parse(
                #"{"hidden_act": "swishy", "num_hidden_layers": 1000000, "hidden_act": "gelu", "num_hidden_layers": 2, "id2label": {"\u00e9": "a", "e\u0301": "b", "x": "c", "x": "d"}}"#
            ), file: "config.json")
        #expect(c.layerCount == 2 && c.activation == .gelu)
        #expect(c.labelCount == 3)
    }
}
