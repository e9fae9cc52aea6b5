/// A model that answers with a LoRA adapter: the base's weights shared, each adapted linear
/// layer carrying its branch.
extension LlamaModel {
    /// The linear layers of decoder layer `i` by HF module name, with a way to rebuild the
    /// layer from replacements.
    static func linearNames(layer i: Int) -> [String] {
        let p = "model.layers.\(i)."
        return ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"].map { p + $0 }
    }

    /// The decoder layers with each linear layer passed through `transform` (by HF module name).
    func mapLinears(_ transform: (String, Linear) throws -> Linear) rethrows -> [DecoderLayer] {
        try layers.enumerated().map { i, l in
            let n = LlamaModel.linearNames(layer: i)
            return DecoderLayer(attentionNorm: l.attentionNorm,
                                q: try transform(n[0], l.q), k: try transform(n[1], l.k), v: try transform(n[2], l.v),
                                o: try transform(n[3], l.o), qNorm: l.qNorm, kNorm: l.kNorm, mlpNorm: l.mlpNorm,
                                gate: try transform(n[4], l.gate), up: try transform(n[5], l.up), down: try transform(n[6], l.down))
        }
    }

    /// This model answering with `adapter`: y = W·x + s·B·(A·x) on every adapted layer (DoRA:
    /// rows scaled by m/‖W + s·B·A‖), the adapter's trained biases in place of the layer's, and
    /// its saved `lm_head` / `embed_tokens` in place of the base's. The base weights are shared,
    /// not copied. Throws, naming the module, when the adapter does not fit this model.
    public func adapted(by adapter: LoRAAdapter) throws -> LlamaModel {
        var known = Set(["lm_head"])
        for i in 0..<layers.count { known.formUnion(LlamaModel.linearNames(layer: i)) }
        if let stray = adapter.modules.keys.sorted().first(where: { !known.contains($0) }) {
            throw ModelError("adapter module \(stray) is not a linear layer of this model (\(layers.count) decoder layers); the adapter was made for another base model")
        }
        let scale = adapter.config.scale
        func adapt(_ name: String, _ l: Linear) throws -> Linear {
            guard let w = adapter.modules[name] else { return l }
            try LlamaModel.check(w, named: name, fits: l, dora: adapter.config.useDoRA)
            return Linear(weight: l.weight, bias: w.bias ?? l.bias, lora: LoRABranch(w, scale: scale, base: l.weight))
        }
        var emb = embedding
        var out = output
        let d = config.hiddenSize, vocab = config.vocabSize
        for (name, saved) in adapter.savedTensors.sorted(by: { $0.key < $1.key }) {
            guard name == "model.embed_tokens.weight" || name == "lm_head.weight" else {
                throw ModelError("adapter saves \(name) whole; only lm_head.weight and model.embed_tokens.weight can replace the base's")
            }
            guard saved.shape == [vocab, d], saved.values.count == vocab * d else {
                throw ModelError("adapter's saved \(name) has shape \(saved.shape) (\(saved.values.count) values) but the model's is [\(vocab), \(d)]; the adapter was made for another base model")
            }
            let t = RawTensor.float32(name: name, shape: saved.shape, values: saved.values)
            // A tied head keeps reading the base's embedding, as PEFT's copy of embed_tokens leaves it.
            if name == "lm_head.weight" { out = Linear(weight: t, bias: nil) } else { emb = t }
        }
        let newLayers = try mapLinears(adapt)
        out = try adapt("lm_head", out)
        return LlamaModel(config: config, embedding: emb, layers: newLayers, finalNorm: finalNorm, output: out,
                          rope: rope, owners: owners)
    }

    static func check(_ w: LoRAModuleWeights, named name: String, fits l: Linear, dora: Bool) throws {
        guard w.outFeatures == l.outFeatures, w.inFeatures == l.inFeatures else {
            throw ModelError("adapter module \(name) is [\(w.outFeatures), \(w.inFeatures)] (out, in) but the model's layer is [\(l.outFeatures), \(l.inFeatures)]; the adapter was made for another base model")
        }
        let r = w.rank
        guard r > 0, w.a.count == r * w.inFeatures, w.b.count == w.outFeatures * r else {
            throw ModelError("adapter module \(name): A has \(w.a.count) values and B \(w.b.count); for rank \(r) they should be \(r * w.inFeatures) ([\(r), \(w.inFeatures)]) and \(w.outFeatures * r) ([\(w.outFeatures), \(r)])")
        }
        if let m = w.magnitude, m.count != w.outFeatures {
            throw ModelError("adapter module \(name): the DoRA magnitude has \(m.count) values, the layer has \(w.outFeatures) outputs")
        }
        if dora && w.magnitude == nil {
            throw ModelError("adapter is DoRA but module \(name) has no magnitude vector")
        }
        if let b = w.bias, b.count != w.outFeatures {
            throw ModelError("adapter module \(name): the bias has \(b.count) values, the layer has \(w.outFeatures) outputs")
        }
    }
}
