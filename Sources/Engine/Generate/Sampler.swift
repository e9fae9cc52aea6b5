#if canImport(Glibc)
import Glibc
#endif

/// How the next token is chosen from the logits, in the order HF applies the steps:
/// repetition penalty, temperature, top-k, top-p, then a draw (or argmax when temperature is 0).
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Double = 0
    /// 0 or less: no top-k cut.
    public var topK: Int = 0
    /// 1: no nucleus cut.
    public var topP: Double = 1
    /// 1: no penalty. Above 1 discourages tokens already in the prompt or the answer.
    public var repetitionPenalty: Double = 1
    public init(temperature: Double = 0, topK: Int = 0, topP: Double = 1, repetitionPenalty: Double = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
    }
    public var isGreedy: Bool { temperature <= 0 }
}

struct Sampler {
    var parameters: SamplingParameters
    var random: RandomSource

    /// Divides positive logits of seen tokens by the penalty and multiplies negative ones (HF).
    static func applyRepetitionPenalty(_ logits: inout [Float], seen: Set<Int>, penalty: Double) {
        guard penalty != 1 else { return }
        let p = Float(penalty)
        for t in seen where t >= 0 && t < logits.count {
            logits[t] = logits[t] > 0 ? logits[t] / p : logits[t] * p
        }
    }

    mutating func sample(_ raw: [Float], seen: Set<Int>) -> Int {
        var logits = raw
        Sampler.applyRepetitionPenalty(&logits, seen: seen, penalty: parameters.repetitionPenalty)
        if parameters.isGreedy { return argmax(logits) }
        let invT = Float(1 / parameters.temperature)
        var candidates = logits.indices.map { ($0, logits[$0] * invT) }
        if parameters.topK > 0 && parameters.topK < candidates.count {
            candidates = Array(topIndices(candidates, parameters.topK))
        } else {
            candidates.sort { $0.1 > $1.1 }
        }
        // Softmax over the survivors (sorted high to low).
        let m = candidates[0].1
        var probs = candidates.map { Double(expf($0.1 - m)) }
        let total = probs.reduce(0, +)
        for i in probs.indices { probs[i] /= total }
        var keep = probs.count
        if parameters.topP < 1 {
            var cumulative = 0.0
            for (i, p) in probs.enumerated() {
                cumulative += p
                if cumulative >= parameters.topP { keep = i + 1; break }
            }
        }
        let kept = probs[0..<keep].reduce(0, +)
        var u = random.nextUnit() * kept
        for i in 0..<keep {
            u -= probs[i]
            if u < 0 { return candidates[i].0 }
        }
        return candidates[keep - 1].0
    }

    private func topIndices(_ c: [(Int, Float)], _ k: Int) -> ArraySlice<(Int, Float)> {
        // Ties keep the lower id first, like a stable sort.
        c.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.prefix(k)
    }
}

func argmax(_ x: [Float]) -> Int {
    var best = 0
    var value = -Float.infinity
    for (i, v) in x.enumerated() where v > value {
        value = v
        best = i
    }
    return best
}

/// log softmax of the logits, in Double for accuracy.
func logSoftmax(_ logits: [Float]) -> [Float] {
    let m = logits.max() ?? 0
    var s = 0.0
    for v in logits { s += exp(Double(v - m)) }
    let lse = Double(m) + log(s)
    return logits.map { Float(Double($0) - lse) }
}
