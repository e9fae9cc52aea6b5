// Linear layers: y[rows×out] = x[rows×in] · Wᵀ (+ b), with W stored [out, in] as in HF.

extension Tape {
    /// A trainable (or frozen f32) linear layer. Gradients for x, W and b through sgemm.
    public func linear(_ x: Variable, weight w: Variable, bias b: Variable? = nil) -> Variable {
        precondition(w.shape.count == 2, "linear weight must be [out, in], got \(w.shape)")
        let outF = w.shape[0], inF = w.shape[1]
        let rows = x.rows(of: inF)
        precondition(b == nil || b!.count == outF, "linear bias must have \(outF) values")
        let y = output(Array(x.shape.dropLast()) + [outF], [x, w, b])
        matmul(m: rows, n: outF, k: inF, a: x.data, lda: inF, b: w.data, ldb: inF, transposeB: true,
               c: y.data, ldc: outF)
        if let b { for r in 0..<rows { addInPlace(y.data + r &* outF, b.data, outF) } }
        record(.linear(x: x, weight: w, bias: b?.gradientCell), y)
        return y
    }

    func linearBackward(x: Variable, weight w: Variable, bias b: GradientCell?, dy: UnsafePointer<Float>) {
        let outF = w.shape[0], inF = w.shape[1], rows = x.count / inF
        if x.requiresGrad {
            let (dx, fresh) = x.gradientForUpdate()
            matmul(m: rows, n: inF, k: outF, a: dy, lda: outF, b: w.data, ldb: inF, transposeB: false,
                   beta: fresh ? 0 : 1, c: dx, ldc: inF)
        }
        if w.requiresGrad {
            let (dw, fresh) = w.gradientForUpdate()
            matmul(m: outF, n: inF, k: rows, a: dy, lda: outF, transposeA: true, b: x.data, ldb: inF, transposeB: false,
                   beta: fresh ? 0 : 1, c: dw, ldc: inF)
        }
        if let b, b.requiresGrad {
            let db = b.gradBuffer()
            for r in 0..<rows { addInPlace(db, dy + r &* outF, outF) }
        }
    }

    /// A frozen linear layer over a weight kept in its file type (any GGMLType), the QLoRA
    /// base path: each call dequantizes a block of rows at a time into a scratch buffer and
    /// multiplies it with sgemm, so the whole weight never exists as f32. Backward gives dx only.
    public func frozenLinear(_ x: Variable, weight w: RawTensor, bias b: Variable? = nil) -> Variable {
        precondition(w.shape.count == 2, "frozen linear weight must be [out, in], got \(w.shape)")
        let outF = w.shape[0], inF = w.shape[1]
        let rows = x.rows(of: inF)
        precondition(b == nil || b!.count == outF, "linear bias must have \(outF) values")
        let y = output(Array(x.shape.dropLast()) + [outF], [x, b])
        forEachRowBlock(of: w) { r0, count, wf in
            matmul(m: rows, n: count, k: inF, a: x.data, lda: inF, b: wf, ldb: inF, transposeB: true,
                   c: y.data + r0, ldc: outF)
        }
        if let b { for r in 0..<rows { addInPlace(y.data + r &* outF, b.data, outF) } }
        record(.frozenLinear(x: x.gradientCell, weight: w, bias: b?.gradientCell), y)
        return y
    }

    func frozenLinearBackward(x: GradientCell, weight w: RawTensor, bias b: GradientCell?, dy: UnsafePointer<Float>) {
        let outF = w.shape[0], inF = w.shape[1], rows = x.count / inF
        if let b, b.requiresGrad {
            let db = b.gradBuffer()
            for r in 0..<rows { addInPlace(db, dy + r &* outF, outF) }
        }
        guard x.requiresGrad else { return }
        var (dx, fresh) = x.gradientForUpdate()
        forEachRowBlock(of: w) { r0, count, wf in
            matmul(m: rows, n: inF, k: count, a: dy + r0, lda: outF, b: wf, ldb: inF, transposeB: false,
                   beta: fresh ? 0 : 1, c: dx, ldc: inF)
            fresh = false
        }
    }

    /// Calls `body(firstRow, rowCount, rowsAsF32)` for consecutive blocks of about 4 MB of
    /// `w`'s rows as f32 (one block for every weight of a decoder layer of a small model; the
    /// output head takes several), directly on the file's floats when `w` is f32. A block is
    /// dequantized on both cores; its product then runs as one sgemm split over them.
    func forEachRowBlock(of w: RawTensor, _ body: (Int, Int, UnsafePointer<Float>) -> Void) {
        let outF = w.shape[0], inF = w.shape[1]
        guard let base = w.bytes.baseAddress else { return }
        if w.type == .f32 {
            body(0, outF, base.assumingMemoryBound(to: Float.self))
            return
        }
        let blockRows = min(outF, max(16, (1 << 20) / max(inF, 1)))
        let scratch = Variable.allocate(blockRows &* inF)
        defer { Variable.deallocate(scratch, blockRows &* inF) }
        let stride = w.bytesPerRow
        var r0 = 0
        while r0 < outF {
            let count = min(blockRows, outF - r0)
            TapeProfile.measure("(frozen weights dequantized)") {
                pool.parallelRanges(count, minimum: 8) { part in
                    dequantize(w.type, from: base + (r0 &+ part.lowerBound) &* stride,
                               to: scratch + part.lowerBound &* inF, count: part.count &* inF)
                }
            }
            body(r0, count, scratch)
            r0 += count
        }
    }
}
