import Foundation

/// AWQ's two searches (Lin et al. 2023, as AutoAWQ runs them), for one decoder layer.
///
/// Scales: the linear layers that read one input (q/k/v; gate/up; o; down) have each input
/// channel c multiplied by s_c in their weights and divided out of the op before them, which
/// protects the channels with large activations from rounding. For the ratios α = 0, 1/20, …,
/// 19/20, s = s_x^α / (w̄^(1−α) + 1e-4) (duo scaling, AutoAWQ's default; s_x^α without it),
/// clamped to ≥ 1e-4 and normalised by √(max s · min s), with s_x the mean |x| of the channel
/// and w̄ the weights' mean magnitude relative to their group's largest. The chosen α is the
/// one whose Q(W·diag s)·diag(1/s) gives the least squared error in the output of the block
/// the scales act on (the caller's `loss`).
///
/// Clipping: afterwards each (row, group) of a layer's scaled weights may be clipped to
/// ±(1 − i/20)·max|w|, i = 0…9, whichever gives the least squared error of that group's part
/// of the output on the calibration inputs. AutoAWQ measures it on a sample of 512 tokens;
/// here it is exact over every calibration token, through the group's block of the inputs'
/// Σ x xᵀ.
enum AWQ {
    static let gridPoints = 20
    static let clipSteps = 10

    struct Target {
        var weight: [Float]
        var rows: Int
    }

    /// The candidate scales for ratio `step`/20.
    static func candidate(step: Int, xMean: [Float], wMean: [Float]?) -> [Float] {
        let alpha = Float(step) / Float(gridPoints)
        var s = xMean.indices.map { c -> Float in
            var v = powf(xMean[c], alpha)
            if let wMean { v /= powf(wMean[c], 1 - alpha) + 1e-4 }
            return max(v, 1e-4)
        }
        let norm = (s.max()! * s.min()!).squareRoot()
        for c in s.indices {
            s[c] /= norm
            if !s[c].isFinite { s[c] = 1 }
        }
        return s
    }

    /// The scales among the 20 candidates with the least `loss` (the block output error of
    /// the layers quantized with those scales).
    static func searchScales(xMean: [Float], wMean: [Float]?, loss: ([Float]) -> Double) -> [Float] {
        var best = (error: Double.infinity, scales: [Float](repeating: 1, count: xMean.count))
        for step in 0..<gridPoints {
            let s = candidate(step: step, xMean: xMean, wMean: wMean)
            let e = loss(s)
            if e < best.error { best = (e, s) }
        }
        return best.scales
    }

    /// Q(W·diag s)·diag(1/s): the weights as the kernels will see them once s is folded in.
    static func pseudoQuantized(_ weight: [Float], rows: Int, columns n: Int, scales s: [Float], grid: GroupGrid) -> [Float] {
        var scaled = weight
        scaled.withUnsafeMutableBufferPointer { w in
            for r in 0..<rows { for c in 0..<n { w[r &* n &+ c] *= s[c] } }
        }
        var q = scaled.withUnsafeBufferPointer {
            QuantizedMatrix.roundToNearest($0.baseAddress!, rows: rows, columns: n, grid: grid).dequantized()
        }
        q.withUnsafeMutableBufferPointer { w in
            for r in 0..<rows { for c in 0..<n { w[r &* n &+ c] /= s[c] } }
        }
        return q
    }

    /// The loss of linear layers scored on their own outputs (AutoAWQ's case when the block is
    /// the one linear, as for o and down): Σ |(Q(W·diag s)·diag(1/s) − W) x|², exact from the
    /// inputs' Σ x xᵀ.
    static func linearLoss(_ targets: [Target], columns n: Int, hessian: [Float], grid: GroupGrid) -> ([Float]) -> Double {
        let maxRows = targets.map(\.rows).max() ?? 0
        var scratch = [Float](repeating: 0, count: maxRows * n)
        return { s in
            var error = 0.0
            for t in targets {
                var d = pseudoQuantized(t.weight, rows: t.rows, columns: n, scales: s, grid: grid)
                for i in d.indices { d[i] -= t.weight[i] }
                error += d.withUnsafeBufferPointer { dp in
                    hessian.withUnsafeBufferPointer { h in
                        scratch.withUnsafeMutableBufferPointer { sc in
                            LayerError.squaredOutputError(difference: dp.baseAddress!, rows: t.rows, columns: n,
                                                          hessian: h.baseAddress!, scratch: sc.baseAddress!)
                        }
                    }
                }
            }
            return error
        }
    }

    /// AutoAWQ's w̄: |w| over the largest |w| of its group, averaged over all rows.
    static func meanRelativeMagnitude(_ targets: [Target], columns n: Int, groupSize gs: Int) -> [Float] {
        var sum = [Double](repeating: 0, count: n)
        var rows = 0
        for t in targets {
            for r in 0..<t.rows {
                for start in stride(from: 0, to: n, by: gs) {
                    let end = min(start + gs, n)
                    var amax: Float = 0
                    for c in start..<end { amax = max(amax, abs(t.weight[r * n + c])) }
                    for c in start..<end { sum[c] += Double(abs(t.weight[r * n + c]) / (amax + 1e-6)) }
                }
            }
            rows += t.rows
        }
        return sum.map { Float($0 / Double(max(1, rows))) }
    }

    /// Clips each (row, group) of `weight` (rows × n, scales already folded in) to the shrink
    /// of its largest magnitude with the least output error; `hessian` is Σ x xᵀ of the inputs
    /// the weight now reads (n × n).
    static func clip(_ weight: inout [Float], rows: Int, columns n: Int, hessian: [Float], grid: GroupGrid,
                     pool: ThreadPool = .shared) {
        let gs = grid.groupSize, maxCode = grid.maxCode
        let groups = grid.groupCount(rowLength: n)
        // Each group's diagonal block of the Hessian, contiguous.
        var blocks = [Float](repeating: 0, count: groups * gs * gs)
        for g in 0..<groups {
            let start = g * gs, width = min(gs, n - start)
            for i in 0..<width { for j in 0..<width { blocks[g * gs * gs + i * width + j] = hessian[(start + i) * n + start + j] } }
        }
        var limits = [Float](repeating: 0, count: rows * groups)
        var best = [Double](repeating: .infinity, count: rows)
        var amax = [Float](repeating: 0, count: rows)
        var diff = [Float](repeating: 0, count: rows * gs)
        var product = [Float](repeating: 0, count: rows * gs)
        weight.withUnsafeBufferPointer { wb in
            blocks.withUnsafeBufferPointer { bb in
                limits.withUnsafeMutableBufferPointer { lb in
                    best.withUnsafeMutableBufferPointer { bestb in
                        amax.withUnsafeMutableBufferPointer { ab in
                            diff.withUnsafeMutableBufferPointer { db in
                                product.withUnsafeMutableBufferPointer { pb in
                                    let W = wb.baseAddress!, L = lb.baseAddress!, E = bestb.baseAddress!, A = ab.baseAddress!
                                    let D = db.baseAddress!, P = pb.baseAddress!
                                    for g in 0..<groups {
                                        let start = g * gs, width = min(gs, n - start)
                                        let block = bb.baseAddress! + g &* gs &* gs
                                        for r in 0..<rows {
                                            var m: Float = 0
                                            for j in 0..<width { m = max(m, abs(W[r &* n &+ start &+ j])) }
                                            A[r] = m
                                            L[r &* groups &+ g] = m
                                            E[r] = .infinity
                                        }
                                        for step in 0..<clipSteps {
                                            let shrink = 1 - Float(step) / Float(gridPoints)
                                            pool.parallelRanges(rows, minimum: 64) { range in
                                                withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { clamped in
                                                    let c = clamped.baseAddress!
                                                    for r in range {
                                                        let row = W + (r &* n &+ start)
                                                        let limit = A[r] * shrink
                                                        for j in 0..<width { c[j] = min(max(row[j], -limit), limit) }
                                                        let p = grid.parameters(c, width)
                                                        let d = D + r &* width
                                                        for j in 0..<width { d[j] = p.value(p.code(c[j], maxCode: maxCode)) - row[j] }
                                                    }
                                                }
                                            }
                                            BLAS.sgemm(m: rows, n: width, k: width, a: D, lda: width, b: block, ldb: width,
                                                       transposeB: false, c: P, ldc: width)
                                            for r in 0..<rows {
                                                let e = Double(dotF32(D + r &* width, P + r &* width, width))
                                                if e < E[r] {
                                                    E[r] = e
                                                    L[r &* groups &+ g] = A[r] * shrink
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for r in 0..<rows {
            for c in 0..<n {
                let limit = limits[r * groups + c / gs]
                weight[r * n + c] = min(max(weight[r * n + c], -limit), limit)
            }
        }
    }

    /// Σ x xᵀ of inputs divided by s (x / s per channel): H_ij / (s_i s_j).
    static func dividing(_ hessian: [Float], by s: [Float]) -> [Float] {
        let n = s.count
        var h = hessian
        for i in 0..<n { for j in 0..<n { h[i * n + j] /= s[i] * s[j] } }
        return h
    }
}
