/// AdamW as PyTorch's `torch.optim.AdamW` runs it (the HF Trainer's default optimizer):
/// decoupled weight decay `p ← p·(1 − lr·wd)`, moments m, v with bias correction,
/// `p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps)`. Defaults are ms-swift's (β₂ 0.95, weight
/// decay 0.1). Gradient clipping is `torch.nn.utils.clip_grad_norm_`.
public final class AdamW {
    public struct Parameter {
        public let variable: Variable
        /// False for norms and biases (HF's `get_decay_parameter_names`).
        public let decays: Bool
        /// This parameter's learning rate as a multiple of the schedule's (LoRA+ gives B a larger one).
        public let learningRateScale: Float
        public init(_ variable: Variable, decays: Bool, learningRateScale: Float = 1) {
            self.variable = variable
            self.decays = decays
            self.learningRateScale = learningRateScale
        }
    }

    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    public let parameters: [Parameter]
    /// Number of steps taken (t in the bias corrections).
    public internal(set) var stepCount = 0
    private let firstMoments: [FloatBuffer]
    private let secondMoments: [FloatBuffer]

    public init(parameters: [Parameter], beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8, weightDecay: Float = 0.1) {
        self.parameters = parameters
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        func zeros(_ n: Int) -> FloatBuffer {
            let b = FloatBuffer(count: n)
            b.pointer.initialize(repeating: 0, count: n)
            return b
        }
        firstMoments = parameters.map { zeros($0.variable.count) }
        secondMoments = parameters.map { zeros($0.variable.count) }
    }

    /// Whether HF's Trainer applies weight decay to a parameter of this name: not to biases
    /// nor to any norm (`layernorm`, `rmsnorm`, a `norm` component, a `*_norm` component).
    public static func decays(parameterNamed name: String) -> Bool {
        let lower = name.lowercased()
        if lower.contains("bias") || lower.contains("layernorm") || lower.contains("rmsnorm") { return false }
        let parts = lower.split(separator: ".")
        return !parts.contains { $0 == "norm" || $0.hasSuffix("_norm") }
    }

    /// The L2 norm of all gradients together; when above `maxNorm`, every gradient is scaled
    /// by maxNorm/(norm + 1e-6). Returns the norm before clipping.
    @discardableResult
    public func clipGradients(maxNorm: Float) -> Float {
        var total: Double = 0
        for p in parameters {
            guard let g = p.variable.grad else { continue }
            total += Double(dotF32(g, g, p.variable.count))
        }
        let norm = Float(total.squareRoot())
        let coefficient = maxNorm / (norm + 1e-6)
        if coefficient < 1 {
            for p in parameters {
                guard let g = p.variable.grad else { continue }
                ThreadPool.shared.parallelRanges(p.variable.count, minimum: Tape.elementsPerTask) { r in
                    scaled(g + r.lowerBound, coefficient, g + r.lowerBound, r.count)
                }
            }
        }
        return norm
    }

    /// One update of every parameter that has a gradient, at learning rate `lr`.
    public func step(learningRate lr: Float) {
        stepCount += 1
        let t = Double(stepCount)
        let bc1 = 1 - pow(Double(beta1), t), bc2Sqrt = (1 - pow(Double(beta2), t)).squareRoot()
        let bc2Root = Float(bc2Sqrt)
        let b1 = beta1, b2 = beta2, e = eps
        for (index, p) in parameters.enumerated() {
            guard let g = p.variable.grad else { continue }
            let plr = lr * p.learningRateScale
            let stepSize = Float(Double(plr) / bc1)
            let w = p.variable.data, m = firstMoments[index].pointer, v = secondMoments[index].pointer
            let decay: Float = p.decays ? 1 - plr * weightDecay : 1
            ThreadPool.shared.parallelRanges(p.variable.count, minimum: Tape.elementsPerTask) { r in
                // The same arithmetic per element, 16 lanes at a time, then the tail.
                var i = r.lowerBound
                while i &+ 16 <= r.upperBound {
                    let gi = loadVector(g + i)
                    let wi = loadVector(w + i) * decay
                    var mi = loadVector(m + i), vi = loadVector(v + i)
                    mi += (gi - mi) * (1 - b1)
                    vi = vi * b2 + (1 - b2) * gi * gi
                    storeVector(mi, m + i)
                    storeVector(vi, v + i)
                    storeVector(wi - stepSize * (mi / (vi.squareRoot() / bc2Root + e)), w + i)
                    i &+= 16
                }
                while i < r.upperBound {
                    let gi = g[i]
                    w[i] *= decay
                    m[i] += (gi - m[i]) * (1 - b1)
                    v[i] = v[i] * b2 + (1 - b2) * gi * gi
                    w[i] -= stepSize * (m[i] / (v[i].squareRoot() / bc2Root + e))
                    i &+= 1
                }
            }
        }
    }

    /// The first and second moment buffers of parameter `index` (for checkpoints).
    func moments(of index: Int) -> (first: UnsafeMutablePointer<Float>, second: UnsafeMutablePointer<Float>) {
        (firstMoments[index].pointer, secondMoments[index].pointer)
    }

    /// Drops every gradient (PyTorch's `zero_grad(set_to_none=True)`).
    public func zeroGradients() {
        for p in parameters { p.variable.clearGradient() }
    }
}

#if canImport(Glibc)
import Glibc
#endif
