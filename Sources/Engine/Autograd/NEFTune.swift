/// NEFTune (Jain et al. 2023) as HF's `neftune_post_forward_hook` adds it to the embedding
/// output while training: uniform noise in ±alpha/√(L·d), d the hidden size and L the
/// sequence length of the embedding output tensor `[batch, L, d]`.
///
/// HF's L is `output.size(1)`: for a padding-free or packed batch (one row holding every
/// sequence) that is the total token count; for a padded batch it is the padded length, the
/// longest sequence when the collator pads to the longest. `counting` says which the trainer's
/// batches are.
struct NEFTune {
    enum Counting {
        /// L = all tokens of the batch (`padding_free`/`packing`: input shape [1, N]).
        case packedRow
        /// L = the longest sequence (a right-padded batch [B, Lmax]).
        case longestSequence
    }

    var alpha: Float
    var counting: Counting = .packedRow

    /// The bound alpha/√(L·d) of the noise for a batch.
    func magnitude(sequenceLengths: [Int], hiddenSize: Int) -> Float {
        let length: Int
        switch counting {
        case .packedRow: length = sequenceLengths.reduce(0, +)
        case .longestSequence: length = sequenceLengths.max() ?? 0
        }
        return alpha / Float(Double(length * hiddenSize).squareRoot())
    }

    /// A constant of x's shape with every value uniform in ±magnitude.
    func noise(like x: Variable, sequenceLengths: [Int], random: inout RandomSource) -> Variable {
        let bound = magnitude(sequenceLengths: sequenceLengths, hiddenSize: x.shape.last ?? 1)
        let n = Variable(zeros: x.shape)
        for i in 0..<n.count { n.data[i] = Float(random.nextUnit() * 2 - 1) * bound }
        return n
    }
}
