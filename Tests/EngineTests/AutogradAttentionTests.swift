import XCTest
@testable import Engine

/// RoPE and causal grouped-query attention (packed sequences) against finite differences of
/// Double references; tolerances as in AutogradOpsTests (atol 1e-4, rtol 1e-3 on gradients).
final class AutogradAttentionTests: XCTestCase {
    /// Both pairings, with YaRN scaling (so the rotation also has a magnitude ≠ 1), and
    /// positions restarting for a second packed sequence.
    func testRoPEGradientsBothStyles() {
        let heads = 3, hd = 8, positions = [0, 1, 2, 0, 1, 2, 3, 9]
        var scaling = RopeScaling(kind: .yarn, factor: 4, originalMaxPositions: 4)
        scaling.betaFast = 8
        let config = ModelConfig(architecture: .llama, vocabSize: 8, hiddenSize: heads * hd, intermediateSize: 8,
                                 layerCount: 1, headCount: heads, kvHeadCount: heads, headDim: hd, ropeScaling: scaling)
        for style in [RopeStyle.interleaved, .halves] {
            let rotary = RotaryEmbedding(config: config, style: style)
            XCTAssertNotEqual(rotary.magnitude, 1)
            // Reference angles: the engine's tables (their values are checked against HF by
            // TinyModelTests); the rotation and its gradient are what is under test.
            let table = rotary.tables(start: 0, count: 10, totalLength: 10)
            var rng = RandomSource(seed: 21)
            let n = positions.count, half = hd / 2
            checkGradients("rope \(style)", [uniform(&rng, n * heads * hd, [n, heads * hd])],
                           op: { t, v in t.rope(v[0], heads: heads, positions: positions, rotary: rotary) },
                           reference: { v in
                               var y = v[0]
                               for (t, p) in positions.enumerated() { for h in 0..<heads { for i in 0..<half {
                                   let c = Double(table.cos[p * half + i]), s = Double(table.sin[p * half + i])
                                   let base = (t * heads + h) * hd
                                   let (ia, ib) = style == .interleaved ? (base + 2 * i, base + 2 * i + 1) : (base + i, base + i + half)
                                   y[ia] = v[0][ia] * c - v[0][ib] * s
                                   y[ib] = v[0][ia] * s + v[0][ib] * c
                               } } }
                               return y
                           })
        }
    }

    /// 4 query heads over 2 key-value heads, three packed sequences (lengths 3, 5, 1).
    func testPackedCausalGQAAttentionGradients() {
        var rng = RandomSource(seed: 22)
        let layout = AttentionLayout(heads: 4, kvHeads: 2, headDim: 8, sequenceLengths: [3, 5, 1])
        let n = 9
        checkGradients("attention", [uniform(&rng, n * 32, [n, 32], scale: 1.5), uniform(&rng, n * 16, [n, 16], scale: 1.5),
                                     uniform(&rng, n * 16, [n, 16])],
                       op: { t, v in t.attention(q: v[0], k: v[1], v: v[2], layout: layout) },
                       reference: { v in referenceAttention(q: v[0], k: v[1], v: v[2], layout: layout) })
    }

    /// Sequences longer than the 64-row blocks that skip the masked keys (130 = 64 + 64 + 2):
    /// every block boundary, including a last block of two rows, against the Double reference.
    func testLongSequenceCausalBlocksGradients() {
        var rng = RandomSource(seed: 24)
        let layout = AttentionLayout(heads: 2, kvHeads: 1, headDim: 2, sequenceLengths: [130, 20])
        let n = 150
        checkGradients("attention long", [uniform(&rng, n * 4, [n, 4], scale: 2), uniform(&rng, n * 2, [n, 2], scale: 2),
                                          uniform(&rng, n * 2, [n, 2])],
                       op: { t, v in t.attention(q: v[0], k: v[1], v: v[2], layout: layout) },
                       reference: { v in referenceAttention(q: v[0], k: v[1], v: v[2], layout: layout) })
    }

    /// No attention across packed sequences: packing [a, b] gives the outputs of a and b alone,
    /// and differs from treating them as one sequence.
    func testPackedSequencesDoNotSeeEachOther() {
        var rng = RandomSource(seed: 23)
        let lengths = [4, 6], n = 10
        let q = uniform(&rng, n * 16, [n, 16]).values, k = uniform(&rng, n * 8, [n, 8]).values
        let v = uniform(&rng, n * 8, [n, 8]).values
        func run(_ lengths: [Int], _ range: Range<Int>) -> [Float] {
            let tape = Tape()
            let out = tape.attention(q: Variable(Array(q[(range.lowerBound * 16)..<(range.upperBound * 16)]), shape: [range.count, 16]),
                                     k: Variable(Array(k[(range.lowerBound * 8)..<(range.upperBound * 8)]), shape: [range.count, 8]),
                                     v: Variable(Array(v[(range.lowerBound * 8)..<(range.upperBound * 8)]), shape: [range.count, 8]),
                                     layout: AttentionLayout(heads: 4, kvHeads: 2, headDim: 4, sequenceLengths: lengths))
            return out.values
        }
        let packed = run(lengths, 0..<n)
        let separate = run([4], 0..<4) + run([6], 4..<10)
        XCTAssertLessThan(maxDiff(packed, separate), 1e-6)
        XCTAssertGreaterThan(maxDiff(packed, run([10], 0..<n)), 1e-3)
    }
}

/// Causal GQA attention in Double, one sequence at a time.
func referenceAttention(q: [Double], k: [Double], v: [Double], layout: AttentionLayout) -> [Double] {
    let h = layout.heads, kvh = layout.kvHeads, d = layout.headDim, group = h / kvh
    let scale = 1 / Double(d).squareRoot()
    var out = [Double](repeating: 0, count: q.count)
    var start = 0
    for len in layout.sequenceLengths {
        for head in 0..<h {
            let kv = head / group
            for i in 0..<len {
                let qi = ((start + i) * h + head) * d
                let scores = (0...i).map { j -> Double in
                    let kj = ((start + j) * kvh + kv) * d
                    return (0..<d).reduce(0.0) { $0 + q[qi + $1] * k[kj + $1] } * scale
                }
                let m = scores.max()!
                let e = scores.map { exp($0 - m) }
                let z = e.reduce(0, +)
                for j in 0...i {
                    let vj = ((start + j) * kvh + kv) * d
                    for c in 0..<d { out[qi + c] += e[j] / z * v[vj + c] }
                }
            }
        }
        start += len
    }
    return out
}
