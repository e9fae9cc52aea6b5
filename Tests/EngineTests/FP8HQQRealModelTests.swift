import Foundation
import XCTest
@testable import Engine

/// FP8 and HQQ copies of the real default model: held-out perplexity and KL from the source,
/// an answer, decode speed (printed), and a QLoRA step on an HQQ base.
final class FP8HQQRealModelTests: XCTestCase {
    func evaluationIds() throws -> [Int] { try TestPaths.json("eval/smollm2-perplexity.json")["ids"] as! [Int] }

    func testFP8AndHQQCopiesKeepPerplexityAndAnswer() throws {
        let source = try SharedModels.smolLM2()
        let ids = Array(try evaluationIds().prefix(1024))
        let copies: [(String, () throws -> LlamaModel, GGMLType, Double)] = [
            ("source q4_1 (for the decode speed)", { source.model }, .q4_1, 1.0001),
            // Allowed perplexity growth over the Q4_1 source: 8-bit formats barely move it,
            // 4-bit HQQ re-quantizes 4-bit weights onto another grid (q4_0 costs ~20% here).
            ("fp8", { try source.model.quantizedFP8() }, .fp8_e4m3, 1.03),
            ("hqq 8-bit", { try source.model.quantizedHQQ(bits: 8) }, .hqq8, 1.02),
            ("hqq 4-bit", { try source.model.quantizedHQQ(bits: 4) }, .hqq4, 1.25),
        ]
        XCTAssertEqual(source.model.fp8Tile, 64, "576-wide layers: 128 does not divide them")
        for (label, make, type, allowed) in copies {
            let start = Date()
            let q = try make()
            let seconds = Date().timeIntervalSince(start)
            XCTAssertEqual(q.linearWeightTypes, [type], label)
            XCTAssertEqual(q.embedding.type, source.model.embedding.type, "\(label): the embedding stays as held")
            let r = try Fidelity.evaluate(q, reference: source.model, ids: ids, context: 256, maxChunks: 4)
            XCTAssertLessThan(r.perplexity, r.referencePerplexity! * allowed, label)
            if type == .fp8_e4m3 {
                // transformers reading `export --quant_method fp8` of this model: the same weights,
                // so the same f32 perplexity (1e-4 relative, as the unquantized parity test).
                let golden = try TestPaths.json("fp8hqq/export_check.json")
                XCTAssertEqual(r.scoredTokens, golden["scored_tokens"] as! Int)
                XCTAssertEqual(r.perplexity, golden["perplexity"] as! Double, accuracy: 20 * 1e-4)
            }
            let answer = LoadedModel(replacingModelOf: source, with: q)
            var o = answer.defaultOptions()
            o.maxNewTokens = 24
            o.sampling.temperature = 0
            let result = try answer.respond(to: [ChatMessage(role: "user", content: "What is the capital of France? Answer in one sentence.")], options: o)
            XCTAssert(result.text.contains("Paris"), "\(label): \(result.text)")
            o.maxNewTokens = 64
            o.endTokenIds = []
            let long = try answer.respond(to: [ChatMessage(role: "user", content: "Write a story about a robot.")], options: o)
            let bytes = q.layers.reduce(0) { n, l in n + [l.q, l.k, l.v, l.o, l.gate, l.up, l.down].reduce(0) { $0 + $1.weight.bytes.count } }
            print(String(format: "%@: quantized in %.1f s; linear weights %.1f MB; perplexity %.3f -> %.3f, KL %.5f, same top %.1f%%; decode %.1f tokens/s (%d tokens): %@",
                         label, seconds, Double(bytes) / 1e6, r.referencePerplexity!, r.perplexity, r.meanKL!, 100 * r.sameTopToken!,
                         Double(max(long.tokens.count - 1, 1)) / long.decodeSeconds, long.tokens.count, result.text))
        }
    }

    /// QLoRA over an HQQ 4-bit base: the frozen linears dequantize through the same function
    /// the sgemm path uses, and a few LoRA steps lower the loss on their batch.
    func testQLoRAOnAnHQQBaseLowersTheLoss() throws {
        let base = try SharedModels.smolLM2().model.quantizedHQQ(bits: 4)
        let model = try TrainableLlama(lora: base, config: LoRAConfig(rank: 8, alpha: 32, dropout: 0), seed: 7)
        let text = try String(contentsOfFile: "/usr/share/common-licenses/GPL-3", encoding: .utf8)
        let tokens = Array(try SharedModels.smolLM2().tokenizer.encode(text, addSpecialTokens: false, parseSpecial: false).prefix(128))
        let lengths = [128]
        let targets = TrainableLlama.causalTargets(labels: tokens, sequenceLengths: lengths)
        // The frozen HQQ linears compute what the same weights dequantized to f32 compute.
        let plain = try TrainableLlama(lora: try base.quantized(to: .f32), config: LoRAConfig(rank: 8, alpha: 32, dropout: 0), seed: 7)
        let plainLoss = plain.loss(Tape(), tokens: tokens, targets: targets, sequenceLengths: lengths).values[0]
        let optimizer = AdamW(parameters: model.namedParameters.map { AdamW.Parameter($0.variable, decays: true) })
        var losses: [Float] = []
        for _ in 0..<3 {
            let tape = Tape()
            let loss = model.loss(tape, tokens: tokens, targets: targets, sequenceLengths: lengths)
            tape.backward(loss)
            optimizer.step(learningRate: 1e-3)
            optimizer.zeroGradients()
            losses.append(loss.values[0])
        }
        XCTAssert(losses.allSatisfy(\.isFinite), "\(losses)")
        XCTAssertLessThan(losses[2], losses[0], "\(losses)")
        // LoRA's B starts at zero: the first loss is the base's; f32 sums in another order.
        XCTAssertEqual(losses[0], plainLoss, accuracy: 1e-4 * plainLoss)
        print("QLoRA on hqq4: losses \(losses), f32 copy \(plainLoss)")
    }
}
