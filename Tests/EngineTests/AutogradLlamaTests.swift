import XCTest
@testable import Engine

/// The tiny Llama (Tests/Fixtures/tiny/llama) trained in full through the autograd ops against
/// PyTorch (Tests/Fixtures/autograd/tiny_llama_training.json, Scripts/goldens/autograd_tiny_llama.py):
/// the loss of a padding-free batch of two sequences with masked labels, every parameter's
/// gradient, and ten AdamW steps.
final class AutogradLlamaTests: XCTestCase {
    struct Batch {
        let tokens: [Int], targets: [Int], lengths: [Int]
    }

    func load() throws -> (TrainableLlama, [String: Any], Batch) {
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/llama"), requireTokenizer: false)
        let model = TrainableLlama(fullFineTuning: try LlamaModel(hfDirectory: dir))
        let golden = try TestPaths.json("autograd/tiny_llama_training.json")
        let sequences = golden["sequences"] as! [[Int]], labels = golden["labels"] as! [[Int]]
        let lengths = sequences.map(\.count)
        let batch = Batch(tokens: sequences.flatMap { $0 },
                          targets: TrainableLlama.causalTargets(labels: labels.flatMap { $0 }, sequenceLengths: lengths),
                          lengths: lengths)
        return (model, golden, batch)
    }

    func testLossAndEveryGradientMatchPyTorch() throws {
        let (model, golden, batch) = try load()
        let tape = Tape()
        let loss = model.loss(tape, tokens: batch.tokens, targets: batch.targets, sequenceLengths: batch.lengths)
        tape.backward(loss)
        // f32 on both sides over the same formulas; the loss is a mean of ~20 terms of size ~5
        // after a 2-layer model, so reordered sums differ by ~1e-6.
        let expectedLoss = golden["loss"] as! Double
        XCTAssertEqual(Double(loss.values[0]), expectedLoss, accuracy: 1e-4)

        let expected = golden["gradients"] as! [String: [String: Any]]
        let params = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.variable) })
        XCTAssertEqual(Set(params.keys), Set(expected.keys), "trainable parameters are exactly HF's named_parameters")
        var worst = 0.0
        for (name, summary) in expected {
            guard let v = params[name], let g = v.gradient else { XCTFail("\(name): no gradient"); continue }
            XCTAssertEqual(v.shape, summary["shape"] as! [Int], name)
            let maxAbs = summary["max_abs"] as! Double, sumSquares = summary["sum_squares"] as! Double
            // Each entry within 1e-4 of the tensor's largest |g| (plus 1e-7 for all-but-zero
            // tensors): PyTorch's and our f32 sums run in different orders, which moves
            // entries by ~1e-6 relative to the tensor's scale; a wrong rule moves them by O(1).
            let entryTolerance = 1e-4 * maxAbs + 1e-7
            let indices = summary["indices"] as! [Int], values = summary["values"] as! [Double]
            for (i, value) in zip(indices, values) {
                XCTAssertEqual(Double(g[i]), value, accuracy: entryTolerance, "\(name)[\(i)]")
                worst = max(worst, abs(Double(g[i]) - value) / max(maxAbs, 1e-12))
            }
            let gd = g.map(Double.init)
            XCTAssertEqual(gd.map(abs).max()!, maxAbs, accuracy: entryTolerance, "\(name) max |g|")
            XCTAssertEqual(gd.reduce(0) { $0 + $1 * $1 }, sumSquares, accuracy: 2e-4 * sumSquares + 1e-12, "\(name) Σg²")
            // |Σg| error ≤ Σ|Δg| ≤ n · per-entry error.
            XCTAssertEqual(gd.reduce(0, +), summary["sum"] as! Double, accuracy: Double(g.count) * entryTolerance * 0.1,
                           "\(name) Σg")
        }
        print("tiny llama: loss \(loss.values[0]) vs \(expectedLoss); worst sampled |Δg|/max|g| \(worst)")
    }

    /// Each loss within 1e-3: the runs start equal to ~1e-6 and Adam's normalized steps
    /// (size ≤ lr = 1e-3 per weight) let per-step rounding differences grow slowly; after
    /// ten steps the losses of two f32 runs of the same computation differ by ~1e-5.
    func testTenAdamWStepsMatchPyTorch() throws {
        let (model, golden, batch) = try load()
        let settings = golden["adamw"] as! [String: Any]
        let noDecay = Set(settings["no_decay"] as! [String])
        for (name, _) in model.namedParameters {
            XCTAssertEqual(AdamW.decays(parameterNamed: name), !noDecay.contains(name), name)
        }
        let optimizer = AdamW(parameters: model.namedParameters.map { AdamW.Parameter($0.variable, decays: AdamW.decays(parameterNamed: $0.name)) },
                              beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1)
        var losses: [Double] = [], norms: [Double] = []
        let start = Date()
        for _ in 0..<10 {
            let tape = Tape()
            let loss = model.loss(tape, tokens: batch.tokens, targets: batch.targets, sequenceLengths: batch.lengths)
            tape.backward(loss)
            norms.append(Double(optimizer.clipGradients(maxNorm: 1.0)))
            optimizer.step(learningRate: 1e-3)
            optimizer.zeroGradients()
            losses.append(Double(loss.values[0]))
        }
        let seconds = Date().timeIntervalSince(start)
        let expected = settings["losses"] as! [Double], expectedNorms = settings["grad_norms"] as! [Double]
        for (i, (got, want)) in zip(losses, expected).enumerated() {
            XCTAssertEqual(got, want, accuracy: 1e-3, "loss of step \(i + 1)")
        }
        for (i, (got, want)) in zip(norms, expectedNorms).enumerated() {
            XCTAssertEqual(got, want, accuracy: 1e-3 * want, "grad norm of step \(i + 1)")
        }
        XCTAssertLessThan(losses.last!, losses.first! - 1, "training lowers the loss")
        let worst = zip(losses, expected).map { abs($0 - $1) }.max()!
        print(String(format: "tiny llama: 10 AdamW steps, worst |Δloss| %.2e; %.0f tokens/s (forward+backward+step, %d tokens)",
                     worst, Double(10 * batch.tokens.count) / seconds, batch.tokens.count))
    }
}

/// What the tape keeps and frees, and gradients accumulating over backward passes.
final class AutogradTapeTests: XCTestCase {
    func testIntermediatesAreFreedByBackward() {
        var rng = RandomSource(seed: 31)
        let x = Variable(uniform(&rng, 24, [4, 6]).values, shape: [4, 6], requiresGrad: true)
        let w = Variable(uniform(&rng, 18, [3, 6]).values, shape: [3, 6], requiresGrad: true)
        let norm = Variable([Float](repeating: 1, count: 6), shape: [6], requiresGrad: true)
        let tape = Tape()
        weak var normalized: Variable?
        weak var logits: Variable?
        var loss: Variable!
        do {
            let h = tape.rmsNorm(x, weight: norm, eps: 1e-5)
            let l = tape.linear(h, weight: w)
            normalized = h
            logits = l
            loss = tape.crossEntropy(logits: l, labels: [0, 2, -100, 1])
        }
        XCTAssertNotNil(normalized, "the tape keeps what backward needs")
        XCTAssertEqual(tape.recordedCount, 3)
        tape.backward(loss)
        XCTAssertNil(normalized, "freed once backward has passed the ops that used it")
        XCTAssertNil(logits)
        XCTAssertEqual(tape.recordedCount, 0)
        XCTAssertNotNil(x.gradient)
        XCTAssertNotNil(w.gradient)
        XCTAssertNotNil(norm.gradient)
    }

    /// An evaluation tape gives the same loss and records nothing; two backward passes add up
    /// (gradient accumulation) exactly to twice one pass.
    func testEvaluationTapeAndGradientAccumulation() throws {
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/llama"), requireTokenizer: false)
        let model = TrainableLlama(fullFineTuning: try LlamaModel(hfDirectory: dir))
        let tokens = [1, 5, 9, 33, 2, 60, 17, 17, 42, 8], lengths = [4, 6]
        let targets = TrainableLlama.causalTargets(labels: tokens, sequenceLengths: lengths)
        XCTAssertEqual(targets, [5, 9, 33, -100, 60, 17, 17, 42, 8, -100])
        let evaluation = Tape(recordsGradients: false)
        let evalLoss = model.loss(evaluation, tokens: tokens, targets: targets, sequenceLengths: lengths)
        XCTAssertEqual(evaluation.recordedCount, 0)
        XCTAssertFalse(evalLoss.requiresGrad)
        XCTAssertTrue(model.namedParameters.allSatisfy { $0.variable.gradient == nil })

        let t1 = Tape()
        let loss = model.loss(t1, tokens: tokens, targets: targets, sequenceLengths: lengths)
        XCTAssertEqual(loss.values[0], evalLoss.values[0])
        t1.backward(loss)
        let once = model.namedParameters.map { $0.variable.gradient! }
        let t2 = Tape()
        t2.backward(model.loss(t2, tokens: tokens, targets: targets, sequenceLengths: lengths))
        for (p, g) in zip(model.namedParameters, once) {
            // The second pass computes the same values and adds them in; only the order of
            // f32 additions differs (a repeated token's rows, sgemm's beta = 1 blocks).
            let scale = g.map(abs).max()!
            XCTAssertLessThanOrEqual(maxDiff(p.variable.gradient!, g.map { $0 * 2 }), 1e-6 * scale, p.name)
            XCTAssertGreaterThan(scale, 0, p.name)
        }
    }
}

/// The training graph computes the same function as the inference engine (whose logits match
/// HF transformers for every tiny variant, TinyModelTests): its loss equals the cross-entropy
/// of `LlamaModel.forward`'s logits, for tied heads, q/k/v biases, q/k norms and each
/// rope_scaling kind.
final class AutogradGraphVariantTests: XCTestCase {
    func testTrainingGraphLossEqualsInferenceLogitsLoss() throws {
        for name in TinyModelTests.variants {
            let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/\(name)"), requireTokenizer: false)
            let base = try LlamaModel(hfDirectory: dir)
            let tokens = [1, 5, 9, 33, 2, 60, 17, 17, 42, 8, 3, 50, 11, 0, 63, 7, 21, 34, 55, 4]
            var labels = tokens
            labels[3] = -100
            let targets = TrainableLlama.causalTargets(labels: labels, sequenceLengths: [tokens.count])
            let logits = try base.forward(tokens, cache: base.makeCache(capacity: tokens.count), allLogits: true)
            let vocab = base.config.vocabSize
            var total = 0.0, counted = 0.0
            for (t, label) in targets.enumerated() where label != -100 {
                let row = logits[(t * vocab)..<((t + 1) * vocab)].map(Double.init)
                let m = row.max()!
                total += m + log(row.reduce(0.0) { $0 + exp($1 - m) }) - row[label]
                counted += 1
            }
            let model = TrainableLlama(fullFineTuning: base)
            let tape = Tape()
            let loss = model.loss(tape, tokens: tokens, targets: targets, sequenceLengths: [tokens.count])
            // Both f32 over the same weights; logits agree to ~1e-6, the mean of ~18 terms too.
            XCTAssertEqual(Double(loss.values[0]), total / counted, accuracy: 1e-5, name)
            tape.backward(loss)
            XCTAssert(model.namedParameters.allSatisfy { $0.variable.gradient?.allSatisfy(\.isFinite) == true }, name)
        }
    }
}

final class AutogradCheckpointingTests: XCTestCase {
    /// Recomputing each layer in backward gives the same loss and gradients as keeping every
    /// activation: the same f32 operations run in the same order.
    func testCheckpointedGradientsEqualStoredActivations() throws {
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/llama"), requireTokenizer: false)
        let base = try LlamaModel(hfDirectory: dir)
        let tokens = [1, 5, 9, 33, 2, 60, 17, 17, 42, 8, 3, 50, 11], lengths = [5, 8]
        var labels = tokens
        labels[6] = -100
        let targets = TrainableLlama.causalTargets(labels: labels, sequenceLengths: lengths)
        let plain = TrainableLlama(fullFineTuning: base), checkpointed = TrainableLlama(fullFineTuning: base)
        let tape = Tape()
        let loss = plain.loss(tape, tokens: tokens, targets: targets, sequenceLengths: lengths)
        tape.backward(loss)
        let recomputedLoss = checkpointed.checkpointedLossAndBackward(tokens: tokens, targets: targets, sequenceLengths: lengths)
        XCTAssertEqual(recomputedLoss, loss.values[0])
        for (a, b) in zip(plain.namedParameters, checkpointed.namedParameters) {
            let g = a.variable.gradient!
            XCTAssertLessThanOrEqual(maxDiff(g, b.variable.gradient!), 1e-6 * g.map(abs).max()!, a.name)
        }
    }
}
