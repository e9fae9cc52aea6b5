extension ModelConfig {
    /// Hyper-parameters from a GGUF file's `<arch>.*` and `tokenizer.ggml.*` metadata.
    /// Mistral models are stored as architecture `llama` and load as `.llama`.
    public init(gguf file: GGUFFile) throws {
        guard let archName = try file.metadataString("general.architecture") else {
            throw file.metadataError("missing metadata 'general.architecture'")
        }
        guard let arch = Architecture(rawValue: archName) else {
            throw file.metadataError(.unknownArchitecture,
                "architecture '\(archName)' is not supported (supported: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let a = archName
        let hidden = try file.requiredPositiveInt("\(a).embedding_length")
        let layers = try file.requiredPositiveInt("\(a).block_count")
        let ffn = try file.requiredPositiveInt("\(a).feed_forward_length")
        let heads = try file.requiredPositiveInt("\(a).attention.head_count")
        let kvHeads = try file.metadataPositiveInt("\(a).attention.head_count_kv") ?? heads
        guard heads % kvHeads == 0 else {
            throw file.metadataError("head count \(heads) is not a multiple of the key/value head count \(kvHeads)")
        }
        let headDim: Int
        if let k = try file.metadataPositiveInt("\(a).attention.key_length") {
            headDim = k
        } else {
            guard hidden % heads == 0 else {
                throw file.metadataError("embedding length \(hidden) is not a multiple of the head count \(heads)")
            }
            headDim = hidden / heads
        }
        guard headDim % 2 == 0 else { throw file.metadataError("head dimension \(headDim) must be even for RoPE") }

        let tokens = try file.metadataStringArray("tokenizer.ggml.tokens")
        let vocab = try file.metadataPositiveInt("\(a).vocab_size") ?? tokens?.count
            ?? file.tensorInfo("token_embd.weight")?.shape.first
        guard let vocab else { throw file.metadataError("cannot tell the vocabulary size (no '\(a).vocab_size', tokens or token_embd.weight)") }

        let eps = try file.metadataDouble("\(a).attention.layer_norm_rms_epsilon") ?? 1e-5
        let theta = try file.metadataDouble("\(a).rope.freq_base") ?? 10000
        let maxPositions = try file.metadataPositiveInt("\(a).context_length") ?? 2048

        var scaling: RopeScaling?
        let scalingType = try file.metadataString("\(a).rope.scaling.type")
        let factor = try file.metadataDouble("\(a).rope.scaling.factor") ?? file.metadataDouble("\(a).rope.scale_linear")
        let original = try file.metadataPositiveInt("\(a).rope.scaling.original_context_length")
        switch scalingType {
        case nil:
            if let factor, factor != 1 { scaling = RopeScaling(kind: .linear, factor: factor, originalMaxPositions: original) }
        case "none"?:
            scaling = nil
        case "linear"?, "yarn"?:
            guard let factor, factor > 0 else { throw file.metadataError("rope scaling '\(scalingType!)' needs a positive '\(a).rope.scaling.factor'") }
            scaling = RopeScaling(kind: scalingType == "linear" ? .linear : .yarn, factor: factor, originalMaxPositions: original)
        case let other?:
            throw file.metadataError("rope scaling type '\(other)' is not supported (supported: none, linear, yarn)")
        }

        let tokenCount = tokens?.count ?? vocab
        func tokenId(_ key: String) throws -> Int? {
            guard let id = try file.metadataInt(key) else { return nil }
            guard id >= 0, id < tokenCount else { throw file.metadataError("'\(key)' = \(id) is outside the vocabulary (0..<\(tokenCount))") }
            return id
        }
        let eos = try tokenId("tokenizer.ggml.eos_token_id")
        let eot = try tokenId("tokenizer.ggml.eot_token_id")
        var eosIds: [Int] = []
        for id in [eos, eot].compactMap({ $0 }) where !eosIds.contains(id) { eosIds.append(id) }

        self.init(architecture: arch, vocabSize: vocab, hiddenSize: hidden, intermediateSize: ffn,
                  layerCount: layers, headCount: heads, kvHeadCount: kvHeads, headDim: headDim,
                  rmsNormEps: eps, ropeTheta: theta, ropeScaling: scaling, maxPositions: maxPositions,
                  tieWordEmbeddings: file.tensorInfo("output.weight") == nil,
                  attentionBias: file.tensorInfo("blk.0.attn_q.bias") != nil,
                  qkNorm: file.tensorInfo("blk.0.attn_q_norm.weight") != nil,
                  bosTokenId: try tokenId("tokenizer.ggml.bos_token_id"), eosTokenIds: eosIds,
                  padTokenId: try tokenId("tokenizer.ggml.padding_token_id"))
    }
}
