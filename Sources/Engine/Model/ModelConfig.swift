/// The transformer families this engine runs. All are decoder-only Llama-style models.
public enum Architecture: String, Sendable, CaseIterable {
    case llama, qwen2, qwen3, mistral
}

/// How RoPE frequencies are stretched for contexts longer than training (HF `rope_scaling`).
public struct RopeScaling: Sendable, Equatable {
    public enum Kind: String, Sendable { case linear, dynamic, yarn, llama3 }
    public var kind: Kind
    public var factor: Double
    /// Context length the model was trained on (`original_max_position_embeddings`).
    public var originalMaxPositions: Int?
    public var lowFrequencyFactor: Double = 1      // llama3
    public var highFrequencyFactor: Double = 4     // llama3
    public var betaFast: Double = 32               // yarn
    public var betaSlow: Double = 1                // yarn
    public var attentionFactor: Double? = nil      // yarn; nil = 0.1 ln(factor) + 1

    public init(kind: Kind, factor: Double, originalMaxPositions: Int? = nil) {
        self.kind = kind
        self.factor = factor
        self.originalMaxPositions = originalMaxPositions
    }
}

/// Hyper-parameters of a model, from GGUF metadata or an HF `config.json`.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: Architecture
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling?
    public var maxPositions: Int
    public var tieWordEmbeddings: Bool
    /// Qwen2 puts biases on q, k and v.
    public var attentionBias: Bool
    /// Qwen3 RMS-normalizes q and k per head before RoPE.
    public var qkNorm: Bool
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?

    public init(architecture: Architecture, vocabSize: Int, hiddenSize: Int, intermediateSize: Int,
                layerCount: Int, headCount: Int, kvHeadCount: Int, headDim: Int? = nil,
                rmsNormEps: Double = 1e-5, ropeTheta: Double = 10000, ropeScaling: RopeScaling? = nil,
                maxPositions: Int = 2048, tieWordEmbeddings: Bool = false,
                attentionBias: Bool? = nil, qkNorm: Bool? = nil,
                bosTokenId: Int? = nil, eosTokenIds: [Int] = [], padTokenId: Int? = nil) {
        self.architecture = architecture
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim ?? hiddenSize / headCount
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.maxPositions = maxPositions
        self.tieWordEmbeddings = tieWordEmbeddings
        self.attentionBias = attentionBias ?? (architecture == .qwen2)
        self.qkNorm = qkNorm ?? (architecture == .qwen3)
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
    }
}
