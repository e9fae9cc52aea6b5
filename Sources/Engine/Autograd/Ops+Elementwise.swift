#if canImport(Glibc)
import Glibc
#endif

// Element-wise ops: add, scale, SwiGLU, dropout.

extension Tape {
    /// a + b (same number of elements; the result has a's shape).
    public func add(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.count == b.count, "add: shapes \(a.shape) and \(b.shape)")
        let y = output(a.shape, [a, b])
        let ap = a.data, bp = b.data, yp = y.data
        pool.parallelRanges(a.count, minimum: Tape.elementsPerTask) { r in
            let o = r.lowerBound
            (yp + o).update(from: ap + o, count: r.count)
            addInPlace(yp + o, bp + o, r.count)
        }
        record(.add(a.gradientCell, b.gradientCell), y)
        return y
    }

    /// s · x.
    public func scale(_ x: Variable, _ s: Float) -> Variable {
        let y = output(x.shape, [x])
        let xp = x.data, yp = y.data
        pool.parallelRanges(x.count, minimum: Tape.elementsPerTask) { r in
            scaled(xp + r.lowerBound, s, yp + r.lowerBound, r.count)
        }
        record(.scale(x.gradientCell, s), y)
        return y
    }

    /// silu(gate) · up, with silu(g) = g·σ(g).
    public func swiglu(gate: Variable, up: Variable) -> Variable {
        precondition(gate.count == up.count, "swiglu: shapes \(gate.shape) and \(up.shape)")
        let y = output(gate.shape, [gate, up])
        let gp = gate.data, up_ = up.data, yp = y.data
        pool.parallelRanges(gate.count, minimum: Tape.elementsPerTask) { r in
            var i = r.lowerBound
            while i &+ 16 <= r.upperBound {
                let g = loadVector(gp + i)
                storeVector(g / (1 + exp16(-g)) * loadVector(up_ + i), yp + i)
                i &+= 16
            }
            while i < r.upperBound { let g = gp[i]; yp[i] = g / (1 + expf(-g)) * up_[i]; i &+= 1 }
        }
        record(.swiglu(gate: gate, up: up), y)
        return y
    }

    /// d gate = dy·up·σ(g)·(1 + g·(1 − σ(g))), d up = dy·silu(g).
    func swigluBackward(gate: Variable, up: Variable, dy: UnsafePointer<Float>) {
        let gp = gate.data, upp = up.data
        let dg = gate.requiresGrad ? gate.gradBuffer() : nil
        let du = up.requiresGrad ? up.gradBuffer() : nil
        pool.parallelRanges(gate.count, minimum: Tape.elementsPerTask) { r in
            var i = r.lowerBound
            while i &+ 16 <= r.upperBound {
                let g = loadVector(gp + i), d = loadVector(dy + i)
                let sig = 1 / (1 + exp16(-g))
                if let dg { storeVector(loadVector(dg + i) + d * loadVector(upp + i) * sig * (1 + g * (1 - sig)), dg + i) }
                if let du { storeVector(loadVector(du + i) + d * g * sig, du + i) }
                i &+= 16
            }
            while i < r.upperBound {
                let g = gp[i], sig = 1 / (1 + expf(-g))
                if let dg { dg[i] += dy[i] * upp[i] * sig * (1 + g * (1 - sig)) }
                if let du { du[i] += dy[i] * g * sig }
                i &+= 1
            }
        }
    }

    /// Inverted dropout: each element is zeroed with probability `p` and the others scaled by
    /// 1/(1−p), so the expected value is unchanged. p = 0 returns `x` itself.
    public func dropout(_ x: Variable, p: Float, random: inout RandomSource) -> Variable {
        precondition(p >= 0 && p < 1, "dropout probability \(p) is not in [0, 1)")
        if p == 0 { return x }
        let s = 1 / (1 - p)
        var keep = [UInt8](repeating: 0, count: x.count)
        let y = output(x.shape, [x])
        for i in 0..<x.count {
            let kept = random.nextUnit() >= Double(p)
            keep[i] = kept ? 1 : 0
            y.data[i] = kept ? x.data[i] * s : 0
        }
        record(.dropout(x: x.gradientCell, keep: keep, scale: s), y)
        return y
    }

    func dropoutBackward(x: GradientCell, keep: [UInt8], scale s: Float, dy: UnsafePointer<Float>) {
        let dx = x.gradBuffer()
        for i in 0..<x.count where keep[i] != 0 { dx[i] += dy[i] * s }
    }
}
