/// The LoRA branch of one adapted linear layer, ready for the forward pass:
/// y = W·x + (s·B)·(A·x), or with DoRA y = f ⊙ (W·x + (s·B)·(A·x)) where the per-row factor
/// f = m / ‖W + s·B·A‖_row is computed once here. The scale is folded into B.
final class LoRABranch: @unchecked Sendable {
    let rank: Int
    let inFeatures: Int
    let outFeatures: Int
    /// A, `[rank, in]`.
    let a: UnsafeMutablePointer<Float>
    /// s·B, `[out, rank]`.
    let scaledB: UnsafeMutablePointer<Float>
    /// DoRA's m / ‖W + s·B·A‖ per output row.
    let rowFactor: UnsafeMutablePointer<Float>?

    init(_ w: LoRAModuleWeights, scale: Float, base: RawTensor, pool: ThreadPool = .shared) {
        rank = w.rank
        inFeatures = w.inFeatures
        outFeatures = w.outFeatures
        let pa = UnsafeMutablePointer<Float>.allocate(capacity: max(1, w.a.count))
        for i in 0..<w.a.count { pa[i] = w.a[i] }
        let sb = UnsafeMutablePointer<Float>.allocate(capacity: max(1, w.b.count))
        for i in 0..<w.b.count { sb[i] = scale * w.b[i] }
        a = pa
        scaledB = sb
        guard let m = w.magnitude else { rowFactor = nil; return }
        let f = UnsafeMutablePointer<Float>.allocate(capacity: max(1, outFeatures))
        rowFactor = f
        let (r, inF) = (rank, inFeatures)
        let stride = base.bytesPerRow, src = base.bytes.baseAddress!, type = base.type
        m.withUnsafeBufferPointer { mag in
            let mp = mag.baseAddress!
            pool.parallelRanges(outFeatures, minimum: 16) { rows in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: inF) { tmp in
                    let row = tmp.baseAddress!
                    for o in rows {
                        dequantize(type, from: src + o &* stride, to: row, count: inF)
                        for j in 0..<r { axpy(sb[o &* r &+ j], pa + j &* inF, row, inF) }
                        let norm = dotF32(row, row, inF).squareRoot()
                        f[o] = mp[o] / norm
                    }
                }
            }
        }
    }

    deinit {
        a.deallocate()
        scaledB.deallocate()
        rowFactor?.deallocate()
    }

    /// down[j] = A[j,:] · x for one token.
    @inline(__always)
    func down(_ x: UnsafePointer<Float>, into down: UnsafeMutablePointer<Float>) {
        for j in 0..<rank { down[j] = dotF32(a + j &* inFeatures, x, inFeatures) }
    }

    /// For the rows `rows` of one token, given `base` = W·x (without bias): y = base + s·B·down,
    /// DoRA y = f ⊙ that; added to y when `accumulate`. `base` may be `y` itself when not
    /// accumulating, or when accumulating without DoRA (then `base` already holds y + W·x).
    @inline(__always)
    func finish(rows: Range<Int>, base: UnsafePointer<Float>, down: UnsafePointer<Float>,
                y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let r = rank, b = scaledB
        if let f = rowFactor {
            for o in rows {
                var s: Float = 0
                let bo = b + o &* r
                for j in 0..<r { s += bo[j] * down[j] }
                let v = f[o] * (base[o] + s)
                if accumulate { y[o] += v } else { y[o] = v }
            }
        } else {
            for o in rows {
                var s: Float = 0
                let bo = b + o &* r
                for j in 0..<r { s += bo[j] * down[j] }
                y[o] = base[o] + s
            }
        }
    }

    /// The branch over `n` tokens with sgemm, `z` holding W·x (row stride out): z += s·B·(A·x),
    /// then DoRA's z ⊙= f. `downs` has room for n × rank.
    func applyBatched(_ x: UnsafePointer<Float>, tokens n: Int, z: UnsafeMutablePointer<Float>,
                      downs: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(m: n, n: rank, k: inFeatures, a: x, lda: inFeatures, b: a, ldb: inFeatures, transposeB: true,
                   beta: 0, c: downs, ldc: rank)
        BLAS.sgemm(m: n, n: outFeatures, k: rank, a: downs, lda: rank, b: scaledB, ldb: rank, transposeB: true,
                   beta: 1, c: z, ldc: outFeatures)
        if let f = rowFactor {
            for t in 0..<n {
                let zt = z + t &* outFeatures
                for o in 0..<outFeatures { zt[o] *= f[o] }
            }
        }
    }

    /// s·B·A (`[out, in]`) added into `w`, then DoRA's rows scaled by f: the merged weight.
    func merge(into w: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(m: outFeatures, n: inFeatures, k: rank, a: scaledB, lda: rank, b: a, ldb: inFeatures,
                   transposeB: false, beta: 1, c: w, ldc: inFeatures)
        if let f = rowFactor {
            for o in 0..<outFeatures {
                let row = w + o &* inFeatures
                let v = f[o]
                for i in 0..<inFeatures { row[i] *= v }
            }
        }
    }
}
