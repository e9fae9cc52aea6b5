/// A Llama-family decoder as a training graph over `Tape` ops: the same computation as
/// `LlamaModel.forward`, with each weight either a trainable f32 `Variable` or a frozen tensor
/// in its file type, and optional LoRA matrices (with DoRA's magnitude) on the linear layers.
///
/// How each weight is held is decided once, by the initialiser: full fine-tuning (all or some
/// weights trainable, `TrainableLlama+FullFineTuning.swift`) or a PEFT-style LoRA adapter
/// (`TrainableLlama+LoRA.swift`).
final class TrainableLlama {
    typealias Weight = LinearWeight

    /// y += scale · B·(A·drop(x)), A [rank, in], B [out, rank]; with DoRA (`magnitude`) the
    /// output is rescaled per row as PEFT's `DoraLinearLayer` does.
    struct LoRA {
        let a: Variable
        let b: Variable
        let scale: Float
        /// Dropout probability on the LoRA branch's input (training only).
        let dropout: Float
        /// DoRA's magnitude vector m [out].
        let magnitude: Variable?
        /// PiSSA's A₀ and B₀ (the values before training), whose product was taken out of the
        /// base weight; `exportAdapter` folds them back in (PEFT's conversion to plain LoRA).
        let initialA: [Float]?
        let initialB: [Float]?
    }

    struct LinearLayer {
        /// HF module name, e.g. `model.layers.0.self_attn.q_proj`.
        let name: String
        let weight: Weight
        let bias: Variable?
        var lora: LoRA?
        /// Distinguishes this layer's dropout stream from every other layer's.
        let streamIndex: UInt64
    }

    struct Layer {
        let index: Int
        let attentionNorm: Variable
        var q, k, v, o: LinearLayer
        let qNorm, kNorm: Variable?
        let mlpNorm: Variable
        var gate, up, down: LinearLayer
        var linears: [LinearLayer] { [q, k, v, o, gate, up, down] }
    }

    let config: ModelConfig
    let rope: RotaryEmbedding
    let embedding: Weight
    var layers: [Layer]
    let finalNorm: Variable
    let head: LinearLayer
    /// Trainable parameters by name, in HF's `named_parameters` order: HF names for full
    /// fine-tuning, PEFT's saved-file names (without `base_model.model.`) for LoRA, e.g.
    /// `model.layers.0.self_attn.q_proj.lora_A.weight`, `...q_proj.lora_magnitude_vector`.
    private(set) var namedParameters: [(name: String, variable: Variable)] = []
    /// The adapter's configuration when this is a LoRA graph (nil for full fine-tuning).
    let loraConfig: LoRAConfig?

    /// PyTorch's `model.train()` / `model.eval()`: LoRA dropout and NEFTune noise only apply
    /// while training.
    var isTraining = true
    /// NEFTune noise on the embedding output while training (HF's `neftune_noise_alpha`).
    var neftune: NEFTune?
    /// LoRA+ (ms-swift's `lorap_lr_ratio`): see `trainableParameters`.
    var lorapLearningRateRatio: Float?
    /// Seeds every random stream of training (dropout masks, NEFTune noise).
    let trainingSeed: UInt64
    /// Forward passes started; with `trainingSeed` and a layer's stream index it fixes that
    /// layer's dropout mask, so a checkpointed layer recomputes the mask of its forward.
    var forwardCount: UInt64 = 0

    /// Decides how each weight of the model is held; `init(model:plan:)` walks the model in HF's
    /// `named_parameters` order and asks it.
    protocol Plan {
        /// Parameters made so far, in the order made.
        var named: [(String, Variable)] { get }
        mutating func embedding(_ table: RawTensor) throws -> Weight
        /// A norm weight (or other vector) under its HF tensor name.
        mutating func vector(_ name: String, _ values: [Float]) -> Variable
        mutating func linear(_ name: String, _ l: Linear, stream: UInt64) throws -> LinearLayer
        /// The output head; `tiedTo` is the embedding when the model ties them.
        mutating func head(_ l: Linear, tiedTo: Weight?, stream: UInt64) throws -> LinearLayer
    }

    init<P: Plan>(model: LlamaModel, plan: inout P, loraConfig: LoRAConfig?, seed: UInt64) throws {
        config = model.config
        rope = model.rope
        self.loraConfig = loraConfig
        trainingSeed = seed
        let table = try plan.embedding(model.embedding)
        embedding = table
        var stream: UInt64 = 0
        func next() -> UInt64 { stream += 1; return stream }
        var built: [Layer] = []
        for (i, l) in model.layers.enumerated() {
            let p = "model.layers.\(i)."
            // HF's module order inside a decoder layer: self_attn (q, k, v, o, q_norm, k_norm),
            // mlp (gate, up, down), input_layernorm, post_attention_layernorm.
            let q = try plan.linear(p + "self_attn.q_proj", l.q, stream: next())
            let k = try plan.linear(p + "self_attn.k_proj", l.k, stream: next())
            let v = try plan.linear(p + "self_attn.v_proj", l.v, stream: next())
            let o = try plan.linear(p + "self_attn.o_proj", l.o, stream: next())
            let qNorm = l.qNorm.map { plan.vector(p + "self_attn.q_norm.weight", $0) }
            let kNorm = l.kNorm.map { plan.vector(p + "self_attn.k_norm.weight", $0) }
            let gate = try plan.linear(p + "mlp.gate_proj", l.gate, stream: next())
            let up = try plan.linear(p + "mlp.up_proj", l.up, stream: next())
            let down = try plan.linear(p + "mlp.down_proj", l.down, stream: next())
            let attentionNorm = plan.vector(p + "input_layernorm.weight", l.attentionNorm)
            let mlpNorm = plan.vector(p + "post_attention_layernorm.weight", l.mlpNorm)
            built.append(Layer(index: i, attentionNorm: attentionNorm, q: q, k: k, v: v, o: o, qNorm: qNorm, kNorm: kNorm,
                               mlpNorm: mlpNorm, gate: gate, up: up, down: down))
        }
        layers = built
        finalNorm = plan.vector("model.norm.weight", model.finalNorm)
        let tied = model.output.weight.bytes.baseAddress == model.embedding.bytes.baseAddress
        head = try plan.head(model.output, tiedTo: tied ? table : nil, stream: next())
        namedParameters = plan.named
    }

    /// Mean next-token cross-entropy of packed sequences (`tokens` holds them one after the
    /// other, `sequenceLengths` their lengths). `targets` is aligned with `tokens`: the label
    /// to predict from each position, -100 where nothing counts (see `causalTargets`).
    /// `predictions`, when given, receives the arg-max token at each position whose target counts.
    func loss(_ tape: Tape, tokens: [Int], targets: [Int], sequenceLengths: [Int],
              predictions: UnsafeMutablePointer<Int32>? = nil) -> Variable {
        let shape = BatchShape(self, tokens: tokens, targets: targets, sequenceLengths: sequenceLengths)
        var x = embed(tape, tokens, shape)
        for l in layers { x = layerForward(tape, l, x, shape) }
        return headLoss(tape, x, targets, predictions: predictions)
    }

    /// Positions and attention layout of one packed batch.
    struct BatchShape {
        let positions: [Int]
        let layout: AttentionLayout
        let sequenceLengths: [Int]
        init(_ model: TrainableLlama, tokens: [Int], targets: [Int], sequenceLengths: [Int]) {
            precondition(tokens.count == targets.count && sequenceLengths.reduce(0, +) == tokens.count,
                         "loss: \(tokens.count) tokens, \(targets.count) targets, sequences \(sequenceLengths)")
            let c = model.config
            positions = sequenceLengths.flatMap { 0..<$0 }
            layout = AttentionLayout(heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim,
                                     sequenceLengths: sequenceLengths)
            self.sequenceLengths = sequenceLengths
        }
    }

    /// The embedding rows of `tokens` (plus NEFTune noise while training). Starts a forward
    /// pass: every forward calls it exactly once, before any layer.
    func embed(_ tape: Tape, _ tokens: [Int], _ shape: BatchShape) -> Variable {
        forwardCount &+= 1
        let x: Variable
        switch embedding {
        case .trainable(let table): x = tape.embedding(tokens, table: table)
        case .frozen(let table): x = tape.frozenEmbedding(tokens, table: table)
        }
        guard isTraining, let neftune, neftune.alpha > 0 else { return x }
        var random = RandomSource(seed: streamSeed(0))
        return tape.add(x, neftune.noise(like: x, sequenceLengths: shape.sequenceLengths, random: &random))
    }

    /// The seed of one random stream of the current forward pass.
    func streamSeed(_ stream: UInt64) -> UInt64 {
        trainingSeed ^ (forwardCount &* 0x9E37_79B9_7F4A_7C15) ^ (stream &* 0xD1B5_4A32_D192_ED03)
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
        let normed = tape.rmsNorm(x, weight: finalNorm, eps: Float(config.rmsNormEps))
        guard head.lora != nil else {
            return tape.linearCrossEntropy(normed, weight: head.weight, bias: head.bias, labels: targets, predictions: predictions)
        }
        return tape.crossEntropy(logits: apply(head, normed, tape), labels: targets, predictions: predictions)
    }

    /// The base layer alone: W·x (+ b).
    private func base(_ l: LinearLayer, _ x: Variable, _ tape: Tape, bias: Variable?) -> Variable {
        switch l.weight {
        case .trainable(let w): return tape.linear(x, weight: w, bias: bias)
        case .frozen(let w): return tape.frozenLinear(x, weight: w, bias: bias)
        }
    }

    /// PEFT's LoRA `Linear.forward`: base(x) + scale·B·A·drop(x); with DoRA, PEFT's
    /// `result + (m/n − 1)⊙W·x' + (m/n)⊙scale·B·A·x'` where x' is the dropped-out input while
    /// training with dropout, else x' = x and the base result is reused (then the whole is
    /// (m/n)⊙(W·x + scale·B·A·x) + b).
    func apply(_ l: LinearLayer, _ x: Variable, _ tape: Tape) -> Variable {
        guard let lora = l.lora else { return base(l, x, tape, bias: l.bias) }
        var dropped = x
        if isTraining && lora.dropout > 0 {
            var random = RandomSource(seed: streamSeed(l.streamIndex))
            dropped = tape.dropout(x, p: lora.dropout, random: &random)
        }
        guard let m = lora.magnitude else {
            return tape.loraLinear(x, weight: l.weight, bias: l.bias, a: lora.a, b: lora.b, scale: lora.scale,
                                   loraInput: dropped === x ? nil : dropped)
        }
        let low = tape.scale(tape.linear(tape.linear(dropped, weight: lora.a), weight: lora.b), lora.scale)
        let norm = doraNorm(l, lora, tape)
        if dropped === x {
            return tape.doraScale(tape.add(base(l, x, tape, bias: nil), low), magnitude: m, weightNorm: norm, bias: l.bias)
        }
        let result = base(l, x, tape, bias: l.bias)
        let wx = base(l, dropped, tape, bias: nil)
        let scaled = tape.doraScale(tape.add(wx, low), magnitude: m, weightNorm: norm)
        return tape.add(tape.add(result, scaled), tape.scale(wx, -1))
    }

    /// ‖W + scale·B·A‖ per output row, from the current A and B (no gradient flows through it).
    func doraNorm(_ l: LinearLayer, _ lora: LoRA, _ tape: Tape) -> [Float] {
        switch l.weight {
        case .frozen(let w): return tape.doraWeightNorm(w, a: lora.a, b: lora.b, scale: lora.scale)
        case .trainable(let w):
            let raw = RawTensor(name: l.name, type: .f32, shape: w.shape,
                                bytes: UnsafeRawBufferPointer(start: w.data, count: w.count * 4), owner: w)
            return tape.doraWeightNorm(raw, a: lora.a, b: lora.b, scale: lora.scale)
        }
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
