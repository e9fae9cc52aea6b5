import Foundation

extension Generator {
    /// Beam search as HF runs it without sampling (length_penalty 1, early_stopping false):
    /// keep `numBeams` partial answers by total log-probability; an answer that ends (end
    /// token or stop word) is set aside with its score divided by its length; stop once no
    /// running beam can beat the worst kept answer. The best answer is streamed at the end.
    func beamSearch(prompt: [Int], options: GenerationOptions, budget: Int, cancel: CancellationToken?,
                    onToken: (GeneratedToken) -> Void) throws -> GenerationResult {
        struct Beam {
            var tokens: [Int]
            var score: Double
            var cache: KVCache
            var logits: [Float]
        }
        struct Finished { let tokens: [Int]; let normalized: Double; let endedByToken: Bool }

        let width = options.numBeams
        let t0 = DispatchTime.now().uptimeNanoseconds
        let rootCache = model.makeCache(capacity: prompt.count + min(budget, 256))
        let rootLogits = try model.forward(prompt, cache: rootCache)
        let t1 = DispatchTime.now().uptimeNanoseconds
        var beams = [Beam(tokens: [], score: 0, cache: rootCache, logits: rootLogits)]
        var finished: [Finished] = []
        var cancelled = false

        func endsWithStopWord(_ tokens: [Int]) -> Bool {
            guard !options.stopWords.isEmpty else { return false }
            let text = tokenizer.decode(tokens)
            return options.stopWords.contains { !$0.isEmpty && text.hasSuffix($0) }
        }
        func keep(_ f: Finished) {
            finished.append(f)
            finished.sort { $0.normalized > $1.normalized }
            if finished.count > width { finished.removeLast() }
        }

        var step = 0
        while step < budget && !beams.isEmpty {
            if cancel?.isCancelled == true { cancelled = true; break }
            step += 1
            var candidates: [(beam: Int, token: Int, score: Double)] = []
            for (b, beam) in beams.enumerated() {
                var logits = beam.logits
                Sampler.applyRepetitionPenalty(&logits, seen: Set(prompt + beam.tokens), penalty: options.sampling.repetitionPenalty)
                let lp = logSoftmax(logits)
                // The best 2·width continuations of each beam are enough to fill the next step.
                var best: [(Int, Float)] = []
                for (t, v) in lp.enumerated() {
                    if best.count < 2 * width { best.append((t, v)); best.sort { $0.1 > $1.1 }; continue }
                    if v > best[best.count - 1].1 { best[best.count - 1] = (t, v); best.sort { $0.1 > $1.1 } }
                }
                for (t, v) in best { candidates.append((b, t, beam.score + Double(v))) }
            }
            candidates.sort { $0.score > $1.score }
            var next: [(parent: Int, tokens: [Int], score: Double)] = []
            for (rank, c) in candidates.enumerated() {
                let tokens = beams[c.beam].tokens + [c.token]
                let endsByToken = options.endTokenIds.contains(c.token)
                if endsByToken || endsWithStopWord(tokens) {
                    // Only candidates that would have been among the kept beams may finish.
                    if rank < width {
                        keep(Finished(tokens: tokens, normalized: c.score / Double(tokens.count), endedByToken: endsByToken))
                    }
                } else {
                    next.append((c.beam, tokens, c.score))
                }
                if next.count == width { break }
            }
            if finished.count >= width, let bestRunning = next.first,
               finished.last!.normalized >= bestRunning.score / Double(bestRunning.tokens.count) {
                beams = []
                break
            }
            if step == budget {
                beams = next.map { Beam(tokens: $0.tokens, score: $0.score, cache: rootCache, logits: []) }
                break
            }
            // Each parent's cache goes to its first child; further children get copies.
            var claimed = Set<Int>()
            var newBeams: [Beam] = []
            for n in next {
                let cache: KVCache
                if claimed.insert(n.parent).inserted { cache = beams[n.parent].cache } else { cache = beams[n.parent].cache.copy() }
                newBeams.append(Beam(tokens: n.tokens, score: n.score, cache: cache, logits: []))
            }
            // A parent cache handed on must not be advanced before its copies are made.
            for i in newBeams.indices {
                newBeams[i].logits = try model.forward([newBeams[i].tokens.last!], cache: newBeams[i].cache)
            }
            beams = newBeams
        }
        for beam in beams where finished.count < width || cancelled {
            keep(Finished(tokens: beam.tokens, normalized: beam.score / Double(max(1, beam.tokens.count)), endedByToken: false))
        }
        let best = finished.first ?? Finished(tokens: [], normalized: 0, endedByToken: false)
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var text = ""
        for id in best.tokens {
            if options.endTokenIds.contains(id) { onToken(GeneratedToken(id: id, text: "", logprob: nil, topLogprobs: [])); continue }
            let piece = decoder.push(id)
            text += piece
            onToken(GeneratedToken(id: id, text: piece, logprob: nil, topLogprobs: []))
        }
        text += decoder.flush()
        let t2 = DispatchTime.now().uptimeNanoseconds
        let reason: FinishReason = cancelled ? .cancelled : (best.endedByToken || endsWithStopWord(best.tokens) ? .stop : .length)
        return GenerationResult(tokens: best.tokens, text: text, finishReason: reason, promptTokenCount: prompt.count,
                                logprobs: [], topLogprobs: [], prefillSeconds: Double(t1 - t0) / 1e9,
                                decodeSeconds: Double(t2 - t1) / 1e9)
    }
}
