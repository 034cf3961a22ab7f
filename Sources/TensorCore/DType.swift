// The element types rmt-convert knows, with their names in each file format.

/// An element type of a tensor.
///
/// The model code computes in `f32`; `f16` and `bf16` convert on load. Types the models cannot use
/// (`u16`…`u64`, `c64`, the float8 kinds) are still carried through format-to-format conversions as bytes.
public enum DType: String, CaseIterable, Sendable, Codable {
    case f64, f32, f16, bf16
    case i64, i32, i16, i8
    case u64, u32, u16, u8
    case bool
    case c64
    case f8E4M3 = "f8_e4m3"
    case f8E5M2 = "f8_e5m2"

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .f64, .i64, .u64, .c64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8E4M3, .f8E5M2: return 1
        }
    }

    /// True for the floating-point types that `converted(to:)` can cast between.
    public var isCastableFloat: Bool { self == .f64 || self == .f32 || self == .f16 || self == .bf16 }

    /// The safetensors dtype string (`F32`, `BF16`, `F8_E4M3`, …).
    public var safetensorsName: String {
        switch self {
        case .f8E4M3: return "F8_E4M3"
        case .f8E5M2: return "F8_E5M2"
        default: return rawValue.uppercased()
        }
    }

    /// Parses a safetensors dtype string; exact, case-sensitive spelling.
    public init?(safetensorsName name: String) {
        guard let match = DType.allCases.first(where: { $0.safetensorsName == name }) else { return nil }
        self = match
    }

    /// Position in the official safetensors `Dtype` enum; the writer orders tensors by it, descending.
    /// Types rmt-convert does not model (F4, F6, F8_E8M0, the FNUZ kinds) keep their slots in the numbering.
    public var safetensorsOrder: Int {
        switch self {
        case .bool: return 0
        case .u8: return 4
        case .i8: return 5
        case .f8E5M2: return 6
        case .f8E4M3: return 7
        case .i16: return 11
        case .u16: return 12
        case .f16: return 13
        case .bf16: return 14
        case .i32: return 15
        case .u32: return 16
        case .f32: return 17
        case .c64: return 18
        case .f64: return 19
        case .i64: return 20
        case .u64: return 21
        }
    }
}
