/// Folding a LoRA adapter into new weights, and checking that the result answers as the
/// adapted model does.
extension LlamaModel {
    /// A new model with `adapter` folded in: W' = W + s·B·A on every adapted layer (DoRA:
    /// W' = m/‖W + s·B·A‖ ⊙ (W + s·B·A), row by row), the adapter's biases and saved modules in
    /// place. A quantized weight is dequantized, merged and quantized again. `quantizeTo` nil
    /// keeps each merged tensor's own type (a row length the block does not divide takes
    /// `ModelQuantization`'s fallback); `.f32` keeps the merged tensors in f32; another type
    /// quantizes them to it. Tensors the adapter does not touch are shared with this model.
    public func merging(_ adapter: LoRAAdapter, quantizeTo target: GGMLType? = nil, pool: ThreadPool = .shared) throws -> LlamaModel {
        let adapted = try adapted(by: adapter)
        func storedAs(_ original: GGMLType, rowLength: Int) -> GGMLType {
            ModelQuantization.type(for: target ?? original, rowLength: rowLength)
        }
        func fold(_ name: String, _ l: Linear) -> Linear {
            guard let lora = l.lora else { return l }
            let out = l.outFeatures, inF = l.inFeatures
            let buffer = OwnedBuffer(byteCount: out * inF * 4)
            let w = buffer.pointer.bindMemory(to: Float.self, capacity: out * inF)
            pool.parallelRanges(out, minimum: 64) { rows in dequantizeRows(l.weight, rows: rows, into: w) }
            lora.merge(into: w)
            let merged = RawTensor(name: name + ".weight", type: .f32, shape: [out, inF], bytes: buffer.bytes, owner: buffer)
            return Linear(weight: ModelQuantization.convert(merged, to: storedAs(l.weight.type, rowLength: inF), pool: pool),
                          bias: l.bias)
        }
        let layers = adapted.mapLinears(fold)
        var emb = adapted.embedding
        if emb.bytes.baseAddress != embedding.bytes.baseAddress {
            emb = ModelQuantization.convert(emb, to: storedAs(embedding.type, rowLength: emb.rowLength), pool: pool)
        }
        var out = fold("lm_head", adapted.output)
        if out.weight.bytes.baseAddress != output.weight.bytes.baseAddress && adapted.output.lora == nil {
            out = Linear(weight: ModelQuantization.convert(out.weight, to: storedAs(output.weight.type, rowLength: out.inFeatures), pool: pool),
                         bias: out.bias)
        }
        return LlamaModel(config: config, embedding: emb, layers: layers, finalNorm: finalNorm, output: out,
                          rope: rope, owners: owners)
    }

    /// For each prompt, the largest |Δlogit| over every position and token between this model
    /// and `other` (e.g. an adapted model and its merge).
    public func largestLogitDifferences(from other: LlamaModel, prompts: [[Int]]) throws -> [Float] {
        try prompts.map { ids in
            let a = try forward(ids, cache: makeCache(capacity: ids.count), allLogits: true)
            let b = try other.forward(ids, cache: other.makeCache(capacity: ids.count), allLogits: true)
            guard a.count == b.count else { throw ModelError("the two models' vocabularies differ (\(config.vocabSize) and \(other.config.vocabSize))") }
            var worst: Float = 0
            for i in 0..<a.count { worst = max(worst, abs(a[i] - b[i])) }
            return worst
        }
    }
}
