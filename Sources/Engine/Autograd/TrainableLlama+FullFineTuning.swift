/// Full fine-tuning: every weight a trainable f32 copy, or frozen where `isTrainable` says so.
extension TrainableLlama {
    /// Full fine-tuning of the weights whose HF name `isTrainable` accepts (all by default).
    /// Frozen linear weights and the frozen embedding stay in their file type; frozen
    /// parameters get no gradient and no optimizer state (they are not in `namedParameters`).
    /// A tied output head shares the embedding's variable (or frozen table).
    convenience init(fullFineTuning model: LlamaModel, isTrainable: @escaping (String) -> Bool = { _ in true }) {
        var plan = FullFineTuningPlan(isTrainable: isTrainable)
        // The full plan never throws: every weight is either copied or kept.
        try! self.init(model: model, plan: &plan, loraConfig: nil, seed: 0)
    }

    /// HF tensor names of every parameter of `model` in `named_parameters` order with their
    /// element counts (a tied head counted once, under the embedding): what `FreezeRules` reads.
    static func parameterList(of model: LlamaModel) -> [(name: String, elementCount: Int)] {
        var plan = FullFineTuningPlan(isTrainable: { _ in false }, recordsFrozen: true)
        _ = try! TrainableLlama(model: model, plan: &plan, loraConfig: nil, seed: 0)
        return plan.frozenList
    }

    /// The trained model as a `LlamaModel` the session can make live: trained weights as f32
    /// tensors, frozen ones as they were (still in their file type), the same config and RoPE
    /// layout (q/k rows of an interleaved GGUF base stay interleaved).
    func exportModel() -> LlamaModel {
        var tensors: [String: RawTensor] = [:]
        func put(_ name: String, _ v: Variable) {
            tensors[name] = RawTensor.float32(name: name, shape: v.shape, values: v.values)
        }
        func put(_ name: String, _ w: Weight) {
            switch w {
            case .trainable(let v): put(name, v)
            case .frozen(let t): tensors[name] = RawTensor(name: name, type: t.type, shape: t.shape, bytes: t.bytes, owner: t.owner)
            }
        }
        put("model.embed_tokens.weight", embedding)
        for l in layers {
            let p = "model.layers.\(l.index)."
            put(p + "input_layernorm.weight", l.attentionNorm)
            put(p + "post_attention_layernorm.weight", l.mlpNorm)
            if let qn = l.qNorm { put(p + "self_attn.q_norm.weight", qn) }
            if let kn = l.kNorm { put(p + "self_attn.k_norm.weight", kn) }
            for lin in l.linears {
                precondition(lin.lora == nil, "exportModel: a LoRA graph exports its adapter (exportAdapter)")
                put(lin.name + ".weight", lin.weight)
                if let b = lin.bias { put(lin.name + ".bias", b) }
            }
        }
        put("model.norm.weight", finalNorm)
        if !sharesEmbedding(head.weight) { put("lm_head.weight", head.weight) }
        // Every tensor is present with the shapes the model had, so assembly cannot fail.
        return try! LlamaModel(config: config, ropeStyle: rope.style, tensor: { tensors[$0] })
    }

    private func sharesEmbedding(_ w: Weight) -> Bool {
        switch (w, embedding) {
        case let (.trainable(a), .trainable(b)): return a === b
        case let (.frozen(a), .frozen(b)): return a.bytes.baseAddress == b.bytes.baseAddress
        default: return false
        }
    }
}

struct FullFineTuningPlan: TrainableLlama.Plan {
    private(set) var named: [(String, Variable)] = []
    let isTrainable: (String) -> Bool
    var recordsFrozen = false
    private(set) var frozenList: [(name: String, elementCount: Int)] = []

    init(isTrainable: @escaping (String) -> Bool, recordsFrozen: Bool = false) {
        self.isTrainable = isTrainable
        self.recordsFrozen = recordsFrozen
    }

    private mutating func trainable(_ name: String, count: Int) -> Bool {
        if recordsFrozen { frozenList.append((name, count)); return false }
        return isTrainable(name)
    }

    private mutating func weight(_ name: String, _ t: RawTensor) -> TrainableLlama.Weight {
        guard trainable(name, count: t.elementCount) else { return .frozen(t) }
        let v = Variable(t.toFloat32(), shape: t.shape, requiresGrad: true)
        named.append((name, v))
        return .trainable(v)
    }

    mutating func embedding(_ table: RawTensor) throws -> TrainableLlama.Weight { weight("model.embed_tokens.weight", table) }

    mutating func vector(_ name: String, _ values: [Float]) -> Variable {
        let train = trainable(name, count: values.count)
        let v = Variable(values, shape: [values.count], requiresGrad: train)
        if train { named.append((name, v)) }
        return v
    }

    mutating func linear(_ name: String, _ l: Linear, stream: UInt64) throws -> TrainableLlama.LinearLayer {
        let w = weight(name + ".weight", l.weight)
        let b = l.bias.map { vector(name + ".bias", $0) }
        return .init(name: name, weight: w, bias: b, lora: nil, streamIndex: stream)
    }

    mutating func head(_ l: Linear, tiedTo: TrainableLlama.Weight?, stream: UInt64) throws -> TrainableLlama.LinearLayer {
        if let tiedTo { return .init(name: "lm_head", weight: tiedTo, bias: nil, lora: nil, streamIndex: stream) }
        return try linear("lm_head", l, stream: stream)
    }
}
