// The BERT classes as the registry sees them: typed loading from a scope, and outputs named as transformers
// names them.
// B batch, T sequence length, C hidden size, V vocabulary, L labels.
import KeyMaps
import TensorCore

extension BertConfiguration: ModelConfiguration {}

extension BertModel: PretrainedModel, TransformerStack {
    public static var family: any ModelFamily.Type { BertFamily.self }
    public static var architecture: ModelArchitecture { .bertModel }
    public static var keyLayout: KeyLayout { KeyLayout(basePrefix: .strip, ignoredPrefixes: ["cls.", "classifier."]) }

    /// A bare `BertModel` keeps its pooler when the file has one (transformers' default `add_pooling_layer=True`).
    public init(_ scope: ParameterScope, configuration: BertConfiguration) throws {
        try self.init(
            scope, configuration: configuration, addPoolingLayer: scope["pooler"].exists || !scope["embeddings"].exists)
    }

    public var loadNotes: [String] {
        pooler == nil ? ["the file has no pooler.dense weights: built without a pooler"] : []
    }

    public func run(_ inputs: ModelInputs, hiddenStates: Bool) throws -> [NamedOutput] {
        let out = try self(inputs, outputHiddenStates: hiddenStates)
        return out.namedOutputs(head: [], hiddenStates: out.hiddenStates)
    }

    public var base: any TransformerStack { self }

    public var layerCount: Int { layers.count }
    public var vocabularySize: Int { embeddings.wordEmbeddings.count }

    public var firstBlockProjections: [Linear] {
        layers.first.map { [$0.queryKeyValue, $0.attentionOutput, $0.intermediate, $0.output] } ?? []
    }

    public func lastHiddenState(_ inputs: ModelInputs) throws -> Activations { try self(inputs).lastHiddenState }
}

extension BertForMaskedLM: PretrainedModel {
    public static var family: any ModelFamily.Type { BertFamily.self }
    public static var architecture: ModelArchitecture { .bertForMaskedLM }
    public static var keyLayout: KeyLayout {
        KeyLayout(basePrefix: .add, ignoredPrefixes: ["bert.pooler.", "cls.seq_relationship.", "classifier."])
    }

    public func run(_ inputs: ModelInputs, hiddenStates: Bool) throws -> [NamedOutput] {
        let out = try bert(inputs, outputHiddenStates: hiddenStates)
        let logits = NamedOutput(name: "logits", tensor: logits(out.lastHiddenState).tensor)  // [B, T, V]
        return out.namedOutputs(head: [logits], hiddenStates: out.hiddenStates)
    }

    public var base: any TransformerStack { bert }
}

extension BertForSequenceClassification: PretrainedModel {
    public static var family: any ModelFamily.Type { BertFamily.self }
    public static var architecture: ModelArchitecture { .bertForSequenceClassification }
    public static var keyLayout: KeyLayout { KeyLayout(basePrefix: .add, ignoredPrefixes: ["cls."]) }

    public func run(_ inputs: ModelInputs, hiddenStates: Bool) throws -> [NamedOutput] {
        let out = try bert(inputs, outputHiddenStates: hiddenStates)
        let values = logits(pooled: out.poolerOutput ?? [], batch: inputs.batch)  // [B, L]
        let logits = NamedOutput(name: "logits", tensor: Tensor(values, shape: [inputs.batch, classifier.outputs]))
        return out.namedOutputs(head: [logits], hiddenStates: out.hiddenStates)
    }

    public var base: any TransformerStack { bert }
}

extension BertModelOutput {
    /// `last_hidden_state`, `pooler_output` (with a pooler), the head's outputs, then `hidden_states.{i}`.
    func namedOutputs(head: [NamedOutput], hiddenStates: [Activations]) -> [NamedOutput] {
        var outputs = [NamedOutput(name: "last_hidden_state", tensor: lastHiddenState.tensor)]
        if let poolerOutput {
            outputs.append(
                NamedOutput(
                    name: "pooler_output",
                    tensor: Tensor(poolerOutput, shape: [lastHiddenState.batch, lastHiddenState.width])))
        }
        return outputs + head
            + hiddenStates.enumerated().map { NamedOutput(name: "hidden_states.\($0)", tensor: $1.tensor) }
    }
}
