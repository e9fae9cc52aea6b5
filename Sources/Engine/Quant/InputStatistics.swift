/// What calibration learns about the inputs x of a linear layer: the Hessian of its output
/// error, 2/N · Σ x xᵀ (N = calibration sequences, as AutoGPTQ scales it), and the mean
/// magnitude of each input channel (AWQ's activation scale s_x).
final class InputStatistics {
    let width: Int
    private(set) var sum: [Float]
    private(set) var absoluteSum: [Double]
    private(set) var tokens = 0
    private(set) var sequences = 0

    init(width: Int) {
        self.width = width
        sum = [Float](repeating: 0, count: width * width)
        absoluteSum = [Double](repeating: 0, count: width)
    }

    /// Adds `count` rows of inputs (count × width, row-major) from `sequences` sequences.
    func add(_ x: UnsafePointer<Float>, count: Int, sequences: Int) {
        guard count > 0 else { return }
        let n = width
        sum.withUnsafeMutableBufferPointer { s in
            BLAS.sgemm(m: n, n: n, k: count, a: x, lda: n, b: x, ldb: n, transposeB: false,
                       beta: 1, c: s.baseAddress!, ldc: n, transposeA: true)
        }
        absoluteSum.withUnsafeMutableBufferPointer { a in
            for t in 0..<count {
                let row = x + t &* n
                for c in 0..<n { a[c] += Double(abs(row[c])) }
            }
        }
        tokens += count
        self.sequences += sequences
    }

    /// 2/N · Σ x xᵀ.
    var hessian: [Float] {
        let scale = 2 / Float(max(1, sequences))
        return sum.map { $0 * scale }
    }

    /// Mean |x| per input channel.
    var meanMagnitude: [Float] {
        let t = Double(max(1, tokens))
        return absoluteSum.map { Float($0 / t) }
    }
}

enum LayerError {
    /// Σ over the calibration inputs of |(Q − W) x|², as tr(D H Dᵀ) with D = Q − W (rows ×
    /// columns) and H = Σ x xᵀ — the squared output error the layer makes on that data.
    static func squaredOutputError(difference d: UnsafePointer<Float>, rows: Int, columns n: Int,
                                   hessian h: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>) -> Double {
        BLAS.sgemm(m: rows, n: n, k: n, a: d, lda: n, b: h, ldb: n, transposeB: false, c: scratch, ldc: n)
        var total = 0.0
        for r in 0..<rows { total += Double(dotF32(d + r &* n, scratch + r &* n, n)) }
        return total
    }

    /// The same for `quantized` against `original`, both rows × columns.
    static func squaredOutputError(original: [Float], quantized: [Float], rows: Int, columns n: Int, hessian: [Float]) -> Double {
        let d = zip(quantized, original).map { $0 - $1 }
        var scratch = [Float](repeating: 0, count: rows * n)
        return d.withUnsafeBufferPointer { dp in
            hessian.withUnsafeBufferPointer { hp in
                scratch.withUnsafeMutableBufferPointer { sp in
                    squaredOutputError(difference: dp.baseAddress!, rows: rows, columns: n, hessian: hp.baseAddress!, scratch: sp.baseAddress!)
                }
            }
        }
    }
}
