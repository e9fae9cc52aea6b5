/// The weights of one decoder layer.
struct DecoderLayer {
    let attentionNorm: [Float]
    let q, k, v, o: Linear
    let qNorm: [Float]?
    let kNorm: [Float]?
    let mlpNorm: [Float]
    let gate, up, down: Linear
}

/// Errors raised while assembling a model from its tensors.
public struct ModelError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A Llama-family decoder (Llama, SmolLM2, Mistral, Qwen2, Qwen3): RMSNorm, RoPE, grouped-query
/// attention, SwiGLU, tied or separate output head. Weights stay in their file types.
public final class LlamaModel: @unchecked Sendable {
    public let config: ModelConfig
    let embedding: RawTensor
    let layers: [DecoderLayer]
    let finalNorm: [Float]
    let output: Linear
    let rope: RotaryEmbedding
    /// Keeps the files the tensors point into alive.
    let owners: [AnyObject]

    /// Builds the model from tensors named as in HF checkpoints
    /// (`model.layers.0.self_attn.q_proj.weight`, ...), checking every shape.
    public init(config: ModelConfig, ropeStyle: RopeStyle, tensor: (String) -> RawTensor?) throws {
        self.config = config
        var owners: [ObjectIdentifier: AnyObject] = [:]
        func fetch(_ name: String, _ shape: [Int]) throws -> RawTensor {
            guard let t = tensor(name) else { throw ModelError("missing tensor \(name)") }
            guard t.shape == shape else {
                throw ModelError("tensor \(name) has shape \(t.shape), expected \(shape)")
            }
            owners[ObjectIdentifier(t.owner)] = t.owner
            return t
        }
        func vector(_ name: String, _ n: Int) throws -> [Float] { try floatValues(fetch(name, [n])) }
        func optionalVector(_ name: String, _ n: Int) throws -> [Float]? {
            tensor(name) == nil ? nil : try vector(name, n)
        }
        func linear(_ name: String, out: Int, in inF: Int, bias: Bool) throws -> Linear {
            let w = try fetch(name + ".weight", [out, inF])
            guard inF % w.type.blockSize == 0 else { throw ModelError("tensor \(name).weight: row length \(inF) is not a multiple of the \(w.type) block") }
            let b: [Float]? = bias ? try vector(name + ".bias", out) : try optionalVector(name + ".bias", out)
            return Linear(weight: w, bias: b)
        }
        let d = config.hiddenSize, hd = config.headDim
        let qDim = config.headCount * hd, kvDim = config.kvHeadCount * hd
        guard config.headCount % max(1, config.kvHeadCount) == 0, config.kvHeadCount > 0 else {
            throw ModelError("attention heads (\(config.headCount)) must be a multiple of key-value heads (\(config.kvHeadCount))")
        }
        guard hd % 2 == 0 else { throw ModelError("head dimension \(hd) must be even for RoPE") }
        embedding = try fetch("model.embed_tokens.weight", [config.vocabSize, d])
        var layers: [DecoderLayer] = []
        for i in 0..<config.layerCount {
            let p = "model.layers.\(i)."
            layers.append(DecoderLayer(
                attentionNorm: try vector(p + "input_layernorm.weight", d),
                q: try linear(p + "self_attn.q_proj", out: qDim, in: d, bias: config.attentionBias),
                k: try linear(p + "self_attn.k_proj", out: kvDim, in: d, bias: config.attentionBias),
                v: try linear(p + "self_attn.v_proj", out: kvDim, in: d, bias: config.attentionBias),
                o: try linear(p + "self_attn.o_proj", out: d, in: qDim, bias: false),
                qNorm: config.qkNorm ? try vector(p + "self_attn.q_norm.weight", hd) : nil,
                kNorm: config.qkNorm ? try vector(p + "self_attn.k_norm.weight", hd) : nil,
                mlpNorm: try vector(p + "post_attention_layernorm.weight", d),
                gate: try linear(p + "mlp.gate_proj", out: config.intermediateSize, in: d, bias: false),
                up: try linear(p + "mlp.up_proj", out: config.intermediateSize, in: d, bias: false),
                down: try linear(p + "mlp.down_proj", out: d, in: config.intermediateSize, bias: false)))
        }
        self.layers = layers
        finalNorm = try vector("model.norm.weight", d)
        if config.tieWordEmbeddings || tensor("lm_head.weight") == nil {
            output = Linear(weight: embedding, bias: nil)
        } else {
            output = try linear("lm_head", out: config.vocabSize, in: d, bias: false)
        }
        rope = RotaryEmbedding(config: config, style: ropeStyle)
        self.owners = Array(owners.values)
    }

    /// A model from parts already checked (an adapted or merged copy of another).
    init(config: ModelConfig, embedding: RawTensor, layers: [DecoderLayer], finalNorm: [Float], output: Linear,
         rope: RotaryEmbedding, owners: [AnyObject]) {
        self.config = config
        self.embedding = embedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.output = output
        self.rope = rope
        self.owners = owners
    }

    public func makeCache(capacity: Int) -> KVCache { KVCache(config: config, capacity: capacity) }

    /// Runs `tokens` at the positions after those already in `cache`, appends their keys and
    /// values, and returns the logits of the last token (or of every token with `allLogits`,
    /// `tokens.count × vocab`, or of the tokens from index `logitsFrom` on).
    public func forward(_ tokens: [Int], cache: KVCache, allLogits: Bool = false, logitsFrom: Int? = nil) throws -> [Float] {
        let n = tokens.count
        guard n > 0 else { return [] }
        for t in tokens where t < 0 || t >= config.vocabSize {
            throw ModelError("token id \(t) is outside the vocabulary (0..<\(config.vocabSize))")
        }
        let start = cache.length
        cache.reserve(start + n)
        let ws = cache.workspace
        let d = config.hiddenSize, hd = config.headDim, f = config.intermediateSize
        let heads = config.headCount, kvHeads = config.kvHeadCount
        let qDim = heads * hd, kvDim = kvHeads * hd
        let eps = Float(config.rmsNormEps)

        let x = ws.buffer("x", capacity: n * d)
        let h = ws.buffer("h", capacity: n * d)
        let q = ws.buffer("q", capacity: n * qDim)
        let k = ws.buffer("k", capacity: n * kvDim)
        let attn = ws.buffer("attn", capacity: n * qDim)
        let gate = ws.buffer("gate", capacity: n * f)
        let up = ws.buffer("up", capacity: n * f)

        let rowBytes = embedding.bytesPerRow
        for (i, token) in tokens.enumerated() {
            dequantize(embedding.type, from: embedding.bytes.baseAddress! + token * rowBytes, to: x + i * d, count: d)
        }
        let (cosTable, sinTable) = rope.tables(start: start, count: n, totalLength: start + n)

        for (li, layer) in layers.enumerated() {
            layer.attentionNorm.withUnsafeBufferPointer { w in
                for i in 0..<n { rmsNorm(x + i * d, weight: w.baseAddress!, eps: eps, out: h + i * d, d) }
            }
            let keys = cache.keys[li], values = cache.values[li]
            // Values go straight into the cache.
            Linear.applyAll([(layer.q, q), (layer.k, k), (layer.v, values + start * kvDim)], to: h, tokens: n, workspace: ws)
            if let qn = layer.qNorm, let kn = layer.kNorm {
                qn.withUnsafeBufferPointer { w in
                    for r in 0..<(n * heads) { rmsNorm(q + r * hd, weight: w.baseAddress!, eps: eps, out: q + r * hd, hd) }
                }
                kn.withUnsafeBufferPointer { w in
                    for r in 0..<(n * kvHeads) { rmsNorm(k + r * hd, weight: w.baseAddress!, eps: eps, out: k + r * hd, hd) }
                }
            }
            cosTable.withUnsafeBufferPointer { c in
                sinTable.withUnsafeBufferPointer { s in
                    let half = hd / 2
                    for i in 0..<n {
                        rope.rotate(q + i * qDim, heads: heads, cos: c.baseAddress! + i * half, sin: s.baseAddress! + i * half)
                        rope.rotate(k + i * kvDim, heads: kvHeads, cos: c.baseAddress! + i * half, sin: s.baseAddress! + i * half)
                    }
                }
            }
            (keys + start * kvDim).update(from: k, count: n * kvDim)
            causalAttention(q: q, n: n, start: start, keys: keys, values: values,
                            heads: heads, kvHeads: kvHeads, headDim: hd, out: attn, workspace: ws)
            layer.o.apply(attn, tokens: n, into: x, accumulate: true, workspace: ws)

            layer.mlpNorm.withUnsafeBufferPointer { w in
                for i in 0..<n { rmsNorm(x + i * d, weight: w.baseAddress!, eps: eps, out: h + i * d, d) }
            }
            Linear.applyAll([(layer.gate, gate), (layer.up, up)], to: h, tokens: n, workspace: ws)
            ThreadPool.shared.parallelRanges(n * f, minimum: 4096) { r in
                swiglu(gate + r.lowerBound, up + r.lowerBound, r.count)
            }
            layer.down.apply(gate, tokens: n, into: x, accumulate: true, workspace: ws)
        }
        cache.length = start + n

        let first = min(n - 1, max(0, logitsFrom ?? (allLogits ? 0 : n - 1)))
        let rows = n - first
        finalNorm.withUnsafeBufferPointer { w in
            for i in first..<n { rmsNorm(x + i * d, weight: w.baseAddress!, eps: eps, out: h + (i - first) * d, d) }
        }
        var logits = [Float](repeating: 0, count: rows * config.vocabSize)
        logits.withUnsafeMutableBufferPointer { out in
            output.apply(h, tokens: rows, into: out.baseAddress!, accumulate: false, workspace: ws)
        }
        return logits
    }
}

/// The values of a small tensor (norm weights, biases) as Float.
func floatValues(_ t: RawTensor) throws -> [Float] {
    var out = [Float](repeating: 0, count: t.elementCount)
    guard t.elementCount % t.type.blockSize == 0 else { throw ModelError("tensor \(t.name) does not hold whole \(t.type) blocks") }
    out.withUnsafeMutableBufferPointer { dequantize(t.type, from: t.bytes.baseAddress!, to: $0.baseAddress!, count: t.elementCount) }
    return out
}

extension LlamaModel {
    /// Parameters in the weights (the tied head counted once).
    public var parameterCount: Int {
        var n = embedding.elementCount + finalNorm.count
        for l in layers {
            n += l.attentionNorm.count + l.mlpNorm.count + (l.qNorm?.count ?? 0) + (l.kNorm?.count ?? 0)
            for lin in [l.q, l.k, l.v, l.o, l.gate, l.up, l.down] { n += lin.weight.elementCount + (lin.bias?.count ?? 0) }
        }
        if output.weight.bytes.baseAddress != embedding.bytes.baseAddress { n += output.weight.elementCount }
        return n
    }

    /// The element types of the linear layers' weights, e.g. [q4_1].
    public var linearWeightTypes: [GGMLType] {
        var seen: [GGMLType] = []
        for l in layers { for lin in [l.q, l.k, l.v, l.o, l.gate, l.up, l.down] where !seen.contains(lin.weight.type) { seen.append(lin.weight.type) } }
        return seen
    }
}
