// RMSNorm over the last dimension: y = x · r · w with r = 1/√(mean(x²) + eps).

extension Tape {
    /// RMS-normalizes each row of `x` whose length is `weight.count` (hidden rows, or the
    /// per-head rows of Qwen3's q/k norms).
    public func rmsNorm(_ x: Variable, weight w: Variable, eps: Float) -> Variable {
        let d = w.count, rows = x.rows(of: d)
        let y = output(x.shape, [x, w])
        let inverseRMS = FloatBuffer(count: rows)
        let xp = x.data, yp = y.data, wp = w.data, rp = inverseRMS.pointer
        pool.parallelRanges(rows, minimum: max(1, Tape.elementsPerTask / d)) { range in
            for r in range {
                let xr = xp + r &* d
                let inv = 1 / (dotF32(xr, xr, d) / Float(d) + eps).squareRoot()
                rp[r] = inv
                Engine.rmsNorm(xr, weight: wp, eps: eps, out: yp + r &* d, d)
            }
        }
        record(.rmsNorm(x: x, weight: w, inverseRMS: inverseRMS), y)
        return y
    }

    /// With g = w ⊙ dy: dx = r·g − x · r³/d · Σ(g ⊙ x); dw = Σ_rows dy ⊙ x · r.
    func rmsNormBackward(x: Variable, weight w: Variable, inverseRMS: FloatBuffer, dy: UnsafePointer<Float>) {
        let d = w.count, rows = x.count / d
        let xp = x.data, wp = w.data, rp = inverseRMS.pointer
        if x.requiresGrad {
            let dx = x.gradBuffer()
            pool.parallelRanges(rows, minimum: max(1, Tape.elementsPerTask / d)) { range in
                for r in range {
                    let xr = xp + r &* d, gr = dy + r &* d, dxr = dx + r &* d
                    let inv = rp[r]
                    var dot: Float = 0
                    for i in 0..<d { dot += wp[i] * gr[i] * xr[i] }
                    let c = dot * inv * inv * inv / Float(d)
                    for i in 0..<d { dxr[i] += inv * wp[i] * gr[i] - c * xr[i] }
                }
            }
        }
        if w.requiresGrad {
            let dw = w.gradBuffer()
            // Split over columns so that threads never write the same gradient entry.
            pool.parallelRanges(d, minimum: rows &* d >= 2 &* Tape.elementsPerTask ? 64 : d) { cols in
                for r in 0..<rows {
                    let xr = xp + r &* d, gr = dy + r &* d, inv = rp[r]
                    for i in cols { dw[i] += gr[i] * xr[i] * inv }
                }
            }
        }
    }
}
