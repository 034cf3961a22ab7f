// Tensor transforms and the generic naming of docs/FORMATS.md §3.4.
import Checkpoints
import KeyMaps
import TensorCore
import Testing

@Suite("Transforms and generic TF names")
struct TransformTests {
    @Test("transpose is its own inverse and moves element (r, c) to (c, r), for 2- and 4-byte dtypes")
    func transpose() throws {
        let t = Tensor((0..<6).map(Float.init), shape: [2, 3])
        let tf = try KeyTransform.transpose.toTF(t, file: "f", tensor: "w")
        #expect(tf.shape == Shape([3, 2]))
        #expect(try tf.floatValues() == [0, 3, 1, 4, 2, 5])
        #expect(try KeyTransform.transpose.toPyTorch(tf, file: "f", tensor: "w").isBitwiseEqual(to: t))
        let h = try Tensor(dtype: .f16, shape: [1, 2], bytes: [1, 2, 3, 4])
        let ht = try transposed2D(h)
        #expect(ht.shape == Shape([2, 1]))
        #expect(withExtendedLifetime(ht) { Array(ht.bytes) } == [1, 2, 3, 4])
        let big = Tensor((0..<(70 * 33)).map(Float.init), shape: [70, 33])
        let back = try transposed2D(transposed2D(big))
        #expect(back.isBitwiseEqual(to: big))
        #expect(try transposed2D(big).floatValues()[1] == 33)
    }

    @Test("an einsum-layout rank-3 attention kernel is flattened before transposing")
    func einsumKernel() throws {
        let q = Tensor((0..<8).map(Float.init), shape: [2, 2, 2])  // [H, heads, head_dim]
        let pt = try KeyTransform.transpose.toPyTorch(
            q, file: "f", tensor: "bert/encoder/layer_._0/attention/self/query/kernel:0")
        #expect(pt.shape == Shape([4, 2]))
        #expect(try pt.floatValues() == [0, 4, 1, 5, 2, 6, 3, 7])
    }

    @Test("bias reshapes [n] ↔ [1, n]; a mismatch names both shapes")
    func biasReshape() throws {
        let b = Tensor([1, 2, 3], shape: [3])
        let tf = try KeyTransform.reshapeBias.toTF(b, file: "f", tensor: "b")
        #expect(tf.shape == Shape([1, 3]))
        #expect(try KeyTransform.reshapeBias.toPyTorch(tf, file: "f", tensor: "b").shape == Shape([3]))
        let wrong = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect {
            try KeyTransform.reshapeBias.toPyTorch(wrong, file: "f", tensor: "b")
        } throws: { error in
            let m = (error as? CheckpointError)?.message ?? ""
            return m.contains("[2, 3]") && m.contains("[1, n]") && m.contains("[n]")
        }
        #expect(throws: CheckpointError.self) { try KeyTransform.transpose.toTF(b, file: "f", tensor: "w") }
    }

    @Test("the generic §3.4 rules give the spec's examples")
    func genericNames() {
        #expect(
            genericPyTorchName(fromTF: "bert/encoder/layer_._0/attention/self/query/kernel:0")
                == ("bert.encoder.layer.0.attention.self.query.weight", true))
        #expect(
            genericPyTorchName(fromTF: "mlm___cls/predictions/transform/LayerNorm/gamma:0").key
                == "cls.predictions.transform.LayerNorm.weight")
        #expect(
            genericPyTorchName(fromTF: "transformer/h_._0/attn/c_attn/weight:0") == (
                "transformer.h.0.attn.c_attn.weight", false
            ))
        #expect(splitModelName("tf_bert_model_1/bert/pooler/dense/bias:0")?.model == "tf_bert_model_1")
        #expect(splitModelName("tf_bert_model_1/bert/pooler/dense/bias:0")?.rest == "bert/pooler/dense/bias:0")
    }
}
