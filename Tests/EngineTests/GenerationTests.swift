import XCTest
@testable import Engine

/// Generation on the tiny llama (against HF generate) and on the real default model.
final class GenerationTests: XCTestCase {
    /// A 64-token vocabulary of single ASCII characters, enough to decode the tiny model's ids.
    func tinyTokenizer() throws -> Tokenizer {
        let chars = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,")
        return try Tokenizer(gguf: GGUFTokenizerData(model: "gpt2", pre: "gpt-2", tokens: chars.map { String($0) },
                                                     tokenTypes: Array(repeating: 1, count: 64), merges: []))
    }

    func tinyGenerator() throws -> (Generator, [String: Any]) {
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/llama"), requireTokenizer: false)
        let golden = try TestPaths.json("tiny/llama/logits.json")["generate"] as! [String: Any]
        return (Generator(model: try LlamaModel(hfDirectory: dir), tokenizer: try tinyTokenizer()), golden)
    }

    func testGreedyAndBeamSearchMatchHFGenerate() throws {
        let (gen, golden) = try tinyGenerator()
        var options = GenerationOptions()
        options.maxNewTokens = golden["max_new_tokens"] as? Int
        options.endTokenIds = [golden["eos"] as! Int]
        let prompt = golden["prompt"] as! [Int]
        let greedy = try gen.generate(prompt: prompt, options: options)
        XCTAssertEqual(greedy.tokens, golden["greedy"] as! [Int])
        XCTAssertEqual(greedy.finishReason, .length)
        for (width, expected) in golden["beams"] as! [String: [Int]] {
            options.numBeams = Int(width)!
            XCTAssertEqual(try gen.generate(prompt: prompt, options: options).tokens, expected, "num_beams \(width)")
        }
    }

    func testSamplerFrequenciesFollowTheFilteredDistribution() {
        let logits: [Float] = [2.0, 1.5, 0.5, 0.0, -1.0, -3.0]
        func frequencies(_ p: SamplingParameters, draws: Int = 40_000) -> [Double] {
            var s = Sampler(parameters: p, random: RandomSource(seed: 7))
            var counts = [Double](repeating: 0, count: logits.count)
            for _ in 0..<draws { counts[s.sample(logits, seen: [])] += 1 }
            return counts.map { $0 / Double(draws) }
        }
        func softmax(_ x: [Double]) -> [Double] {
            let m = x.max()!
            let e = x.map { exp($0 - m) }
            let z = e.reduce(0, +)
            return e.map { $0 / z }
        }
        let t = 0.7
        let full = softmax(logits.map { Double($0) / t })
        for (f, p) in zip(frequencies(SamplingParameters(temperature: t)), full) { XCTAssertEqual(f, p, accuracy: 0.01) }
        // top_k 2: only the two best, renormalised.
        let k2 = softmax([Double(logits[0]) / t, Double(logits[1]) / t])
        let fk = frequencies(SamplingParameters(temperature: t, topK: 2))
        XCTAssertEqual(fk[0], k2[0], accuracy: 0.01)
        XCTAssertEqual(fk[2...].reduce(0, +), 0)
        // top_p: the smallest prefix whose mass reaches p (here the first three).
        let p = full[0] + full[1] + 0.01
        let fp = frequencies(SamplingParameters(temperature: t, topP: p))
        let head = full[0..<3].reduce(0, +)
        XCTAssertEqual(fp[0], full[0] / head, accuracy: 0.01)
        XCTAssertEqual(fp[3...].reduce(0, +), 0)
        // Temperature 0 and top_k 1 are greedy.
        XCTAssertEqual(frequencies(SamplingParameters(temperature: 0), draws: 100)[0], 1)
        XCTAssertEqual(frequencies(SamplingParameters(temperature: 1, topK: 1), draws: 100)[0], 1)
    }

    func testRepetitionPenaltyAsHFDefinesIt() {
        var logits: [Float] = [2, -2, 1]
        Sampler.applyRepetitionPenalty(&logits, seen: [0, 1], penalty: 2)
        XCTAssertEqual(logits, [1, -4, 1])
    }

    func testSameSeedSameSamples() throws {
        let (gen, golden) = try tinyGenerator()
        var o = GenerationOptions()
        o.maxNewTokens = 10
        o.sampling = SamplingParameters(temperature: 1.0, topP: 0.9)
        o.seed = 123
        let prompt = golden["prompt"] as! [Int]
        let a = try gen.generate(prompt: prompt, options: o).tokens
        XCTAssertEqual(a, try gen.generate(prompt: prompt, options: o).tokens)
        o.seed = 124
        XCTAssertNotEqual(a, try gen.generate(prompt: prompt, options: o).tokens)
    }

    func testStopWordEndsTheAnswerAndStaysInIt() {
        XCTAssertEqual(Generator.stopWordEnd(in: "the cap", newPiece: "ital of", stopWords: ["capital"]).map { "ital of"[..<$0] }, "ital")
        XCTAssertNil(Generator.stopWordEnd(in: "the", newPiece: " city", stopWords: ["capital"]))
        XCTAssertEqual(Generator.stopWordEnd(in: "", newPiece: "a\nb", stopWords: ["\n", "b"]).map { "a\nb"[..<$0] }, "a\n")
    }

    // MARK: - The real default model

    func smolLM2() throws -> LoadedModel { try SharedModels.smolLM2() }

    func testChatPromptAndAnswerMatchLlamaCpp() throws {
        let golden = try TestPaths.json("smollm2/llamacpp-prompt.json")
        let m = try smolLM2()
        let messages = [ChatMessage(role: "user", content: "What is the capital of France? Answer in one sentence.")]
        // SmolLM2's own template supplies its default system prompt.
        let text = try m.renderPrompt(messages)
        XCTAssertEqual(text, golden["prompt"] as! String)
        XCTAssertEqual(m.promptIds(text), golden["ids"] as! [Int])
        var streamed = ""
        let result = try m.respond(to: messages) { streamed += $0.text }
        let expected = golden["greedy"] as! [Int]
        let end = expected.firstIndex(where: { m.endTokenIds.contains($0) })!
        XCTAssertEqual(result.tokens, Array(expected[...end]))
        XCTAssertEqual(result.finishReason, .stop)
        XCTAssertEqual(result.text, "The capital of France is Paris.")
        XCTAssertEqual(streamed, result.text)
    }

    func testMaxNewTokensStopWordsAndCancellation() throws {
        let m = try smolLM2()
        let messages = [ChatMessage(role: "user", content: "What is the capital of France? Answer in one sentence.")]
        var o = m.defaultOptions()
        o.maxNewTokens = 3
        let short = try m.respond(to: messages, options: o)
        XCTAssertEqual(short.tokens.count, 3)
        XCTAssertEqual(short.finishReason, .length)
        o.maxNewTokens = nil
        o.stopWords = ["France"]
        let stopped = try m.respond(to: messages, options: o)
        XCTAssertEqual(stopped.text, "The capital of France")
        XCTAssertEqual(stopped.finishReason, .stop)
        let cancel = CancellationToken()
        o.stopWords = []
        var count = 0
        let cancelled = try m.respond(to: [ChatMessage(role: "user", content: "Write a long story about a dragon.")], options: o, cancel: cancel) { _ in
            count += 1
            if count == 4 { DispatchQueue.global().sync { cancel.cancel() } }
        }
        XCTAssertEqual(cancelled.finishReason, .cancelled)
        XCTAssertEqual(cancelled.tokens.count, 4)
    }

    /// logprobs of the first answer token against log-softmax of transformers' logits.
    func testLogprobsMatchTransformers() throws {
        let hf = try TestPaths.json("smollm2/transformers-prompt.json")
        let m = try smolLM2()
        var o = m.defaultOptions()
        o.maxNewTokens = 1
        o.logprobs = true
        o.topLogprobs = 5
        let r = try Generator(model: m.model, tokenizer: m.tokenizer).generate(prompt: hf["ids"] as! [Int], options: o)
        let last = (hf["last_logits"] as! [Double])
        let mx = last.max()!
        let lse = mx + log(last.map { exp($0 - mx) }.reduce(0, +))
        XCTAssertEqual(r.topLogprobs[0].count, 5)
        for t in r.topLogprobs[0] { XCTAssertEqual(Double(t.logprob), last[t.id] - lse, accuracy: 1e-3) }
        XCTAssertEqual(r.logprobs[0].id, r.topLogprobs[0][0].id)
        XCTAssertEqual(r.topLogprobs[0].map(\.logprob), r.topLogprobs[0].map(\.logprob).sorted(by: >))
    }
}
