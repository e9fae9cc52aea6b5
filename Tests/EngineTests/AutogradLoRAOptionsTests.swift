import XCTest
@testable import Engine

/// The LoRA options a user sets (targets, init_weights, PiSSA, dropout, NEFTune,
/// modules_to_save) and full fine-tuning's freeze rules, on the tiny fixture models; PiSSA and
/// the freeze rules against Tests/Fixtures/lora/lora_variants.json (PEFT, numpy, ms-swift).
final class AutogradLoRAOptionsTests: XCTestCase {
    func tiny(_ name: String = "llama") throws -> LlamaModel {
        try LlamaModel(hfDirectory: try HFModelDirectory(path: TestPaths.fixture("tiny/" + name), requireTokenizer: false))
    }

    var golden: [String: Any] { AutogradLoRAGoldenTests.golden }

    func adaptedNames(_ model: TrainableLlama) -> [String] { model.allLinears.filter { $0.lora != nil }.map(\.name) }

    func testTargetsFollowPEFTMatchingAndBadTargetsAreErrors() throws {
        let base = try tiny()
        let all = try TrainableLlama(lora: base, config: LoRAConfig(targetModules: ["all-linear"]), seed: 1)
        XCTAssertEqual(adaptedNames(all).count, 14, "all-linear: 7 per layer, never lm_head")
        let suffix = try TrainableLlama(lora: base, config: LoRAConfig(targetModules: ["self_attn.v_proj", "layers.1.mlp.up_proj"]), seed: 1)
        XCTAssertEqual(adaptedNames(suffix), ["model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.v_proj", "model.layers.1.mlp.up_proj"])
        let regex = try TrainableLlama(lora: base, config: LoRAConfig(targetRegex: #"model\.layers\.1\..*_proj"#), seed: 1)
        XCTAssertEqual(adaptedNames(regex).count, 7)
        // re.fullmatch: a pattern matching only part of a name matches nothing.
        XCTAssertThrowsError(try TrainableLlama(lora: base, config: LoRAConfig(targetRegex: "q_proj"), seed: 1)) {
            XCTAssert("\($0)".contains("matches no module"), "\($0)")
        }
        XCTAssertThrowsError(try TrainableLlama(lora: base, config: LoRAConfig(targetModules: ["q_proj", "qproj"]), seed: 1)) {
            XCTAssert("\($0)".contains("'qproj' matches no module"), "\($0)")
        }
        XCTAssertThrowsError(try TrainableLlama(lora: base, config: LoRAConfig(targetModules: ["embed_tokens"]), seed: 1)) {
            XCTAssert("\($0)".contains("not a linear layer"), "\($0)")
        }
        XCTAssertThrowsError(try TrainableLlama(lora: base, config: LoRAConfig(targetRegex: "model.norm"), seed: 1))
        XCTAssertThrowsError(try TrainableLlama(lora: base, config: LoRAConfig(initWeights: "loftq"), seed: 1))
        XCTAssertThrowsError(try TrainableLlama(lora: base, config: LoRAConfig(bias: "some"), seed: 1))
        let head = try TrainableLlama(lora: base, config: LoRAConfig(targetModules: ["lm_head"]), seed: 1)
        XCTAssertEqual(adaptedNames(head), ["lm_head"], "lm_head only when named")
    }

    /// The value distributions of PEFT's inits: true = A in ±1/√in, B 0; false = B in ±1/√r
    /// too; gaussian = A ~ N(0, 1/r²), B 0.
    func testInitWeightsDistributions() throws {
        let base = try tiny()
        func matrices(_ initWeights: String) throws -> (a: [Float], b: [Float]) {
            let m = try TrainableLlama(lora: base, config: LoRAConfig(rank: 8, targetModules: ["down_proj"], initWeights: initWeights), seed: 3)
            let l = m.allLinears.first { $0.lora != nil }!.lora!
            return (l.a.values, l.b.values)   // down_proj: in 64, rank 8
        }
        let t = try matrices("true")
        XCTAssert(t.b.allSatisfy { $0 == 0 })
        XCTAssertLessThanOrEqual(t.a.map(abs).max()!, 1 / 8)
        XCTAssertGreaterThan(t.a.map(abs).max()!, 0.9 / 8)
        let f = try matrices("False")
        XCTAssertLessThanOrEqual(f.b.map(abs).max()!, 1 / Float(8).squareRoot())
        XCTAssertGreaterThan(f.b.map(abs).max()!, 0.8 / Float(8).squareRoot())
        let g = try matrices("gaussian")
        XCTAssert(g.b.allSatisfy { $0 == 0 })
        let std = (g.a.reduce(0) { $0 + $1 * $1 } / Float(g.a.count)).squareRoot()
        // 512 samples: the sample std is within ~6% of 1/8 with overwhelming probability.
        XCTAssertEqual(std, 1 / 8, accuracy: 0.125 * 0.1)
    }

    /// PiSSA: B·A equals PEFT's (sign-free), A's and B's rows/columns carry √(S/scale) of
    /// numpy's singular values, and residual + scale·B·A gives back W.
    func testPiSSAReconstructsWeightAndMatchesPEFT() throws {
        let base = try tiny()
        let config = LoRAConfig(rank: 4, alpha: 8, targetModules: ["q_proj", "down_proj"], initWeights: "pissa")
        let model = try TrainableLlama(lora: base, config: config, seed: 1)
        let pissa = golden["pissa"] as! [String: [String: Any]]
        let original = Dictionary(uniqueKeysWithValues: TrainableLlama(fullFineTuning: base).namedParameters.map { ($0.name, $0.variable.values) })
        for l in model.allLinears {
            guard let lora = l.lora, case .frozen(let residual) = l.weight else { continue }
            let g = pissa[l.name]!
            let shape = g["shape"] as! [Int], outF = shape[0], inF = shape[1], rank = 4
            XCTAssertEqual(residual.type, .f32, "the residual is kept f32")
            let a = lora.a.values, b = lora.b.values, res = residual.toFloat32(), w = original[l.name + ".weight"]!
            var ba = [Float](repeating: 0, count: outF * inF)
            for i in 0..<outF { for j in 0..<inF { for r in 0..<rank { ba[i * inF + j] += b[i * rank + r] * a[r * inF + j] } } }
            // f32 SVD (LAPACK) against f32 SVD (torch): products of size ~1 agree to ~1e-5.
            XCTAssertLessThan(maxDiff(ba, (g["ba"] as! [Double]).map(Float.init)), 1e-4, "\(l.name): B·A is PEFT's")
            let rebuilt = zip(res, ba).map { $0 + lora.scale * $1 }
            XCTAssertLessThan(maxDiff(rebuilt, w), 1e-5, "\(l.name): residual + s·B·A = W")
            let singular = (g["singular_values"] as! [Double]).map(Float.init)
            for r in 0..<rank {
                let aNorm = (0..<inF).reduce(Float(0)) { $0 + a[r * inF + $1] * a[r * inF + $1] }.squareRoot()
                let bNorm = (0..<outF).reduce(Float(0)) { $0 + b[$1 * rank + r] * b[$1 * rank + r] }.squareRoot()
                XCTAssertEqual(aNorm * bNorm * lora.scale, singular[r], accuracy: 1e-4 * singular[0], "\(l.name) σ\(r) against numpy")
            }
        }
        // Step 0 is the base model exactly, and the export converts to a rank-8 plain LoRA of the original base.
        let adapter = model.exportAdapter()
        XCTAssertEqual(adapter.config.rank, 8)
        XCTAssertEqual(adapter.config.alpha, 16)
        XCTAssertEqual(adapter.config.initWeights, "true")
        let q = adapter.modules["model.layers.0.self_attn.q_proj"]!
        XCTAssertEqual(q.a.count, 8 * 32)
        // Untrained: ΔW = B·A − B₀·A₀ = 0.
        var delta: Float = 0
        for i in 0..<32 { for j in 0..<32 { var s: Float = 0; for r in 0..<8 { s += q.b[i * 8 + r] * q.a[r * 32 + j] }; delta = max(delta, abs(s)) } }
        XCTAssertLessThan(delta, 1e-6)
    }

    /// pissa_niter_N (randomized SVD): with enough subspace iterations the top singular values
    /// approach numpy's.
    func testRandomizedPiSSAFindsTheTopSingularValues() throws {
        let base = try tiny()
        let model = try TrainableLlama(lora: base, config: LoRAConfig(rank: 2, alpha: 2, targetModules: ["down_proj"], initWeights: "pissa_niter_30"), seed: 1)
        let pissa = golden["pissa"] as! [String: [String: Any]]
        for l in model.allLinears {
            guard let lora = l.lora else { continue }
            let singular = (pissa[l.name]!["singular_values"] as! [Double]).map(Float.init)
            let a = lora.a.values, b = lora.b.values, inF = 64, outF = 32
            for r in 0..<2 {
                let aNorm = (0..<inF).reduce(Float(0)) { $0 + a[r * inF + $1] * a[r * inF + $1] }.squareRoot()
                let bNorm = (0..<outF).reduce(Float(0)) { $0 + b[$1 * 2 + r] * b[$1 * 2 + r] }.squareRoot()
                // Power iterations converge like (σ₃/σ_r)^(2·30); the tiny random matrices have
                // close singular values, so 2% is what 30 iterations guarantee here.
                XCTAssertEqual(aNorm * bNorm, singular[r], accuracy: 0.02 * singular[r], "\(l.name) σ\(r)")
            }
        }
    }

    /// Over a quantized base the residual is exact in f32: the step-0 loss equals plain LoRA's.
    func testPiSSAOverQuantizedBaseStartsAtTheBaseModel() throws {
        let base = try LlamaModel(gguf: GGUFFile(map: MappedFile(path: try TestPaths.defaultModel())))
        let tokens = Array(100..<140), lengths = [40]
        let targets = TrainableLlama.causalTargets(labels: tokens, sequenceLengths: lengths)
        func loss(_ config: LoRAConfig) throws -> Float {
            let model = try TrainableLlama(lora: base, config: config, seed: 2)
            model.isTraining = false
            return model.loss(Tape(recordsGradients: false), tokens: tokens, targets: targets, sequenceLengths: lengths).values[0]
        }
        let plain = try loss(LoRAConfig(rank: 4, targetModules: ["layers.0.self_attn.q_proj", "layers.3.mlp.down_proj"]))
        let pissa = try loss(LoRAConfig(rank: 4, targetModules: ["layers.0.self_attn.q_proj", "layers.3.mlp.down_proj"], initWeights: "pissa"))
        XCTAssertEqual(plain, pissa, accuracy: 1e-4)
    }

    func testDropoutOnlyWhileTrainingAndCheckpointingReplaysItsMasks() throws {
        let base = try tiny()
        let tokens = [1, 5, 9, 33, 2, 60, 17, 17, 42, 8, 3, 50], lengths = [12]
        let targets = TrainableLlama.causalTargets(labels: tokens, sequenceLengths: lengths)
        func run(_ training: Bool, checkpointed: Bool) throws -> (Float, [Float]) {
            let model = try TrainableLlama(lora: base, config: LoRAConfig(rank: 4, dropout: 0.5, initWeights: "false"), seed: 9)
            model.isTraining = training
            let loss: Float
            if checkpointed {
                loss = model.checkpointedLossAndBackward(tokens: tokens, targets: targets, sequenceLengths: lengths)
            } else {
                let tape = Tape()
                let l = model.loss(tape, tokens: tokens, targets: targets, sequenceLengths: lengths)
                tape.backward(l)
                loss = l.values[0]
            }
            return (loss, model.namedParameters.flatMap { $0.variable.gradient! })
        }
        let eval = try run(false, checkpointed: false), train = try run(true, checkpointed: false)
        let trainCheckpointed = try run(true, checkpointed: true)
        XCTAssertNotEqual(eval.0, train.0, "dropout changes the training loss")
        XCTAssertEqual(train.0, trainCheckpointed.0, accuracy: 1e-5)
        // Same masks in the recomputed layers: the gradients agree to f32 rounding.
        let scale = train.1.map(abs).max()!
        XCTAssertLessThan(maxDiff(train.1, trainCheckpointed.1), 1e-4 * scale)
        XCTAssertEqual(try run(false, checkpointed: true).0, eval.0, accuracy: 1e-5)
    }

    /// HF's NEFTune: uniform noise in ±alpha/√(L·d) on the embedding output while training only.
    func testNEFTuneNoiseBoundAndTrainingOnly() throws {
        let neftune = NEFTune(alpha: 5)
        XCTAssertEqual(neftune.magnitude(sequenceLengths: [12, 20], hiddenSize: 32), 5 / (32 * 32).squareRoot(), accuracy: 1e-7)
        var padded = neftune
        padded.counting = .longestSequence
        XCTAssertEqual(padded.magnitude(sequenceLengths: [12, 20], hiddenSize: 32), 5 / Float(20 * 32).squareRoot(), accuracy: 1e-7)
        var random = RandomSource(seed: 1)
        let noise = neftune.noise(like: Variable(zeros: [32, 32]), sequenceLengths: [12, 20], random: &random).values
        let bound = neftune.magnitude(sequenceLengths: [12, 20], hiddenSize: 32)
        XCTAssertLessThanOrEqual(noise.map(abs).max()!, bound)
        XCTAssertGreaterThan(noise.map(abs).max()!, 0.99 * bound)
        XCTAssertEqual(noise.reduce(0, +) / Float(noise.count), 0, accuracy: 0.1 * bound)

        let model = try TrainableLlama(lora: try tiny(), config: LoRAConfig(), seed: 4)
        model.neftune = NEFTune(alpha: 5)
        let tokens = [1, 5, 9, 33], shape = TrainableLlama.BatchShape(model, tokens: tokens, targets: tokens, sequenceLengths: [4])
        let noisy = model.embed(Tape(), tokens, shape).values
        model.isTraining = false
        let clean = model.embed(Tape(), tokens, shape).values
        let d = zip(noisy, clean).map { abs($0 - $1) }
        XCTAssertGreaterThan(d.max()!, 0)
        XCTAssertLessThanOrEqual(d.max()!, 5 / Float(4 * 32).squareRoot() + 1e-6)
    }

    /// modules_to_save on a tied model: the saved lm_head is its own trainable copy; the
    /// embedding stays frozen (PEFT without ensure_weight_tying).
    func testSavedHeadOnTiedModelIsAnUntiedCopy() throws {
        let base = try tiny("llama-tied")
        let model = try TrainableLlama(lora: base, config: LoRAConfig(targetModules: ["q_proj"], modulesToSave: ["lm_head"]), seed: 1)
        guard case .trainable(let head) = model.head.weight, case .frozen(let table) = model.embedding else {
            return XCTFail("lm_head trainable, embed_tokens frozen")
        }
        XCTAssertEqual(head.values, table.toFloat32())
        XCTAssertEqual(model.namedParameters.last?.name, "lm_head.weight")
        XCTAssertEqual(model.exportAdapter().savedTensors["lm_head.weight"]?.shape, [64, 32])
    }

    func testFreezeRulesMatchMsSwift() throws {
        let rules = golden["freeze_rules"] as! [String: [String: Any]]
        for (modelName, record) in rules {
            let parameters = (record["parameters"] as! [[Any]]).map { (name: $0[0] as! String, elementCount: $0[1] as! Int) }
            let ours = TrainableLlama.parameterList(of: try tiny(modelName))
            XCTAssertEqual(ours.map(\.name), parameters.map(\.name), "\(modelName): named_parameters order")
            XCTAssertEqual(ours.map(\.elementCount), parameters.map(\.elementCount))
            for c in record["cases"] as! [[String: Any]] {
                let r = c["rules"] as! [String: Any]
                let freeze = FreezeRules(freezeParameters: r["freeze"] as? [String] ?? [], freezeParametersRegex: r["freeze_regex"] as? String,
                                         freezeParametersRatio: r["ratio"] as? Double ?? 0, trainableParameters: r["trainable"] as? [String] ?? [],
                                         trainableParametersRegex: r["trainable_regex"] as? String)
                XCTAssertEqual(try freeze.trainableNames(parameters), Set(c["trainable"] as! [String]), "\(modelName) \(r)")
            }
        }
        XCTAssertThrowsError(try FreezeRules(freezeParametersRegex: "(").trainableNames([("a", 1)]))
    }

    /// Frozen parameters get no gradient and are not optimizer parameters; exportModel gives a
    /// model that computes what the graph does.
    func testPartialFullFineTuningAndExportedModel() throws {
        let base = try tiny()
        let model = try TrainableLlama(fullFineTuning: base, freezeRules: FreezeRules(freezeParametersRatio: 0.5))
        let names = model.namedParameters.map(\.name)
        XCTAssertFalse(names.contains("model.embed_tokens.weight"))
        XCTAssert(names.contains("lm_head.weight"))
        XCTAssertEqual(model.trainableParameters.count, names.count)
        let tokens = [1, 5, 9, 33, 2, 60, 17, 17], lengths = [8]
        let targets = TrainableLlama.causalTargets(labels: tokens, sequenceLengths: lengths)
        let tape = Tape()
        let loss = model.loss(tape, tokens: tokens, targets: targets, sequenceLengths: lengths)
        tape.backward(loss)
        XCTAssert(model.namedParameters.allSatisfy { $0.variable.gradient != nil })
        let optimizer = AdamW(parameters: model.trainableParameters)
        optimizer.step(learningRate: 1e-2)
        let exported = model.exportModel()
        XCTAssertEqual(exported.config, base.config)
        let logits = try exported.forward(tokens, cache: exported.makeCache(capacity: 16), allLogits: true)
        let check = Tape(recordsGradients: false)
        model.isTraining = false
        let shape = TrainableLlama.BatchShape(model, tokens: tokens, targets: targets, sequenceLengths: lengths)
        var x = model.embed(check, tokens, shape)
        for l in model.layers { x = model.layerForward(check, l, x, shape) }
        let graphLogits = model.apply(model.head, check.rmsNorm(x, weight: model.finalNorm, eps: Float(base.config.rmsNormEps)), check).values
        XCTAssertLessThan(maxDiff(logits, graphLogits), 1e-4, "the exported model runs the trained weights")
        let before = try base.forward(tokens, cache: base.makeCache(capacity: 16), allLogits: true)
        XCTAssertGreaterThan(maxDiff(before, logits), 1e-3, "and they were trained")
    }
}

extension AutogradLoRAOptionsTests {
    /// DoRA with dropout and LoRA+ over the real Q4_1 model: a few steps on one batch lower its
    /// loss, and the checkpointed step gives the loss of the stored-activation graph.
    func testSmolLM2DoRAStepsLowerTheLoss() throws {
        let base = try LlamaModel(gguf: GGUFFile(map: MappedFile(path: try TestPaths.defaultModel())))
        var rng = RandomSource(seed: 15)
        let lengths = [48, 32]
        let tokens = (0..<80).map { _ in Int(rng.next() % 4000) + 100 }
        let targets = TrainableLlama.causalTargets(labels: tokens, sequenceLengths: lengths)
        let model = try TrainableLlama(lora: base, config: LoRAConfig(rank: 4, alpha: 8, dropout: 0.05,
                                                                       targetModules: ["q_proj", "v_proj", "down_proj"], useDoRA: true), seed: 5)
        model.lorapLearningRateRatio = 16
        let optimizer = AdamW(parameters: model.trainableParameters)
        var losses: [Float] = []
        for _ in 0..<3 {
            let tape = Tape()
            let loss = model.loss(tape, tokens: tokens, targets: targets, sequenceLengths: lengths)
            tape.backward(loss)
            XCTAssert(model.namedParameters.allSatisfy { $0.variable.gradient != nil })
            optimizer.clipGradients(maxNorm: 1)
            optimizer.step(learningRate: 1e-3)
            optimizer.zeroGradients()
            losses.append(loss.values[0])
        }
        XCTAssert(losses.allSatisfy(\.isFinite), "\(losses)")
        XCTAssertLessThan(losses[2], losses[0], "losses \(losses)")
        // Evaluation (no dropout): the stored and checkpointed graphs agree.
        model.isTraining = false
        let tape = Tape()
        let stored = model.loss(tape, tokens: tokens, targets: targets, sequenceLengths: lengths)
        tape.backward(stored)
        let storedGradient = model.namedParameters[0].variable.gradient!
        optimizer.zeroGradients()
        let checkpointed = model.checkpointedLossAndBackward(tokens: tokens, targets: targets, sequenceLengths: lengths)
        XCTAssertEqual(stored.values[0], checkpointed, accuracy: 1e-4)
        XCTAssertLessThan(maxDiff(storedGradient, model.namedParameters[0].variable.gradient!), 1e-3 * storedGradient.map(abs).max()!)
        print("SmolLM2 DoRA r4 (q, v, down) LoRA+ 16: losses \(losses)")
    }
}
