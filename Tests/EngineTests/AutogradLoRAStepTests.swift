import XCTest
@testable import Engine

/// A QLoRA-style step on the real default model: the Q4_1 base stays quantized (dequantized a
/// block of rows at a time inside each frozen linear), rank-8 LoRA on every linear layer but
/// the head, AdamW on the LoRA matrices only. Prints forward+backward tokens/s.
final class AutogradLoRAStepTests: XCTestCase {
    func testSmolLM2LoRAStepsLowerTheLossOnTheirBatch() throws {
        let path = try TestPaths.defaultModel()
        let base = try LlamaModel(gguf: GGUFFile(map: MappedFile(path: path)))
        let model = try TrainableLlama(lora: base, config: LoRAConfig(rank: 8, alpha: 32, dropout: 0), seed: 7)
        XCTAssertEqual(model.namedParameters.count, base.config.layerCount * 7 * 2)
        var rng = RandomSource(seed: 5)
        let lengths = [128, 128]
        // Ordinary text-like ids from the lower vocabulary, the first few of each sequence masked.
        let tokens = (0..<256).map { _ in Int(rng.next() % 4000) + 100 }
        var labels = tokens
        for s in [0, 128] { for i in 0..<8 { labels[s + i] = Tape.ignoredLabel } }
        let targets = TrainableLlama.causalTargets(labels: labels, sequenceLengths: lengths)
        let optimizer = AdamW(parameters: model.namedParameters.map { AdamW.Parameter($0.variable, decays: true) })
        var losses: [Float] = []
        var stepSeconds: [Double] = []
        for _ in 0..<3 {
            let start = Date()
            let tape = Tape()
            let loss = model.loss(tape, tokens: tokens, targets: targets, sequenceLengths: lengths)
            tape.backward(loss)
            stepSeconds.append(Date().timeIntervalSince(start))
            optimizer.clipGradients(maxNorm: 1)
            optimizer.step(learningRate: 1e-3)
            optimizer.zeroGradients()
            losses.append(loss.values[0])
        }
        // A fourth step with per-layer gradient checkpointing continues the same descent.
        let start = Date()
        let checkpointedLoss = model.checkpointedLossAndBackward(tokens: tokens, targets: targets, sequenceLengths: lengths)
        let checkpointedSeconds = Date().timeIntervalSince(start)
        XCTAssertLessThan(checkpointedLoss, losses[2], "losses \(losses), then \(checkpointedLoss)")
        XCTAssert(model.namedParameters.allSatisfy { $0.variable.gradient != nil })
        XCTAssert(losses.allSatisfy(\.isFinite), "losses \(losses)")
        // Random ids: the loss starts near ln(49152) ≈ 10.8 or above; three steps of lr 1e-3
        // on the same batch must lower it.
        XCTAssertGreaterThan(losses[0], 5)
        XCTAssertLessThan(losses[2], losses[0], "losses \(losses)")
        let best = stepSeconds.min()!
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(String(format: "SmolLM2-135M Q4_1 LoRA r8 all-linear: %d tokens, forward+backward %.2f s = %.0f tokens/s (BLAS threads %d, pool %d); peak RSS %.0f MB; losses %@",
                     tokens.count, best, Double(tokens.count) / best, BLAS.threadCount, ThreadPool.shared.threadCount,
                     Double(usage.ru_maxrss) / 1024,
                     losses.map { String(format: "%.4f", $0) }.joined(separator: ", ")))
        print(String(format: "  with gradient checkpointing: %.2f s = %.0f tokens/s, loss %.4f",
                     checkpointedSeconds, Double(tokens.count) / checkpointedSeconds, checkpointedLoss))
    }
}

extension AutogradLoRAStepTests {
    /// Splitting work over threads changes nothing but the order of some f32 sums.
    func testThreadCountDoesNotChangeGradients() throws {
        let base = try LlamaModel(gguf: GGUFFile(map: MappedFile(path: try TestPaths.defaultModel())))
        var rng = RandomSource(seed: 9)
        let lengths = [40, 24]
        let tokens = (0..<64).map { _ in Int(rng.next() % 4000) + 100 }
        let targets = TrainableLlama.causalTargets(labels: tokens, sequenceLengths: lengths)
        var results: [(Float, [[Float]])] = []
        for pool in [ThreadPool(threadCount: 1), ThreadPool.shared] {
            let model = try TrainableLlama(lora: base, config: LoRAConfig(rank: 4, alpha: 8, dropout: 0), seed: 3)
            // Non-zero B (the same for both runs) so that every LoRA matrix gets a gradient.
            var rng = RandomSource(seed: 10)
            for (name, v) in model.namedParameters where name.hasSuffix("lora_B.weight") {
                for i in 0..<v.count { v.data[i] = Float(rng.nextUnit() - 0.5) * 0.02 }
            }
            let tape = Tape(pool: pool)
            let loss = model.loss(tape, tokens: tokens, targets: targets, sequenceLengths: lengths)
            tape.backward(loss)
            results.append((loss.values[0], model.namedParameters.map { $0.variable.gradient! }))
        }
        XCTAssertEqual(results[0].0, results[1].0, accuracy: 1e-4)
        var worst: Float = 0
        for (a, b) in zip(results[0].1, results[1].1) {
            let scale = a.map(abs).max()!
            worst = max(worst, maxDiff(a, b) / scale)
        }
        XCTAssertLessThan(worst, 1e-3, "largest gradient difference relative to the tensor's scale")
        print("threads: worst relative gradient difference \(worst)")
    }
}
