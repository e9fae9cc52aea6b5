import XCTest
@testable import Engine

/// The fused training ops — the LoRA layer and the output head with its cross-entropy —
/// against central finite differences of Double references written here (tolerances as in
/// AutogradOpsTests' header), and against the chains of plain ops they replace.
final class AutogradFusedOpsTests: XCTestCase {
    /// y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ in Double.
    private func loraReference(_ x: [Double], _ w: [Double], _ bias: [Double]?, _ a: [Double], _ b: [Double],
                               rows: Int, inF: Int, outF: Int, rank: Int, scale: Double, loraInput: [Double]? = nil) -> [Double] {
        let xl = loraInput ?? x
        var y = [Double](repeating: 0, count: rows * outF)
        for r in 0..<rows {
            var down = [Double](repeating: 0, count: rank)
            for k in 0..<rank { for i in 0..<inF { down[k] += xl[r * inF + i] * a[k * inF + i] } }
            for o in 0..<outF {
                var s = bias?[o] ?? 0
                for i in 0..<inF { s += x[r * inF + i] * w[o * inF + i] }
                for k in 0..<rank { s += scale * down[k] * b[o * rank + k] }
                y[r * outF + o] = s
            }
        }
        return y
    }

    func testLoRALinearOverTrainableWeightGradients() {
        var rng = RandomSource(seed: 21)
        let rows = 5, inF = 7, outF = 6, rank = 3, scale = 0.75
        checkGradients("loraLinear trainable", [uniform(&rng, rows * inF, [rows, inF]), uniform(&rng, outF * inF, [outF, inF]),
                                                uniform(&rng, outF, [outF]), uniform(&rng, rank * inF, [rank, inF]),
                                                uniform(&rng, outF * rank, [outF, rank])],
                       op: { t, v in t.loraLinear(v[0], weight: .trainable(v[1]), bias: v[2], a: v[3], b: v[4], scale: Float(scale)) },
                       reference: { v in
                           self.loraReference(v[0], v[1], v[2], v[3], v[4], rows: rows, inF: inF, outF: outF, rank: rank, scale: scale)
                       })
    }

    /// The QLoRA case: the base stays quantized and gets no gradient; x, A and B do.
    func testLoRALinearOverFrozenQuantizedWeightGradients() {
        var rng = RandomSource(seed: 22)
        let rows = 4, inF = 64, outF = 5, rank = 2, scale = 2.0
        let (w, _) = quantizedTensor(.q4_1, rows: outF, cols: inF, &rng)
        let deq = w.toFloat32().map(Double.init)
        checkGradients("loraLinear frozen q4_1", [uniform(&rng, rows * inF, [rows, inF]), uniform(&rng, rank * inF, [rank, inF]),
                                                  uniform(&rng, outF * rank, [outF, rank])],
                       op: { t, v in t.loraLinear(v[0], weight: .frozen(w), bias: nil, a: v[1], b: v[2], scale: Float(scale)) },
                       reference: { v in
                           self.loraReference(v[0], deq, nil, v[1], v[2], rows: rows, inF: inF, outF: outF, rank: rank, scale: scale)
                       })
    }

    /// With LoRA dropout the branch reads the dropped-out input: x's gradient gets the base's
    /// part directly and the branch's part through the dropout mask.
    func testLoRALinearWithDroppedInputGradients() {
        var rng = RandomSource(seed: 23)
        let rows = 6, inF = 8, outF = 4, rank = 2, scale = 0.5, p: Float = 0.25
        var mask = RandomSource(seed: 77)
        let keep = (0..<(rows * inF)).map { _ in mask.nextUnit() >= Double(p) }
        XCTAssert(keep.contains(false) && keep.contains(true))
        let w = uniform(&rng, outF * inF, [outF, inF])
        checkGradients("loraLinear dropout", [uniform(&rng, rows * inF, [rows, inF]), uniform(&rng, rank * inF, [rank, inF]),
                                              uniform(&rng, outF * rank, [outF, rank])],
                       op: { t, v in
                           var r = RandomSource(seed: 77)
                           let dropped = t.dropout(v[0], p: p, random: &r)
                           let frozen = Variable(w.values, shape: w.shape)
                           return t.loraLinear(v[0], weight: .trainable(frozen), bias: nil, a: v[1], b: v[2], scale: Float(scale), loraInput: dropped)
                       },
                       reference: { v in
                           let dropped = v[0].indices.map { keep[$0] ? v[0][$0] / (1 - Double(p)) : 0 }
                           return self.loraReference(v[0], w.values.map(Double.init), nil, v[1], v[2], rows: rows, inF: inF,
                                                     outF: outF, rank: rank, scale: scale, loraInput: dropped)
                       })
    }

    /// Mean cross-entropy of x·Wᵀ + b over the unmasked rows, in Double.
    private func headLossReference(_ x: [Double], _ w: [Double], _ bias: [Double]?, labels: [Int], inF: Int, vocab: Int) -> [Double] {
        var total = 0.0, counted = 0.0
        for (r, l) in labels.enumerated() where l != -100 {
            let logits = (0..<vocab).map { o in (0..<inF).reduce(bias?[o] ?? 0) { $0 + x[r * inF + $1] * w[o * inF + $1] } }
            let m = logits.max()!
            total += m + log(logits.reduce(0.0) { $0 + exp($1 - m) }) - logits[l]
            counted += 1
        }
        return [total / counted]
    }

    func testHeadLossOverTrainableWeightGradients() {
        var rng = RandomSource(seed: 24)
        let rows = 6, inF = 5, vocab = 9
        let labels = [3, -100, 0, 8, -100, 4]
        checkGradients("linearCrossEntropy trainable", [uniform(&rng, rows * inF, [rows, inF], scale: 2),
                                                        uniform(&rng, vocab * inF, [vocab, inF], scale: 2), uniform(&rng, vocab, [vocab])],
                       op: { t, v in t.linearCrossEntropy(v[0], weight: .trainable(v[1]), bias: v[2], labels: labels) },
                       reference: { v in self.headLossReference(v[0], v[1], v[2], labels: labels, inF: inF, vocab: vocab) })
    }

    /// A frozen quantized head (the tied Q8_0 embedding of the default model under LoRA) over
    /// more rows than one dequantized block holds.
    func testHeadLossOverFrozenQuantizedWeightMatchesTheTwoOpChain() {
        var rng = RandomSource(seed: 25)
        let rows = 5, inF = 64, vocab = 4100
        let (w, _) = quantizedTensor(.q8_0, rows: vocab, cols: inF, &rng)
        let labels = [17, -100, 4099, 0, 2050]
        let x1 = Variable(uniform(&rng, rows * inF, [rows, inF]).values, shape: [rows, inF], requiresGrad: true)
        let x2 = Variable(x1.values, shape: x1.shape, requiresGrad: true)
        var fused = [Int32](repeating: -1, count: rows), chained = [Int32](repeating: -1, count: rows)
        let t1 = Tape(), t2 = Tape()
        let l1 = fused.withUnsafeMutableBufferPointer { t1.linearCrossEntropy(x1, weight: .frozen(w), bias: nil, labels: labels, predictions: $0.baseAddress) }
        let l2 = chained.withUnsafeMutableBufferPointer { t2.crossEntropy(logits: t2.frozenLinear(x2, weight: w), labels: labels, predictions: $0.baseAddress) }
        t1.backward(from: l1, seed: [0.6])
        t2.backward(from: l2, seed: [0.6])
        XCTAssertEqual(t1.recordedCount, 0)
        XCTAssertEqual(l1.values[0], l2.values[0], accuracy: 1e-5)
        XCTAssertEqual(fused, chained)
        XCTAssertLessThan(maxDiff(x1.gradient!, x2.gradient!), 1e-6)
        let x3 = Variable(x1.values, shape: x1.shape, requiresGrad: true)
        let t3 = Tape()
        t3.backward(t3.linearCrossEntropy(x3, weight: .frozen(w), bias: nil, labels: labels))
        let deq = w.toFloat32().map(Double.init)
        let numeric = GradientCheck.numericGradient(at: x1.values.map(Double.init)) {
            self.headLossReference($0, deq, nil, labels: labels, inF: inF, vocab: vocab)[0]
        }
        let report = GradientCheck.compare(x3.gradient!, numeric, atol: 1e-4, rtol: 1e-3)
        XCTAssert(report.passed, "frozen head dx: \(report)")
    }

    /// Every label masked: the loss is 0 and no gradient reaches the input.
    func testHeadLossWithNothingCountedIsZero() {
        var rng = RandomSource(seed: 26)
        let x = Variable(uniform(&rng, 3 * 4, [3, 4]).values, shape: [3, 4], requiresGrad: true)
        let w = Variable(uniform(&rng, 5 * 4, [5, 4]).values, shape: [5, 4], requiresGrad: true)
        let t = Tape()
        let l = t.linearCrossEntropy(x, weight: .trainable(w), bias: nil, labels: [-100, -100, -100])
        t.backward(l)
        XCTAssertEqual(l.values, [0])
        XCTAssert(x.gradient?.allSatisfy { $0 == 0 } ?? true, "no gradient from a loss over no tokens")
    }

    /// Freed buffers of 32 MB and more come back for the next allocation of that size (no
    /// fresh pages per training step), and `release` returns them.
    func testLargeBuffersAreReusedAndReleased() {
        LargeBlockCache.release()
        let n = (LargeBlockCache.minimumBytes / 4) + 16
        let first = Variable.allocate(n)
        Variable.deallocate(first, n)
        XCTAssertEqual(LargeBlockCache.heldBytes, n * 4)
        let second = Variable.allocate(n)
        XCTAssertEqual(second, first)
        XCTAssertEqual(LargeBlockCache.heldBytes, 0)
        Variable.deallocate(second, n)
        let small = Variable.allocate(1000)
        Variable.deallocate(small, 1000)
        XCTAssertEqual(LargeBlockCache.heldBytes, n * 4)
        LargeBlockCache.release()
        XCTAssertEqual(LargeBlockCache.heldBytes, 0)
    }
}
