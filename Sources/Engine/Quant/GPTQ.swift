/// GPTQ for one linear layer (Frantar et al. 2022, Algorithm 1): the columns are quantized
/// one at a time and each one's error, weighted by the inverse Hessian of the layer's inputs,
/// is pushed onto the columns not yet quantized. The inverse comes as its upper Cholesky
/// factor U (H⁻¹ = Uᵀ U), whose row i holds what column i's error owes the later columns;
/// updates within a block of 128 columns are applied at once, the rest lazily by one sgemm
/// per block. Behaviour follows AutoGPTQ's `fasterquant`: dead inputs (zero Hessian diagonal)
/// get weight 0, damping adds `dampPercent` · mean(diag H), a group's parameters are found
/// when the group's first column is reached (from the weights as they stood when that
/// column's block began), and with `actOrder` the columns go in order of decreasing Hessian
/// diagonal with each group's parameters fixed beforehand from the original weights
/// (AutoGPTQ's `static_groups`, which keeps groups contiguous so they map onto GGUF blocks).
enum GPTQ {
    static let blockSize = 128

    /// `weight` is rows × columns (a linear layer's `[out, in]`), `hessian` columns × columns
    /// (2/N · Σ x xᵀ over the calibration inputs). `name` is used in errors.
    static func quantize(weight: [Float], rows: Int, columns n: Int, hessian: [Float], grid: GroupGrid,
                         dampPercent: Double, actOrder: Bool, name: String, pool: ThreadPool = .shared) throws -> QuantizedMatrix {
        precondition(weight.count == rows * n && hessian.count == n * n)
        var w = weight
        var h = hessian.map(Double.init)
        for i in 0..<n where h[i * n + i] == 0 {
            h[i * n + i] = 1
            for r in 0..<rows { w[r * n + i] = 0 }
        }
        let groups = grid.groupCount(rowLength: n), gs = grid.groupSize
        var params = [GroupGrid.Parameters](repeating: .init(scale: 0, offset: 0), count: rows * groups)
        let staticGroups = actOrder
        if staticGroups {
            w.withUnsafeBufferPointer { wp in
                for r in 0..<rows {
                    for g in 0..<groups {
                        let start = g * gs
                        params[r * groups + g] = grid.parameters(wp.baseAddress! + r * n + start, min(gs, n - start))
                    }
                }
            }
        }
        var perm = Array(0..<n)
        if actOrder {
            perm.sort { h[$0 * n + $0] != h[$1 * n + $1] ? h[$0 * n + $0] > h[$1 * n + $1] : $0 < $1 }
            let wOld = w, hOld = h
            for r in 0..<rows { for i in 0..<n { w[r * n + i] = wOld[r * n + perm[i]] } }
            for i in 0..<n { for j in 0..<n { h[i * n + j] = hOld[perm[i] * n + perm[j]] } }
        }
        var meanDiagonal = 0.0
        for i in 0..<n { meanDiagonal += h[i * n + i] }
        meanDiagonal /= Double(n)
        let damp = dampPercent * meanDiagonal
        for i in 0..<n { h[i * n + i] += damp }

        let notDefinite = { (step: String) in
            CalibrationError("GPTQ: the input Hessian of \(name) is not positive definite even after damping (\(step)); raise damp_percent (now \(dampPercent)) or give more calibration data")
        }
        guard meanDiagonal.isFinite, try h.withUnsafeMutableBufferPointer({ try Cholesky.invert($0.baseAddress!, n) }) == 0 else {
            throw notDefinite("inverting it")
        }
        guard try h.withUnsafeMutableBufferPointer({ try Cholesky.upperFactor($0.baseAddress!, n) }) == 0 else {
            throw notDefinite("factoring its inverse")
        }
        let u = h.map(Float.init)

        var codes = [UInt8](repeating: 0, count: rows * n)
        var err = [Float](repeating: 0, count: rows * blockSize)
        let maxCode = grid.maxCode
        w.withUnsafeMutableBufferPointer { wb in
            u.withUnsafeBufferPointer { ub in
                codes.withUnsafeMutableBufferPointer { cb in
                    params.withUnsafeMutableBufferPointer { pb in
                        err.withUnsafeMutableBufferPointer { eb in
                            perm.withUnsafeBufferPointer { permb in
                                let W = wb.baseAddress!, U = ub.baseAddress!, C = cb.baseAddress!, P = pb.baseAddress!, E = eb.baseAddress!
                                for i1 in stride(from: 0, to: n, by: blockSize) {
                                    let i2 = min(i1 + blockSize, n), width = i2 - i1
                                    pool.parallelRanges(rows, minimum: 16) { range in
                                        withUnsafeTemporaryAllocation(of: Float.self, capacity: width + gs) { scratch in
                                            let snapshot = scratch.baseAddress!, gather = snapshot + width
                                            for r in range {
                                                let row = W + r &* n
                                                snapshot.update(from: row + i1, count: width)
                                                for i in i1..<i2 {
                                                    let group: Int
                                                    if staticGroups {
                                                        group = permb[i] / gs
                                                    } else {
                                                        group = i / gs
                                                        if i % gs == 0 {
                                                            let end = min(i &+ gs, n), inBlock = min(end, i2) &- i
                                                            gather.update(from: snapshot + (i &- i1), count: inBlock)
                                                            if end > i2 { (gather + inBlock).update(from: row + i2, count: end &- i2) }
                                                            P[r &* groups &+ group] = grid.parameters(gather, end &- i)
                                                        }
                                                    }
                                                    let p = P[r &* groups &+ group]
                                                    let x = row[i]
                                                    let q = p.code(x, maxCode: maxCode)
                                                    C[r &* n &+ i] = q
                                                    let e = (x - p.value(q)) / U[i &* n &+ i]
                                                    E[r &* width &+ (i &- i1)] = e
                                                    let urow = U + i &* n
                                                    var j = i &+ 1
                                                    while j < i2 { row[j] -= e * urow[j]; j &+= 1 }
                                                }
                                            }
                                        }
                                    }
                                    if i2 < n {
                                        BLAS.sgemm(m: rows, n: n - i2, k: width, alpha: -1, a: E, lda: width,
                                                   b: U + i1 * n + i2, ldb: n, transposeB: false, beta: 1, c: W + i2, ldc: n)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if actOrder {
            let permuted = codes
            for r in 0..<rows { for i in 0..<n { codes[r * n + perm[i]] = permuted[r * n + i] } }
        }
        return QuantizedMatrix(rows: rows, columns: n, grid: grid, codes: codes, parameters: params)
    }
}
