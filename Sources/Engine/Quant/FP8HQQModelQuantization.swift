/// Whole-model FP8 and HQQ quantization: the decoder layers' linear weights, as transformers'
/// quantizers replace `nn.Linear` modules; the token embedding (an `nn.Embedding`) and the
/// output head (`lm_head`, in both quantizers' skip lists) stay as they are held, as do norms.
public enum FP8HQQError: Error, CustomStringConvertible, Equatable {
    case shape(String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .shape(let s), .unsupported(let s): return s
        }
    }
}

extension LlamaModel {
    /// The decoder layers' linear weights under their HF names.
    var decoderLinearWeights: [RawTensor] {
        namedWeights.filter { $0.shape.count == 2 && $0.name.hasPrefix("model.layers.") }
    }

    /// The FP8 tile side this model's linear layers take (see `FP8Quantization.tile(for:)`).
    public var fp8Tile: Int? { FP8Quantization.tile(for: decoderLinearWeights.map(\.shape)) }

    /// A copy with every decoder linear weight in fp8_e4m3 with `tile`×`tile` scales (default:
    /// `fp8Tile`).
    public func quantizedFP8(tile: Int? = nil, pool: ThreadPool = .shared) throws -> LlamaModel {
        guard let t = tile ?? fp8Tile else {
            throw FP8HQQError.shape("fp8: the linear layers' sizes are not multiples of 32, which the FP8 blocks need")
        }
        return try replacingLinearWeights { w, values in
            guard w.shape[0] % t == 0, w.shape[1] % t == 0 else {
                throw FP8HQQError.shape("fp8: \(w.name) \(w.shape) is not a whole number of \(t)×\(t) tiles")
            }
            return FP8Quantization.quantize(values, rows: w.shape[0], columns: w.shape[1], tile: t, name: w.name, pool: pool)
        }
    }

    /// A copy with every decoder linear weight HQQ-quantized at `bits` (4 or 8), axis 1, group 64.
    public func quantizedHQQ(bits: Int, pool: ThreadPool = .shared) throws -> LlamaModel {
        guard bits == 4 || bits == 8 else {
            throw FP8HQQError.unsupported("hqq quant_bits \(bits): tune stores HQQ weights at 4 or 8 bits; use quant_bits 4 or 8")
        }
        return try replacingLinearWeights { w, values in
            guard w.shape[1] % HQQ.groupSize == 0 else {
                throw FP8HQQError.shape("hqq: \(w.name) rows of \(w.shape[1]) are not whole groups of \(HQQ.groupSize)")
            }
            let q = HQQ.quantize(values, count: w.elementCount, bits: bits, pool: pool)
            return q.tensor(name: w.name, rows: w.shape[0], columns: w.shape[1])
        }
    }

    private func replacingLinearWeights(_ body: (RawTensor, UnsafePointer<Float>) throws -> RawTensor) throws -> LlamaModel {
        var converted: [String: RawTensor] = [:]
        for t in namedWeights { converted[t.name] = t }
        for w in decoderLinearWeights {
            let values = w.toFloat32()
            converted[w.name] = try values.withUnsafeBufferPointer { try body(w, $0.baseAddress!) }
        }
        return try LlamaModel(config: config, ropeStyle: rope.style) { converted[$0] }
    }
}
