#if canImport(Glibc)
import Glibc
#endif

// The output head and cross-entropy as one op. The logits of a batch are the largest tensor of
// a step (tokens × vocabulary: 200 MB for 1024 tokens of a 49k vocabulary); as two ops they
// were kept for backward and a gradient of the same size was made beside them. The loss is a
// scalar, so its gradient with respect to the logits, (softmax − onehot)/counted, is known in
// the forward up to the factor d(loss) that backward brings: it is written over the logits in
// place, and backward only multiplies it into the head's weight (and input).

/// What the fused head loss keeps for backward.
struct HeadLossRecord {
    let x: GradientCell
    /// The head's input values, kept only when the head's weight trains.
    let xValues: Variable?
    let weight: LinearWeight
    let bias: GradientCell?
    /// d(loss)/d(logits) for d(loss) = 1, [rows, vocab]; nil when no label counts.
    let logitsGradient: FloatBuffer?
}

extension Tape {
    /// Mean cross-entropy of the logits x·Wᵀ (+ b) against one label per row, over the rows whose
    /// label is not -100: the same value and gradients as `linear` (or `frozenLinear`)
    /// followed by `crossEntropy`, without a logits variable. `predictions` as in `crossEntropy`.
    func linearCrossEntropy(_ x: Variable, weight: LinearWeight, bias: Variable?, labels: [Int],
                            predictions: UnsafeMutablePointer<Int32>? = nil) -> Variable {
        let vocab = weight.shape[0], inF = weight.shape[1]
        let rows = x.rows(of: inF)
        precondition(labels.count == rows, "linearCrossEntropy: \(labels.count) labels for \(rows) rows")
        for l in labels where l != Tape.ignoredLabel {
            precondition(l >= 0 && l < vocab, "crossEntropy: label \(l) is outside the vocabulary (0..<\(vocab))")
        }
        let y = output([1], [x, weight.variable, bias])
        let logits = FloatBuffer(count: rows &* vocab)
        product(x.data, rows: rows, weight: weight, into: logits.pointer)
        if let bias { for r in 0..<rows { addInPlace(logits.pointer + r &* vocab, bias.data, vocab) } }

        let labels32 = labels.map { Int32($0) }
        let counted = labels.filter { $0 != Tape.ignoredLabel }.count
        let withGradient = y.requiresGrad && counted > 0
        let c = counted == 0 ? 0 : 1 / Float(counted)
        var perRow = [Double](repeating: 0, count: rows)
        let lp = logits.pointer
        perRow.withUnsafeMutableBufferPointer { losses in
            let out = losses.baseAddress!
            pool.parallelRanges(rows, minimum: max(1, Tape.elementsPerTask / max(vocab, 1))) { part in
                for r in part {
                    let row = lp + r &* vocab
                    let label = Int(labels32[r])
                    guard label != Tape.ignoredLabel else {
                        if withGradient { row.initialize(repeating: 0, count: vocab) }
                        continue
                    }
                    let m = maxF32(row, vocab)
                    if let predictions {
                        var best = 0
                        while best < vocab - 1 && row[best] != m { best += 1 }
                        predictions[r] = Int32(best)
                    }
                    let target = row[label]
                    guard withGradient else {
                        out[r] = Double(m + logf(sumExpShifted(row, shift: m, vocab)) - target)
                        continue
                    }
                    let sum = expShifted(row, shift: m, row, vocab)
                    out[r] = Double(m + logf(sum) - target)
                    scaled(row, c / sum, row, vocab)
                    row[label] -= c
                }
            }
        }
        y.data[0] = counted == 0 ? 0 : Float(perRow.reduce(0, +) / Double(counted))
        record(.linearCrossEntropy(HeadLossRecord(
            x: x.gradientCell, xValues: weight.variable?.requiresGrad == true ? x : nil,
            weight: weight, bias: bias?.gradientCell, logitsGradient: withGradient ? logits : nil)), y)
        return y
    }

    func linearCrossEntropyBackward(_ r: HeadLossRecord, dy: Float) {
        let vocab = r.weight.shape[0], inF = r.weight.shape[1]
        let rows = r.x.count / inF
        guard let g = r.logitsGradient?.pointer else { return }
        if let b = r.bias, b.requiresGrad {
            let db = b.gradBuffer()
            for i in 0..<rows { axpy(dy, g + i &* vocab, db, vocab) }
        }
        if case .trainable(let w) = r.weight, w.requiresGrad, let x = r.xValues {
            let (dW, fresh) = w.gradientForUpdate()
            matmul(m: vocab, n: inF, k: rows, alpha: dy, a: g, lda: vocab, transposeA: true, b: x.data, ldb: inF,
                   transposeB: false, beta: fresh ? 0 : 1, c: dW, ldc: inF)
        }
        guard r.x.requiresGrad else { return }
        let (dx, fresh) = r.x.gradientForUpdate()
        inputGradient(g, rows: rows, weight: r.weight, alpha: dy, into: dx, fresh: fresh)
    }
}
