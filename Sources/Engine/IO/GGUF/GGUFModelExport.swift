/// Writes a live model as a GGUF file that llama.cpp loads: llama.cpp's tensor names and
/// metadata keys, q/k rows in its layout, and the tokenizer and chat template of the source.
extension LoadedModel {
    /// `general.file_type` (llama.cpp's `llama_ftype`) of a model whose matrices are `type`.
    static func ggufFileType(_ type: GGMLType) -> UInt32 {
        switch type {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 7
        case .q5_0: return 8
        case .q5_1: return 9
        case .q2_K: return 10
        case .q3_K: return 11   // Q3_K_S: every matrix Q3_K
        case .q4_K: return 14   // Q4_K_S
        case .q5_K: return 16   // Q5_K_S
        case .q6_K: return 18
        case .bf16: return 32
        case .q8_1, .q8_K: return 7
        default: return 0   // engine-only types (bnb, fp8, hqq): the GGUF writer refuses their tensors
        }
    }

    /// Writes `model` (default: this one) to `path` (atomically). `fileType` names the target
    /// type in the metadata.
    public func writeGGUF(_ model: LlamaModel? = nil, to path: String, fileType: GGMLType, name: String? = nil) throws {
        let m = model ?? self.model
        let c = m.config
        guard !sourceGGUFMetadata.isEmpty else {
            throw ModelError("writing GGUF needs the tokenizer in GGUF form; this model was loaded from an HF directory, which GGUF export does not convert yet")
        }
        let arch = c.architecture == .mistral ? "llama" : c.architecture.rawValue
        var w = GGUFWriter()
        w.set("general.architecture", .string(arch))
        w.set("general.type", .string("model"))
        let sourceName = sourceGGUFMetadata.first { $0.key == "general.name" }?.value.string
        w.set("general.name", .string(name ?? sourceName ?? "model"))
        func u32(_ k: String, _ v: Int) { w.set("\(arch).\(k)", .uint32(UInt32(v))) }
        u32("block_count", c.layerCount)
        u32("context_length", c.ropeScaling?.originalMaxPositions ?? c.maxPositions)
        u32("embedding_length", c.hiddenSize)
        u32("feed_forward_length", c.intermediateSize)
        u32("attention.head_count", c.headCount)
        u32("attention.head_count_kv", c.kvHeadCount)
        u32("attention.key_length", c.headDim)
        u32("attention.value_length", c.headDim)
        w.set("\(arch).rope.freq_base", .float32(Float(c.ropeTheta)))
        w.set("\(arch).attention.layer_norm_rms_epsilon", .float32(Float(c.rmsNormEps)))
        u32("vocab_size", c.vocabSize)
        u32("rope.dimension_count", c.headDim)
        if let s = c.ropeScaling, s.kind == .linear || s.kind == .yarn {
            w.set("\(arch).rope.scaling.type", .string(s.kind.rawValue))
            w.set("\(arch).rope.scaling.factor", .float32(Float(s.factor)))
            if let o = s.originalMaxPositions { u32("rope.scaling.original_context_length", o) }
        }
        w.set("general.file_type", .uint32(LoadedModel.ggufFileType(fileType)))
        w.set("general.quantization_version", .uint32(2))
        for (k, v) in sourceGGUFMetadata where k.hasPrefix("tokenizer.") { w.set(k, v) }

        // llama-architecture files keep q/k rows permuted for interleaved RoPE.
        let permute = arch == "llama" && m.rope.style == .halves
        for t in m.namedWeights {
            guard let ggufName = GGUFTensorNames.ggufName(t.name) else { throw ModelError("no GGUF name for tensor \(t.name)") }
            if permute && (t.name.hasSuffix("q_proj.weight") || t.name.hasSuffix("k_proj.weight")) {
                let heads = t.name.hasSuffix("q_proj.weight") ? c.headCount : c.kvHeadCount
                let order = GGUFFile.llamaPermutedRowsForHF(rows: t.shape[0], headCount: heads)
                let rowBytes = t.bytesPerRow
                var bytes = [UInt8](repeating: 0, count: t.bytes.count)
                for (hfRow, fileRow) in order.enumerated() {
                    for b in 0..<rowBytes { bytes[fileRow * rowBytes + b] = t.bytes[hfRow * rowBytes + b] }
                }
                try w.addTensor(name: ggufName, type: t.type, shape: t.shape, bytes: bytes)
            } else {
                try w.addTensor(t, name: ggufName)
            }
        }
        try w.write(to: path)
    }
}
