/// A linear layer: a weight `[out, in]` kept in its file type, and an optional bias.
struct Linear {
    let weight: RawTensor
    let bias: [Float]?

    var outFeatures: Int { weight.shape[0] }
    var inFeatures: Int { weight.shape[1] }

    /// Below this many tokens a product runs as mat-vecs on the quantized weight; from it on the
    /// weight is dequantized once into the workspace and multiplied with sgemm.
    static let sgemmThreshold = 8

    /// y[n×out] = x[n×in] · Wᵀ + b, or y += that when `accumulate`.
    func apply(_ x: UnsafePointer<Float>, tokens n: Int, into y: UnsafeMutablePointer<Float>,
               accumulate: Bool, workspace ws: Workspace, pool: ThreadPool = .shared) {
        let inF = inFeatures, outF = outFeatures
        if n < Linear.sgemmThreshold {
            let sums = ws.groupSums(capacity: (inF + 31) / 32)
            for t in 0..<n {
                let xt = x + t * inF, yt = y + t * outF
                groupSums32(xt, inF, sums)
                pool.parallelRanges(outF, minimum: 32) { rows in
                    matVecRows(weight, x: xt, sums: sums, y: yt, rows: rows, accumulate: accumulate)
                }
            }
        } else {
            let wf: UnsafeMutablePointer<Float>
            if weight.type == .f32 {
                wf = UnsafeMutablePointer(mutating: weight.bytes.baseAddress!.assumingMemoryBound(to: Float.self))
            } else {
                wf = ws.dequantized(capacity: outF * inF)
                pool.parallelRanges(outF, minimum: 64) { rows in dequantizeRows(weight, rows: rows, into: wf) }
            }
            BLAS.sgemm(m: n, n: outF, k: inF, a: x, lda: inF, b: wf, ldb: inF, transposeB: true,
                       beta: accumulate ? 1 : 0, c: y, ldc: outF)
        }
        if let bias {
            bias.withUnsafeBufferPointer { b in
                for t in 0..<n { addInPlace(y + t * outF, b.baseAddress!, outF) }
            }
        }
    }
}
