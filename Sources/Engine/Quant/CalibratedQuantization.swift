/// Quantization fitted to calibration data — GPTQ and AWQ — onto a `GroupGrid`, so the
/// result is an ordinary in-memory model of Q4_0, Q4_1 or Q8_0 blocks that every kernel of
/// the engine runs. The seven linear layers of every decoder layer are quantized; the token
/// embedding (and a separate output head) get Q8_0 by round to nearest, as
/// `LlamaModel.quantized(to:)` gives them; norms and biases stay f32.
///
/// Defaults follow the tools ms-swift drives: optimum's GPTQ (4 bits, group 128, symmetric,
/// damp_percent 0.1, no act-order) and AutoAWQ (4 bits, group 128, zero point, duo scaling,
/// 20 grid points, clipping search). Not done here: GPTQ's `true_sequential` (a layer's
/// linears are all fitted to inputs seen with the layer's original weights).
public enum CalibratedQuantization {
    /// Reported before each decoder layer (`layer` of `layerCount`) and once at the end.
    public struct Progress: Sendable, Equatable {
        public var layer: Int
        public var layerCount: Int
    }

    /// GPTQ on every linear layer, layer by layer over `calibration` (token id sequences).
    public static func gptq(model: LlamaModel, calibration: [[Int]], bits: Int = 4, groupSize: Int = 128,
                            symmetric: Bool = true, dampPercent: Double = 0.1, actOrder: Bool = false, batchSize: Int = 1,
                            progress: (Progress) -> Void = { _ in }, cancel: CancellationToken? = nil) throws -> LlamaModel {
        let grid = try GroupGrid(bits: bits, groupSize: groupSize, symmetric: symmetric, style: .gptq)
        guard dampPercent >= 0, dampPercent.isFinite else { throw CalibrationError("damp_percent must be a non-negative number, not \(dampPercent)") }
        let layers = try LayerwiseCalibration.run(model: model, calibration: calibration, batchSize: batchSize,
                                                  progress: progress, cancel: cancel) { li, layer, observed, _ in
            let hessians = observed.map(\.hessian)
            return try layer.replacingWeights { m, point, linear in
                let name = "model.layers.\(li).\(linear).weight"
                return try GPTQ.quantize(weight: m.weight, rows: m.rows, columns: m.columns, hessian: hessians[point.rawValue],
                                         grid: grid, dampPercent: dampPercent, actOrder: actOrder, name: name).tensor(name: name)
            }
        }
        return try assemble(model, layers: layers, grid: grid)
    }

    /// AWQ as AutoAWQ runs it, layer by layer: per-input-channel scales searched for q/k/v
    /// (scored on the attention block's output), o (on its own output, when v's rows match o's
    /// inputs), gate/up (on the MLP block's output) and down (on its own output); folded into
    /// the op before (the attention norm, v_proj, the MLP norm, up_proj); then AutoAWQ's
    /// clipping search on every linear but q and k; then round to nearest on the grid. The
    /// block-output scores run on about `searchTokens` tokens of whole calibration sequences
    /// (spread evenly over them; AutoAWQ scores on all of them); every other statistic uses
    /// all of them. As in AutoAWQ, each layer reads the previous layers' full-precision
    /// outputs (fitting each layer to the quantized outputs before it, GPTQ's way, measured
    /// worse: 25.12 against 24.90 below, both on 2048 search tokens).
    ///
    /// On SmolLM2 at 4 bits / group 128 (16×256 calibration tokens, every 256-token chunk of
    /// the held-out GPL-3, 3683 scored tokens) round to nearest on the same zero-point grid
    /// scores 27.36 and this 24.49 (f32 20.82); at group 64, 28.69 against 23.85 (2048 search
    /// tokens). Scripts/awq_check.py, an independent torch version of AutoAWQ's algorithm,
    /// gives 27.18 against 25.08 at group 128.
    public static func awq(model: LlamaModel, calibration: [[Int]], bits: Int = 4, groupSize: Int = 128,
                           symmetric: Bool = false, duoScaling: Bool = true, clip: Bool = true, searchTokens: Int = 4096,
                           batchSize: Int = 1,
                           progress: (Progress) -> Void = { _ in }, cancel: CancellationToken? = nil) throws -> LlamaModel {
        let grid = try GroupGrid(bits: bits, groupSize: groupSize, symmetric: symmetric, style: .awq)
        let layers = try LayerwiseCalibration.run(model: model, calibration: calibration, batchSize: batchSize,
                                                  keepTokens: searchTokens, propagation: .original,
                                                  progress: progress, cancel: cancel) { _, layer, observed, kept in
            try AWQLayer.quantize(&layer, model: model, observed: observed, kept: kept, grid: grid,
                                  duoScaling: duoScaling, clip: clip, cancel: cancel)
        }
        return try assemble(model, layers: layers, grid: grid)
    }

    /// The same grid with no calibration: each group's scale (and zero point) from its own
    /// weights and each weight rounded to nearest — the baseline GPTQ and AWQ improve on.
    public static func roundToNearest(model: LlamaModel, bits: Int = 4, groupSize: Int = 128, symmetric: Bool = true,
                                      awqStyle: Bool = false) throws -> LlamaModel {
        let grid = try GroupGrid(bits: bits, groupSize: groupSize, symmetric: symmetric, style: awqStyle ? .awq : .gptq)
        let layers = model.layers.map { l in
            FloatLayer(l).replacingWeights { m, _, _ in
                m.weight.withUnsafeBufferPointer {
                    QuantizedMatrix.roundToNearest($0.baseAddress!, rows: m.rows, columns: m.columns, grid: grid).tensor(name: "")
                }
            }
        }
        return try assemble(model, layers: layers, grid: grid)
    }

    static func scaleColumns(_ m: inout FloatLayer.Matrix, _ s: [Float]) {
        let n = m.columns
        m.weight.withUnsafeMutableBufferPointer { w in
            for r in 0..<m.rows { for c in 0..<n { w[r &* n &+ c] *= s[c] } }
        }
    }

    static func divideRows(_ m: inout FloatLayer.Matrix, _ s: [Float]) {
        let n = m.columns
        m.weight.withUnsafeMutableBufferPointer { w in
            for r in 0..<m.rows { for c in 0..<n { w[r &* n &+ c] /= s[r] } }
        }
        if var b = m.bias {
            for r in 0..<m.rows { b[r] /= s[r] }
            m.bias = b
        }
    }

    /// The model with `layers` in place of its decoder layers; the embedding and a separate
    /// head as `quantized(to:)` makes them for the grid's type.
    static func assemble(_ model: LlamaModel, layers: [DecoderLayer], grid: GroupGrid) throws -> LlamaModel {
        var tensors: [String: RawTensor] = [:]
        let embeddingType = ModelQuantization.embeddingType(for: grid.type)
        for t in model.namedWeights where !t.name.hasPrefix("model.layers.") {
            if t.shape.count == 1 { tensors[t.name] = t; continue }
            tensors[t.name] = ModelQuantization.convert(t, to: ModelQuantization.type(for: embeddingType, rowLength: t.rowLength))
        }
        for (i, l) in layers.enumerated() {
            for t in LlamaModel.namedWeights(of: l, index: i) { tensors[t.name] = t }
        }
        return try LlamaModel(config: model.config, ropeStyle: model.rope.style) { tensors[$0] }
    }
}
