/// What an adapter file may name for one `LlamaModel`: its adaptable linear layers and its
/// whole tensors (for `modules_to_save` and `bias` "all"), with their HF shapes, and how the
/// model's q/k rows are ordered against HF's.
struct PEFTModelLayout {
    struct Module {
        let outFeatures: Int
        let inFeatures: Int
        let hasBias: Bool
        /// For q/k of a model with interleaved RoPE: the heads its rows split into; nil when
        /// its rows are in HF order already.
        let permutedHeads: Int?
    }

    /// By HF module name (`model.layers.0.self_attn.q_proj`, `lm_head`).
    let modules: [String: Module]
    /// Every weight tensor by HF name, with its shape.
    let tensorShapes: [String: [Int]]
    /// The module names in the model's order, for messages.
    let moduleOrder: [String]

    init(_ model: LlamaModel) {
        let c = model.config
        let interleaved = model.rope.style == .interleaved
        var modules: [String: Module] = [:], shapes: [String: [Int]] = [:], order: [String] = []
        func add(_ name: String, _ linear: Linear, heads: Int? = nil) {
            modules[name] = Module(outFeatures: linear.outFeatures, inFeatures: linear.inFeatures,
                                   hasBias: linear.bias != nil, permutedHeads: interleaved ? heads : nil)
            order.append(name)
            shapes[name + ".weight"] = [linear.outFeatures, linear.inFeatures]
            if linear.bias != nil { shapes[name + ".bias"] = [linear.outFeatures] }
        }
        shapes["model.embed_tokens.weight"] = model.embedding.shape
        for (i, layer) in model.layers.enumerated() {
            let p = "model.layers.\(i)."
            add(p + "self_attn.q_proj", layer.q, heads: c.headCount)
            add(p + "self_attn.k_proj", layer.k, heads: c.kvHeadCount)
            add(p + "self_attn.v_proj", layer.v)
            add(p + "self_attn.o_proj", layer.o)
            add(p + "mlp.gate_proj", layer.gate)
            add(p + "mlp.up_proj", layer.up)
            add(p + "mlp.down_proj", layer.down)
            shapes[p + "input_layernorm.weight"] = [layer.attentionNorm.count]
            shapes[p + "post_attention_layernorm.weight"] = [layer.mlpNorm.count]
            if let n = layer.qNorm { shapes[p + "self_attn.q_norm.weight"] = [n.count] }
            if let n = layer.kNorm { shapes[p + "self_attn.k_norm.weight"] = [n.count] }
        }
        shapes["model.norm.weight"] = [model.finalNorm.count]
        add("lm_head", model.output)
        self.modules = modules
        self.tensorShapes = shapes
        self.moduleOrder = order
    }

    /// For a whole tensor (`...q_proj.weight`, `...k_proj.bias`): the heads its rows split into
    /// when the live model keeps them permuted.
    func permutedHeads(ofTensor name: String) -> Int? {
        for suffix in [".weight", ".bias"] where name.hasSuffix(suffix) {
            if let m = modules[String(name.dropLast(suffix.count))] { return m.permutedHeads }
        }
        return nil
    }

    /// A short description of the module names this model has, for errors.
    var moduleNamesHint: String {
        let layers = moduleOrder.filter { $0.hasPrefix("model.layers.") }.count / 7
        return "model.layers.0–\(max(layers - 1, 0)).self_attn.{q,k,v,o}_proj, model.layers.N.mlp.{gate,up,down}_proj and lm_head"
    }
}

/// Moves whole rows between the live model's q/k order and HF's (`llamaPermutedRowsForHF`).
enum PEFTRowOrder {
    /// HF row r is live row order[r].
    static func hfFromLive(_ values: [Float], rows: Int, heads: Int) -> [Float] {
        let order = GGUFFile.llamaPermutedRowsForHF(rows: rows, headCount: heads)
        let width = values.count / rows
        var out = [Float](repeating: 0, count: values.count)
        for (hfRow, liveRow) in order.enumerated() {
            out[(hfRow * width)..<((hfRow + 1) * width)] = values[(liveRow * width)..<((liveRow + 1) * width)]
        }
        return out
    }

    static func liveFromHF(_ values: [Float], rows: Int, heads: Int) -> [Float] {
        let order = GGUFFile.llamaPermutedRowsForHF(rows: rows, headCount: heads)
        let width = values.count / rows
        var out = [Float](repeating: 0, count: values.count)
        for (hfRow, liveRow) in order.enumerated() {
            out[(liveRow * width)..<((liveRow + 1) * width)] = values[(hfRow * width)..<((hfRow + 1) * width)]
        }
        return out
    }
}
