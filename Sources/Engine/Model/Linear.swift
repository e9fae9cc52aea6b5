/// A linear layer: a weight `[out, in]` kept in its file type, an optional bias, and an
/// optional LoRA branch (an adapted model's layer; the weight stays the base's).
struct Linear {
    let weight: RawTensor
    let bias: [Float]?
    var lora: LoRABranch? = nil

    var outFeatures: Int { weight.shape[0] }
    var inFeatures: Int { weight.shape[1] }

    /// Below this many tokens a product runs as mat-vecs on the quantized weight; from it on the
    /// weight is dequantized once into the workspace and multiplied with sgemm.
    static let sgemmThreshold = 8

    /// y[n×out] = x[n×in] · Wᵀ + b, or y += that when `accumulate` (with the LoRA branch, if any).
    func apply(_ x: UnsafePointer<Float>, tokens n: Int, into y: UnsafeMutablePointer<Float>,
               accumulate: Bool, workspace ws: Workspace, pool: ThreadPool = .shared) {
        let inF = inFeatures, outF = outFeatures
        if n < Linear.sgemmThreshold {
            let sums = ws.groupSums(capacity: (inF + 31) / 32)
            let down = lora.map { ws.buffer("lora.down", capacity: $0.rank) }
            // DoRA scales W·x before it is added, so an accumulated product goes through a scratch row.
            let scratch = accumulate && lora?.rowFactor != nil ? ws.buffer("lora.base", capacity: outF) : nil
            for t in 0..<n {
                let xt = x + t * inF, yt = y + t * outF
                groupSums32(xt, inF, sums)
                if let lora, let down { lora.down(xt, into: down) }
                pool.parallelRanges(outF, minimum: 32) { rows in
                    guard let lora, let down else {
                        matVecRows(weight, x: xt, sums: sums, y: yt, rows: rows, accumulate: accumulate)
                        return
                    }
                    if let scratch {
                        matVecRows(weight, x: xt, sums: sums, y: scratch, rows: rows, accumulate: false)
                        lora.finish(rows: rows, base: scratch, down: down, y: yt, accumulate: true)
                    } else {
                        matVecRows(weight, x: xt, sums: sums, y: yt, rows: rows, accumulate: accumulate)
                        lora.finish(rows: rows, base: yt, down: down, y: yt, accumulate: false)
                    }
                }
            }
        } else if let lora {
            let downs = ws.buffer("lora.down", capacity: n * lora.rank)
            if accumulate && lora.rowFactor != nil {
                let z = ws.buffer("lora.base", capacity: n * outF)
                sgemmProduct(x, tokens: n, into: z, accumulate: false, workspace: ws, pool: pool)
                lora.applyBatched(x, tokens: n, z: z, downs: downs)
                addInPlace(y, z, n * outF)
            } else {
                sgemmProduct(x, tokens: n, into: y, accumulate: accumulate, workspace: ws, pool: pool)
                lora.applyBatched(x, tokens: n, z: y, downs: downs)
            }
        } else {
            sgemmProduct(x, tokens: n, into: y, accumulate: accumulate, workspace: ws, pool: pool)
        }
        if let bias {
            bias.withUnsafeBufferPointer { b in
                for t in 0..<n { addInPlace(y + t * outF, b.baseAddress!, outF) }
            }
        }
    }

    /// y (= or +=) x · Wᵀ with sgemm, dequantizing W into the workspace when it is not f32.
    private func sgemmProduct(_ x: UnsafePointer<Float>, tokens n: Int, into y: UnsafeMutablePointer<Float>,
                              accumulate: Bool, workspace ws: Workspace, pool: ThreadPool) {
        let inF = inFeatures, outF = outFeatures
        let wf: UnsafeMutablePointer<Float>
        if weight.type == .f32 {
            wf = UnsafeMutablePointer(mutating: weight.bytes.baseAddress!.assumingMemoryBound(to: Float.self))
        } else {
            wf = ws.dequantized(capacity: outF * inF)
            pool.parallelRanges(outF, minimum: 64) { rows in dequantizeRows(weight, rows: rows, into: wf) }
        }
        BLAS.sgemm(m: n, n: outF, k: inF, a: x, lda: inF, b: wf, ldb: inF, transposeB: true,
                   beta: accumulate ? 1 : 0, c: y, ldc: outF)
    }

    /// Several layers reading the same input (q, k, v; gate, up): for few tokens their mat-vecs
    /// run as one parallel loop over all their rows, so the threads meet once instead of once
    /// per layer. Outputs are overwritten.
    static func applyAll(_ layers: [(Linear, UnsafeMutablePointer<Float>)], to x: UnsafePointer<Float>, tokens n: Int,
                         workspace ws: Workspace, pool: ThreadPool = .shared) {
        let inF = layers[0].0.inFeatures
        guard n < sgemmThreshold, layers.allSatisfy({ $0.0.inFeatures == inF }) else {
            for (l, y) in layers { l.apply(x, tokens: n, into: y, accumulate: false, workspace: ws, pool: pool) }
            return
        }
        let sums = ws.groupSums(capacity: (inF + 31) / 32)
        var starts: [Int] = []
        var downStarts: [Int] = []
        var total = 0, downTotal = 0
        for (l, _) in layers {
            starts.append(total)
            total += l.outFeatures
            downStarts.append(downTotal)
            downTotal += l.lora?.rank ?? 0
        }
        let downs = ws.buffer("lora.down", capacity: downTotal)
        for t in 0..<n {
            let xt = x + t * inF
            groupSums32(xt, inF, sums)
            for (i, (l, _)) in layers.enumerated() { l.lora?.down(xt, into: downs + downStarts[i]) }
            pool.parallelRanges(total, minimum: 32) { range in
                for (i, (l, y)) in layers.enumerated() {
                    let lo = max(range.lowerBound, starts[i]), hi = min(range.upperBound, starts[i] + l.outFeatures)
                    if lo < hi {
                        let yt = y + t * l.outFeatures, rows = (lo - starts[i])..<(hi - starts[i])
                        matVecRows(l.weight, x: xt, sums: sums, y: yt, rows: rows, accumulate: false)
                        l.lora?.finish(rows: rows, base: yt, down: downs + downStarts[i], y: yt, accumulate: false)
                    }
                }
            }
        }
        for (l, y) in layers {
            guard let bias = l.bias else { continue }
            bias.withUnsafeBufferPointer { b in
                for t in 0..<n { addInPlace(y + t * l.outFeatures, b.baseAddress!, l.outFeatures) }
            }
        }
    }
}
