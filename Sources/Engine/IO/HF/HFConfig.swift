import Foundation

/// Reading an HF `config.json` into `ModelConfig`.
///
/// Missing optional fields take the defaults of the transformers config class for the
/// architecture (`LlamaConfig`, `Qwen2Config`, `Qwen3Config`, `MistralConfig`): for example
/// `rms_norm_eps` 1e-6, `rope_theta` 10000, `tie_word_embeddings` false for all four,
/// `head_dim` hidden/heads except Qwen3 (128), `max_position_embeddings` 2048 (Llama),
/// 32768 (Qwen2, Qwen3) or 131072 (Mistral), `bos`/`eos` 1/2 for Llama and Mistral.
/// The shape-defining fields (`vocab_size`, `hidden_size`, `intermediate_size`,
/// `num_hidden_layers`, `num_attention_heads`) are required: a 7B-sized default would only
/// fail later against the weights.
extension ModelConfig {
    /// The HF class names this engine runs, by architecture.
    public static let supportedHFArchitectures: [String: Architecture] = [
        "LlamaForCausalLM": .llama,
        "Qwen2ForCausalLM": .qwen2,
        "Qwen3ForCausalLM": .qwen3,
        "MistralForCausalLM": .mistral,
    ]

    public init(hfConfigJSON data: Data, source: String = "config.json") throws {
        let json = try JSONValues.object(from: data, path: source, what: "the model config")
        let reader = HFJSONReader(json, source: source)
        let arch = try Self.architecture(json, source: source)

        let hidden = try reader.requiredInt("hidden_size", min: 1)
        let heads = try reader.requiredInt("num_attention_heads", min: 1)
        let kvHeads = try reader.int("num_key_value_heads", min: 1) ?? heads
        guard heads % kvHeads == 0 else {
            throw FileError(path: source, problem: "num_attention_heads \(heads) is not a multiple of num_key_value_heads \(kvHeads)")
        }
        var headDim = try reader.int("head_dim", min: 1)
        if headDim == nil {
            if arch == .qwen3 {
                headDim = 128
            } else {
                guard hidden % heads == 0 else {
                    throw FileError(path: source, problem: "hidden_size \(hidden) is not a multiple of num_attention_heads \(heads) and no head_dim is given")
                }
                headDim = hidden / heads
            }
        }
        let ropeParameters = json["rope_parameters"] as? [String: Any]
        let ropeTheta = try reader.double("rope_theta", positive: true)
            ?? ropeParameters.flatMap { try? HFJSONReader($0, source: source).double("rope_theta", positive: true) }
            ?? 10000
        let ropeScalingField = json["rope_scaling"].flatMap { JSONValues.isNull($0) ? nil : $0 }
        let scaling = try Self.ropeScaling(ropeScalingField ?? ropeParameters, source: source)

        let defaultMaxPositions: Int
        switch arch {
        case .llama: defaultMaxPositions = 2048
        case .qwen2, .qwen3: defaultMaxPositions = 32768
        case .mistral: defaultMaxPositions = 4096 * 32
        }
        let attentionBias: Bool
        switch arch {
        case .qwen2: attentionBias = true
        case .mistral: attentionBias = false
        case .llama, .qwen3: attentionBias = try reader.bool("attention_bias") ?? false
        }
        let defaultSpecial = arch == .llama || arch == .mistral

        self.init(
            architecture: arch,
            vocabSize: try reader.requiredInt("vocab_size", min: 1),
            hiddenSize: hidden,
            intermediateSize: try reader.requiredInt("intermediate_size", min: 1),
            layerCount: try reader.requiredInt("num_hidden_layers", min: 1),
            headCount: heads,
            kvHeadCount: kvHeads,
            headDim: headDim,
            rmsNormEps: try reader.double("rms_norm_eps", positive: true) ?? 1e-6,
            ropeTheta: ropeTheta,
            ropeScaling: scaling,
            maxPositions: try reader.int("max_position_embeddings", min: 1) ?? defaultMaxPositions,
            tieWordEmbeddings: try reader.bool("tie_word_embeddings") ?? false,
            attentionBias: attentionBias,
            qkNorm: arch == .qwen3,
            bosTokenId: try reader.tokenId("bos_token_id", default: defaultSpecial ? 1 : nil),
            eosTokenIds: try reader.tokenIds("eos_token_id", default: defaultSpecial ? [2] : []),
            padTokenId: try reader.tokenId("pad_token_id", default: nil))
    }

    private static func architecture(_ json: [String: Any], source: String) throws -> Architecture {
        let supported = supportedHFArchitectures.keys.sorted().joined(separator: ", ")
        if let list = json["architectures"], !JSONValues.isNull(list) {
            guard let names = list as? [Any], let first = names.first as? String else {
                throw FileError(path: source, problem: "\"architectures\" must be a list of class names")
            }
            guard let arch = supportedHFArchitectures[first] else {
                throw FileError(path: source, problem: "architecture \(first) is not supported (supported: \(supported))")
            }
            return arch
        }
        if let type = json["model_type"] as? String {
            guard let arch = Architecture(rawValue: type) else {
                throw FileError(path: source, problem: "model_type \(type) is not supported (supported: \(supported))")
            }
            return arch
        }
        throw FileError(path: source, problem: "names no architecture (no \"architectures\" or \"model_type\"; supported: \(supported))")
    }

    /// `rope_scaling` (or transformers 5's `rope_parameters`): `type` or `rope_type` is
    /// linear, dynamic, yarn or llama3; "default" or null means none.
    static func ropeScaling(_ value: Any?, source: String) throws -> RopeScaling? {
        guard let value, !JSONValues.isNull(value) else { return nil }
        guard let dict = value as? [String: Any] else {
            throw FileError(path: source, problem: "rope_scaling must be an object or null")
        }
        let r = HFJSONReader(dict, source: source, prefix: "rope_scaling.")
        guard let kindName = (dict["rope_type"] as? String) ?? (dict["type"] as? String) else {
            if dict["factor"] == nil { return nil }
            throw FileError(path: source, problem: "rope_scaling has no \"rope_type\" or \"type\"")
        }
        if kindName == "default" { return nil }
        guard let kind = RopeScaling.Kind(rawValue: kindName) else {
            throw FileError(path: source, problem: "rope_scaling type \(kindName) is not supported (supported: linear, dynamic, yarn, llama3)")
        }
        guard let factor = try r.double("factor", positive: true) else {
            throw FileError(path: source, problem: "rope_scaling of type \(kindName) needs a positive \"factor\"")
        }
        var scaling = RopeScaling(kind: kind, factor: factor,
                                  originalMaxPositions: try r.int("original_max_position_embeddings", min: 1))
        if let v = try r.double("low_freq_factor", positive: true) { scaling.lowFrequencyFactor = v }
        if let v = try r.double("high_freq_factor", positive: true) { scaling.highFrequencyFactor = v }
        if let v = try r.double("beta_fast", positive: true) { scaling.betaFast = v }
        if let v = try r.double("beta_slow", positive: true) { scaling.betaSlow = v }
        scaling.attentionFactor = try r.double("attention_factor", positive: true)
        if kind == .llama3 {
            guard scaling.originalMaxPositions != nil else {
                throw FileError(path: source, problem: "rope_scaling of type llama3 needs \"original_max_position_embeddings\"")
            }
            guard scaling.highFrequencyFactor > scaling.lowFrequencyFactor else {
                throw FileError(path: source, problem: "rope_scaling high_freq_factor must be larger than low_freq_factor")
            }
        }
        return scaling
    }
}

/// Typed field reads from one JSON object, with errors naming the file and field. A field
/// set to null counts as absent, as transformers treats it.
struct HFJSONReader {
    let json: [String: Any]
    let source: String
    var prefix = ""

    init(_ json: [String: Any], source: String, prefix: String = "") {
        self.json = json
        self.source = source
        self.prefix = prefix
    }

    private func present(_ key: String) -> Any? {
        guard let v = json[key], !JSONValues.isNull(v) else { return nil }
        return v
    }

    private func bad(_ key: String, _ expected: String, _ v: Any) -> FileError {
        FileError(path: source, problem: "\(prefix)\(key) must be \(expected), not \(v)")
    }

    func int(_ key: String, min: Int = Int.min) throws -> Int? {
        guard let v = present(key) else { return nil }
        guard let i = JSONValues.int(v) else { throw bad(key, "a whole number", v) }
        guard i >= min else { throw bad(key, "at least \(min)", v) }
        return i
    }

    func requiredInt(_ key: String, min: Int = Int.min) throws -> Int {
        guard let i = try int(key, min: min) else {
            throw FileError(path: source, problem: "missing \(prefix)\(key)")
        }
        return i
    }

    func double(_ key: String, positive: Bool = false) throws -> Double? {
        guard let v = present(key) else { return nil }
        guard let d = JSONValues.double(v), d.isFinite else { throw bad(key, "a number", v) }
        if positive && d <= 0 { throw bad(key, "a positive number", v) }
        return d
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = present(key) else { return nil }
        guard let b = JSONValues.bool(v) else { throw bad(key, "true or false", v) }
        return b
    }

    func string(_ key: String) throws -> String? {
        guard let v = present(key) else { return nil }
        guard let s = v as? String else { throw bad(key, "a string", v) }
        return s
    }

    /// A token id; absent uses `default`, an explicit null means none.
    func tokenId(_ key: String, default def: Int?) throws -> Int? {
        guard let v = json[key] else { return def }
        if JSONValues.isNull(v) { return nil }
        guard let i = JSONValues.int(v), i >= 0 else { throw bad(key, "a token id", v) }
        return i
    }

    /// One token id or a list of them (HF allows both for `eos_token_id`).
    func tokenIds(_ key: String, default def: [Int]) throws -> [Int] {
        guard let v = json[key] else { return def }
        if JSONValues.isNull(v) { return [] }
        if let list = v as? [Any] {
            return try list.map { item in
                guard let i = JSONValues.int(item), i >= 0 else { throw bad(key, "a token id or a list of them", v) }
                return i
            }
        }
        guard let i = JSONValues.int(v), i >= 0 else { throw bad(key, "a token id or a list of them", v) }
        return [i]
    }
}
