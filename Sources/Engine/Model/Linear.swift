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

    /// Several layers reading the same input (q, k, v; gate, up): for few tokens their mat-vecs
    /// run as one parallel loop over all their rows, so the threads meet once instead of once
    /// per layer. Outputs are overwritten.
    static func applyAll(_ layers: [(Linear, UnsafeMutablePointer<Float>)], to x: UnsafePointer<Float>, tokens n: Int,
                         workspace ws: Workspace, pool: ThreadPool = .shared) {
        let inF = layers[0].0.inFeatures
        guard n < sgemmThreshold, layers.allSatisfy({ $0.0.inFeatures == inF }) else {
            for (l, y) in layers { l.apply(x, tokens: n, into: y, accumulate: false, workspace: ws, pool: pool) }
            return
        }
        let sums = ws.groupSums(capacity: (inF + 31) / 32)
        var starts: [Int] = []
        var total = 0
        for (l, _) in layers { starts.append(total); total += l.outFeatures }
        for t in 0..<n {
            let xt = x + t * inF
            groupSums32(xt, inF, sums)
            pool.parallelRanges(total, minimum: 32) { range in
                for (i, (l, y)) in layers.enumerated() {
                    let lo = max(range.lowerBound, starts[i]), hi = min(range.upperBound, starts[i] + l.outFeatures)
                    if lo < hi {
                        matVecRows(l.weight, x: xt, sums: sums, y: y + t * l.outFeatures,
                                   rows: (lo - starts[i])..<(hi - starts[i]), accumulate: false)
                    }
                }
            }
        }
        for (l, y) in layers {
            guard let bias = l.bias else { continue }
            bias.withUnsafeBufferPointer { b in
                for t in 0..<n { addInPlace(y + t * l.outFeatures, b.baseAddress!, l.outFeatures) }
            }
        }
    }
}
