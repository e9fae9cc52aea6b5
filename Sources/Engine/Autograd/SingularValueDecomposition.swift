/// Thin singular value decompositions of row-major f32 matrices, for PiSSA's initialisation:
/// the full one through LAPACK (`sgesdd_`, falling back to `sgesvd_` when it does not
/// converge) from the OpenBLAS library the engine already opened, and the randomized one of
/// `torch.svd_lowrank` (Halko et al. 2009, algorithm 5.1 with `niter` subspace iterations).
struct SingularValueDecomposition {
    /// U, [rows, k] row-major, k = min(rows, columns) (or the requested rank).
    let u: [Float]
    /// Singular values, descending, k of them.
    let s: [Float]
    /// Vᵀ, [k, columns] row-major.
    let vt: [Float]
    let k: Int

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private typealias GesddFn = @convention(c) (
        UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Float>, UnsafePointer<Int32>,
        UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafePointer<Int32>, UnsafeMutablePointer<Float>,
        UnsafePointer<Int32>, UnsafeMutablePointer<Float>, UnsafePointer<Int32>, UnsafeMutablePointer<Int32>,
        UnsafeMutablePointer<Int32>, Int) -> Void
    private typealias GesvdFn = @convention(c) (
        UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Float>,
        UnsafePointer<Int32>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafePointer<Int32>,
        UnsafeMutablePointer<Float>, UnsafePointer<Int32>, UnsafeMutablePointer<Float>, UnsafePointer<Int32>,
        UnsafeMutablePointer<Int32>, Int, Int) -> Void

    /// The thin SVD of `a` [rows, columns].
    ///
    /// LAPACK is column-major: the row-major `a` is the column-major Aᵀ, whose SVD
    /// Aᵀ = U'·S·V'ᵀ gives A = V'·S·U'ᵀ; read back row-major, LAPACK's V'ᵀ buffer is A's U and
    /// its U' buffer is A's Vᵀ, so no transposes are needed.
    static func full(_ a: [Float], rows m: Int, columns n: Int) throws -> SingularValueDecomposition {
        precondition(a.count == m * n && m > 0 && n > 0, "svd: \(a.count) values for \(m)×\(n)")
        guard let lm = Int32(exactly: n), let ln = Int32(exactly: m) else { throw Failure(description: "svd: matrix too large") }
        let k = min(m, n)
        let library: OpenBLASLibrary
        switch OpenBLASLibrary.loaded {
        case .success(let l): library = l
        case .failure(let e): throw Failure(description: "svd needs LAPACK from OpenBLAS: \(e)")
        }
        var s = [Float](repeating: 0, count: k)
        var left = [Float](repeating: 0, count: n * k)   // U' of Aᵀ: n×k column-major = A's Vᵀ
        var right = [Float](repeating: 0, count: k * m)  // V'ᵀ of Aᵀ: k×m column-major = A's U
        var rowsArg = lm, columnsArg = ln
        var ldu = lm, ldvt = Int32(k), lda = lm, info: Int32 = 0
        if let gesdd = library.function("sgesdd_", as: GesddFn.self) {
            var work = a
            var iwork = [Int32](repeating: 0, count: 8 * k)
            var query: Float = 0, lwork: Int32 = -1
            "S".withCString { job in
                gesdd(job, &rowsArg, &columnsArg, &work, &lda, &s, &left, &ldu, &right, &ldvt, &query, &lwork, &iwork, &info, 1)
            }
            if info == 0 {
                lwork = Int32(query) + 1
                var scratch = [Float](repeating: 0, count: Int(lwork))
                "S".withCString { job in
                    gesdd(job, &rowsArg, &columnsArg, &work, &lda, &s, &left, &ldu, &right, &ldvt, &scratch, &lwork, &iwork, &info, 1)
                }
                if info == 0 { return SingularValueDecomposition(u: right, s: s, vt: left, k: k) }
            }
        }
        guard let gesvd = library.function("sgesvd_", as: GesvdFn.self) else {
            throw Failure(description: "svd: OpenBLAS has neither sgesdd_ nor sgesvd_ (LAPACK missing)")
        }
        var work = a
        var query: Float = 0, lwork: Int32 = -1
        info = 0
        "S".withCString { job in
            gesvd(job, job, &rowsArg, &columnsArg, &work, &lda, &s, &left, &ldu, &right, &ldvt, &query, &lwork, &info, 1, 1)
        }
        guard info == 0 else { throw Failure(description: "svd: sgesvd_ workspace query failed (info \(info))") }
        lwork = Int32(query) + 1
        var scratch = [Float](repeating: 0, count: Int(lwork))
        "S".withCString { job in
            gesvd(job, job, &rowsArg, &columnsArg, &work, &lda, &s, &left, &ldu, &right, &ldvt, &scratch, &lwork, &info, 1, 1)
        }
        guard info == 0 else { throw Failure(description: "svd: sgesvd_ did not converge (info \(info))") }
        return SingularValueDecomposition(u: right, s: s, vt: left, k: k)
    }

    /// `torch.svd_lowrank(a, q: rank, niter:)`: an orthonormal basis Q of the range of A·G
    /// (G Gaussian [columns, rank], seeded) refined by `niter` power iterations with a QR after
    /// every product, then the full SVD of the small Qᵀ·A. U = Q·U_small.
    static func randomized(_ a: [Float], rows m: Int, columns n: Int, rank q: Int, iterations: Int,
                           random: inout RandomSource) throws -> SingularValueDecomposition {
        precondition(a.count == m * n && q > 0 && q <= min(m, n), "svd_lowrank: rank \(q) for \(m)×\(n)")
        var g = [Float](repeating: 0, count: n * q)
        for i in 0..<g.count { g[i] = random.nextGaussian() }
        // Row-major products: X = A·G [m, q]; Y = Aᵀ·Q [n, q].
        func product(_ transposeA: Bool, _ b: [Float], outRows: Int) -> [Float] {
            var out = [Float](repeating: 0, count: outRows * q)
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    out.withUnsafeMutableBufferPointer { op in
                        BLAS.sgemm(m: outRows, n: q, k: transposeA ? m : n, a: ap.baseAddress!, lda: n,
                                   b: bp.baseAddress!, ldb: q, transposeB: false, c: op.baseAddress!, ldc: q,
                                   transposeA: transposeA)
                    }
                }
            }
            return out
        }
        var basis = orthonormalColumns(product(false, g, outRows: m), rows: m, columns: q)
        for _ in 0..<iterations {
            let back = orthonormalColumns(product(true, basis, outRows: n), rows: n, columns: q)
            basis = orthonormalColumns(product(false, back, outRows: m), rows: m, columns: q)
        }
        // Small = Qᵀ·A [q, n].
        var small = [Float](repeating: 0, count: q * n)
        a.withUnsafeBufferPointer { ap in
            basis.withUnsafeBufferPointer { qp in
                small.withUnsafeMutableBufferPointer { sp in
                    BLAS.sgemm(m: q, n: n, k: m, a: qp.baseAddress!, lda: q, b: ap.baseAddress!, ldb: n,
                               transposeB: false, c: sp.baseAddress!, ldc: n, transposeA: true)
                }
            }
        }
        let inner = try full(small, rows: q, columns: n)
        var u = [Float](repeating: 0, count: m * q)
        basis.withUnsafeBufferPointer { qp in
            inner.u.withUnsafeBufferPointer { up in
                u.withUnsafeMutableBufferPointer { op in
                    BLAS.sgemm(m: m, n: q, k: q, a: qp.baseAddress!, lda: q, b: up.baseAddress!, ldb: q,
                               transposeB: false, c: op.baseAddress!, ldc: q)
                }
            }
        }
        return SingularValueDecomposition(u: u, s: inner.s, vt: inner.vt, k: q)
    }

    /// The Q of a thin QR of `x` [rows, columns] row-major: modified Gram–Schmidt in Double,
    /// run twice ("twice is enough") so the columns stay orthonormal to rounding. A column
    /// that vanishes becomes zero (rank-deficient input).
    static func orthonormalColumns(_ x: [Float], rows: Int, columns: Int) -> [Float] {
        var c = (0..<columns).map { j in (0..<rows).map { Double(x[$0 * columns + j]) } }
        for _ in 0..<2 {
            for j in 0..<columns {
                for i in 0..<j {
                    var dot = 0.0
                    for r in 0..<rows { dot += c[i][r] * c[j][r] }
                    for r in 0..<rows { c[j][r] -= dot * c[i][r] }
                }
                let norm = c[j].reduce(0) { $0 + $1 * $1 }.squareRoot()
                for r in 0..<rows { c[j][r] = norm > 0 ? c[j][r] / norm : 0 }
            }
        }
        var out = [Float](repeating: 0, count: rows * columns)
        for j in 0..<columns { for r in 0..<rows { out[r * columns + j] = Float(c[j][r]) } }
        return out
    }
}
