// The entry points the Recurrent Memory Transformer builds on: inputs_embeds, the embedding table, hidden
// states after ln_f, and logits from hidden states.
import Models
import TensorCore
import Testing
import TestSupport

@Suite("Entry points from embeddings")
struct EntryPointTests {
    @Test(
        "BERT from inputs_embeds (word embeddings) equals BERT from ids, position/type embeddings and LayerNorm added")
    func bertInputsEmbeds() throws {
        let (model, _) = try ModelLoader.load(
            BertModel.self, config: try ModelFixtures.config("tiny-bert"), configFile: "tiny-bert/config.json",
            archive: try ModelFixtures.checkpoint("tiny-bert").archive)
        let inputs = try ModelFixtures.inputs("tiny-bert")
        let words = try model.embeddings.wordEmbeddings(inputs)  // [B, T, C]
        #expect(words.width == 32 && model.wordEmbeddingTable.count == 120 * 32)
        let fromEmbeds = try model(
            inputsEmbeds: words, attentionMask: inputs.attentionMask, tokenTypeIds: inputs.tokenTypeIds)
        let error = try maxError(
            fromEmbeds.lastHiddenState.tensor, try ModelFixtures.expected("tiny-bert", "last_hidden_state"))
        #expect(error <= 1e-4, "max abs error \(error)")
        #expect(fromEmbeds.poolerOutput == (try model(inputs)).poolerOutput)
    }

    @Test("GPT-2 from inputs_embeds gives hidden states after ln_f and tied-head logits matching the fixture")
    func gpt2InputsEmbeds() throws {
        let (model, _) = try ModelLoader.load(
            GPT2LMHeadModel.self, config: try ModelFixtures.config("tiny-gpt2"), configFile: "tiny-gpt2/config.json",
            archive: try ModelFixtures.checkpoint("tiny-gpt2").archive)
        let inputs = try ModelFixtures.inputs("tiny-gpt2")
        let embeds = try model.transformer.wordEmbeddings(inputs)
        let out = try model.transformer(inputsEmbeds: embeds, attentionMask: inputs.attentionMask)
        let hiddenError = try maxError(
            out.lastHiddenState.tensor, try ModelFixtures.expected("tiny-gpt2", "last_hidden_state"))
        let logitsError = try maxError(
            model.logits(out.lastHiddenState).tensor, try ModelFixtures.expected("tiny-gpt2", "logits"))
        #expect(hiddenError <= 1e-4 && logitsError <= 1e-4, "max abs errors \(hiddenError), \(logitsError)")
        #expect(
            model.untiedHead == nil && model.lmHead.key == "transformer.wte.weight"
                && model.lmHead.values == model.transformer.wordEmbeddingTable.values, "lm_head is tied to wte")
    }

    @Test("embeddings of the wrong width are refused")
    func wrongWidth() throws {
        let (model, _) = try ModelLoader.load(
            GPT2Model.self, config: try ModelFixtures.config("tiny-gpt2"), configFile: "tiny-gpt2/config.json",
            archive: try ModelFixtures.checkpoint("tiny-gpt2").archive)
        let embeds = try Activations(values: [Float](repeating: 0, count: 2 * 16), batch: 1, length: 2, width: 16)
        #expect(throws: ModelError.self) { try model(inputsEmbeds: embeds, attentionMask: nil) }
    }
}
