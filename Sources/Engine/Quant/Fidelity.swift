import Foundation

/// How well a model predicts held-out text, and how far a changed model (quantized, merged)
/// drifts from the model it came from — measured as llama.cpp's perplexity tool does: the
/// text is cut into chunks of `context` tokens and only the second half of each chunk is
/// scored, so every scored token has at least context/2 tokens before it.
public enum Fidelity {
    public struct Report: Sendable {
        public var scoredTokens: Int
        public var perplexity: Double
        public var referencePerplexity: Double?
        /// Mean KL(reference ‖ model) of the next-token distributions, in nats.
        public var meanKL: Double?
        /// Share of scored positions where both models rank the same token first.
        public var sameTopToken: Double?
    }

    /// Perplexity of `model` on `ids`, and with `reference` the KL divergence and top-token
    /// agreement against it.
    public static func evaluate(_ model: LlamaModel, reference: LlamaModel? = nil, ids: [Int], context: Int = 256,
                                maxChunks: Int = 8, cancel: CancellationToken? = nil) throws -> Report {
        let chunk = max(4, context)
        let chunks = min(maxChunks, ids.count / chunk)
        guard chunks > 0 else { throw ModelError("the evaluation text has \(ids.count) tokens; at least \(chunk) are needed") }
        var nll = 0.0, refNLL = 0.0, kl = 0.0, same = 0, scored = 0
        let vocab = model.config.vocabSize
        for c in 0..<chunks {
            if cancel?.isCancelled == true { break }
            let window = Array(ids[(c * chunk)..<((c + 1) * chunk)])
            let from = chunk / 2
            let logits = try model.forward(window, cache: model.makeCache(capacity: chunk), logitsFrom: from)
            let refLogits = try reference.map { try $0.forward(window, cache: $0.makeCache(capacity: chunk), logitsFrom: from) }
            for p in from..<(chunk - 1) {
                let r = p - from
                let row = Array(logits[(r * vocab)..<((r + 1) * vocab)])
                let lp = logSoftmaxDouble(row)
                nll -= lp[window[p + 1]]
                if let refLogits {
                    let refRow = Array(refLogits[(r * vocab)..<((r + 1) * vocab)])
                    let rp = logSoftmaxDouble(refRow)
                    refNLL -= rp[window[p + 1]]
                    var d = 0.0
                    for v in 0..<vocab { d += exp(rp[v]) * (rp[v] - lp[v]) }
                    kl += d
                    if argmax(row) == argmax(refRow) { same += 1 }
                }
                scored += 1
            }
        }
        guard scored > 0 else { throw ModelError("evaluation was cancelled before any token was scored") }
        return Report(scoredTokens: scored, perplexity: exp(nll / Double(scored)),
                      referencePerplexity: reference == nil ? nil : exp(refNLL / Double(scored)),
                      meanKL: reference == nil ? nil : kl / Double(scored),
                      sameTopToken: reference == nil ? nil : Double(same) / Double(scored))
    }

    static func logSoftmaxDouble(_ x: [Float]) -> [Double] {
        let m = Double(x.max() ?? 0)
        var s = 0.0
        for v in x { s += exp(Double(v) - m) }
        let lse = m + log(s)
        return x.map { Double($0) - lse }
    }
}
