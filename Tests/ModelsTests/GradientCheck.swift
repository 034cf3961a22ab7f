// Helpers of the backward-kernel tests: owned buffers to hand kernels as pointers, and central finite differences
// of a float64 loss to check the float32 analytic gradients against.
import Foundation

/// A heap buffer for kernels that take pointers (no nesting of `withUnsafe…` closures in the tests).
final class Buffer<Element> {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(_ values: [Element]) {
        count = values.count
        pointer = .allocate(capacity: max(1, values.count))
        pointer.initialize(from: values, count: values.count)
    }

    convenience init(repeating value: Element, count: Int) { self.init([Element](repeating: value, count: count)) }

    var values: [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    var readable: UnsafePointer<Element> { UnsafePointer(pointer) }

    deinit {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }
}

/// Central differences `(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h` of a float64 function at the chosen coordinates.
/// With h = 1e-6 and losses of order 1–100 the truncation error (h²) and the rounding error (1e-16·|f|/h) both stay
/// below 1e-8, far under the float32 kernels' own error.
func centralDifferences(
    at x: [Double], indices: [Int], step h: Double = 1e-6, _ f: ([Double]) -> Double
) -> [Double] {
    var probe = x
    return indices.map { i in
        probe[i] = x[i] + h
        let plus = f(probe)
        probe[i] = x[i] - h
        let minus = f(probe)
        probe[i] = x[i]
        return (plus - minus) / (2 * h)
    }
}

/// `max |analytic[i] − numeric| / max |numeric|` over the chosen coordinates: the error relative to the gradient's
/// scale (a plain relative error would blow up on entries that are zero up to rounding).
func relativeGradientError(_ analytic: [Float], _ numeric: [Double], indices: [Int]) -> Double {
    let scale = numeric.map(abs).max() ?? 0
    var worst = 0.0
    for (n, i) in indices.enumerated() {
        let a = Double(analytic[i])
        if !a.isFinite { return .infinity }
        worst = max(worst, abs(a - numeric[n]))
    }
    return scale > 0 ? worst / scale : worst
}

/// The float32 analytic gradient checked against float64 central differences of `loss` at `x`, over every
/// coordinate, or `sample` of them chosen at random when given.
func gradientError(
    _ analytic: [Float], at x: [Float], sample: Int? = nil, random: inout SeededNumbers,
    _ loss: ([Double]) -> Double
) -> Double {
    var indices = Array(x.indices)
    if let sample, sample < x.count {
        indices = (0..<sample).map { _ in Int((random.next() + 1) / 2 * Float(x.count - 1)) }
    }
    let numeric = centralDifferences(at: x.map(Double.init), indices: indices, loss)
    return relativeGradientError(analytic, numeric, indices: indices)
}

/// `Σ r[i]·y[i]`: a scalar loss whose gradient with respect to y is r.
func weightedSum(_ r: [Float], _ y: [Double]) -> Double {
    zip(r, y).reduce(0) { $0 + Double($1.0) * $1.1 }
}

/// `SeededNumbers`' SplitMix64 as a `RandomNumberGenerator` (dropout masks).
struct TestGenerator: RandomNumberGenerator {
    var numbers: SeededNumbers
    init(state: UInt64) { numbers = SeededNumbers(state: state) }
    mutating func next() -> UInt64 { numbers.nextBits() }
}
