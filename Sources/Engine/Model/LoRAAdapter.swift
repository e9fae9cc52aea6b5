/// How a LoRA adapter was made: the PEFT `LoraConfig` fields this engine uses.
public struct LoRAConfig: Sendable, Equatable {
    public var rank: Int
    public var alpha: Double
    public var dropout: Double
    /// Short module names the adapter covers (`q_proj`, ..., `down_proj`); `all-linear`
    /// resolved to the names it stands for.
    public var targetModules: [String]
    /// When set, the modules whose full HF name matches it (PEFT's `target_modules` as a string).
    public var targetRegex: String?
    public var useRSLoRA: Bool
    public var useDoRA: Bool
    /// PEFT's `bias`: "none" or "all" (train the biases of the base's linear layers too).
    public var bias: String
    /// PEFT's `init_lora_weights` as given: "true", "false", "gaussian", "pissa", "pissa_niter_N".
    public var initWeights: String
    /// Modules trained in full and saved whole (e.g. `lm_head`, `embed_tokens`).
    public var modulesToSave: [String]
    /// The base model the adapter was trained on (PEFT's `base_model_name_or_path`).
    public var baseModel: String?

    public init(rank: Int = 8, alpha: Double = 32, dropout: Double = 0.05,
                targetModules: [String] = LoRAConfig.allLinear, targetRegex: String? = nil,
                useRSLoRA: Bool = false, useDoRA: Bool = false, bias: String = "none",
                initWeights: String = "true", modulesToSave: [String] = [], baseModel: String? = nil) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targetModules = targetModules
        self.targetRegex = targetRegex
        self.useRSLoRA = useRSLoRA
        self.useDoRA = useDoRA
        self.bias = bias
        self.initWeights = initWeights
        self.modulesToSave = modulesToSave
        self.baseModel = baseModel
    }

    /// Every linear layer of a decoder block: what `all-linear` means (the output head is never a target).
    public static let allLinear = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

    /// The factor on B·A: alpha/r, or alpha/√r with rsLoRA.
    public var scale: Float {
        Float(useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank))
    }
}

/// The trained matrices of one adapted linear layer `W [out, in]`:
/// y = W·x + scale · B·(A·x), with DoRA's y = m ⊙ (W + scale·B·A)·x / ‖W + scale·B·A‖_row.
public struct LoRAModuleWeights: Sendable {
    public var inFeatures: Int
    public var outFeatures: Int
    /// A, `[rank, in]` row-major.
    public var a: [Float]
    /// B, `[out, rank]` row-major.
    public var b: [Float]
    /// DoRA's magnitude vector, `[out]`.
    public var magnitude: [Float]?
    /// The layer's trained bias (`bias` "all"), `[out]`.
    public var bias: [Float]?

    public init(inFeatures: Int, outFeatures: Int, a: [Float], b: [Float], magnitude: [Float]? = nil, bias: [Float]? = nil) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.a = a
        self.b = b
        self.magnitude = magnitude
        self.bias = bias
    }

    public var rank: Int { inFeatures == 0 ? 0 : a.count / inFeatures }
}

/// A LoRA adapter for one `LlamaModel`, as the session keeps it live.
///
/// Rows are in the live model's layout: for a `llama` GGUF base, q_proj/k_proj output rows
/// are in the file's interleaved-RoPE order (`RotaryEmbedding.style == .interleaved`), while
/// PEFT files hold HF's rotate-half order. Adapter file IO converts; nothing else needs to.
public final class LoRAAdapter: @unchecked Sendable {
    public var config: LoRAConfig
    /// By the module's HF name without `.weight`, e.g. `model.layers.0.self_attn.q_proj`.
    public var modules: [String: LoRAModuleWeights]
    /// Whole trained copies of `modules_to_save`, by HF tensor name (e.g. `lm_head.weight`).
    public var savedTensors: [String: (shape: [Int], values: [Float])]

    public init(config: LoRAConfig, modules: [String: LoRAModuleWeights],
                savedTensors: [String: (shape: [Int], values: [Float])] = [:]) {
        self.config = config
        self.modules = modules
        self.savedTensors = savedTensors
    }

    /// Trainable values held (A, B, magnitudes, biases, saved modules).
    public var parameterCount: Int {
        modules.values.reduce(0) { $0 + $1.a.count + $1.b.count + ($1.magnitude?.count ?? 0) + ($1.bias?.count ?? 0) }
            + savedTensors.values.reduce(0) { $0 + $1.values.count }
    }
}
