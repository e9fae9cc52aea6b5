/// Causal grouped-query attention of `n` new query tokens over a layer's cached keys and values.
///
/// q: `[n, heads, headDim]`; the cache already holds the new tokens' keys and values at
/// positions `start ..< start+n`. Output: `[n, heads, headDim]`.
func causalAttention(q: UnsafePointer<Float>, n: Int, start: Int,
                     keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                     heads: Int, kvHeads: Int, headDim: Int,
                     out: UnsafeMutablePointer<Float>, workspace ws: Workspace, pool: ThreadPool = .shared) {
    let total = start + n
    let group = heads / kvHeads
    let qStride = heads * headDim, kvStride = kvHeads * headDim
    let scale = 1 / Float(headDim).squareRoot()
    if n == 1 {
        let scores = ws.buffer("attn.scores", capacity: heads * total)
        pool.parallelRanges(heads) { hs in
            for h in hs {
                let qh = q + h * headDim
                let kvh = h / group
                let s = scores + h * total
                for t in 0..<total { s[t] = dotF32(qh, keys + t * kvStride + kvh * headDim, headDim) * scale }
                softmaxInPlace(s, total)
                let o = out + h * headDim
                o.initialize(repeating: 0, count: headDim)
                for t in 0..<total { axpy(s[t], values + t * kvStride + kvh * headDim, o, headDim) }
            }
        }
        return
    }
    // Prefill: two sgemms per head (OpenBLAS threads them), the mask and softmax in between.
    let scores = ws.buffer("attn.scores", capacity: n * total)
    for h in 0..<heads {
        let kvh = h / group
        BLAS.sgemm(m: n, n: total, k: headDim, alpha: scale, a: q + h * headDim, lda: qStride,
                   b: keys + kvh * headDim, ldb: kvStride, transposeB: true, c: scores, ldc: total)
        pool.parallelRanges(n, minimum: 16) { rows in
            for i in rows {
                let row = scores + i * total
                let visible = start + i + 1
                softmaxInPlace(row, visible)
                if visible < total { (row + visible).initialize(repeating: 0, count: total - visible) }
            }
        }
        BLAS.sgemm(m: n, n: headDim, k: total, a: scores, lda: total, b: values + kvh * headDim, ldb: kvStride,
                   transposeB: false, c: out + h * headDim, ldc: qStride)
    }
}
