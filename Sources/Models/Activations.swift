// The values flowing through a model: hidden states `[B, T, C]` and the inputs of one forward pass.
import TensorCore

/// Hidden states and logits: a float32 `[B, T, C]` sequence tensor, batch B, sequence length T, width C (hidden
/// size, vocabulary…).
public typealias Activations = SequenceTensor<Float>

extension SequenceTensor where Element == Float {
    /// Wraps `values`; their count must be `batch·length·width`.
    /// - Throws: `ModelError(.input)` naming `inputs_embeds` when the count disagrees.
    public init(values: [Float], batch: Int, length: Int, width: Int) throws {
        try self.init(values, batch: batch, length: length, width: width, name: "inputs_embeds")
    }

    /// As a float32 `Tensor` of shape `[B, T, C]`.
    public var tensor: Tensor { Tensor(values, shape: Shape(shape)) }
}

/// The inputs of one forward pass over token ids: `[B, T]` ids with an optional padding mask and token types.
public struct ModelInputs: Sendable {
    public let batch: Int
    public let length: Int
    /// `[B·T]` token ids.
    public let inputIds: [Int]
    /// `[B·T]`: 1 attend, 0 padding; nil means all ones.
    public let attentionMask: [Float]?
    /// `[B·T]` segment ids (BERT); nil means all zeros.
    public let tokenTypeIds: [Int]?
    /// `[B·T]` position ids; nil means 0…T−1 in every row (transformers' default).
    public let positionIds: [Int]?

    /// - Throws: `ModelError(.input)` when a count is not `batch·length` or a mask value is not 0 or 1.
    public init(
        inputIds: [Int], batch: Int, length: Int, attentionMask: [Float]? = nil, tokenTypeIds: [Int]? = nil,
        positionIds: [Int]? = nil
    ) throws {
        let n = batch * length
        guard batch > 0, length > 0, inputIds.count == n else {
            throw ModelError(
                .input, file: "input_ids",
                "\(inputIds.count) ids do not fill [\(batch), \(length)]; pass a non-empty [B, T] or [T] array")
        }
        if let m = attentionMask {
            guard m.count == n else {
                throw ModelError(
                    .input, file: "attention_mask", "has \(m.count) values but input_ids is [\(batch), \(length)]")
            }
            guard m.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                throw ModelError(.input, file: "attention_mask", "values must be 0 (padding) or 1 (token)")
            }
        }
        for (values, name) in [(tokenTypeIds, "token_type_ids"), (positionIds, "position_ids")] {
            if let values, values.count != n {
                throw ModelError(
                    .input, file: name, "has \(values.count) values but input_ids is [\(batch), \(length)]")
            }
        }
        self.batch = batch
        self.length = length
        self.inputIds = inputIds
        self.attentionMask = attentionMask
        self.tokenTypeIds = tokenTypeIds
        self.positionIds = positionIds
    }

    /// Inputs from `[B, T]` ids and an optional `[B, T]` padding mask.
    /// - Throws: `ModelError(.input)` as `init(inputIds:batch:length:…)`.
    public init(ids: SequenceTensor<Int>, attentionMask: SequenceTensor<Float>? = nil) throws {
        try self.init(
            inputIds: ids.values, batch: ids.batch, length: ids.length, attentionMask: attentionMask?.values)
    }

    /// The ids as `[B, T]`.
    public var ids: SequenceTensor<Int> { SequenceTensor(unchecked: inputIds, batch: batch, length: length) }
}
