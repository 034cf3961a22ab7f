// Issue 18, item 4: a config is checked against the shapes of the weights present before a model is built for it,
// so a config naming 10⁶ layers beside weights holding one is refused at once, naming both numbers; `inspect` and
// `convert` learn of the same disagreement from `ModelRegistry.sizeDisagreement` and warn.
import Checkpoints
import Models
import Testing
import TestSupport

/// The tiny BERT of the corpus: vocabulary 8, hidden 4, one block, intermediate 4, 8 positions, 2 token types.
private let bertWeights = "malformed/config_control/model.safetensors"
/// The tiny GPT-2 of the corpus: vocabulary 8, n_embd 4, one block (`mlp.c_fc` [4, 16]), 8 positions.
private let gpt2Weights = "malformed/config_control_gpt2/model.safetensors"

private let bertConfig = [
    "\"model_type\": \"bert\"", "\"vocab_size\": 8", "\"hidden_size\": 4", "\"num_hidden_layers\": 1",
    "\"num_attention_heads\": 1", "\"intermediate_size\": 4", "\"max_position_embeddings\": 8",
    "\"type_vocab_size\": 2",
]
private let gpt2Config = [
    "\"model_type\": \"gpt2\"", "\"vocab_size\": 8", "\"n_embd\": 4", "\"n_layer\": 1", "\"n_head\": 1",
    "\"n_positions\": 8",
]

/// The config with `changes` appended (a repeated key takes its last value, as in Python).
private func config(_ base: [String], _ changes: [String] = []) throws -> JSONValue {
    try JSONValue.parse("{" + (base + changes).joined(separator: ", ") + "}")
}

private func weights(_ path: String) throws -> any TensorArchive { try SafetensorsArchive(path: Fixtures.path(path)) }

/// The error of loading `type` from `archive` with `config`, or nil when it loads.
private func loadError<M: PretrainedModel>(_ type: M.Type, _ config: JSONValue, _ archive: any TensorArchive)
    -> ModelError?
{
    do {
        _ = try ModelLoader.load(type, config: config, configFile: "config.json", archive: archive)
        return nil
    } catch let error as ModelError {
        return error
    } catch {
        Issue.record("not a ModelError: \(error)")
        return nil
    }
}

@Suite("Configuration against the weights")
struct ConfigurationAgreementTests {
    @Test("The corpus's tiny BERT and GPT-2 load with their own configs, and no disagreement is reported")
    func agreeing() throws {
        #expect(loadError(BertModel.self, try config(bertConfig), try weights(bertWeights)) == nil)
        #expect(loadError(GPT2Model.self, try config(gpt2Config), try weights(gpt2Weights)) == nil)
        #expect(
            ModelRegistry.sizeDisagreement(
                config: try config(bertConfig), configFile: "config.json", archive: try weights(bertWeights)) == nil)
    }

    @Test("10⁶ layers beside one block: refused before the model is built, naming both numbers (BERT and GPT-2)")
    func millionLayers() throws {
        let bert = loadError(
            BertModel.self, try config(bertConfig, ["\"num_hidden_layers\": 1000000"]), try weights(bertWeights))
        #expect(bert?.kind == .weights && bert?.field == "num_hidden_layers")
        #expect(
            bert?.message.contains("`num_hidden_layers` is 1000000 but the weights hold 1 (block `encoder.layer.0`)")
                == true, "\(String(describing: bert))")
        let gpt2 = loadError(
            GPT2LMHeadModel.self, try config(gpt2Config, ["\"n_layer\": 1000000"]), try weights(gpt2Weights))
        #expect(
            gpt2?.message.contains("`n_layer` is 1000000 but the weights hold 1 (block `h.0`)") == true,
            "\(String(describing: gpt2))")
    }

    @Test(
        "Each size the BERT weights show, one off, is named with both numbers and the tensor that shows it",
        arguments: [
            (
                "vocab_size", 9,
                "`vocab_size` is 9 but the weights hold 8 (`embeddings.word_embeddings.weight` is [8, 4])"
            ),
            (
                "hidden_size", 8,
                "`hidden_size` is 8 but the weights hold 4 (`embeddings.word_embeddings.weight` is [8, 4])"
            ),
            ("num_hidden_layers", 2, "`num_hidden_layers` is 2 but the weights hold 1 (block `encoder.layer.0`)"),
            (
                "intermediate_size", 5,
                "`intermediate_size` is 5 but the weights hold 4 (`encoder.layer.0.intermediate.dense.weight` is [4, 4])"
            ),
            (
                "max_position_embeddings", 9,
                "`max_position_embeddings` is 9 but the weights hold 8 (`embeddings.position_embeddings.weight` is [8, 4])"
            ),
            (
                "type_vocab_size", 3,
                "`type_vocab_size` is 3 but the weights hold 2 (`embeddings.token_type_embeddings.weight` is [2, 4])"
            ),
        ])
    func bertSizes(_ field: String, _ value: Int, _ expected: String) throws {
        let error = loadError(
            BertModel.self, try config(bertConfig, ["\"\(field)\": \(value)"]), try weights(bertWeights))
        #expect(error?.kind == .weights && error?.field == field)
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }

    @Test("Blocks are counted by the family's rules: a stray key of block 9 beside blocks 0 and 1 makes 3, listed")
    func strayBlock() throws {
        let control = try weights(bertWeights)
        var tensors = try control.tensorNames.map { ($0, try control.tensor(named: $0)) }
        tensors += try ["encoder.layer.1.", "encoder.layer.9."].map { block in
            (block + "output.dense.bias", try control.tensor(named: "encoder.layer.0.output.dense.bias"))
        }
        let archive = MemoryArchive(tensors.map { (name: $0.0, tensor: $0.1) }, path: "stray.safetensors")
        let error = loadError(BertModel.self, try config(bertConfig, ["\"num_hidden_layers\": 2"]), archive)
        #expect(
            error?.message.contains(
                "`num_hidden_layers` is 2 but the weights hold 3 (blocks `encoder.layer.0`, `encoder.layer.1`, `encoder.layer.9`)"
            ) == true, "\(String(describing: error))")
    }

    @Test("GPT-2's n_inner is read from the first block's mlp.c_fc [n_embd, n_inner], a default vocab_size from wte")
    func gpt2Sizes() throws {
        let inner = loadError(GPT2Model.self, try config(gpt2Config, ["\"n_inner\": 8"]), try weights(gpt2Weights))
        #expect(
            inner?.message.contains("`n_inner` is 8 but the weights hold 16 (`h.0.mlp.c_fc.weight` is [4, 16])") == true
        )
        let vocab = loadError(
            GPT2Model.self, try config(gpt2Config.filter { !$0.hasPrefix("\"vocab_size\"") }), try weights(gpt2Weights))
        #expect(
            vocab?.message.contains("`vocab_size` is 50257 but the weights hold 8 (`wte.weight` is [8, 4])") == true)
    }

    @Test("Every disagreement is named on the one line; a negative size is still refused as not positive")
    func severalAndNegative() throws {
        let several = loadError(
            BertModel.self, try config(bertConfig, ["\"vocab_size\": 16", "\"num_hidden_layers\": 3"]),
            try weights(bertWeights))
        #expect(several?.message.contains("`vocab_size` is 16 but the weights hold 8") == true)
        #expect(several?.message.contains("`num_hidden_layers` is 3 but the weights hold 1") == true)
        let negative = loadError(
            BertModel.self, try config(bertConfig, ["\"num_hidden_layers\": -2"]), try weights(bertWeights))
        #expect(negative?.kind == .configuration && negative?.message.contains("must be positive") == true)
    }

    @Test("Sizes the weights do not show keep their limits: heads, and the labels of a model without a classifier")
    func unmeasuredSizes() throws {
        let heads = loadError(
            BertModel.self, try config(bertConfig, ["\"num_attention_heads\": 4097"]), try weights(bertWeights))
        #expect(heads?.kind == .configuration && heads?.message.contains("is 4097, at most 4096") == true)
        let labels = loadError(
            BertModel.self, try config(bertConfig, ["\"num_labels\": 1048577"]), try weights(bertWeights))
        #expect(labels?.message.contains("`num_labels` is 1048577, at most 1048576") == true)
    }

    @Test("A pre-decoded configuration is checked too, against the weights file")
    func decodedConfiguration() throws {
        var c = try BertConfiguration.decoded(from: try config(bertConfig), file: "config.json")
        c.layerCount = 3
        let archive = try weights(bertWeights)
        #expect(throws: ModelError.self) {
            _ = try ModelLoader.load(BertModel.self, configuration: c, archive: archive)
        }
        do { _ = try ModelLoader.load(BertModel.self, configuration: c, archive: archive) } catch let e as ModelError {
            #expect(e.file == archive.path && e.message.contains("`num_hidden_layers` is 3 but the weights hold 1"))
        }
    }

    @Test("sizeDisagreement (inspect's and convert's warning) finds the family from model_type or from the names")
    func registryWarning() throws {
        let archive = try weights(bertWeights)
        let layers = ModelRegistry.sizeDisagreement(
            config: try config(bertConfig, ["\"num_hidden_layers\": 1000000"]), configFile: "c.json", archive: archive)
        #expect(
            layers?.description.hasPrefix(
                "c.json: the config and the weights disagree: `num_hidden_layers` is 1000000 but the weights hold 1")
                == true)
        let noType = ModelRegistry.sizeDisagreement(
            config: try config(bertConfig.filter { !$0.contains("model_type") }, ["\"vocab_size\": 9"]),
            configFile: "c.json", archive: archive)
        #expect(noType?.message.contains("`vocab_size` is 9 but the weights hold 8") == true)
        // Another family's config, or one that fails for another reason first: no warning (loading reports it).
        let other = ModelRegistry.sizeDisagreement(
            config: try config(["\"model_type\": \"roberta\""]), configFile: "c.json", archive: archive)
        let badActivation = ModelRegistry.sizeDisagreement(
            config: try config(bertConfig, ["\"hidden_act\": \"swishy\"", "\"vocab_size\": 9"]), configFile: "c.json",
            archive: archive)
        #expect(other == nil && badActivation == nil)
    }
}
