import Foundation

/// AWQ's scale search (Lin et al. 2023) for linear layers that read the same input: each input
/// channel c is multiplied by s_c in the weights (and divided out of the input by the op
/// before), which protects the channels with large activations from rounding. s = s_x^α with
/// s_x the mean |x| of the channel; α is searched on the grid 0, 1/20, …, 19/20 for the least
/// output error, normalised as AutoAWQ does (s / √(max s · min s)). With `duoScaling`
/// (AutoAWQ's default) the weights' own mean relative magnitude w̄ enters too:
/// s = s_x^α / (w̄^(1−α) + 1e-4).
///
/// The error of a candidate is the linear layers' squared output error on the calibration
/// inputs, Σ |(Q(W·diag s)·diag(1/s) − W) x|², computed exactly from the inputs' Hessian
/// (AutoAWQ measures the output of the enclosing block instead, e.g. the attention output).
/// s = 1 (plain round to nearest) is always a candidate, so the chosen scales never do worse
/// than it on that measure. The measure is a proxy: for q/k/v it counts the error of q and k
/// as much as v's, though those pass through the softmax, and on SmolLM2 the scales it picks
/// there make the model worse (see `CalibratedQuantization.awq`).
enum AWQ {
    static let gridPoints = 20

    struct Target {
        var weight: [Float]
        var rows: Int
    }

    /// The per-input-channel scales for `targets` (each rows × columns) over inputs with
    /// `statistics`.
    static func searchScales(_ targets: [Target], columns n: Int, statistics: InputStatistics, grid: GroupGrid,
                             duoScaling: Bool) -> [Float] {
        let hessian = statistics.hessian
        let xMean = statistics.meanMagnitude
        let wMean = duoScaling ? meanRelativeMagnitude(targets, columns: n, groupSize: grid.groupSize) : []
        var best = (error: Double.infinity, scales: [Float](repeating: 1, count: n))
        let maxRows = targets.map(\.rows).max() ?? 0
        var scaled = [Float](repeating: 0, count: maxRows * n)
        var scratch = [Float](repeating: 0, count: maxRows * n)
        // Candidate -1 is s = 1 (round to nearest), which duo scaling's grid does not contain.
        for step in -1..<gridPoints {
            var s = [Float](repeating: 1, count: n)
            if step >= 0 {
                let alpha = Float(step) / Float(gridPoints)
                for c in 0..<n {
                    var v = powf(xMean[c], alpha)
                    if duoScaling { v /= powf(wMean[c], 1 - alpha) + 1e-4 }
                    s[c] = max(v, 1e-4)
                }
                let norm = (s.max()! * s.min()!).squareRoot()
                for c in 0..<n { s[c] /= norm }
            }
            var error = 0.0
            for t in targets {
                t.weight.withUnsafeBufferPointer { w in
                    scaled.withUnsafeMutableBufferPointer { sw in
                        for r in 0..<t.rows { for c in 0..<n { sw[r &* n &+ c] = w[r &* n &+ c] * s[c] } }
                    }
                    let q = QuantizedMatrix.roundToNearest(scaled, rows: t.rows, columns: n, grid: grid).dequantized()
                    scaled.withUnsafeMutableBufferPointer { d in
                        for r in 0..<t.rows { for c in 0..<n { d[r &* n &+ c] = q[r &* n &+ c] / s[c] - w[r &* n &+ c] } }
                    }
                }
                error += scaled.withUnsafeBufferPointer { d in
                    hessian.withUnsafeBufferPointer { h in
                        scratch.withUnsafeMutableBufferPointer { sc in
                            LayerError.squaredOutputError(difference: d.baseAddress!, rows: t.rows, columns: n,
                                                          hessian: h.baseAddress!, scratch: sc.baseAddress!)
                        }
                    }
                }
            }
            if error < best.error { best = (error, s) }
        }
        return best.scales
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
}
