import Foundation
import Synchronization

/// A flag another thread can raise to stop long work at its next safe point.
public final class CancellationToken: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .releasing) }
    public var isCancelled: Bool { flag.load(ordering: .acquiring) }
    public func reset() { flag.store(false, ordering: .releasing) }
}

/// The generation arguments of the reference (`max_new_tokens`, `temperature`, ...), resolved.
public struct GenerationOptions: Sendable {
    /// nil: until an end token, a stop word, or the context is full.
    public var maxNewTokens: Int? = nil
    public var sampling = SamplingParameters()
    public var numBeams = 1
    /// Extra strings that end the answer; they stay in the text (end tokens do not).
    public var stopWords: [String] = []
    public var seed: UInt64 = 42
    public var logprobs = false
    /// How many alternatives to report per token with `logprobs`.
    public var topLogprobs = 0
    /// Token ids that end generation (the model's eos ids, plus the template's end token).
    public var endTokenIds: Set<Int> = []
    public init() {}
}

public struct TokenLogprob: Sendable, Equatable {
    public let id: Int
    public let text: String
    public let logprob: Float
}

/// One generated token as it streams out.
public struct GeneratedToken: Sendable {
    public let id: Int
    /// New complete text this token adds (may be empty while a multi-byte character is
    /// incomplete; end tokens add none).
    public let text: String
    public let logprob: TokenLogprob?
    public let topLogprobs: [TokenLogprob]
}

public enum FinishReason: String, Sendable { case stop, length, cancelled }

public struct GenerationResult: Sendable {
    public let tokens: [Int]
    public let text: String
    public let finishReason: FinishReason
    public let promptTokenCount: Int
    public let logprobs: [TokenLogprob]
    public let topLogprobs: [[TokenLogprob]]
    public let prefillSeconds: Double
    public let decodeSeconds: Double
}

/// Turns a prompt into an answer with a model and its tokenizer.
public final class Generator {
    public let model: LlamaModel
    public let tokenizer: Tokenizer

    public init(model: LlamaModel, tokenizer: Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    public func generate(prompt: [Int], options: GenerationOptions, cancel: CancellationToken? = nil,
                         onToken: (GeneratedToken) -> Void = { _ in }) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw ModelError("the prompt is empty") }
        let contextLimit = model.config.maxPositions
        guard prompt.count < contextLimit else {
            throw ModelError("the prompt has \(prompt.count) tokens; the model's context holds \(contextLimit)")
        }
        let budget = min(options.maxNewTokens ?? Int.max, contextLimit - prompt.count)
        if options.numBeams > 1 {
            return try beamSearch(prompt: prompt, options: options, budget: budget, cancel: cancel, onToken: onToken)
        }
        // The cache grows on demand; start small (a full 8k context is ~190 MB for SmolLM2).
        let cache = model.makeCache(capacity: min(contextLimit, prompt.count + min(budget, 256)))
        var sampler = Sampler(parameters: options.sampling, random: RandomSource(seed: options.seed))
        var seen = Set(prompt)
        var generated: [Int] = []
        var text = ""
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var logprobs: [TokenLogprob] = [], tops: [[TokenLogprob]] = []
        var finish = FinishReason.length

        let t0 = DispatchTime.now().uptimeNanoseconds
        var logits = try model.forward(prompt, cache: cache)
        let t1 = DispatchTime.now().uptimeNanoseconds
        while generated.count < budget {
            if cancel?.isCancelled == true { finish = .cancelled; break }
            let id = sampler.sample(logits, seen: seen)
            var lp: TokenLogprob? = nil
            var top: [TokenLogprob] = []
            if options.logprobs {
                let ls = logSoftmax(logits)
                lp = TokenLogprob(id: id, text: tokenizer.decode([id]), logprob: ls[id])
                if options.topLogprobs > 0 {
                    top = ls.indices.sorted { ls[$0] > ls[$1] }.prefix(options.topLogprobs)
                        .map { TokenLogprob(id: $0, text: tokenizer.decode([$0]), logprob: ls[$0]) }
                }
                logprobs.append(lp!)
                tops.append(top)
            }
            generated.append(id)
            seen.insert(id)
            if options.endTokenIds.contains(id) {
                onToken(GeneratedToken(id: id, text: "", logprob: lp, topLogprobs: top))
                finish = .stop
                break
            }
            var piece = decoder.push(id)
            if let end = Generator.stopWordEnd(in: text, newPiece: piece, stopWords: options.stopWords) {
                // Keep the text up to the end of the stop word (it stays in the answer).
                piece = String(piece[..<end])
                text += piece
                onToken(GeneratedToken(id: id, text: piece, logprob: lp, topLogprobs: top))
                finish = .stop
                break
            }
            text += piece
            onToken(GeneratedToken(id: id, text: piece, logprob: lp, topLogprobs: top))
            if generated.count >= budget { break }
            logits = try model.forward([id], cache: cache)
        }
        if finish != .stop { text += decoder.flush() }
        let t2 = DispatchTime.now().uptimeNanoseconds
        return GenerationResult(tokens: generated, text: text, finishReason: finish, promptTokenCount: prompt.count,
                                logprobs: logprobs, topLogprobs: tops,
                                prefillSeconds: Double(t1 - t0) / 1e9, decodeSeconds: Double(t2 - t1) / 1e9)
    }

    /// Where in `newPiece` the first stop word that `text + newPiece` now contains ends (a stop
    /// word may straddle the boundary), or nil.
    static func stopWordEnd(in text: String, newPiece: String, stopWords: [String]) -> String.Index? {
        var best: String.Index? = nil
        for word in stopWords where !word.isEmpty {
            // Only the tail of the old text can combine with the new piece into a match.
            let tail = String(text.suffix(word.count - 1))
            let window = tail + newPiece
            guard let r = window.range(of: word) else { continue }
            let offset = window.distance(from: window.startIndex, to: r.upperBound) - tail.count
            let end = newPiece.index(newPiece.startIndex, offsetBy: max(0, offset))
            if best == nil || end < best! { best = end }
        }
        return best
    }
}
