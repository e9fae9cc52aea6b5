// A LoRA layer as one op: y = x·Wᵀ (+ b) + scale · (x'·Aᵀ)·Bᵀ, x' being x or its dropped-out
// copy. As a chain of linear, scale and add ops it wrote, read and copied the [rows, out]
// output five times more per layer and direction; here the low-rank product is added into the
// base product by sgemm itself (alpha = scale, beta = 1), and backward reads d(output) once.

/// A linear layer's weight: trainable f32 or frozen in its file type (the QLoRA base).
enum LinearWeight {
    case trainable(Variable)
    case frozen(RawTensor)

    var shape: [Int] {
        switch self {
        case .trainable(let w): return w.shape
        case .frozen(let w): return w.shape
        }
    }

    var variable: Variable? {
        if case .trainable(let w) = self { return w }
        return nil
    }
}

extension Tape {
    /// y[rows, out] = x·Wᵀ, a frozen weight dequantized a block of rows at a time.
    func product(_ x: UnsafePointer<Float>, rows: Int, weight: LinearWeight, into y: UnsafeMutablePointer<Float>) {
        let outF = weight.shape[0], inF = weight.shape[1]
        switch weight {
        case .trainable(let w):
            matmul(m: rows, n: outF, k: inF, a: x, lda: inF, b: w.data, ldb: inF, transposeB: true, c: y, ldc: outF)
        case .frozen(let w):
            forEachRowBlock(of: w) { r0, count, wf in
                matmul(m: rows, n: count, k: inF, a: x, lda: inF, b: wf, ldb: inF, transposeB: true, c: y + r0, ldc: outF)
            }
        }
    }

    /// dx[rows, in] (+)= alpha · dy·W: written when `fresh`, else added.
    func inputGradient(_ dy: UnsafePointer<Float>, rows: Int, weight: LinearWeight, alpha: Float = 1,
                       into dx: UnsafeMutablePointer<Float>, fresh: Bool) {
        let outF = weight.shape[0], inF = weight.shape[1]
        switch weight {
        case .trainable(let w):
            matmul(m: rows, n: inF, k: outF, alpha: alpha, a: dy, lda: outF, b: w.data, ldb: inF, transposeB: false,
                   beta: fresh ? 0 : 1, c: dx, ldc: inF)
        case .frozen(let w):
            var first = fresh
            forEachRowBlock(of: w) { r0, count, wf in
                matmul(m: rows, n: inF, k: count, alpha: alpha, a: dy + r0, lda: outF, b: wf, ldb: inF,
                       transposeB: false, beta: first ? 0 : 1, c: dx, ldc: inF)
                first = false
            }
        }
    }
}

/// What the LoRA op's backward needs.
struct LoRALinearRecord {
    /// The layer's input: its gradient cell, and its values only when the base weight trains.
    let x: GradientCell
    let xValues: Variable?
    /// x' (x itself without dropout), whose values A's gradient reads.
    let loraInput: Variable
    let weight: LinearWeight
    let bias: GradientCell?
    let a: Variable
    let b: Variable
    let scale: Float
    /// x'·Aᵀ [rows, rank].
    let down: FloatBuffer
}

extension Tape {
    /// The LoRA layer y = x·Wᵀ (+ b) + scale·(x'·Aᵀ)·Bᵀ with A [rank, in] and B [out, rank];
    /// `loraInput` is x' when it differs from x (dropout), else x itself is used.
    func loraLinear(_ x: Variable, weight: LinearWeight, bias: Variable?, a: Variable, b: Variable,
                    scale: Float, loraInput: Variable? = nil) -> Variable {
        let outF = weight.shape[0], inF = weight.shape[1], rank = a.shape[0]
        precondition(a.shape == [rank, inF] && b.shape == [outF, rank], "LoRA A \(a.shape) and B \(b.shape) for weight \(weight.shape)")
        precondition(bias == nil || bias!.count == outF, "linear bias must have \(outF) values")
        let rows = x.rows(of: inF)
        let xl = loraInput ?? x
        precondition(xl.count == x.count, "LoRA input \(xl.shape) for layer input \(x.shape)")
        let y = output(Array(x.shape.dropLast()) + [outF], [x, weight.variable, bias, a, b, loraInput])
        product(x.data, rows: rows, weight: weight, into: y.data)
        if let bias { for r in 0..<rows { addInPlace(y.data + r &* outF, bias.data, outF) } }
        let down = FloatBuffer(count: rows &* rank)
        matmul(m: rows, n: rank, k: inF, a: xl.data, lda: inF, b: a.data, ldb: inF, transposeB: true,
               c: down.pointer, ldc: rank)
        matmul(m: rows, n: outF, k: rank, alpha: scale, a: down.pointer, lda: rank, b: b.data, ldb: rank,
               transposeB: true, beta: 1, c: y.data, ldc: outF)
        let record = LoRALinearRecord(x: x.gradientCell, xValues: weight.variable?.requiresGrad == true ? x : nil,
                                      loraInput: xl, weight: weight, bias: bias?.gradientCell, a: a, b: b,
                                      scale: scale, down: down)
        self.record(.loraLinear(record), y)
        return y
    }

    func loraLinearBackward(_ r: LoRALinearRecord, dy: UnsafePointer<Float>) {
        let outF = r.weight.shape[0], inF = r.weight.shape[1], rank = r.a.shape[0]
        let rows = r.x.count / inF
        if let b = r.bias, b.requiresGrad {
            let db = b.gradBuffer()
            for i in 0..<rows { addInPlace(db, dy + i &* outF, outF) }
        }
        if r.b.requiresGrad {
            let (dB, fresh) = r.b.gradientForUpdate()
            matmul(m: outF, n: rank, k: rows, alpha: r.scale, a: dy, lda: outF, transposeA: true,
                   b: r.down.pointer, ldb: rank, transposeB: false, beta: fresh ? 0 : 1, c: dB, ldc: rank)
        }
        // d(x'·Aᵀ) = scale · dy·B.
        let dDown = FloatBuffer(count: rows &* rank)
        matmul(m: rows, n: rank, k: outF, alpha: r.scale, a: dy, lda: outF, b: r.b.data, ldb: rank,
               transposeB: false, c: dDown.pointer, ldc: rank)
        if r.a.requiresGrad {
            let (dA, fresh) = r.a.gradientForUpdate()
            matmul(m: rank, n: inF, k: rows, a: dDown.pointer, lda: rank, transposeA: true,
                   b: r.loraInput.data, ldb: inF, transposeB: false, beta: fresh ? 0 : 1, c: dA, ldc: inF)
        }
        if case .trainable(let w) = r.weight, w.requiresGrad, let x = r.xValues {
            let (dW, fresh) = w.gradientForUpdate()
            matmul(m: outF, n: inF, k: rows, a: dy, lda: outF, transposeA: true, b: x.data, ldb: inF,
                   transposeB: false, beta: fresh ? 0 : 1, c: dW, ldc: inF)
        }
        if r.x.requiresGrad {
            let (dx, fresh) = r.x.gradientForUpdate()
            inputGradient(dy, rows: rows, weight: r.weight, into: dx, fresh: fresh)
            if r.loraInput.gradientCell === r.x {
                matmul(m: rows, n: inF, k: rank, a: dDown.pointer, lda: rank, b: r.a.data, ldb: inF,
                       transposeB: false, beta: 1, c: dx, ldc: inF)
            }
        }
        let xl = r.loraInput.gradientCell
        if xl !== r.x && xl.requiresGrad {
            let (dxl, fresh) = xl.gradientForUpdate()
            matmul(m: rows, n: inF, k: rank, a: dDown.pointer, lda: rank, b: r.a.data, ldb: inF,
                   transposeB: false, beta: fresh ? 0 : 1, c: dxl, ldc: inF)
        }
    }
}
