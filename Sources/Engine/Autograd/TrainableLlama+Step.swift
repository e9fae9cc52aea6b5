/// Figures of one forward pass over a micro-batch: summed loss, and token / sequence accuracy
/// (ms-swift's `acc_strategy` token and seq) over the positions whose target counts.
struct PassFigures: Sendable {
    var lossSum: Double = 0
    var countedTokens = 0
    var correctTokens = 0
    var countedSequences = 0
    var correctSequences = 0

    static func += (a: inout PassFigures, b: PassFigures) {
        a.lossSum += b.lossSum
        a.countedTokens += b.countedTokens
        a.correctTokens += b.correctTokens
        a.countedSequences += b.countedSequences
        a.correctSequences += b.correctSequences
    }

    var meanLoss: Double { countedTokens == 0 ? 0 : lossSum / Double(countedTokens) }
    var tokenAccuracy: Double { countedTokens == 0 ? 0 : Double(correctTokens) / Double(countedTokens) }
    var sequenceAccuracy: Double { countedSequences == 0 ? 0 : Double(correctSequences) / Double(countedSequences) }
}

/// A micro-batch as the model takes it: samples one after the other, attention kept inside each
/// sequence, targets already shifted.
struct PackedBatch {
    var tokens: [Int] = []
    var targets: [Int] = []
    var sequenceLengths: [Int] = []

    init(_ samples: [TokenizedSample]) {
        for s in samples {
            tokens += s.ids
            targets += TrainableLlama.causalTargets(labels: s.labels, sequenceLengths: s.sequenceLengths)
            sequenceLengths += s.sequenceLengths
        }
    }

    var countedTokens: Int { targets.reduce(0) { $1 == Tape.ignoredLabel ? $0 : $0 + 1 } }
}

extension TrainableLlama {
    /// Forward and backward of one micro-batch, adding `lossWeight` × d(mean loss) into the
    /// parameters' gradients.
    func trainingPass(_ batch: PackedBatch, lossWeight: Float, checkpointing: Bool) -> PassFigures {
        guard !batch.tokens.isEmpty else { return PassFigures() }
        var predictions = [Int32](repeating: -1, count: batch.tokens.count)
        let loss: Float = predictions.withUnsafeMutableBufferPointer { p in
            if checkpointing {
                return checkpointedLossAndBackward(tokens: batch.tokens, targets: batch.targets,
                                                   sequenceLengths: batch.sequenceLengths, lossWeight: lossWeight,
                                                   predictions: p.baseAddress!)
            }
            let tape = Tape()
            let l = self.loss(tape, tokens: batch.tokens, targets: batch.targets,
                              sequenceLengths: batch.sequenceLengths, predictions: p.baseAddress!)
            tape.backward(from: l, seed: [lossWeight])
            return l.values[0]
        }
        return Self.figures(batch, loss: loss, predictions: predictions)
    }

    /// The loss and accuracy of one micro-batch without gradients (evaluation).
    func evaluationPass(_ batch: PackedBatch) -> PassFigures {
        guard !batch.tokens.isEmpty else { return PassFigures() }
        var predictions = [Int32](repeating: -1, count: batch.tokens.count)
        let loss: Float = predictions.withUnsafeMutableBufferPointer { p in
            let tape = Tape(recordsGradients: false)
            return self.loss(tape, tokens: batch.tokens, targets: batch.targets,
                             sequenceLengths: batch.sequenceLengths, predictions: p.baseAddress!).values[0]
        }
        return Self.figures(batch, loss: loss, predictions: predictions)
    }

    private static func figures(_ batch: PackedBatch, loss: Float, predictions: [Int32]) -> PassFigures {
        var f = PassFigures()
        var start = 0
        for length in batch.sequenceLengths {
            var counted = 0, correct = 0
            for i in start..<(start + length) where batch.targets[i] != Tape.ignoredLabel {
                counted += 1
                if Int(predictions[i]) == batch.targets[i] { correct += 1 }
            }
            if counted > 0 {
                f.countedSequences += 1
                if correct == counted { f.correctSequences += 1 }
            }
            f.countedTokens += counted
            f.correctTokens += correct
            start += length
        }
        f.lossSum = Double(loss) * Double(f.countedTokens)
        return f
    }
}

extension TrainableLlama {
    /// The position of the training random streams (dropout, NEFTune), for checkpoints: with
    /// the seed, the count of forward passes fixes every later mask.
    var randomState: [UInt64] {
        get { [forwardCount] }
        set { if let c = newValue.first { forwardCount = c } }
    }
}
