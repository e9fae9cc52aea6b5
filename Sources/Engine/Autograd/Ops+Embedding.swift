// Token embedding lookup: out[t, :] = table[ids[t], :].

extension Tape {
    /// Rows of a trainable table [vocab, dim]; backward scatter-adds into the rows used.
    public func embedding(_ ids: [Int], table: Variable) -> Variable {
        precondition(table.shape.count == 2, "embedding table must be [vocab, dim], got \(table.shape)")
        let vocab = table.shape[0], d = table.shape[1]
        let y = output([ids.count, d], [table])
        for (t, id) in ids.enumerated() {
            precondition(id >= 0 && id < vocab, "token id \(id) is outside the vocabulary (0..<\(vocab))")
            (y.data + t &* d).update(from: table.data + id &* d, count: d)
        }
        record(.embedding(ids: ids.map { Int32($0) }, table: table), y)
        return y
    }

    /// Rows of a frozen table in its file type, dequantized per row (no gradient).
    public func frozenEmbedding(_ ids: [Int], table: RawTensor) -> Variable {
        precondition(table.shape.count == 2, "embedding table must be [vocab, dim], got \(table.shape)")
        let vocab = table.shape[0], d = table.shape[1]
        let y = Variable(output: [ids.count, d], requiresGrad: false)
        for (t, id) in ids.enumerated() {
            precondition(id >= 0 && id < vocab, "token id \(id) is outside the vocabulary (0..<\(vocab))")
            table.dequantizeRow(id, into: y.data + t &* d)
        }
        return y
    }

    func embeddingBackward(ids: [Int32], table: Variable, dy: UnsafePointer<Float>) {
        let d = table.shape[1], g = table.gradBuffer()
        for (t, id) in ids.enumerated() { addInPlace(g + Int(id) &* d, dy + t &* d, d) }
    }
}
