#if canImport(Glibc)
import Glibc
#endif

extension Tape {
    /// The label that cross-entropy skips (PyTorch's `ignore_index`, HF's masked labels).
    public static let ignoredLabel = -100

    /// Mean cross-entropy of logits [tokens, vocab] against one label per token, over the
    /// tokens whose label is not -100 (a scalar; 0 when no token counts). Computed with the
    /// row maximum subtracted (log-sum-exp), so large logits do not overflow. When given,
    /// `predictions` receives each counted row's arg-max (the first maximum), for token accuracy.
    public func crossEntropy(logits: Variable, labels: [Int], predictions: UnsafeMutablePointer<Int32>? = nil) -> Variable {
        let n = labels.count, vocab = logits.shape.last ?? 0
        precondition(n > 0 && logits.count == n &* vocab, "crossEntropy: logits \(logits.shape) for \(n) labels")
        for l in labels where l != Tape.ignoredLabel {
            precondition(l >= 0 && l < vocab, "crossEntropy: label \(l) is outside the vocabulary (0..<\(vocab))")
        }
        let y = output([1], [logits])
        let lse = FloatBuffer(count: n)
        var perToken = [Double](repeating: 0, count: n)
        let lp = logits.data, lsep = lse.pointer
        let labels32 = labels.map { Int32($0) }
        perToken.withUnsafeMutableBufferPointer { losses in
            let out = losses.baseAddress!
            pool.parallelRanges(n, minimum: max(1, Tape.elementsPerTask / max(vocab, 1))) { rows in
                for r in rows where labels32[r] != Int32(Tape.ignoredLabel) {
                    let row = lp + r &* vocab
                    let m = maxF32(row, vocab)
                    let l = m + logf(sumExpShifted(row, shift: m, vocab))
                    if let predictions {
                        var best = 0
                        while best < vocab - 1 && row[best] != m { best += 1 }
                        predictions[r] = Int32(best)
                    }
                    lsep[r] = l
                    out[r] = Double(l - row[Int(labels32[r])])
                }
            }
        }
        let counted = labels.filter { $0 != Tape.ignoredLabel }.count
        y.data[0] = counted == 0 ? 0 : Float(perToken.reduce(0, +) / Double(counted))
        record(.crossEntropy(logits: logits, labels: labels32, logSumExp: lse, counted: counted), y)
        return y
    }

    /// d logits = dy / counted · (softmax − onehot(label)) on counted rows.
    func crossEntropyBackward(logits: Variable, labels: [Int32], logSumExp lse: FloatBuffer, counted: Int, dy: Float) {
        guard counted > 0 else { return }
        let n = labels.count, vocab = logits.count / n
        // The logits' gradient is usually new (hundreds of MB): written, not zeroed and added.
        let (g, fresh) = logits.gradientForUpdate()
        let lp = logits.data, lsep = lse.pointer
        let c = dy / Float(counted)
        pool.parallelRanges(n, minimum: max(1, Tape.elementsPerTask / max(vocab, 1))) { rows in
            for r in rows {
                let row = lp + r &* vocab, gr = g + r &* vocab
                if labels[r] == Int32(Tape.ignoredLabel) {
                    if fresh { gr.initialize(repeating: 0, count: vocab) }
                    continue
                }
                let l = SIMD16<Float>(repeating: lsep[r]), vc = SIMD16<Float>(repeating: c)
                var j = 0
                while j &+ 16 <= vocab {
                    let e = vc * exp16(loadVector(row + j) - l)
                    storeVector(fresh ? e : loadVector(gr + j) + e, gr + j)
                    j &+= 16
                }
                while j < vocab {
                    let e = c * expf(row[j] - lsep[r])
                    gr[j] = fresh ? e : gr[j] + e
                    j &+= 1
                }
                gr[Int(labels[r])] -= c
            }
        }
    }
}
