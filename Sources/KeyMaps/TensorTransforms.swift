// Applying a rule's transform to a tensor, in either direction, with shape checks that name both shapes.
import Checkpoints
import TensorCore

extension KeyTransform {
    /// The TF shape for a PyTorch shape, or nil when the shape does not fit the transform.
    public func tfShape(forPyTorch shape: Shape) -> Shape? {
        switch self {
        case .none: return shape
        case .transpose: return shape.rank == 2 ? Shape([shape[1], shape[0]]) : nil
        case .reshapeBias: return shape.rank == 1 ? Shape([1, shape[0]]) : nil
        }
    }

    /// The PyTorch shape for a TF shape (docs/FORMATS.md §3.4 steps 5 and 8), checked without reading data.
    /// - Parameters: `file` and `tensor` name the source in errors.
    /// - Throws: `CheckpointError` naming the TF shape and the shape the rule expects.
    public func pytorchShape(forTF shape: Shape, file: String, tensor: String) throws -> Shape {
        let d = shape.dimensions
        switch self {
        case .none:
            return shape
        case .transpose:
            if d.count == 2 { return Shape([d[1], d[0]]) }
            if d.count == 3 {
                let flat = Self.flattenedKernel(shape, tensor: tensor); return Shape([flat[1], flat[0]])
            }
            throw CheckpointError(
                .unsupportedContent, file: file, tensor: tensor,
                "kernel `\(tensor)` has TF shape \(shape) but a dense kernel [in, out] was expected; convolution kernels are not supported"
            )
        case .reshapeBias:
            if d.count == 1 { return shape }
            guard d.count == 2, d[0] == 1 else {
                throw CheckpointError(
                    .corrupt, file: file, tensor: tensor,
                    "bias `\(tensor)` has TF shape \(shape) but [1, n] was expected (PyTorch shape [n]); the file is not a GPT-2 checkpoint"
                )
            }
            return Shape([d[1]])
        }
    }

    /// A rank-3 einsum kernel as 2-D [in, out]: [H, heads, head_dim] (query/key/value) → [H, heads·head_dim],
    /// [heads, head_dim, H] (attention output) → [heads·head_dim, H].
    static func flattenedKernel(_ shape: Shape, tensor: String) -> Shape {
        let d = shape.dimensions
        let output = tensor.contains("attention/output") || tensor.contains("attention.output")
        return output ? Shape([d[0] * d[1], d[2]]) : Shape([d[0], d[1] * d[2]])
    }

    /// The PyTorch tensor for a TF tensor.
    /// - Throws: `CheckpointError` naming the TF shape and the shape the rule expects.
    public func toPyTorch(_ t: Tensor, file: String, tensor: String) throws -> Tensor {
        let target = try pytorchShape(forTF: t.shape, file: file, tensor: tensor)
        switch self {
        case .none: return t
        case .reshapeBias: return try t.reshaped(target)
        case .transpose:
            let kernel = t.shape.rank == 3 ? try t.reshaped(Self.flattenedKernel(t.shape, tensor: tensor)) : t
            return try transposed2D(kernel)
        }
    }

    /// The TF tensor for a PyTorch tensor (docs/FORMATS.md §3.5).
    /// - Throws: `CheckpointError` naming the PyTorch shape and the shape the rule expects.
    public func toTF(_ t: Tensor, file: String, tensor: String) throws -> Tensor {
        guard let target = tfShape(forPyTorch: t.shape) else {
            let expected = self == .transpose ? "[out, in]" : "[n]"
            throw CheckpointError(
                .invalidArgument, file: file, tensor: tensor,
                "`\(tensor)` has shape \(t.shape) but the TF layout needs a PyTorch shape \(expected); is this the right architecture?"
            )
        }
        return self == .transpose ? try transposed2D(t) : try t.reshaped(target)
    }
}

/// The transpose of a rank-2 tensor of any dtype: [r, c] → [c, r], row-major.
public func transposed2D(_ t: Tensor) throws -> Tensor {
    let rows = t.shape[0], cols = t.shape[1], size = t.dtype.itemSize
    let src = t.bytes
    let storage = TensorStorage(count: t.byteCount) { dst in
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        func run<T>(_: T.Type) {
            let out = d.assumingMemoryBound(to: T.self)  // owned storage is 64-byte aligned
            let block = 32
            for r0 in stride(from: 0, to: rows, by: block) {
                for c0 in stride(from: 0, to: cols, by: block) {
                    for r in r0..<min(r0 + block, rows) {
                        for c in c0..<min(c0 + block, cols) {
                            out[c * rows + r] = s.loadUnaligned(fromByteOffset: (r * cols + c) * size, as: T.self)
                        }
                    }
                }
            }
        }
        switch size {
        case 8: run(UInt64.self)
        case 4: run(UInt32.self)
        case 2: run(UInt16.self)
        default: run(UInt8.self)
        }
    }
    return try Tensor(dtype: t.dtype, shape: Shape([cols, rows]), storage: storage)
}
