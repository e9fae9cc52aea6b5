/// LoRA graphs: PEFT's `get_peft_model(model, LoraConfig(...))` over a frozen base kept in its
/// file type.
///
/// - Targets: `LoRATargets` (PEFT's suffix / full-match rules, every target must match).
/// - `bias`: "none"; "all" trains every linear bias of the base (Qwen2's q/k/v), "lora_only"
///   those of adapted layers (PEFT's `mark_only_lora_as_trainable`).
/// - `modules_to_save` (`embed_tokens`, `lm_head`): a whole trainable f32 copy of the module.
///   With tied embeddings PEFT (`ensure_weight_tying` False, its default) copies the one shared
///   table into the saved module only: a saved `lm_head` is trained as its own untied copy
///   while the embedding stays frozen, and a saved `embed_tokens` leaves the head reading the
///   frozen original. This does the same.
/// - PiSSA: the residual base W − scale·B₀·A₀ replaces the targeted layers' weights, kept as
///   f32 even over a quantized base. PEFT refuses PiSSA on quantized weights and recommends
///   re-quantizing the residual afterwards (QPiSSA), but here the live base stays the model
///   being served: with an exact residual the graph at step 0 is exactly the live model, and
///   the adapter `exportAdapter` gives (PEFT's conversion to plain LoRA of rank 2r) reproduces
///   the trained model over the unchanged live base. Re-quantizing would save memory (4 bytes
///   per targeted weight instead of ~0.6) at the cost of both exactnesses.
extension TrainableLlama {
    /// LoRA as `config` describes it, random values drawn from `seed` (which also seeds
    /// dropout masks and NEFTune noise).
    convenience init(lora model: LlamaModel, config: LoRAConfig, seed: UInt64) throws {
        var plan = try LoRAPlan(model: model, config: config, seed: seed, initialization: LoRAInitialization(config.initWeights))
        try self.init(model: model, plan: &plan, loraConfig: config, seed: seed)
    }

    /// Continues training `adapter` (made by `exportAdapter`, or read from adapter files) over
    /// `model`: the same modules with the adapter's values exactly. The base is used as it is
    /// (an adapter always applies to the live base; a PiSSA adapter arrives converted).
    convenience init(lora model: LlamaModel, adapter: LoRAAdapter, seed: UInt64 = 0) throws {
        var config = adapter.config
        config.initWeights = "true"
        var plan = try LoRAPlan(model: model, config: config, seed: seed, initialization: .kaiming)
        try self.init(model: model, plan: &plan, loraConfig: config, seed: seed)
        try load(adapter)
    }

    /// A copy of the current values as a live adapter. A PiSSA adapter is converted as PEFT's
    /// `save_pretrained(path_initial_model_for_weight_conversion:)` does, so that it applies to
    /// the original base: A' = [A; A₀], B' = [B, −B₀], rank 2r, alpha doubled (×√2 with rsLoRA)
    /// to keep the scale, `init_lora_weights` true. Trained biases of adapted layers go with
    /// their module; other trained biases and `modules_to_save` copies into `savedTensors`
    /// under their HF tensor names.
    func exportAdapter() -> LoRAAdapter {
        guard var config = loraConfig else { preconditionFailure("exportAdapter: not a LoRA graph") }
        var modules: [String: LoRAModuleWeights] = [:]
        var saved: [String: (shape: [Int], values: [Float])] = [:]
        var converted = false
        for l in allLinears {
            guard let lora = l.lora else {
                if let b = l.bias, b.requiresGrad { saved[l.name + ".bias"] = (b.shape, b.values) }
                continue
            }
            let outF = lora.b.shape[0], inF = lora.a.shape[1], rank = lora.a.shape[0]
            var a = lora.a.values, b = lora.b.values
            if let a0 = lora.initialA, let b0 = lora.initialB {
                converted = true
                a += a0
                var wide = [Float](repeating: 0, count: outF * 2 * rank)
                for i in 0..<outF {
                    for r in 0..<rank {
                        wide[i * 2 * rank + r] = b[i * rank + r]
                        wide[i * 2 * rank + rank + r] = -b0[i * rank + r]
                    }
                }
                b = wide
            }
            let bias = l.bias.flatMap { $0.requiresGrad ? $0.values : nil }
            modules[l.name] = LoRAModuleWeights(inFeatures: inF, outFeatures: outF, a: a, b: b,
                                                magnitude: lora.magnitude?.values, bias: bias)
        }
        if case .trainable(let table) = embedding { saved["model.embed_tokens.weight"] = (table.shape, table.values) }
        if case .trainable(let w) = head.weight { saved["lm_head.weight"] = (w.shape, w.values) }
        if converted {
            config.rank *= 2
            config.alpha *= config.useRSLoRA ? 2.0.squareRoot() : 2
            config.initWeights = "true"
        }
        return LoRAAdapter(config: config, modules: modules, savedTensors: saved)
    }

    /// Every linear layer, decoder blocks first, then the head.
    var allLinears: [LinearLayer] { layers.flatMap(\.linears) + [head] }

    private func load(_ adapter: LoRAAdapter) throws {
        func copy(_ values: [Float], into v: Variable, _ what: String) throws {
            guard values.count == v.count else {
                throw TunerError("adapter \(what) holds \(values.count) values, the model needs \(v.count) (shape \(v.shape))")
            }
            values.withUnsafeBufferPointer { v.data.update(from: $0.baseAddress!, count: v.count) }
        }
        var used = Set<String>()
        for l in allLinears {
            guard let lora = l.lora else {
                if let b = l.bias, b.requiresGrad, let t = adapter.savedTensors[l.name + ".bias"] {
                    try copy(t.values, into: b, l.name + ".bias")
                }
                continue
            }
            guard let m = adapter.modules[l.name] else { throw TunerError("adapter has no weights for \(l.name)") }
            used.insert(l.name)
            try copy(m.a, into: lora.a, l.name + ".lora_A")
            try copy(m.b, into: lora.b, l.name + ".lora_B")
            if let mv = lora.magnitude {
                guard let given = m.magnitude else { throw TunerError("DoRA adapter has no magnitude for \(l.name)") }
                try copy(given, into: mv, l.name + ".lora_magnitude_vector")
            }
            if let b = l.bias, b.requiresGrad, let given = m.bias { try copy(given, into: b, l.name + ".bias") }
        }
        if let extra = Set(adapter.modules.keys).subtracting(used).sorted().first {
            throw TunerError("adapter module \(extra) is not a target of its own configuration on this model")
        }
        if case .trainable(let table) = embedding, let t = adapter.savedTensors["model.embed_tokens.weight"] {
            try copy(t.values, into: table, "model.embed_tokens.weight")
        }
        if case .trainable(let w) = head.weight, let t = adapter.savedTensors["lm_head.weight"] {
            try copy(t.values, into: w, "lm_head.weight")
        }
    }
}

/// Builds the LoRA graph's weights (see `TrainableLlama.init(lora:config:seed:)`).
struct LoRAPlan: TrainableLlama.Plan {
    private(set) var named: [(String, Variable)] = []
    let config: LoRAConfig
    let targets: Set<String>
    let saveEmbedding, saveHead: Bool
    let initialization: LoRAInitialization
    var random: RandomSource

    init(model: LlamaModel, config: LoRAConfig, seed: UInt64, initialization: LoRAInitialization) throws {
        guard config.rank > 0 else { throw TunerError("lora_rank must be positive, got \(config.rank)") }
        guard config.dropout >= 0 && config.dropout < 1 else { throw TunerError("lora_dropout must be in [0, 1), got \(config.dropout)") }
        guard ["none", "all", "lora_only"].contains(config.bias) else {
            throw TunerError("lora bias '\(config.bias)' is not one of none, all, lora_only")
        }
        let names = LoRATargets(layerCount: model.config.layerCount, qkNorm: model.layers.first?.qNorm != nil)
        targets = try names.resolve(config)
        (saveEmbedding, saveHead) = try names.savedModules(config)
        if saveHead && targets.contains("lm_head") {
            throw TunerError("lm_head is both a LoRA target and in modules_to_save; choose one")
        }
        self.config = config
        self.initialization = initialization
        random = RandomSource(seed: seed)
    }

    mutating func embedding(_ table: RawTensor) throws -> TrainableLlama.Weight {
        guard saveEmbedding else { return .frozen(table) }
        let v = Variable(table.toFloat32(), shape: table.shape, requiresGrad: true)
        named.append(("model.embed_tokens.weight", v))
        return .trainable(v)
    }

    mutating func vector(_ name: String, _ values: [Float]) -> Variable { Variable(values, shape: [values.count]) }

    mutating func linear(_ name: String, _ l: Linear, stream: UInt64) throws -> TrainableLlama.LinearLayer {
        let targeted = targets.contains(name)
        let trainsBias = config.bias == "all" || (config.bias == "lora_only" && targeted)
        let bias = l.bias.map { Variable($0, shape: [$0.count], requiresGrad: trainsBias) }
        if let bias, trainsBias { named.append((name + ".bias", bias)) }
        guard targeted else { return .init(name: name, weight: .frozen(l.weight), bias: bias, lora: nil, streamIndex: stream) }
        return try adapted(name, l.weight, bias: bias, stream: stream)
    }

    mutating func head(_ l: Linear, tiedTo: TrainableLlama.Weight?, stream: UInt64) throws -> TrainableLlama.LinearLayer {
        if saveHead {
            let v = Variable(l.weight.toFloat32(), shape: l.weight.shape, requiresGrad: true)
            named.append(("lm_head.weight", v))
            return .init(name: "lm_head", weight: .trainable(v), bias: nil, lora: nil, streamIndex: stream)
        }
        if targets.contains("lm_head") { return try adapted("lm_head", l.weight, bias: nil, stream: stream) }
        return .init(name: "lm_head", weight: .frozen(l.weight), bias: nil, lora: nil, streamIndex: stream)
    }

    private mutating func adapted(_ name: String, _ w: RawTensor, bias: Variable?, stream: UInt64) throws -> TrainableLlama.LinearLayer {
        let rank = config.rank, scale = config.scale
        let (a0, b0, residual) = try initialization.initialize(weight: w, rank: rank, scale: scale, random: &random)
        let a = Variable(a0, shape: [rank, w.shape[1]], requiresGrad: true)
        let b = Variable(b0, shape: [w.shape[0], rank], requiresGrad: true)
        let base = residual.map { RawTensor.float32(name: w.name, shape: w.shape, values: $0) } ?? w
        named.append((name + ".lora_A.weight", a))
        named.append((name + ".lora_B.weight", b))
        var magnitude: Variable?
        if config.useDoRA {
            // PEFT's DoraLinearLayer.update_layer: m = ‖W + scale·B·A‖ per row at the initial values.
            let norms = Tape(recordsGradients: false).doraWeightNorm(base, a: a, b: b, scale: scale)
            let m = Variable(norms, shape: [norms.count], requiresGrad: true)
            named.append((name + ".lora_magnitude_vector", m))
            magnitude = m
        }
        let pissa = initialization.isPiSSA
        let lora = TrainableLlama.LoRA(a: a, b: b, scale: scale, dropout: Float(config.dropout), magnitude: magnitude,
                                       initialA: pissa ? a0 : nil, initialB: pissa ? b0 : nil)
        return .init(name: name, weight: .frozen(base), bias: bias, lora: lora, streamIndex: stream)
    }
}
