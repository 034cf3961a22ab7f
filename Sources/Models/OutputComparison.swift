// Comparing outputs with reference outputs (fixtures made by PyTorch): max abs and max relative error.
import TensorCore

/// The comparison of one output with its reference.
public struct OutputComparison: Encodable, Sendable {
    public let name: String
    public let shape: [Int]
    /// `max |actual − expected|`.
    public let maxAbsError: Double
    /// `max |actual − expected| / max(|expected|, 1e-3·max|expected|)`: relative to each value, with values
    /// near zero counted at a floor so they do not dominate.
    public let maxRelativeError: Double
    public let passed: Bool

    public init(name: String, shape: [Int], maxAbsError: Double, maxRelativeError: Double, passed: Bool) {
        self.name = name
        self.shape = shape
        self.maxAbsError = maxAbsError
        self.maxRelativeError = maxRelativeError
        self.passed = passed
    }

    enum CodingKeys: String, CodingKey {
        case name, shape, passed
        case maxAbsError = "max_abs_error", maxRelativeError = "max_relative_error"
    }
}

extension OutputComparison {
    /// Compares `actual` with `expected`: shapes first (a mismatch fails with infinite errors), then every value.
    /// - Throws: `TensorError` for tensors that cannot be read as float.
    public init(name: String, actual: Tensor, expected: Tensor, tolerance: Double) throws {
        guard expected.shape == actual.shape else {
            self.init(
                name: name, shape: actual.shape.dimensions, maxAbsError: .infinity, maxRelativeError: .infinity,
                passed: false)
            return
        }
        let (abs, rel) = compare(try actual.floatValues(), try expected.floatValues())
        self.init(
            name: name, shape: actual.shape.dimensions, maxAbsError: abs, maxRelativeError: rel,
            passed: abs <= tolerance)
    }
}

/// Max abs and max relative error (see `OutputComparison.maxRelativeError`); NaN anywhere counts as infinite.
public func compare(_ actual: [Float], _ expected: [Float]) -> (Double, Double) {
    let scale = Double(expected.map { Swift.abs($0) }.max() ?? 0)
    let floor = max(scale * 1e-3, Double.leastNormalMagnitude)
    var maxAbs = 0.0, maxRel = 0.0
    for (a, e) in zip(actual, expected) {
        let d = Swift.abs(Double(a) - Double(e))
        guard !d.isNaN else { return (.infinity, .infinity) }
        maxAbs = max(maxAbs, d)
        maxRel = max(maxRel, d / max(Swift.abs(Double(e)), floor))
    }
    return (maxAbs, maxRel)
}
