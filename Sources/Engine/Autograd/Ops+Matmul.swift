// Matrix products of the training ops on both cores without two thread pools fighting over
// them: OpenBLAS is held to one thread and our pool splits each product into slabs of C,
// each computed by one single-threaded sgemm (OpenBLAS's own threads would otherwise spin
// next to ours between calls; 2 cores here).

extension Tape {
    /// Products smaller than this (m·n·k) run as one call.
    static let splitMatmulWork = 1 << 21

    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major, as `BLAS.sgemm`.
    func matmul(m: Int, n: Int, k: Int, alpha: Float = 1,
                a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
                b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m <= 0 || n <= 0 { return }
        let work = m &* n &* max(k, 1)
        guard pool.threadCount > 1, work >= Tape.splitMatmulWork else {
            // Single-threaded too: a product OpenBLAS split over its own threads would leave its
            // worker spinning beside our pool's next job.
            withSingleThreadedBLAS {
                BLAS.sgemm(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, transposeB: transposeB,
                           beta: beta, c: c, ldc: ldc, transposeA: transposeA)
            }
            return
        }
        withSingleThreadedBLAS {
            if m >= n {
                // Slabs of C's rows: rows of op(A).
                pool.parallelRanges(m, minimum: max(32, m / (2 &* pool.threadCount))) { rows in
                    let ap = transposeA ? a + rows.lowerBound : a + rows.lowerBound &* lda
                    BLAS.sgemm(m: rows.count, n: n, k: k, alpha: alpha, a: ap, lda: lda, b: b, ldb: ldb,
                               transposeB: transposeB, beta: beta, c: c + rows.lowerBound &* ldc, ldc: ldc,
                               transposeA: transposeA)
                }
            } else {
                // Slabs of C's columns: columns of op(B).
                pool.parallelRanges(n, minimum: max(32, n / (2 &* pool.threadCount))) { cols in
                    let bp = transposeB ? b + cols.lowerBound &* ldb : b + cols.lowerBound
                    BLAS.sgemm(m: m, n: cols.count, k: k, alpha: alpha, a: a, lda: lda, b: bp, ldb: ldb,
                               transposeB: transposeB, beta: beta, c: c + cols.lowerBound, ldc: ldc,
                               transposeA: transposeA)
                }
            }
        }
    }

    /// Runs `body` with OpenBLAS on one thread (restored afterwards), so that sgemm calls made
    /// from our pool's tasks each stay on their own core.
    func withSingleThreadedBLAS<T>(_ body: () -> T) -> T {
        let saved = BLAS.threadCount
        if saved != 1 { BLAS.threadCount = 1 }
        defer { if saved != 1 { BLAS.threadCount = saved } }
        return body()
    }
}
