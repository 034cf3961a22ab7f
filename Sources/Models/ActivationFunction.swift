// The activation functions of docs/FORMATS.md §4.6, applied in place over a buffer.
import CKernels
import Foundation

/// A pointwise activation, named as `hidden_act` / `activation_function` name it in `config.json`.
public enum ActivationFunction: String, Sendable, CaseIterable {
    /// `0.5·x·(1 + erf(x/√2))`, exact (BERT's `gelu`).
    case gelu
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` (GPT-2's `gelu_new`; also `gelu_pytorch_tanh`, `gelu_fast`).
    case geluTanh = "gelu_new"
    case relu
    /// `x·σ(x)` (`silu`, `swish`).
    case silu
    /// `x·σ(1.702·x)`.
    case quickGelu = "quick_gelu"
    case tanh
    /// The identity.
    case linear

    /// Parses a config name, accepting the aliases transformers accepts for the same formula.
    /// - Returns: nil for a name this build does not implement.
    public init?(configName name: String) {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        case "silu", "swish": self = .silu
        case "quick_gelu": self = .quickGelu
        case "tanh": self = .tanh
        case "linear": self = .linear
        default: return nil
        }
    }

    /// Every accepted spelling, for error messages.
    public static let acceptedNames = [
        "gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu", "swish",
        "quick_gelu", "tanh", "linear",
    ]

    /// Applies the activation to every element of `values`.
    public func apply(_ values: inout [Float]) {
        values.withUnsafeMutableBufferPointer { apply($0) }
    }

    /// Applies the activation to every element of `x`.
    public func apply(_ x: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .gelu:  // vectorised; erf to 1.5e-7 (see ckernels.h)
            if let p = x.baseAddress { ckernels_bias_activation(p, 1, x.count, nil, Int32(CKERNELS_GELU_ERF)) }
        case .geluTanh:
            if let p = x.baseAddress { ckernels_bias_activation(p, 1, x.count, nil, Int32(CKERNELS_GELU_TANH)) }
        case .relu:
            for i in x.indices { x[i] = max(x[i], 0) }
        case .silu:
            for i in x.indices { x[i] = x[i] / (1 + exp(-x[i])) }
        case .quickGelu:
            for i in x.indices { x[i] = x[i] / (1 + exp(-1.702 * x[i])) }
        case .tanh:
            for i in x.indices { x[i] = Foundation.tanh(x[i]) }
        case .linear:
            break
        }
    }
}
