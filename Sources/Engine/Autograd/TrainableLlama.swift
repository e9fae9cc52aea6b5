/// A Llama-family decoder as a training graph over `Tape` ops: the same computation as
/// `LlamaModel.forward`, with each weight either a trainable f32 `Variable` or a frozen tensor
/// in its file type, and optional LoRA matrices on the linear layers.
final class TrainableLlama {
    /// A linear layer's weight: trainable f32 or frozen in its file type (the QLoRA base).
    enum Weight {
        case trainable(Variable)
        case frozen(RawTensor)
    }

    /// y += scale · (x·Aᵀ)·Bᵀ, A [rank, in], B [out, rank].
    struct LoRA {
        let a: Variable
        let b: Variable
        let scale: Float
    }

    struct LinearLayer {
        let weight: Weight
        let bias: Variable?
        var lora: LoRA?
    }

    struct Layer {
        let attentionNorm: Variable
        var q, k, v, o: LinearLayer
        let qNorm, kNorm: Variable?
        let mlpNorm: Variable
        var gate, up, down: LinearLayer
    }

    let config: ModelConfig
    let rope: RotaryEmbedding
    let embedding: Weight
    var layers: [Layer]
    let finalNorm: Variable
    let head: LinearLayer
    /// True while training (dropout and NEFTune noise are on); false for evaluation.
    var isTraining = false
    /// The generator behind dropout and noise; saved in checkpoints.
    var random = RandomSource(seed: 42)
    var randomState: [UInt64] {
        get { random.state }
        set { if newValue.count == 4 { random = RandomSource(state: newValue) } }
    }
    /// Trainable parameters by HF name, in HF's `named_parameters` order.
    private(set) var namedParameters: [(name: String, variable: Variable)] = []

    /// Full fine-tuning: every weight of `model` copied to a trainable f32 variable (tied
    /// output heads share the embedding variable).
    init(fullFineTuning model: LlamaModel) {
        config = model.config
        rope = model.rope
        var named: [(String, Variable)] = []
        func variable(_ name: String, _ values: [Float], _ shape: [Int]) -> Variable {
            let v = Variable(values, shape: shape, requiresGrad: true)
            named.append((name, v))
            return v
        }
        func linear(_ name: String, _ l: Linear) -> LinearLayer {
            let w = variable(name + ".weight", l.weight.toFloat32(), l.weight.shape)
            let b = l.bias.map { variable(name + ".bias", $0, [$0.count]) }
            return LinearLayer(weight: .trainable(w), bias: b, lora: nil)
        }
        let table = variable("model.embed_tokens.weight", model.embedding.toFloat32(), model.embedding.shape)
        embedding = .trainable(table)
        layers = model.layers.enumerated().map { i, l in
            let p = "model.layers.\(i)."
            let attentionNorm = variable(p + "input_layernorm.weight", l.attentionNorm, [l.attentionNorm.count])
            let q = linear(p + "self_attn.q_proj", l.q), k = linear(p + "self_attn.k_proj", l.k)
            let v = linear(p + "self_attn.v_proj", l.v), o = linear(p + "self_attn.o_proj", l.o)
            let qNorm = l.qNorm.map { variable(p + "self_attn.q_norm.weight", $0, [$0.count]) }
            let kNorm = l.kNorm.map { variable(p + "self_attn.k_norm.weight", $0, [$0.count]) }
            let gate = linear(p + "mlp.gate_proj", l.gate), up = linear(p + "mlp.up_proj", l.up)
            let down = linear(p + "mlp.down_proj", l.down)
            let mlpNorm = variable(p + "post_attention_layernorm.weight", l.mlpNorm, [l.mlpNorm.count])
            return Layer(attentionNorm: attentionNorm, q: q, k: k, v: v, o: o, qNorm: qNorm, kNorm: kNorm,
                         mlpNorm: mlpNorm, gate: gate, up: up, down: down)
        }
        finalNorm = variable("model.norm.weight", model.finalNorm, [model.finalNorm.count])
        if model.output.weight.bytes.baseAddress == model.embedding.bytes.baseAddress {
            head = LinearLayer(weight: .trainable(table), bias: nil, lora: nil)
        } else {
            head = linear("lm_head", model.output)
        }
        namedParameters = named
    }

    /// LoRA on every linear layer except the head (`all-linear`), over a frozen base kept in
    /// its file type. A is seeded uniform in ±1/√in (PEFT's Kaiming-uniform bound), B zero.
    init(lora model: LlamaModel, rank: Int, alpha: Float, seed: UInt64) {
        config = model.config
        rope = model.rope
        var random = RandomSource(seed: seed)
        var named: [(String, Variable)] = []
        func frozen(_ v: [Float]) -> Variable { Variable(v, shape: [v.count]) }
        func linear(_ name: String, _ l: Linear) -> LinearLayer {
            let bound = 1 / Float(l.inFeatures).squareRoot()
            let a = Variable((0..<(rank * l.inFeatures)).map { _ in Float(random.nextUnit() * 2 - 1) * bound },
                             shape: [rank, l.inFeatures], requiresGrad: true)
            let b = Variable(zeros: [l.outFeatures, rank], requiresGrad: true)
            named.append((name + ".lora_A.weight", a))
            named.append((name + ".lora_B.weight", b))
            return LinearLayer(weight: .frozen(l.weight), bias: l.bias.map(frozen),
                               lora: LoRA(a: a, b: b, scale: alpha / Float(rank)))
        }
        embedding = .frozen(model.embedding)
        layers = model.layers.enumerated().map { i, l in
            let p = "model.layers.\(i)."
            return Layer(attentionNorm: frozen(l.attentionNorm),
                         q: linear(p + "self_attn.q_proj", l.q), k: linear(p + "self_attn.k_proj", l.k),
                         v: linear(p + "self_attn.v_proj", l.v), o: linear(p + "self_attn.o_proj", l.o),
                         qNorm: l.qNorm.map(frozen), kNorm: l.kNorm.map(frozen), mlpNorm: frozen(l.mlpNorm),
                         gate: linear(p + "mlp.gate_proj", l.gate), up: linear(p + "mlp.up_proj", l.up),
                         down: linear(p + "mlp.down_proj", l.down))
        }
        finalNorm = frozen(model.finalNorm)
        head = LinearLayer(weight: .frozen(model.output.weight), bias: nil, lora: nil)
        namedParameters = named
    }

    /// Mean next-token cross-entropy of packed sequences (`tokens` holds them one after the
    /// other, `sequenceLengths` their lengths). `targets` is aligned with `tokens`: the label
    /// to predict from each position, -100 where nothing counts (see `causalTargets`).
    /// `predictions`, when given, receives the arg-max token at each position whose target counts.
    func loss(_ tape: Tape, tokens: [Int], targets: [Int], sequenceLengths: [Int],
              predictions: UnsafeMutablePointer<Int32>? = nil) -> Variable {
        let shape = BatchShape(self, tokens: tokens, targets: targets, sequenceLengths: sequenceLengths)
        var x = embed(tape, tokens)
        for l in layers { x = layerForward(tape, l, x, shape) }
        return headLoss(tape, x, targets, predictions: predictions)
    }

    /// Positions and attention layout of one packed batch.
    struct BatchShape {
        let positions: [Int]
        let layout: AttentionLayout
        init(_ model: TrainableLlama, tokens: [Int], targets: [Int], sequenceLengths: [Int]) {
            precondition(tokens.count == targets.count && sequenceLengths.reduce(0, +) == tokens.count,
                         "loss: \(tokens.count) tokens, \(targets.count) targets, sequences \(sequenceLengths)")
            let c = model.config
            positions = sequenceLengths.flatMap { 0..<$0 }
            layout = AttentionLayout(heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim,
                                     sequenceLengths: sequenceLengths)
        }
    }

    func embed(_ tape: Tape, _ tokens: [Int]) -> Variable {
        switch embedding {
        case .trainable(let table): return tape.embedding(tokens, table: table)
        case .frozen(let table): return tape.frozenEmbedding(tokens, table: table)
        }
    }

    /// One decoder layer: x + attention(norm(x)), then + MLP(norm(·)).
    func layerForward(_ tape: Tape, _ l: Layer, _ input: Variable, _ shape: BatchShape) -> Variable {
        let c = config, eps = Float(c.rmsNormEps)
        let h = tape.rmsNorm(input, weight: l.attentionNorm, eps: eps)
        var q = apply(l.q, h, tape), k = apply(l.k, h, tape)
        let v = apply(l.v, h, tape)
        if let qn = l.qNorm, let kn = l.kNorm {
            q = tape.rmsNorm(q, weight: qn, eps: eps)
            k = tape.rmsNorm(k, weight: kn, eps: eps)
        }
        q = tape.rope(q, heads: c.headCount, positions: shape.positions, rotary: rope)
        k = tape.rope(k, heads: c.kvHeadCount, positions: shape.positions, rotary: rope)
        let attended = tape.attention(q: q, k: k, v: v, layout: shape.layout)
        let x = tape.add(input, apply(l.o, attended, tape))
        let m = tape.rmsNorm(x, weight: l.mlpNorm, eps: eps)
        let act = tape.swiglu(gate: apply(l.gate, m, tape), up: apply(l.up, m, tape))
        return tape.add(x, apply(l.down, act, tape))
    }

    func headLoss(_ tape: Tape, _ x: Variable, _ targets: [Int], predictions: UnsafeMutablePointer<Int32>? = nil) -> Variable {
        let logits = apply(head, tape.rmsNorm(x, weight: finalNorm, eps: Float(config.rmsNormEps)), tape)
        return tape.crossEntropy(logits: logits, labels: targets, predictions: predictions)
    }

    private func apply(_ l: LinearLayer, _ x: Variable, _ tape: Tape) -> Variable {
        var y: Variable
        switch l.weight {
        case .trainable(let w): y = tape.linear(x, weight: w, bias: l.bias)
        case .frozen(let w):
            y = tape.frozenLinear(x, weight: w, bias: l.bias)
        }
        if let lora = l.lora {
            let low = tape.linear(tape.linear(x, weight: lora.a), weight: lora.b)
            y = tape.add(y, tape.scale(low, lora.scale))
        }
        return y
    }

    /// HF's causal-LM shift: the target at each position is the next position's label within
    /// the same sequence; the last position of each sequence predicts nothing (-100).
    static func causalTargets(labels: [Int], sequenceLengths: [Int]) -> [Int] {
        var out = [Int](repeating: Tape.ignoredLabel, count: labels.count)
        var start = 0
        for len in sequenceLengths {
            for i in 0..<max(len - 1, 0) { out[start + i] = labels[start + i + 1] }
            start += len
        }
        return out
    }
}
