#if canImport(Glibc)
import Glibc
#endif

/// The shape of a causal grouped-query attention call: q is [tokens, heads, headDim], k and v
/// [tokens, kvHeads, headDim]; the tokens are one or more packed sequences of the given lengths
/// (padding-free batches), each attending only to itself and only backwards.
public struct AttentionLayout: Sendable, Equatable {
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    public let sequenceLengths: [Int]

    public init(heads: Int, kvHeads: Int, headDim: Int, sequenceLengths: [Int]) {
        precondition(heads > 0 && kvHeads > 0 && heads % kvHeads == 0, "attention: \(heads) heads over \(kvHeads) key-value heads")
        precondition(sequenceLengths.allSatisfy { $0 > 0 }, "attention: empty sequence in \(sequenceLengths)")
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.sequenceLengths = sequenceLengths
    }

    var tokens: Int { sequenceLengths.reduce(0, +) }
    var scale: Float { 1 / Float(headDim).squareRoot() }
}

extension Tape {
    /// softmax(q·kᵀ/√d + causal mask)·v per head, head h reading key-value head h / (heads/kvHeads).
    /// Saves only each row's log-sum-exp; backward recomputes the probabilities (as
    /// FlashAttention does) so memory stays O(tokens) rather than O(tokens²) per layer.
    public func attention(q: Variable, k: Variable, v: Variable, layout a: AttentionLayout) -> Variable {
        let n = a.tokens, d = a.headDim
        precondition(q.count == n &* a.heads &* d, "attention: q has shape \(q.shape), expected \(n)×\(a.heads)×\(d)")
        precondition(k.count == n &* a.kvHeads &* d && v.count == k.count, "attention: k/v shapes \(k.shape), \(v.shape)")
        let y = output(q.shape, [q, k, v])
        let lse = FloatBuffer(count: a.heads &* n)
        let longest = a.sequenceLengths.max() ?? 0
        let scores = Variable.allocate(longest &* longest)
        defer { scores.deallocate() }
        forEachHead(a) { start, len, h, kvh in
            let qh = q.data + (start &* a.heads &+ h) &* d
            let kh = k.data + (start &* a.kvHeads &+ kvh) &* d, vh = v.data + (start &* a.kvHeads &+ kvh) &* d
            BLAS.sgemm(m: len, n: len, k: d, alpha: a.scale, a: qh, lda: a.heads &* d, b: kh, ldb: a.kvHeads &* d,
                       transposeB: true, c: scores, ldc: len)
            let lseRow = lse.pointer + (h &* n &+ start)
            pool.parallelRanges(len, minimum: max(16, Tape.elementsPerTask / len)) { rows in
                for i in rows {
                    let row = scores + i &* len
                    var m = -Float.infinity
                    for j in 0...i where row[j] > m { m = row[j] }
                    var sum: Float = 0
                    for j in 0...i { let e = expf(row[j] - m); row[j] = e; sum += e }
                    let inv = 1 / sum
                    for j in 0...i { row[j] *= inv }
                    if i &+ 1 < len { (row + (i &+ 1)).initialize(repeating: 0, count: len &- i &- 1) }
                    lseRow[i] = m + logf(sum)
                }
            }
            BLAS.sgemm(m: len, n: d, k: len, a: scores, lda: len, b: vh, ldb: a.kvHeads &* d, transposeB: false,
                       c: y.data + (start &* a.heads &+ h) &* d, ldc: a.heads &* d)
        }
        record(.attention(q: q, k: k, v: v, layout: a, logSumExp: lse), y)
        return y
    }

    /// With P the probabilities and O the output: dV += Pᵀ·dO, dP = dO·Vᵀ,
    /// dS = P ⊙ (dP − rowsum(dO ⊙ O)), dQ += s·dS·K, dK += s·dSᵀ·Q.
    func attentionBackward(q: Variable, k: Variable, v: Variable, out: Variable, layout a: AttentionLayout,
                           logSumExp lse: FloatBuffer, dy: UnsafePointer<Float>) {
        let n = a.tokens, d = a.headDim, qs = a.heads &* d, kvs = a.kvHeads &* d
        let longest = a.sequenceLengths.max() ?? 0
        let p = Variable.allocate(longest &* longest), dp = Variable.allocate(longest &* longest)
        defer { p.deallocate(); dp.deallocate() }
        let dq = q.requiresGrad ? q.gradBuffer() : nil
        let dk = k.requiresGrad ? k.gradBuffer() : nil
        let dv = v.requiresGrad ? v.gradBuffer() : nil
        forEachHead(a) { start, len, h, kvh in
            let qo = (start &* a.heads &+ h) &* d, kvo = (start &* a.kvHeads &+ kvh) &* d
            BLAS.sgemm(m: len, n: len, k: d, alpha: a.scale, a: q.data + qo, lda: qs, b: k.data + kvo, ldb: kvs,
                       transposeB: true, c: p, ldc: len)
            BLAS.sgemm(m: len, n: len, k: d, a: dy + qo, lda: qs, b: v.data + kvo, ldb: kvs,
                       transposeB: true, c: dp, ldc: len)
            let lseRow = lse.pointer + (h &* n &+ start)
            pool.parallelRanges(len, minimum: max(16, Tape.elementsPerTask / len)) { rows in
                for i in rows {
                    let pr = p + i &* len, dpr = dp + i &* len
                    let rowSum = dotF32(dy + (qo &+ i &* qs), out.data + (qo &+ i &* qs), d)
                    let m = lseRow[i]
                    for j in 0...i {
                        let pij = expf(pr[j] - m)
                        pr[j] = pij
                        dpr[j] = pij * (dpr[j] - rowSum)
                    }
                    if i &+ 1 < len {
                        (pr + (i &+ 1)).initialize(repeating: 0, count: len &- i &- 1)
                        (dpr + (i &+ 1)).initialize(repeating: 0, count: len &- i &- 1)
                    }
                }
            }
            if let dv {
                BLAS.sgemm(m: len, n: d, k: len, a: p, lda: len, b: dy + qo, ldb: qs, transposeB: false,
                           beta: 1, c: dv + kvo, ldc: kvs, transposeA: true)
            }
            if let dq {
                BLAS.sgemm(m: len, n: d, k: len, alpha: a.scale, a: dp, lda: len, b: k.data + kvo, ldb: kvs,
                           transposeB: false, beta: 1, c: dq + qo, ldc: qs)
            }
            if let dk {
                BLAS.sgemm(m: len, n: d, k: len, alpha: a.scale, a: dp, lda: len, b: q.data + qo, ldb: qs,
                           transposeB: false, beta: 1, c: dk + kvo, ldc: kvs, transposeA: true)
            }
        }
    }

    /// Calls `body(firstToken, length, head, kvHead)` for every sequence and query head.
    private func forEachHead(_ a: AttentionLayout, _ body: (Int, Int, Int, Int) -> Void) {
        let group = a.heads / a.kvHeads
        var start = 0
        for len in a.sequenceLengths {
            for h in 0..<a.heads { body(start, len, h, h / group) }
            start += len
        }
    }
}
