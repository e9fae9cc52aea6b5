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
    /// Each (sequence, key-value head) pair is one task on the pool, its products single-threaded
    /// sgemm calls on a scratch of its own.
    public func attention(q: Variable, k: Variable, v: Variable, layout a: AttentionLayout) -> Variable {
        let n = a.tokens, d = a.headDim
        precondition(q.count == n &* a.heads &* d, "attention: q has shape \(q.shape), expected \(n)×\(a.heads)×\(d)")
        precondition(k.count == n &* a.kvHeads &* d && v.count == k.count, "attention: k/v shapes \(k.shape), \(v.shape)")
        let y = output(q.shape, [q, k, v])
        let lse = FloatBuffer(count: a.heads &* n)
        let qs = a.heads &* d, kvs = a.kvHeads &* d
        forEachGroup(a) { start, len, kvh, heads in
            // Per-task scratch, allocated on the task's thread (outside Variable's accounting).
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: len &* len)
            defer { scores.deallocate() }
            let kh = k.data + (start &* a.kvHeads &+ kvh) &* d, vh = v.data + (start &* a.kvHeads &+ kvh) &* d
            for h in heads {
                let qo = (start &* a.heads &+ h) &* d
                let lseRow = lse.pointer + (h &* n &+ start)
                // Causal: a block of query rows [i0, i1) sees keys 0..<i1 only.
                forEachCausalBlock(len) { i0, i1 in
                    BLAS.sgemm(m: i1 &- i0, n: i1, k: d, alpha: a.scale, a: q.data + (qo &+ i0 &* qs), lda: qs, b: kh, ldb: kvs,
                               transposeB: true, c: scores + i0 &* len, ldc: len)
                    for i in i0..<i1 {
                        let row = scores + i &* len
                        let m = maxF32(row, i &+ 1)
                        let sum = expShifted(row, shift: m, row, i &+ 1)
                        scaled(row, 1 / sum, row, i &+ 1)
                        if i &+ 1 < i1 { (row + (i &+ 1)).initialize(repeating: 0, count: i1 &- i &- 1) }
                        lseRow[i] = m + logf(sum)
                    }
                    BLAS.sgemm(m: i1 &- i0, n: d, k: i1, a: scores + i0 &* len, lda: len, b: vh, ldb: kvs, transposeB: false,
                               c: y.data + (qo &+ i0 &* qs), ldc: qs)
                }
            }
        }
        record(.attention(q: q, k: k, v: v, out: y, layout: a, logSumExp: lse), y)
        return y
    }

    /// With P the probabilities and O the output: dV += Pᵀ·dO, dP = dO·Vᵀ,
    /// dS = P ⊙ (dP − rowsum(dO ⊙ O)), dQ += s·dS·K, dK += s·dSᵀ·Q.
    func attentionBackward(q: Variable, k: Variable, v: Variable, out: Variable, layout a: AttentionLayout,
                           logSumExp lse: FloatBuffer, dy: UnsafePointer<Float>) {
        let n = a.tokens, d = a.headDim, qs = a.heads &* d, kvs = a.kvHeads &* d
        let dq = q.requiresGrad ? q.gradBuffer() : nil
        let dk = k.requiresGrad ? k.gradBuffer() : nil
        let dv = v.requiresGrad ? v.gradBuffer() : nil
        forEachGroup(a) { start, len, kvh, heads in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: len &* len)
            let dp = UnsafeMutablePointer<Float>.allocate(capacity: len &* len)
            defer { p.deallocate(); dp.deallocate() }
            let kvo = (start &* a.kvHeads &+ kvh) &* d
            for h in heads {
                let qo = (start &* a.heads &+ h) &* d
                let lseRow = lse.pointer + (h &* n &+ start)
                forEachCausalBlock(len) { i0, i1 in
                    let rows = i1 &- i0, qb = qo &+ i0 &* qs
                    BLAS.sgemm(m: rows, n: i1, k: d, alpha: a.scale, a: q.data + qb, lda: qs, b: k.data + kvo, ldb: kvs,
                               transposeB: true, c: p + i0 &* len, ldc: len)
                    BLAS.sgemm(m: rows, n: i1, k: d, a: dy + qb, lda: qs, b: v.data + kvo, ldb: kvs,
                               transposeB: true, c: dp + i0 &* len, ldc: len)
                    for i in i0..<i1 {
                        let pr = p + i &* len, dpr = dp + i &* len
                        let rowSum = dotF32(dy + (qo &+ i &* qs), out.data + (qo &+ i &* qs), d)
                        expShifted(pr, shift: lseRow[i], pr, i &+ 1)
                        softmaxGradient(pr, dpr, rowSum, i &+ 1)
                        if i &+ 1 < i1 {
                            (pr + (i &+ 1)).initialize(repeating: 0, count: i1 &- i &- 1)
                            (dpr + (i &+ 1)).initialize(repeating: 0, count: i1 &- i &- 1)
                        }
                    }
                    if let dv {
                        BLAS.sgemm(m: i1, n: d, k: rows, a: p + i0 &* len, lda: len, b: dy + qb, ldb: qs, transposeB: false,
                                   beta: 1, c: dv + kvo, ldc: kvs, transposeA: true)
                    }
                    if let dq {
                        BLAS.sgemm(m: rows, n: d, k: i1, alpha: a.scale, a: dp + i0 &* len, lda: len, b: k.data + kvo, ldb: kvs,
                                   transposeB: false, beta: 1, c: dq + qb, ldc: qs)
                    }
                    if let dk {
                        BLAS.sgemm(m: i1, n: d, k: rows, alpha: a.scale, a: dp + i0 &* len, lda: len, b: q.data + qb, ldb: qs,
                                   transposeB: false, beta: 1, c: dk + kvo, ldc: kvs, transposeA: true)
                    }
                }
            }
        }
    }

    /// Calls `body(i0, i1)` for consecutive blocks of query rows of a sequence of `len` tokens:
    /// under the causal mask block [i0, i1) needs keys 0..<i1 only, which skips about 3/8 of
    /// the products of a 256-token sequence.
    private func forEachCausalBlock(_ len: Int, _ body: (Int, Int) -> Void) {
        let block = 64
        var i0 = 0
        while i0 < len {
            let i1 = min(len, i0 &+ block)
            body(i0, i1)
            i0 = i1
        }
    }

    /// Calls `body(firstToken, length, kvHead, queryHeads)` for every sequence and key-value
    /// head, in parallel: each call owns its key-value head's rows of dK and dV and its query
    /// heads' rows of dQ and the output, so no two calls write the same value.
    private func forEachGroup(_ a: AttentionLayout, _ body: (Int, Int, Int, Range<Int>) -> Void) {
        let group = a.heads / a.kvHeads
        var starts: [Int] = []
        var start = 0
        for len in a.sequenceLengths { starts.append(start); start += len }
        let lengths = a.sequenceLengths, kvHeads = a.kvHeads
        withSingleThreadedBLAS {
            starts.withUnsafeBufferPointer { sp in
                pool.parallelFor(lengths.count &* kvHeads) { task in
                    let s = task / kvHeads, kvh = task % kvHeads
                    body(sp[s], lengths[s], kvh, kvh &* group ..< (kvh &+ 1) &* group)
                }
            }
        }
    }
}

/// dp[j] = p[j] · (dp[j] − rowSum): the softmax Jacobian applied to a row's output gradient.
private func softmaxGradient(_ p: UnsafePointer<Float>, _ dp: UnsafeMutablePointer<Float>, _ rowSum: Float, _ n: Int) {
    let vs = SIMD16<Float>(repeating: rowSum)
    var j = 0
    while j &+ 16 <= n {
        storeVector(loadVector(p + j) * (loadVector(dp + j) - vs), dp + j)
        j &+= 16
    }
    while j < n { dp[j] = p[j] * (dp[j] - rowSum); j &+= 1 }
}
