/// Round-to-nearest quantization of a whole model into one of GGUF's block formats, in
/// memory, the way llama-quantize lays out a file of that type.
public enum ModelQuantization {
    /// The format a weight gets when the target's block does not divide its rows: llama.cpp's
    /// fallbacks (Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0), and Q4_0 for Q2_K/Q3_K (llama.cpp uses
    /// IQ4_NL there, which this engine does not have).
    public static func fallback(for type: GGMLType) -> GGMLType {
        switch type {
        case .q4_K: return .q5_0
        case .q5_K: return .q5_1
        case .q6_K, .q8_K: return .q8_0
        case .q2_K, .q3_K: return .q4_0
        default: return type
        }
    }

    /// The type a tensor of row length `rowLength` gets for target `type`.
    public static func type(for target: GGMLType, rowLength: Int) -> GGMLType {
        rowLength % target.blockSize == 0 ? target : fallback(for: target)
    }

    /// The type the token embedding (and a tied output head) gets: as llama.cpp keeps the
    /// output at higher precision, 8 bits for every quantized target.
    public static func embeddingType(for target: GGMLType) -> GGMLType {
        target.isQuantized ? .q8_0 : target
    }

    /// `tensor` converted to `type` (through f32), in memory the result owns.
    public static func convert(_ tensor: RawTensor, to type: GGMLType, pool: ThreadPool = .shared) -> RawTensor {
        if tensor.type == type { return tensor }
        let rowLength = tensor.rowLength, rows = tensor.rowCount
        let outRow = type.byteCount(elements: rowLength)!
        let buffer = OwnedBuffer(byteCount: rows * outRow)
        let inRow = tensor.bytesPerRow
        let src = tensor.bytes.baseAddress!
        pool.parallelRanges(rows, minimum: 16) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: rowLength) { tmp in
                for r in range {
                    dequantize(tensor.type, from: src + r * inRow, to: tmp.baseAddress!, count: rowLength)
                    quantize(type, from: tmp.baseAddress!, to: buffer.pointer + r * outRow, count: rowLength)
                }
            }
        }
        return RawTensor(name: tensor.name, type: type, shape: tensor.shape, bytes: buffer.bytes, owner: buffer)
    }
}

extension LlamaModel {
    /// Every weight under its HF name, as it is held (norm vectors and biases as f32).
    public var namedWeights: [RawTensor] {
        var out: [RawTensor] = [embedding.renamed("model.embed_tokens.weight")]
        for (i, l) in layers.enumerated() { out += LlamaModel.namedWeights(of: l, index: i) }
        out.append(.float32(name: "model.norm.weight", shape: [finalNorm.count], values: finalNorm))
        if !config.tieWordEmbeddings && output.weight.bytes.baseAddress != embedding.bytes.baseAddress {
            out.append(output.weight.renamed("lm_head.weight"))
        }
        return out
    }

    /// Decoder layer `i`'s tensors under their HF names, in HF's order.
    static func namedWeights(of l: DecoderLayer, index i: Int) -> [RawTensor] {
        var out: [RawTensor] = []
        func vector(_ name: String, _ v: [Float]?) { if let v { out.append(.float32(name: name, shape: [v.count], values: v)) } }
        func linear(_ name: String, _ l: Linear) {
            out.append(l.weight.renamed(name + ".weight"))
            vector(name + ".bias", l.bias)
        }
        let p = "model.layers.\(i)."
        vector(p + "input_layernorm.weight", l.attentionNorm)
        linear(p + "self_attn.q_proj", l.q)
        linear(p + "self_attn.k_proj", l.k)
        linear(p + "self_attn.v_proj", l.v)
        linear(p + "self_attn.o_proj", l.o)
        vector(p + "self_attn.q_norm.weight", l.qNorm)
        vector(p + "self_attn.k_norm.weight", l.kNorm)
        vector(p + "post_attention_layernorm.weight", l.mlpNorm)
        linear(p + "mlp.gate_proj", l.gate)
        linear(p + "mlp.up_proj", l.up)
        linear(p + "mlp.down_proj", l.down)
        return out
    }

    /// A copy of the model with every matrix quantized to `type` (round to nearest; rows the
    /// block does not divide take the fallback type). Norms and biases stay f32.
    public func quantized(to type: GGMLType) throws -> LlamaModel {
        var converted: [String: RawTensor] = [:]
        for t in namedWeights {
            if t.shape.count == 1 { converted[t.name] = t; continue }
            let isEmbedding = t.name == "model.embed_tokens.weight" || t.name == "lm_head.weight"
            let target = isEmbedding ? ModelQuantization.embeddingType(for: type) : ModelQuantization.type(for: type, rowLength: t.rowLength)
            converted[t.name] = ModelQuantization.convert(t, to: ModelQuantization.type(for: target, rowLength: t.rowLength))
        }
        return try LlamaModel(config: config, ropeStyle: rope.style) { converted[$0] }
    }
}

extension RawTensor {
    func renamed(_ name: String) -> RawTensor { RawTensor(name: name, type: type, shape: shape, bytes: bytes, owner: owner) }
}
