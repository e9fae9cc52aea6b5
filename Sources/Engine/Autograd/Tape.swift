#if canImport(Glibc)
import Glibc
#endif

/// A 64-byte aligned scratch array of floats saved by an op for its backward; freed with it.
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = Variable.allocate(count)
    }
    deinit { Variable.deallocate(pointer, count) }
}

/// Every recorded operation with what its backward needs. One case per op; the rule for each
/// lives beside its forward in the `Ops+*.swift` files and is dispatched from `backward(of:)`.
/// An input whose values backward does not read is kept as its `GradientCell` only, so its
/// values are freed as soon as the forward is done with them (activation memory is then what
/// backward reads, not every intermediate).
enum Operation {
    case linear(x: Variable, weight: Variable, bias: GradientCell?)
    case loraLinear(LoRALinearRecord)
    case frozenLinear(x: GradientCell, weight: RawTensor, bias: GradientCell?)
    case embedding(ids: [Int32], table: Variable)
    case rmsNorm(x: Variable, weight: Variable, inverseRMS: FloatBuffer)
    case rope(x: GradientCell, heads: Int, cos: [Float], sin: [Float], positions: [Int32], rotary: RotaryEmbedding)
    case attention(q: Variable, k: Variable, v: Variable, out: Variable, layout: AttentionLayout, logSumExp: FloatBuffer)
    case swiglu(gate: Variable, up: Variable)
    case add(GradientCell, GradientCell)
    case scale(GradientCell, Float)
    case crossEntropy(logits: Variable, labels: [Int32], logSumExp: FloatBuffer, counted: Int)
    case linearCrossEntropy(HeadLossRecord)
    case dropout(x: GradientCell, keep: [UInt8], scale: Float)
    /// An op defined in its own file (DoRA's row scaling): its gradient rule as a closure over
    /// what it saved, given d(output).
    case custom(backward: (UnsafePointer<Float>) -> Void)
}

/// Records ops in the order they run so that `backward` can run their gradient rules in
/// reverse (reverse-mode automatic differentiation, as llm.c's explicit backward and
/// tinygrad's rule table).
///
/// A tape is used for one forward and one backward. An op whose inputs need no gradient is not
/// recorded and its output needs none either (evaluation runs through the same functions).
public final class Tape {
    struct Node {
        let operation: Operation
        let output: GradientCell
    }
    private(set) var nodes: [Node] = []
    let pool: ThreadPool

    /// Element-wise work smaller than this runs on one thread: splitting it saves less than
    /// it costs, since the pool's workers keep spinning for a while after each job and take a
    /// core from the sgemm that usually comes next (2 cores here).
    static let elementsPerTask = 1 << 18

    /// False for evaluation: nothing is recorded, every output is a constant and is freed as
    /// soon as the next op has read it.
    public let recordsGradients: Bool

    public init(pool: ThreadPool = .shared, recordsGradients: Bool = true) {
        _ = Tape.allocatorTuned
        self.pool = pool
        self.recordsGradients = recordsGradients
    }

    /// glibc serves blocks above a threshold it adapts (128 kB at first) with fresh mmap, so
    /// every activation of a step came back as new zero pages (about a million page faults
    /// per training step, a second of system time). Fixing the threshold at its maximum (32 MB)
    /// lets freed activations be reused from the heap; only the logits (hundreds of MB) are
    /// still mapped per call. Up to 256 MB of free heap top stays mapped instead of returning
    /// to the OS after each step.
    static let allocatorTuned: Void = {
        #if canImport(Glibc)
        // mallopt is in malloc.h, which the Glibc module does not export; its option numbers
        // are glibc's ABI: M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3.
        typealias MalloptFn = @convention(c) (Int32, Int32) -> Int32
        if getenv("TUNE_MALLOC_DEFAULTS") != nil { return }
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MalloptFn.self)
        _ = mallopt(-3, 32 << 20)
        _ = mallopt(-1, 256 << 20)
        #endif
    }()

    /// Number of recorded ops not yet run backward.
    public var recordedCount: Int { nodes.count }

    /// A new output variable; recorded with `operation` when any input needs a gradient.
    func output(_ shape: [Int], _ inputs: [Variable?]) -> Variable {
        if TapeProfile.enabled { TapeProfile.opStart = TapeProfile.now() }
        return Variable(output: shape, requiresGrad: recordsGradients && inputs.contains { $0?.requiresGrad == true })
    }

    func record(_ operation: Operation, _ output: Variable) {
        if TapeProfile.enabled { TapeProfile.add("forward " + operation.name, since: TapeProfile.opStart) }
        if output.requiresGrad { nodes.append(Node(operation: operation, output: output.gradientCell)) }
    }

    /// Seeds d(loss)/d(loss) = 1 and runs the recorded ops backward, adding (+=) into the
    /// gradients of every variable that requires one. Each op's saved buffers, and the
    /// gradients of intermediate outputs, are freed as soon as the op has been run; the tape
    /// is empty afterwards.
    public func backward(_ loss: Variable) {
        precondition(loss.count == 1, "backward needs a scalar loss, got shape \(loss.shape)")
        backward(from: loss, seed: [1])
    }

    /// Runs backward from any output with a given gradient of it (`seed`, one value per
    /// element): vector-Jacobian products, and the way to continue backward through a
    /// recomputed segment of a graph.
    public func backward(from output: Variable, seed: [Float]) {
        precondition(seed.count == output.count, "backward: \(seed.count) seed values for shape \(output.shape)")
        guard output.requiresGrad else { nodes.removeAll(); return }
        seed.withUnsafeBufferPointer { addInPlace(output.gradBuffer(), $0.baseAddress!, output.count) }
        let seeded = output.gradientCell
        while let node = nodes.popLast() {
            if let g = node.output.grad {
                let t0 = TapeProfile.enabled ? TapeProfile.now() : 0
                backward(of: node.operation, outputGrad: g)
                if TapeProfile.enabled { TapeProfile.add("backward " + node.operation.name, since: t0) }
            }
            if node.output.isIntermediate && node.output !== seeded { node.output.clearGradient() }
        }
    }

    /// x.grad += s · dy, on both cores for large tensors; the first gradient is written, not added.
    func accumulateGradient(of x: GradientCell, _ dy: UnsafePointer<Float>, scale s: Float = 1) {
        let (g, fresh) = x.gradientForUpdate()
        pool.parallelRanges(x.count, minimum: Tape.elementsPerTask) { r in
            let o = r.lowerBound
            switch (fresh, s == 1) {
            case (true, true): (g + o).update(from: dy + o, count: r.count)
            case (true, false): scaled(dy + o, s, g + o, r.count)
            case (false, true): addInPlace(g + o, dy + o, r.count)
            case (false, false): axpy(s, dy + o, g + o, r.count)
            }
        }
    }

    private func backward(of operation: Operation, outputGrad dy: UnsafeMutablePointer<Float>) {
        switch operation {
        case let .linear(x, w, b): linearBackward(x: x, weight: w, bias: b, dy: dy)
        case let .frozenLinear(x, w, b): frozenLinearBackward(x: x, weight: w, bias: b, dy: dy)
        case let .loraLinear(record): loraLinearBackward(record, dy: dy)
        case let .embedding(ids, table): embeddingBackward(ids: ids, table: table, dy: dy)
        case let .rmsNorm(x, w, r): rmsNormBackward(x: x, weight: w, inverseRMS: r, dy: dy)
        case let .rope(x, heads, c, s, positions, rotary):
            ropeBackward(x: x, heads: heads, cos: c, sin: s, positions: positions, rotary: rotary, dy: dy)
        case let .attention(q, k, v, out, layout, lse):
            attentionBackward(q: q, k: k, v: v, out: out, layout: layout, logSumExp: lse, dy: dy)
        case let .swiglu(gate, up): swigluBackward(gate: gate, up: up, dy: dy)
        case let .add(a, b):
            if a.requiresGrad { accumulateGradient(of: a, dy) }
            if b.requiresGrad { accumulateGradient(of: b, dy) }
        case let .scale(x, s): accumulateGradient(of: x, dy, scale: s)
        case let .crossEntropy(logits, labels, lse, counted):
            crossEntropyBackward(logits: logits, labels: labels, logSumExp: lse, counted: counted, dy: dy[0])
        case let .linearCrossEntropy(record): linearCrossEntropyBackward(record, dy: dy[0])
        case let .dropout(x, keep, s): dropoutBackward(x: x, keep: keep, scale: s, dy: dy)
        case let .custom(rule): rule(dy)
        }
    }
}
