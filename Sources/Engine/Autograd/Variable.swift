/// A tensor that takes part in training: an f32 buffer (64-byte aligned, row-major), its
/// shape, and a gradient buffer of the same size, allocated (zeroed) the first time a backward
/// pass writes to it.
///
/// Intermediate variables made by `Tape` ops lose their gradient once backward has gone past
/// the op that made them, and their values when nothing references them any more.
public final class Variable: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    /// Whether backward computes a gradient for this variable (true for trainable parameters,
    /// and for every op output that depends on one).
    public let requiresGrad: Bool
    /// Values, `count` floats.
    public let data: UnsafeMutablePointer<Float>
    /// The gradient, apart from the values so that an op whose backward does not read this
    /// variable's values keeps only the cell and the values are freed once nothing else uses them.
    let gradientCell: GradientCell
    public var grad: UnsafeMutablePointer<Float>? { gradientCell.grad }
    /// Set by ops: the tape frees this variable's gradient after using it.
    var isIntermediate: Bool { gradientCell.isIntermediate }

    /// A variable of zeros.
    public init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.shape = shape
        count = shape.reduce(1, *)
        precondition(count >= 0, "negative size in shape \(shape)")
        self.requiresGrad = requiresGrad
        gradientCell = GradientCell(count: count, requiresGrad: requiresGrad, isIntermediate: false)
        data = Variable.allocate(count)
        data.initialize(repeating: 0, count: count)
    }

    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) {
        self.init(zeros: shape, requiresGrad: requiresGrad)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// An op's output, uninitialized: the op writes every value.
    init(output shape: [Int], requiresGrad: Bool) {
        self.shape = shape
        count = shape.reduce(1, *)
        self.requiresGrad = requiresGrad
        gradientCell = GradientCell(count: count, requiresGrad: requiresGrad, isIntermediate: true)
        data = Variable.allocate(count)
    }

    static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
        let bytes = max(n, 1) &* 4
        if TapeProfile.enabled { TapeProfile.allocated(bytes) }
        let raw = LargeBlockCache.take(bytes) ?? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(n, 1))
    }

    /// Frees what `allocate` returned (`n` as passed to it).
    static func deallocate(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        let bytes = max(n, 1) &* 4
        if TapeProfile.enabled { TapeProfile.allocated(-bytes) }
        if !LargeBlockCache.keep(UnsafeMutableRawPointer(p), bytes) { p.deallocate() }
    }

    deinit { Variable.deallocate(data, count) }

    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }
    public var gradient: [Float]? { grad.map { Array(UnsafeBufferPointer(start: $0, count: count)) } }

    /// The gradient buffer, allocated and zeroed on first use.
    func gradBuffer() -> UnsafeMutablePointer<Float> { gradientCell.gradBuffer() }

    /// The gradient buffer and whether it was just allocated, uninitialized: then the caller
    /// must write every value (store instead of add).
    func gradientForUpdate() -> (pointer: UnsafeMutablePointer<Float>, fresh: Bool) { gradientCell.gradientForUpdate() }

    /// Drops the gradient (the optimizer calls this after each step: PyTorch's `zero_grad`
    /// with `set_to_none`).
    public func clearGradient() { gradientCell.clearGradient() }

    /// Number of rows when the last dimension is `width`.
    func rows(of width: Int) -> Int {
        precondition(width > 0 && count % width == 0, "shape \(shape) does not split into rows of \(width)")
        return count / width
    }
}

/// A variable's gradient buffer (allocated on first use) and what backward needs to know of
/// the variable without its values.
final class GradientCell {
    let count: Int
    let requiresGrad: Bool
    let isIntermediate: Bool
    private(set) var grad: UnsafeMutablePointer<Float>?

    init(count: Int, requiresGrad: Bool, isIntermediate: Bool) {
        self.count = count
        self.requiresGrad = requiresGrad
        self.isIntermediate = isIntermediate
    }

    deinit { if let g = grad { Variable.deallocate(g, count) } }

    func gradBuffer() -> UnsafeMutablePointer<Float> {
        if let g = grad { return g }
        let g = Variable.allocate(count)
        g.initialize(repeating: 0, count: count)
        grad = g
        return g
    }

    func gradientForUpdate() -> (pointer: UnsafeMutablePointer<Float>, fresh: Bool) {
        if let g = grad { return (g, false) }
        let g = Variable.allocate(count)
        grad = g
        return (g, true)
    }

    func clearGradient() {
        if let g = grad { Variable.deallocate(g, count) }
        grad = nil
    }
}
