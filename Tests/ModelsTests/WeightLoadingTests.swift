// Loading weights: docs/FORMATS.md §4.4 name normalisation, ties, and errors that name every missing, unexpected and
// mis-shaped key.
import Checkpoints
import KeyMaps
import Models
import TensorCore
import Testing
import TestSupport

/// The `ModelError` thrown by `body`, or nil.
private func weightsError(_ body: () throws -> Any) -> ModelError? {
    do { _ = try body() } catch let e as ModelError { return e } catch { return nil }
    return nil
}

@Suite("Weight loading and key normalisation")
struct WeightLoadingTests {
    let bert: any TensorArchive
    let gpt2: any TensorArchive

    init() throws {
        bert = try ModelFixtures.checkpoint("tiny-bert").archive
        gpt2 = try ModelFixtures.checkpoint("tiny-gpt2").archive
    }

    /// Runs `archive` as `architecture` with tiny model `name`'s config; returns the max abs error of
    /// `output` against the fixture `fixture`.
    func error(
        _ archive: any TensorArchive, configOf name: String, as architecture: ModelArchitecture,
        fixture: String, output: String = "last_hidden_state"
    ) throws -> Float {
        let (model, _) = try ModelFixtures.load(archive, configOf: name, as: architecture)
        let outputs = try model.run(try ModelFixtures.inputs(fixture))
        return try maxError(try #require(outputs[output]), try ModelFixtures.expected(fixture, output))
    }

    @Test("a missing key, an unexpected key and a wrong shape are all reported by name in one error")
    func reportsEveryProblem() throws {
        let archive = try InMemoryArchive(copying: bert) { name, tensor in
            if name == "bert.encoder.layer.1.output.dense.bias" { return nil }
            if name == "bert.pooler.dense.bias" { return (name, Tensor([Float](repeating: 0, count: 31), shape: [31])) }
            return (name, tensor)
        }
        // An unexpected key inside an existing block (a key of a block past the config's count, `layer.9`, would
        // be refused before loading: the weights then hold 10 blocks, ConfigurationAgreementTests).
        let extra = InMemoryArchive(
            try archive.entries() + [("bert.encoder.layer.1.output.extra.bias", Tensor([0], shape: [1]))])
        let e = weightsError {
            try ModelFixtures.load(extra, configOf: "tiny-bert", as: .bertForSequenceClassification)
        }
        #expect(e?.kind == .weights)
        let message = e?.description ?? ""
        #expect(message.hasPrefix("memory.safetensors: weights do not fit BertForSequenceClassification"), "\(message)")
        #expect(message.contains("missing 1: bert.encoder.layer.1.output.dense.bias"), "\(message)")
        #expect(message.contains("unexpected 1: bert.encoder.layer.1.output.extra.bias"), "\(message)")
        #expect(message.contains("`bert.pooler.dense.bias` has shape [31] but the config asks for [32]"), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test("module. prefixes and LayerNorm gamma/beta are normalised; the outputs do not change")
    func legacyNames() throws {
        let archive = try InMemoryArchive(copying: bert) { name, tensor in
            var n = "module." + name
            if n.hasSuffix("LayerNorm.weight") { n = String(n.dropLast(6)) + "gamma" }
            if n.hasSuffix("LayerNorm.bias") { n = String(n.dropLast(4)) + "beta" }
            return (n, tensor)
        }
        let (_, report) = try ModelFixtures.load(archive, configOf: "tiny-bert", as: .bertForSequenceClassification)
        #expect(report.notes.contains("stripped the `module.` prefix of every key"))
        #expect(report.notes.contains { $0.hasPrefix("renamed 10 LayerNorm gamma/beta") }, "\(report.notes)")
        let e = try error(
            archive, configOf: "tiny-bert", as: .bertForSequenceClassification, fixture: "tiny-bert", output: "logits")
        #expect(e <= 1e-4, "max abs error \(e)")
    }

    @Test("a head model adds the base prefix a bare checkpoint lacks; a bare model strips it and drops heads")
    func basePrefix() throws {
        // GPT-2 saved like the Hub's `gpt2` (no `transformer.`), with old buffers and a tied lm_head present.
        let hub = try InMemoryArchive(copying: gpt2) { name, tensor in
            (String(name.dropFirst("transformer.".count)), tensor)
        }
        var entries = try hub.entries()
        entries.append(("h.0.attn.bias", Tensor([Float](repeating: 1, count: 64 * 64), shape: [1, 1, 64, 64])))
        entries.append(("h.1.attn.masked_bias", Tensor([-1e4], shape: [])))
        entries.append(("lm_head.weight", try gpt2.tensor(named: "transformer.wte.weight")))
        let withExtras = InMemoryArchive(entries)
        let (_, report) = try ModelFixtures.load(withExtras, configOf: "tiny-gpt2", as: .gpt2LMHeadModel)
        #expect(report.droppedBuffers.sorted() == ["h.0.attn.bias", "h.1.attn.masked_bias"])
        #expect(
            try error(withExtras, configOf: "tiny-gpt2", as: .gpt2LMHeadModel, fixture: "tiny-gpt2", output: "logits")
                <= 1e-4)

        // BertModel from the classification checkpoint: `bert.` stripped, classifier dropped and listed.
        let (_, bare) = try ModelFixtures.load(bert, configOf: "tiny-bert", as: .bertModel)
        #expect(bare.ignoredKeys == ["classifier.bias", "classifier.weight"])

        // BertModel from the masked-LM checkpoint: no pooler in the file, so none is built; cls.* dropped.
        let mlm = try ModelFixtures.checkpoint("tiny-bert-mlm").archive
        let (model, fromMLM) = try ModelFixtures.load(mlm, configOf: "tiny-bert-mlm", as: .bertModel)
        #expect(fromMLM.ignoredKeys.allSatisfy { $0.hasPrefix("cls.predictions.") } && fromMLM.ignoredKeys.count == 5)
        #expect(fromMLM.notes.contains { $0.contains("without a pooler") })
        let outputs = try model.run(try ModelFixtures.inputs("tiny-bert-mlm"))
        #expect(outputs.map(\.name) == ["last_hidden_state"])
        let e = try maxError(
            try #require(outputs["last_hidden_state"]), try ModelFixtures.expected("tiny-bert-mlm", "last_hidden_state")
        )
        #expect(e <= 1e-4, "max abs error \(e)")
    }

    @Test("an lm_head that differs from wte is an error naming both keys; a missing one is tied")
    func ties() throws {
        let wte = try gpt2.tensor(named: "transformer.wte.weight")
        var changed = try wte.floatValues()
        changed[5] += 1
        let untied = InMemoryArchive(try gpt2.entries() + [("lm_head.weight", Tensor(changed, shape: wte.shape))])
        let e = weightsError { try ModelFixtures.load(untied, configOf: "tiny-gpt2", as: .gpt2LMHeadModel) }
        #expect(
            e?.description.contains("`lm_head.weight` differs from `transformer.wte.weight`") == true,
            "\(e?.description ?? "no error")")

        // BERT MLM: transformers drops both decoder keys from safetensors; a stored decoder.bias alone also works.
        let mlm = try ModelFixtures.checkpoint("tiny-bert-mlm").archive
        #expect(!mlm.tensorNames.contains("cls.predictions.decoder.weight"))
        let renamedBias = try InMemoryArchive(copying: mlm) { name, t in
            (name == "cls.predictions.bias" ? "cls.predictions.decoder.bias" : name, t)
        }
        #expect(
            try error(
                renamedBias, configOf: "tiny-bert-mlm", as: .bertForMaskedLM, fixture: "tiny-bert-mlm", output: "logits"
            ) <= 1e-4)
    }

    @Test("two names that normalise to the same key are refused")
    func collisions() throws {
        let t = Tensor([1, 2], shape: [2])
        let archive = InMemoryArchive([("embeddings.LayerNorm.gamma", t), ("embeddings.LayerNorm.weight", t)])
        let e = weightsError { try ModelFixtures.load(archive, configOf: "tiny-bert", as: .bertModel) }
        #expect(e?.description.contains("collide") == true, "\(e?.description ?? "no error")")
    }

    @Test("buffer rules match only GPT-2's attn.bias and BERT's id buffers")
    func bufferRules() throws {
        let keys = KeySanitizer(map: GPT2Family.keyMap, basePrefix: GPT2Model.keyLayout.basePrefix).sanitize(
            ["h.0.attn.bias", "h.0.attn.c_attn.bias", "h.11.attn.masked_bias", "wte.weight"])
        #expect(keys.droppedBuffers == ["h.0.attn.bias", "h.11.attn.masked_bias"])
        #expect(Set(keys.sources.keys) == ["h.0.attn.c_attn.bias", "wte.weight"])
    }

    @Test("ids outside the vocabulary and sequences past the position table are input errors")
    func inputErrors() throws {
        let (model, _) = try ModelFixtures.load(gpt2, configOf: "tiny-gpt2", as: .gpt2LMHeadModel)
        let bad = try ModelInputs(inputIds: [1, 2, 96], batch: 1, length: 3)
        let e = weightsError { try model.run(bad) }
        #expect(
            e?.kind == .input && e?.description.contains("value 96 at position 2") == true,
            "\(e?.description ?? "no error")")
        let long = try ModelInputs(inputIds: [Int](repeating: 1, count: 65), batch: 1, length: 65)
        #expect(weightsError { try model.run(long) }?.description.contains("exceeds n_positions 64") == true)
    }
}
