/// AWQ on one decoder layer, in AutoAWQ's order: the four scale searches on the layer's
/// original weights (q/k/v scored on the attention block's output, gate/up on the MLP
/// block's output, o and down each on its own output), the scales folded in, the clipping
/// search on the scaled weights (not q and k: their errors pass through the softmax, so
/// AutoAWQ leaves them unclipped), and round to nearest.
enum AWQLayer {
    typealias Point = LayerwiseCalibration.Point

    static func quantize(_ layer: inout FloatLayer, model: LlamaModel, observed: LayerwiseCalibration.Observations,
                         kept: LayerwiseCalibration.KeptInputs, grid: GroupGrid, duoScaling: Bool, clip: Bool,
                         cancel: CancellationToken?) throws -> DecoderLayer {
        let fp = layer.decoderLayer()
        let d = model.config.hiddenSize
        let ws = Workspace()
        func checkCancel() throws {
            if cancel?.isCancelled == true { throw CalibrationError("quantization cancelled during AWQ's search") }
        }
        func targets(_ ms: [FloatLayer.Matrix]) -> [AWQ.Target] { ms.map { AWQ.Target(weight: $0.weight, rows: $0.rows) } }
        func wMean(_ ms: [FloatLayer.Matrix]) -> [Float]? {
            duoScaling ? AWQ.meanRelativeMagnitude(targets(ms), columns: ms[0].columns, groupSize: grid.groupSize) : nil
        }
        func trial(_ m: FloatLayer.Matrix, _ s: [Float], _ name: String) -> Linear {
            var t = m
            t.weight = AWQ.pseudoQuantized(m.weight, rows: m.rows, columns: m.columns, scales: s, grid: grid)
            return t.linear(name)
        }
        /// Σ |block(candidate) − block(original)|² over the kept sequences.
        func blockError(_ inputs: [Float], _ reference: [Float],
                        _ run: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void) -> Double {
            let out = ws.buffer("awq.out", capacity: kept.tokens * d)
            var offset = 0
            inputs.withUnsafeBufferPointer { h in
                for n in kept.lengths {
                    run(h.baseAddress! + offset * d, n, out + offset * d)
                    offset += n
                }
            }
            var total = 0.0
            reference.withUnsafeBufferPointer { r in
                for i in 0..<(kept.tokens * d) {
                    let e = Double(out[i] - r[i])
                    total += e * e
                }
            }
            return total
        }
        func outputs(_ inputs: [Float], _ run: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
            var y = [Float](repeating: 0, count: kept.tokens * d)
            var offset = 0
            inputs.withUnsafeBufferPointer { h in
                y.withUnsafeMutableBufferPointer { yp in
                    for n in kept.lengths {
                        run(h.baseAddress! + offset * d, n, yp.baseAddress! + offset * d)
                        offset += n
                    }
                }
            }
            return y
        }
        func attention(_ l: DecoderLayer) -> (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void {
            { h, n, y in LayerwiseCalibration.attention(l, model: model, input: h, tokens: n, into: y, accumulate: false, workspace: ws) }
        }
        func mlp(_ l: DecoderLayer) -> (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void {
            { h, n, y in LayerwiseCalibration.mlp(l, model: model, input: h, tokens: n, into: y, accumulate: false, workspace: ws) }
        }
        guard !kept.lengths.isEmpty else { throw CalibrationError("AWQ's scale search needs at least one kept calibration sequence") }

        // q, k, v: scored on the attention output, o unquantized.
        let attentionReference = outputs(kept.attentionInput, attention(fp))
        let sAttention = AWQ.searchScales(xMean: observed[Point.attentionInput.rawValue].meanMagnitude,
                                          wMean: wMean([layer.q, layer.k, layer.v])) { s in
            let t = DecoderLayer(attentionNorm: fp.attentionNorm, q: trial(layer.q, s, "q"), k: trial(layer.k, s, "k"),
                                 v: trial(layer.v, s, "v"), o: fp.o, qNorm: fp.qNorm, kNorm: fp.kNorm, mlpNorm: fp.mlpNorm,
                                 gate: fp.gate, up: fp.up, down: fp.down)
            return blockError(kept.attentionInput, attentionReference, attention(t))
        }
        try checkCancel()
        // o, from v (AutoAWQ: only when v_proj and o_proj have the same shape, i.e. no GQA).
        var sOutput: [Float]?
        let outputHessian = observed[Point.attentionOutput.rawValue].hessian
        if layer.v.rows == layer.o.columns && layer.v.columns == layer.o.rows {
            sOutput = AWQ.searchScales(xMean: observed[Point.attentionOutput.rawValue].meanMagnitude, wMean: wMean([layer.o]),
                                       loss: AWQ.linearLoss(targets([layer.o]), columns: layer.o.columns, hessian: outputHessian, grid: grid))
        }
        try checkCancel()
        // gate, up: scored on the MLP output, down unquantized.
        let mlpReference = outputs(kept.mlpInput, mlp(fp))
        let sMLP = AWQ.searchScales(xMean: observed[Point.mlpInput.rawValue].meanMagnitude, wMean: wMean([layer.gate, layer.up])) { s in
            let t = DecoderLayer(attentionNorm: fp.attentionNorm, q: fp.q, k: fp.k, v: fp.v, o: fp.o, qNorm: fp.qNorm,
                                 kNorm: fp.kNorm, mlpNorm: fp.mlpNorm, gate: trial(layer.gate, s, "gate"),
                                 up: trial(layer.up, s, "up"), down: fp.down)
            return blockError(kept.mlpInput, mlpReference, mlp(t))
        }
        try checkCancel()
        // down, from up.
        let hiddenHessian = observed[Point.mlpHidden.rawValue].hessian
        let sDown = AWQ.searchScales(xMean: observed[Point.mlpHidden.rawValue].meanMagnitude, wMean: wMean([layer.down]),
                                     loss: AWQ.linearLoss(targets([layer.down]), columns: layer.down.columns, hessian: hiddenHessian, grid: grid))
        try checkCancel()

        for c in 0..<sAttention.count { layer.attentionNorm[c] /= sAttention[c] }
        CalibratedQuantization.scaleColumns(&layer.q, sAttention)
        CalibratedQuantization.scaleColumns(&layer.k, sAttention)
        CalibratedQuantization.scaleColumns(&layer.v, sAttention)
        if let sOutput {
            CalibratedQuantization.divideRows(&layer.v, sOutput)
            CalibratedQuantization.scaleColumns(&layer.o, sOutput)
        }
        for c in 0..<sMLP.count { layer.mlpNorm[c] /= sMLP[c] }
        CalibratedQuantization.scaleColumns(&layer.gate, sMLP)
        CalibratedQuantization.scaleColumns(&layer.up, sMLP)
        CalibratedQuantization.divideRows(&layer.up, sDown)
        CalibratedQuantization.scaleColumns(&layer.down, sDown)

        if clip {
            let inputHessian = AWQ.dividing(observed[Point.attentionInput.rawValue].hessian, by: sAttention)
            AWQ.clip(&layer.v.weight, rows: layer.v.rows, columns: layer.v.columns, hessian: inputHessian, grid: grid)
            let oHessian = sOutput.map { AWQ.dividing(outputHessian, by: $0) } ?? outputHessian
            AWQ.clip(&layer.o.weight, rows: layer.o.rows, columns: layer.o.columns, hessian: oHessian, grid: grid)
            let mlpHessian = AWQ.dividing(observed[Point.mlpInput.rawValue].hessian, by: sMLP)
            AWQ.clip(&layer.gate.weight, rows: layer.gate.rows, columns: layer.gate.columns, hessian: mlpHessian, grid: grid)
            AWQ.clip(&layer.up.weight, rows: layer.up.rows, columns: layer.up.columns, hessian: mlpHessian, grid: grid)
            AWQ.clip(&layer.down.weight, rows: layer.down.rows, columns: layer.down.columns,
                     hessian: AWQ.dividing(hiddenHessian, by: sDown), grid: grid)
        }
        return layer.replacingWeights { m, _, _ in
            m.weight.withUnsafeBufferPointer {
                QuantizedMatrix.roundToNearest($0.baseAddress!, rows: m.rows, columns: m.columns, grid: grid).tensor(name: "")
            }
        }
    }
}
