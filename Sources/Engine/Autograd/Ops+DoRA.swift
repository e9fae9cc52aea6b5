// DoRA's per-output scaling: y[r, o] = m[o] / n[o] · z[r, o] (+ b[o]), with n = ‖W + s·B·A‖
// per output row held constant (PEFT detaches it, as section 4.3 of the DoRA paper suggests).

extension Tape {
    /// (magnitude / weightNorm) ⊙ z on every row of `z` [rows, out], plus `bias` when given.
    /// Backward: dz = (m/n)·dy, dm[o] = Σ_r dy[r,o]·z[r,o] / n[o], db = Σ_r dy; nothing for n.
    public func doraScale(_ z: Variable, magnitude m: Variable, weightNorm: [Float], bias b: Variable? = nil) -> Variable {
        let outF = m.count
        precondition(weightNorm.count == outF && z.count % max(outF, 1) == 0 && (b == nil || b!.count == outF),
                     "doraScale: \(z.shape) rows, magnitude \(m.count), norm \(weightNorm.count)")
        let rows = z.count / max(outF, 1)
        let inverse = weightNorm.map { 1 / $0 }
        let factor = (0..<outF).map { m.data[$0] * inverse[$0] }
        let y = output(z.shape, [z, m, b])
        factor.withUnsafeBufferPointer { f in
            for r in 0..<rows {
                let zr = z.data + r &* outF, yr = y.data + r &* outF
                for o in 0..<outF { yr[o] = zr[o] * f[o] }
                if let b { addInPlace(yr, b.data, outF) }
            }
        }
        guard y.requiresGrad else { return y }
        record(.custom { dy in
            if z.requiresGrad {
                let dz = z.gradBuffer()
                for r in 0..<rows {
                    let o0 = r &* outF
                    for o in 0..<outF { dz[o0 &+ o] += dy[o0 &+ o] * factor[o] }
                }
            }
            if m.requiresGrad {
                // Σ_r dy[r,:]⊙z[r,:] row by row (contiguous), then / n.
                var sums = [Float](repeating: 0, count: outF)
                sums.withUnsafeMutableBufferPointer { acc in
                    for r in 0..<rows {
                        let o0 = r &* outF
                        for o in 0..<outF { acc[o] += dy[o0 &+ o] * z.data[o0 &+ o] }
                    }
                }
                let dm = m.gradBuffer()
                for o in 0..<outF { dm[o] += sums[o] * inverse[o] }
            }
            if let b, b.requiresGrad {
                let db = b.gradBuffer()
                for r in 0..<rows { addInPlace(db, dy + r &* outF, outF) }
            }
        }, y)
        return y
    }

    /// ‖W_o + scale·(B·A)_o‖ for every output row o of a frozen weight `w` [out, in] in its
    /// file type (dequantized a block of rows at a time, as `frozenLinear` reads it), with
    /// A [rank, in] and B [out, rank]. Sums of squares in Double.
    func doraWeightNorm(_ w: RawTensor, a: Variable, b: Variable, scale: Float) -> [Float] {
        let outF = w.shape[0], inF = w.shape[1], rank = a.shape[0]
        var norms = [Float](repeating: 0, count: outF)
        let block = Variable.allocate(min(outF, max(16, (1 << 18) / max(inF, 1))) &* inF)
        defer { block.deallocate() }
        forEachRowBlock(of: w) { r0, count, wf in
            var start = 0
            while start < count {
                let n = min(count - start, max(16, (1 << 18) / max(inF, 1)))
                block.update(from: wf + start &* inF, count: n &* inF)
                if rank > 0 {
                    BLAS.sgemm(m: n, n: inF, k: rank, alpha: scale, a: b.data + (r0 &+ start) &* rank, lda: rank,
                               b: a.data, ldb: inF, transposeB: false, beta: 1, c: block, ldc: inF)
                }
                for i in 0..<n {
                    var sum = 0.0
                    let row = block + i &* inF
                    for j in 0..<inF { sum += Double(row[j]) * Double(row[j]) }
                    norms[r0 &+ start &+ i] = Float(sum.squareRoot())
                }
                start += n
            }
        }
        return norms
    }
}
