extension TrainableLlama {
    /// Forward and backward with gradient checkpointing per decoder layer (HF's
    /// `gradient_checkpointing`): the forward keeps only each layer's input; backward
    /// recomputes one layer at a time on its own tape and continues from its input's gradient.
    /// Activations in memory: one layer's instead of all of them, for one more forward.
    /// Adds into the parameters' gradients exactly what `loss` + `Tape.backward` would; returns
    /// the loss. `lossWeight` multiplies the gradients (a micro-batch's share of an accumulated
    /// step); `predictions` as in `loss`.
    func checkpointedLossAndBackward(tokens: [Int], targets: [Int], sequenceLengths: [Int], lossWeight: Float = 1,
                                     predictions: UnsafeMutablePointer<Int32>? = nil,
                                     pool: ThreadPool = .shared) -> Float {
        let shape = BatchShape(self, tokens: tokens, targets: targets, sequenceLengths: sequenceLengths)
        let embedTape = Tape(pool: pool)
        let embedded = embed(embedTape, tokens, shape)
        let evaluation = Tape(pool: pool, recordsGradients: false)
        var inputs: [Variable] = []
        var x = embedded
        for l in layers {
            inputs.append(x)
            x = layerForward(evaluation, l, x, shape)
        }
        let headTape = Tape(pool: pool)
        let last = x.detached()
        let loss = headLoss(headTape, last, targets, predictions: predictions)
        headTape.backward(from: loss, seed: [lossWeight])
        var seed = last.gradient
        for (l, input) in zip(layers, inputs).reversed() {
            guard let upstream = seed else { break }
            let tape = Tape(pool: pool)
            let start = input.detached()
            let out = layerForward(tape, l, start, shape)
            tape.backward(from: out, seed: upstream)
            seed = start.gradient
        }
        if let upstream = seed, embedded.requiresGrad { embedTape.backward(from: embedded, seed: upstream) }
        return loss.values[0]
    }
}

extension Variable {
    /// A copy of the values as a new leaf that requires a gradient (the start of a recomputed
    /// segment).
    func detached() -> Variable {
        let v = Variable(zeros: shape, requiresGrad: true)
        v.data.update(from: data, count: count)
        return v
    }
}
