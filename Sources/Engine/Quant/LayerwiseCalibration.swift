/// Runs calibration sequences through a model one decoder layer at a time, as GPTQ does: the
/// inputs of layer i's linear layers are observed with layer i's original weights, the caller
/// quantizes the layer from what was observed, and the sequences then go through the
/// quantized layer to become layer i+1's inputs, so each layer is fitted to the errors of the
/// layers before it. Only the hidden states of the sequences are kept between layers.
enum LayerwiseCalibration {
    /// The four places a decoder layer's linear layers read from.
    enum Point: Int, CaseIterable {
        /// The attention norm's output: q, k, v.
        case attentionInput
        /// The attention's output: o.
        case attentionOutput
        /// The MLP norm's output: gate, up.
        case mlpInput
        /// silu(gate)·up: down.
        case mlpHidden
    }

    /// Statistics per point, indexed by `Point.rawValue`.
    typealias Observations = [InputStatistics]

    /// The inputs of the attention and the MLP (the norms' outputs) of some calibration
    /// sequences, kept whole for methods that score a block's output (AWQ's scale search).
    struct KeptInputs {
        /// Tokens of each kept sequence, in order.
        var lengths: [Int] = []
        /// The attention norm's outputs, Σ lengths × hidden, sequence after sequence.
        var attentionInput: [Float] = []
        /// The MLP norm's outputs, likewise.
        var mlpInput: [Float] = []

        var tokens: Int { lengths.reduce(0, +) }
    }

    /// `keepTokens`: about this many tokens of whole sequences, spread evenly over the
    /// calibration set, have their block inputs kept for `quantizeLayer` (0: none).
    /// What layer i+1 reads: layer i's outputs with its quantized weights (GPTQ's way, the
    /// default), or with its original weights (AutoAWQ's way: every layer sees the
    /// full-precision activations).
    enum Propagation { case quantized, original }

    static func run(model: LlamaModel, calibration: [[Int]], batchSize: Int, keepTokens: Int = 0,
                    propagation: Propagation = .quantized,
                    progress: (CalibratedQuantization.Progress) -> Void, cancel: CancellationToken?,
                    quantizeLayer: (Int, inout FloatLayer, Observations, KeptInputs) throws -> DecoderLayer) throws -> [DecoderLayer] {
        let config = model.config, d = config.hiddenSize
        let sequences = calibration.filter { !$0.isEmpty }
        guard !sequences.isEmpty else {
            throw CalibrationError("calibration needs data: give at least one non-empty token sequence (a dataset to draw quant_n_samples rows from)")
        }
        for s in sequences {
            for t in s where t < 0 || t >= config.vocabSize {
                throw CalibrationError("calibration token id \(t) is outside the vocabulary (0..<\(config.vocabSize))")
            }
        }
        let embedding = model.embedding
        var hidden: [[Float]] = sequences.map { s in
            var x = [Float](repeating: 0, count: s.count * d)
            x.withUnsafeMutableBufferPointer { xp in
                for (i, token) in s.enumerated() {
                    dequantize(embedding.type, from: embedding.bytes.baseAddress! + token * embedding.bytesPerRow,
                               to: xp.baseAddress! + i * d, count: d)
                }
            }
            return x
        }
        let kept = keptSequences(sequences.map(\.count), tokens: keepTokens)
        let ws = Workspace()
        let widths = [d, config.headCount * config.headDim, d, config.intermediateSize]
        let batch = max(1, batchSize)
        var result: [DecoderLayer] = []
        for (li, original) in model.layers.enumerated() {
            if cancel?.isCancelled == true { throw CalibrationError("quantization cancelled at layer \(li) of \(model.layers.count)") }
            progress(.init(layer: li, layerCount: model.layers.count))
            var layer = FloatLayer(original)
            let fp = layer.decoderLayer()
            let observed = widths.map { InputStatistics(width: $0) }
            var keptInputs = KeptInputs()
            for start in stride(from: 0, to: hidden.count, by: batch) {
                if cancel?.isCancelled == true { throw CalibrationError("quantization cancelled at layer \(li) of \(model.layers.count)") }
                let end = min(start + batch, hidden.count)
                var staged = widths.map { _ in [Float]() }
                for s in start..<end {
                    let n = sequences[s].count
                    var x = hidden[s]
                    let keep = kept.contains(s)
                    if keep { keptInputs.lengths.append(n) }
                    x.withUnsafeMutableBufferPointer { xp in
                        forward(fp, model: model, x: xp.baseAddress!, tokens: n, workspace: ws) { point, values in
                            let v = UnsafeBufferPointer(start: values, count: n * widths[point.rawValue])
                            staged[point.rawValue].append(contentsOf: v)
                            if keep && point == .attentionInput { keptInputs.attentionInput.append(contentsOf: v) }
                            if keep && point == .mlpInput { keptInputs.mlpInput.append(contentsOf: v) }
                        }
                    }
                    if propagation == .original { hidden[s] = x }
                }
                for p in Point.allCases {
                    staged[p.rawValue].withUnsafeBufferPointer { v in
                        observed[p.rawValue].add(v.baseAddress!, count: v.count / widths[p.rawValue], sequences: end - start)
                    }
                }
            }
            let quantized = try quantizeLayer(li, &layer, observed, keptInputs)
            for s in 0..<hidden.count where propagation == .quantized {
                let n = sequences[s].count
                hidden[s].withUnsafeMutableBufferPointer { xp in
                    forward(quantized, model: model, x: xp.baseAddress!, tokens: n, workspace: ws, observe: nil)
                }
            }
            result.append(quantized)
        }
        progress(.init(layer: model.layers.count, layerCount: model.layers.count))
        return result
    }

    /// Indices of whole sequences, evenly spread, whose lengths add up to about `tokens`
    /// (at least one sequence when `tokens` > 0).
    static func keptSequences(_ lengths: [Int], tokens: Int) -> Set<Int> {
        guard tokens > 0, !lengths.isEmpty else { return [] }
        let total = lengths.reduce(0, +)
        if total <= tokens { return Set(lengths.indices) }
        let count = max(1, min(lengths.count, lengths.count * tokens / max(1, total)))
        return Set((0..<count).map { $0 * lengths.count / count })
    }

    /// One decoder layer over `n` tokens at positions 0..<n, in place on x (n × hidden), with
    /// the arithmetic of `LlamaModel.forward`; `observe` sees each linear layer's input.
    static func forward(_ layer: DecoderLayer, model: LlamaModel, x: UnsafeMutablePointer<Float>, tokens n: Int,
                        workspace ws: Workspace, observe: ((Point, UnsafePointer<Float>) -> Void)?) {
        let d = model.config.hiddenSize
        let eps = Float(model.config.rmsNormEps)
        let h = ws.buffer("calib.h", capacity: n * d)
        layer.attentionNorm.withUnsafeBufferPointer { w in
            for i in 0..<n { rmsNorm(x + i * d, weight: w.baseAddress!, eps: eps, out: h + i * d, d) }
        }
        observe?(.attentionInput, h)
        attention(layer, model: model, input: h, tokens: n, into: x, accumulate: true, workspace: ws, observe: observe)
        layer.mlpNorm.withUnsafeBufferPointer { w in
            for i in 0..<n { rmsNorm(x + i * d, weight: w.baseAddress!, eps: eps, out: h + i * d, d) }
        }
        observe?(.mlpInput, h)
        mlp(layer, model: model, input: h, tokens: n, into: x, accumulate: true, workspace: ws, observe: observe)
    }

    /// The attention block after its norm: y (= or +=) o(attention(q h, k h, v h)) for one
    /// sequence of `n` tokens (n × hidden in, n × hidden out).
    static func attention(_ layer: DecoderLayer, model: LlamaModel, input h: UnsafePointer<Float>, tokens n: Int,
                          into y: UnsafeMutablePointer<Float>, accumulate: Bool, workspace ws: Workspace,
                          observe: ((Point, UnsafePointer<Float>) -> Void)? = nil) {
        let config = model.config
        let hd = config.headDim
        let heads = config.headCount, kvHeads = config.kvHeadCount
        let qDim = heads * hd, kvDim = kvHeads * hd
        let eps = Float(config.rmsNormEps)
        let q = ws.buffer("calib.q", capacity: n * qDim)
        let k = ws.buffer("calib.k", capacity: n * kvDim)
        let v = ws.buffer("calib.v", capacity: n * kvDim)
        let attn = ws.buffer("calib.attn", capacity: n * qDim)
        Linear.applyAll([(layer.q, q), (layer.k, k), (layer.v, v)], to: h, tokens: n, workspace: ws)
        if let qn = layer.qNorm, let kn = layer.kNorm {
            qn.withUnsafeBufferPointer { w in
                for r in 0..<(n * heads) { rmsNorm(q + r * hd, weight: w.baseAddress!, eps: eps, out: q + r * hd, hd) }
            }
            kn.withUnsafeBufferPointer { w in
                for r in 0..<(n * kvHeads) { rmsNorm(k + r * hd, weight: w.baseAddress!, eps: eps, out: k + r * hd, hd) }
            }
        }
        let (cosTable, sinTable) = model.rope.tables(start: 0, count: n, totalLength: n)
        cosTable.withUnsafeBufferPointer { c in
            sinTable.withUnsafeBufferPointer { s in
                let half = hd / 2
                for i in 0..<n {
                    model.rope.rotate(q + i * qDim, heads: heads, cos: c.baseAddress! + i * half, sin: s.baseAddress! + i * half)
                    model.rope.rotate(k + i * kvDim, heads: kvHeads, cos: c.baseAddress! + i * half, sin: s.baseAddress! + i * half)
                }
            }
        }
        causalAttention(q: q, n: n, start: 0, keys: k, values: v, heads: heads, kvHeads: kvHeads, headDim: hd,
                        out: attn, workspace: ws)
        observe?(.attentionOutput, attn)
        layer.o.apply(attn, tokens: n, into: y, accumulate: accumulate, workspace: ws)
    }

    /// The MLP block after its norm: y (= or +=) down(silu(gate h) · up h) over `n` tokens.
    static func mlp(_ layer: DecoderLayer, model: LlamaModel, input h: UnsafePointer<Float>, tokens n: Int,
                    into y: UnsafeMutablePointer<Float>, accumulate: Bool, workspace ws: Workspace,
                    observe: ((Point, UnsafePointer<Float>) -> Void)? = nil) {
        let f = model.config.intermediateSize
        let gate = ws.buffer("calib.gate", capacity: n * f)
        let up = ws.buffer("calib.up", capacity: n * f)
        Linear.applyAll([(layer.gate, gate), (layer.up, up)], to: h, tokens: n, workspace: ws)
        ThreadPool.shared.parallelRanges(n * f, minimum: 4096) { r in
            swiglu(gate + r.lowerBound, up + r.lowerBound, r.count)
        }
        observe?(.mlpHidden, gate)
        layer.down.apply(gate, tokens: n, into: y, accumulate: accumulate, workspace: ws)
    }
}

/// A decoder layer's weights as f32 arrays that calibration methods can change (AWQ folds
/// scales into norms and the linear layers before them).
struct FloatLayer {
    struct Matrix {
        var weight: [Float]
        var rows: Int
        var columns: Int
        var bias: [Float]?

        init(_ l: Linear) {
            rows = l.outFeatures
            columns = l.inFeatures
            weight = [Float](repeating: 0, count: rows * columns)
            weight.withUnsafeMutableBufferPointer { w in
                ThreadPool.shared.parallelRanges(rows, minimum: 64) { r in dequantizeRows(l.weight, rows: r, into: w.baseAddress!) }
            }
            bias = l.bias
        }

        func linear(_ name: String) -> Linear {
            Linear(weight: .float32(name: name, shape: [rows, columns], values: weight), bias: bias)
        }
    }

    var attentionNorm: [Float]
    var q, k, v, o: Matrix
    var qNorm, kNorm: [Float]?
    var mlpNorm: [Float]
    var gate, up, down: Matrix

    init(_ l: DecoderLayer) {
        attentionNorm = l.attentionNorm
        q = Matrix(l.q); k = Matrix(l.k); v = Matrix(l.v); o = Matrix(l.o)
        qNorm = l.qNorm; kNorm = l.kNorm
        mlpNorm = l.mlpNorm
        gate = Matrix(l.gate); up = Matrix(l.up); down = Matrix(l.down)
    }

    func decoderLayer() -> DecoderLayer {
        DecoderLayer(attentionNorm: attentionNorm, q: q.linear("q"), k: k.linear("k"), v: v.linear("v"), o: o.linear("o"),
                     qNorm: qNorm, kNorm: kNorm, mlpNorm: mlpNorm,
                     gate: gate.linear("gate"), up: up.linear("up"), down: down.linear("down"))
    }

    /// The same layer with each linear's weight replaced by `make(matrix, point it reads,
    /// HF name within the layer)`.
    func replacingWeights(_ make: (Matrix, LayerwiseCalibration.Point, String) throws -> RawTensor) rethrows -> DecoderLayer {
        func lin(_ m: Matrix, _ p: LayerwiseCalibration.Point, _ name: String) throws -> Linear { Linear(weight: try make(m, p, name), bias: m.bias) }
        return DecoderLayer(attentionNorm: attentionNorm, q: try lin(q, .attentionInput, "self_attn.q_proj"),
                            k: try lin(k, .attentionInput, "self_attn.k_proj"), v: try lin(v, .attentionInput, "self_attn.v_proj"),
                            o: try lin(o, .attentionOutput, "self_attn.o_proj"), qNorm: qNorm, kNorm: kNorm, mlpNorm: mlpNorm,
                            gate: try lin(gate, .mlpInput, "mlp.gate_proj"), up: try lin(up, .mlpInput, "mlp.up_proj"),
                            down: try lin(down, .mlpHidden, "mlp.down_proj"))
    }
}
