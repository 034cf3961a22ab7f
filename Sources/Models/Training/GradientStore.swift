// Where the backward passes accumulate parameter gradients: one buffer per trained parameter, keyed like the
// parameters themselves, allocated once and zeroed between steps.

/// The gradient of one parameter: float32 values at a stable address over the rows of the parameter that train —
/// all of them, or a range of rows of a table (the encoder RMT's memory rows of a frozen word-embedding table).
///
/// A parameter is seen as `[rows, width]` with `width` its last dimension (a vector is one row). Backward passes
/// **accumulate** into `pointer`; the trainer zeroes the buffer before each step.
public final class GradientBuffer: @unchecked Sendable {
    /// `[rows.count, width]`.
    public let pointer: UnsafeMutablePointer<Float>
    /// The parameter's rows covered; row `rows.lowerBound` is the buffer's first.
    public let rows: Range<Int>
    public let width: Int

    /// A zeroed buffer for `rows` of a `[_, width]` parameter.
    public init(rows: Range<Int>, width: Int) {
        self.rows = rows
        self.width = width
        pointer = .allocate(capacity: max(1, rows.count * width))
        pointer.initialize(repeating: 0, count: max(1, rows.count * width))
    }

    deinit { pointer.deallocate() }

    /// `rows.count · width`.
    public var count: Int { rows.count * width }

    /// Where the buffer's first value sits among the parameter's values.
    public var parameterOffset: Int { rows.lowerBound * width }

    /// True when the buffer covers the whole parameter of `count` values.
    public func covers(count parameterCount: Int) -> Bool { rows.lowerBound == 0 && count == parameterCount }

    /// A copy of the values.
    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Sets every value to 0.
    public func zero() { pointer.update(repeating: 0, count: count) }
}

/// The gradients of the parameters that train, keyed by `Parameter.key`; a frozen parameter has none, and the
/// backward passes skip its weight-gradient work (its input gradients still flow).
public final class GradientStore: @unchecked Sendable {
    private var buffers: [String: GradientBuffer] = [:]
    /// The keys in the order the parameters started training: sums over all gradients (the clipping norm) run in
    /// this order, the same in every process.
    public private(set) var keys: [String] = []

    public init() {}

    /// Starts training `parameter`: a zeroed gradient over all of it, or over `rows` of its `[_, width]` rows
    /// (`width` its last dimension).
    public func train(_ parameter: Parameter, rows: Range<Int>? = nil) {
        let width = max(1, parameter.parts[0].shape.last ?? parameter.count)
        if buffers[parameter.key] == nil { keys.append(parameter.key) }
        buffers[parameter.key] = GradientBuffer(rows: rows ?? 0..<(parameter.count / width), width: width)
    }

    /// The gradient of `parameter`, or nil when it is frozen.
    public subscript(_ parameter: Parameter) -> GradientBuffer? { buffers[parameter.key] }

    /// The gradient of a parameter by its key.
    public subscript(key key: String) -> GradientBuffer? { buffers[key] }

    /// Every gradient, in the order of `keys`.
    public var all: [GradientBuffer] { keys.map { buffers[$0]! } }

    /// Sets every gradient to 0.
    public func zero() {
        for buffer in buffers.values { buffer.zero() }
    }
}
